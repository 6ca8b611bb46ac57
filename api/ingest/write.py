"""Writing validated bundles, inside the import's locked transaction: each record upserted by
its public id, each bundle's citations replaced by what it now says, the search index kept in
step, and what no bundle supports any more deleted. Counts what really changed."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import peewee as pw

from api.ingest.bundle_form import citation_columns, contributed_by
from api.ingest.principal import CLI, Principal
from api.ingest.resolve import Plan
from api.ingest.validate import COLLECTIONS, Bundle
from api.queries import stix_kept
from api.queries.events import EVENT_JSON
from api.records import of_collection
from api.store.models import (
    Actor,
    ActorAlias,
    ActorIdentifier,
    Citation,
    Event,
    EventCasualty,
    EventParticipant,
    Location,
    LocationAlias,
    LocationIdentifier,
    LocationRegion,
    Relation,
    SearchDocument,
    Source,
    Statement,
    StatementAddressee,
    StatementEvent,
    StatementMention,
    StatementPrincipal,
    StatementSpeaker,
    date_span,
    relation_slug,
)
from api.store.months import month_number, week_number
from api.store.places import refresh_levels

_OUTCOMES = ("created", "updated", "deleted", "unchanged")
SOURCE_FIELDS = ("title", "publisher", "published", "published_precision", "url", "author")


def render_stale() -> None:
    """Render again what the write's transaction marked stale: event records, then STIX
    objects (at most a batch of each; readers render any left)."""
    EVENT_JSON.refresh()
    stix_kept.refresh()


def attribute(model: type[pw.Model], column: str) -> str:
    """The attribute holding a column's raw value (`actor_id` for the foreign key `actor`)."""
    field = model._meta.fields[column]
    return field.object_id_name if isinstance(field, pw.ForeignKeyField) else column


def identifier_rows(data: dict) -> list[dict]:
    """A record's identifiers as the rows of its identifier table (without the owner)."""
    return [
        {"scheme": i["scheme"], "value": i["value"], "reason": i["reason"]}
        for i in data.get("identifiers") or []
    ]


class Writer:
    """Writes bundles; `summary` counts records created / updated / deleted / unchanged.
    A new source belongs to `principal`'s owner. (A bundle cannot change a record another
    source supports: api/ingest/resolve.py refuses it before anything is written.)"""

    def __init__(self, principal: Principal = CLI) -> None:
        self.principal = principal
        self.summary = {c: dict.fromkeys(_OUTCOMES, 0) for c in ("sources", *COLLECTIONS)}
        self.ids: dict[type[pw.Model], dict[str, int]] = defaultdict(dict)
        self.changed = False  # did the record being written change?
        self.touched: dict[tuple[str, str], set[int]] = defaultdict(set)  # (bundle, collection)
        self.counted: dict[str, set[int]] = defaultdict(set)  # written, counted once

    def id_of(self, model: type[pw.Model], slug: str) -> int:
        cache = self.ids[model]
        if slug not in cache:  # the id alone (a source's row holds its text)
            cache[slug] = model.select(model.id).where(model.slug == slug).get().id
        return cache[slug]

    def upsert(
        self, model: type[pw.Model], key: dict, values: dict, defaults: dict | None = None
    ) -> tuple[pw.Model, bool]:
        """Insert or update the row matching `key` (`defaults`: more values of a new row);
        (row, created). Touches nothing equal."""
        row = model.get_or_none(*[getattr(model, k) == v for k, v in key.items()])
        created = row is None
        if created:
            row = model.create(**key, **values, **(defaults or {}))
        elif any(getattr(row, attribute(model, k)) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(row, k, v)
            row.save()
            self.changed = True
        if "slug" in key:
            self.ids[model][key["slug"]] = row.id
        return row, created

    def sync(self, model: type[pw.Model], owner: dict, rows: list[dict]) -> None:
        """Make the rows of `model` matching `owner` exactly `rows`."""
        columns = sorted({column for row in rows for column in row})
        wanted = {tuple(row[c] for c in columns): row for row in rows}
        stale = []
        for row in model.select().where(*[getattr(model, k) == v for k, v in owner.items()]):
            values = tuple(getattr(row, attribute(model, c)) for c in columns)
            if values in wanted and columns:
                del wanted[values]
            else:
                stale.append(row.id)
        if stale:
            model.delete().where(model.id.in_(stale)).execute()
        if wanted:
            model.insert_many([{**owner, **row} for row in wanted.values()]).execute()
        self.changed |= bool(stale or wanted)

    def finish(self, collection: str, row_id: int, created: bool, bundle: str = "") -> None:
        """Count the record just written (once per import, however many bundles define it)."""
        outcome = "created" if created else ("updated" if self.changed else "unchanged")
        if row_id not in self.counted[collection]:
            self.summary[collection][outcome] += 1
            self.counted[collection].add(row_id)
        self.touched[(bundle, collection)].add(row_id)
        self.changed = False

    def citations(self, record_type: str, record_id: int, items: list[dict], bundle: str) -> None:
        """The citations this bundle gives the record (other bundles' stay as they are)."""
        bundle_id = self.id_of(Source, bundle)
        rows = [
            {
                "source": self.id_of(Source, item["source"] or bundle),
                **citation_columns(item),
                "position": position,
            }
            for position, item in enumerate(items)
        ]
        mine = contributed_by([bundle_id])
        columns = tuple(rows[0]) if rows else ("source", "excerpt", "position")
        current = [
            row
            for row in Citation.select().where(
                (Citation.record_type == record_type) & (Citation.record_id == record_id) & mine
            )
        ]
        if [tuple(getattr(c, attribute(Citation, k)) for k in columns) for c in current] != [
            tuple(r[k] for k in columns) for r in rows
        ]:
            Citation.delete().where(Citation.id.in_([c.id for c in current])).execute()
            Citation.insert_many(
                [
                    {**row, "record_type": record_type, "record_id": record_id, "bundle": bundle_id}
                    for row in rows
                ]
            ).execute()
            self.changed = True

    def search_document(self, record_type: str, record_id: int, title: str, *body: Any) -> None:
        text = "\n".join(str(part) for part in body if part)
        changed = self.changed
        self.upsert(
            SearchDocument,
            {"record_type": record_type, "record_id": record_id},
            {"title": title, "body": text},
        )
        self.changed = changed

    # -- one method per collection --------------------------------------------------------

    def source(self, data: dict) -> None:
        values = {k: data[k] for k in (*SOURCE_FIELDS, "language", "text")}
        owner = {"owner": self.principal.owner}  # the first importer's, kept by re-imports
        row, created = self.upsert(Source, {"slug": data["id"]}, values, owner)
        self.search_document("source", row.id, data["title"], data["publisher"], data["author"])
        self.finish("sources", row.id, created)

    def actor(self, data: dict, bundle: str) -> None:
        values = {k: data[k] for k in ("name", "kind", "title", "description", "country")}
        row, created = self.upsert(Actor, {"slug": data["id"]}, values)
        aliases = [{"name": a["name"], "language": a["language"]} for a in data["aliases"]]
        self.sync(ActorAlias, {"actor": row.id}, aliases)
        self.sync(ActorIdentifier, {"actor": row.id}, identifier_rows(data))
        self.citations("actor", row.id, data["citations"], bundle)
        names = [a["name"] for a in aliases]
        self.search_document(
            "actor", row.id, data["name"], *names, data["title"], data["description"]
        )
        self.finish("actors", row.id, created, bundle)

    def relation(self, data: dict, bundle: str) -> None:
        key = {
            "subject": self.id_of(Actor, data["subject"]),
            "predicate": data["predicate"],
            "object": self.id_of(Actor, data["object"]),
        }
        values = {k: data[k] for k in ("start_date", "end_date", "date_precision", "description")}
        values["slug"] = relation_slug(data["subject"], data["predicate"], data["object"])
        row, created = self.upsert(Relation, key, values)
        self.citations("relation", row.id, data["citations"], bundle)
        self.finish("relations", row.id, created, bundle)

    def location(self, data: dict, bundle: str) -> None:
        parent = Location.get(Location.slug == data["parent"]) if data["parent"] else None
        path = f"{parent.path if parent else '/'}{data['id']}/"
        fields = ("name", "kind", "latitude", "longitude", "coordinate_precision", "country")
        values = {k: data[k] for k in (*fields, "description")}
        values.update(parent=parent.id if parent else None, path=path)
        old = Location.get_or_none(Location.slug == data["id"])
        row, created = self.upsert(Location, {"slug": data["id"]}, values)
        if old is not None and old.path != path:  # move the places within it along
            Location.update(path=pw.fn.REPLACE(Location.path, old.path, path)).where(
                Location.path.startswith(old.path)
            ).execute()
        if old is None or old.path != path or old.kind != data["kind"]:
            refresh_levels(path)  # its place at each level, and those of the places within it
        aliases = [{"name": a["name"], "language": a["language"]} for a in data["aliases"]]
        self.sync(LocationAlias, {"location": row.id}, aliases)
        self.sync(LocationIdentifier, {"location": row.id}, identifier_rows(data))
        self.citations("location", row.id, data["citations"], bundle)
        names = [a["name"] for a in aliases]
        self.search_document("location", row.id, data["name"], *names, data["description"])
        self.finish("locations", row.id, created, bundle)

    def regions(self, data: dict) -> None:
        """The regions a location lies in (after every location of the import exists)."""
        row_id = self.id_of(Location, data["id"])
        regions = [{"region": self.id_of(Location, slug)} for slug in data["regions"]]
        self.sync(LocationRegion, {"location": row_id}, regions)
        self.changed = False  # counted with the location's own outcome

    def dated(self, data: dict) -> dict:
        start, end = date_span(
            data["date"], data["end_date"], data["date_precision"], data["date_kind"]
        )
        values = {k: data[k] for k in ("date", "end_date", "date_precision", "date_kind")}
        months = {"start_month": month_number(start), "end_month": month_number(end)}
        months |= {"start_week": week_number(start), "end_week": week_number(end)}
        return values | {"range_start": start, "range_end": end} | months

    def event(self, data: dict, bundle: str) -> None:
        values = {k: data[k] for k in ("title", "summary", "type", "sub_type", "fatalities")}
        values.update(self.dated(data))
        values["location"] = self.id_of(Location, data["location"]) if data["location"] else None
        row, created = self.upsert(Event, {"slug": data["id"]}, values)
        participants = [
            {"actor": self.id_of(Actor, p["actor"]), "role": p["role"]}
            for p in data["participants"]
        ]
        self.sync(EventParticipant, {"event": row.id}, participants)
        casualties = [
            {
                "side": self.id_of(Actor, c["side"]) if c["side"] else None,
                "killed": c["killed"],
                "wounded": c["wounded"],
                "qualifier": c["qualifier"],
                "position": n,
            }
            for n, c in enumerate(data["casualties"])
        ]
        self.sync(EventCasualty, {"event": row.id}, casualties)
        self.citations("event", row.id, data["citations"], bundle)
        self.search_document("event", row.id, data["title"], data["summary"])
        self.finish("events", row.id, created, bundle)

    def statement(self, data: dict, bundle: str) -> None:
        fields = ("text", "verbatim", "summary", "channel", "signatory_count", "anonymous")
        values = {k: data[k] for k in (*fields, "attribution")}
        values.update(self.dated(data))
        values["outlet"] = self.id_of(Actor, data["outlet"]) if data["outlet"] else None
        row, created = self.upsert(Statement, {"slug": data["id"]}, values)
        speakers = [
            {"actor": self.id_of(Actor, slug), "position": n}
            for n, slug in enumerate(data["speakers"])
        ]
        self.sync(StatementSpeaker, {"statement": row.id}, speakers)
        for link, name in (
            (StatementPrincipal, "on_behalf_of"),
            (StatementAddressee, "addressees"),
            (StatementMention, "mentions"),
        ):
            actors = [{"actor": self.id_of(Actor, slug)} for slug in data[name]]
            self.sync(link, {"statement": row.id}, actors)
        events = [{"event": self.id_of(Event, slug)} for slug in data["events"]]
        self.sync(StatementEvent, {"statement": row.id}, events)
        self.citations("statement", row.id, data["citations"], bundle)
        text = data["text"]
        self.search_document(
            "statement", row.id, text[:200], text, data["summary"], data["attribution"]
        )
        self.finish("statements", row.id, created, bundle)

    # -- whole bundles ----------------------------------------------------------------------

    def bundles(self, bundles: list[Bundle], plan: Plan) -> None:
        """In dependency order across all bundles, so they may refer to each other's records;
        then what they no longer support goes."""
        data = [(b.data(), b.source_id) for b in bundles if b.source_id is not None]
        assert len(data) == len(bundles), "a bundle without a source passed validation"
        for bundle, _ in data:
            self.source(bundle["source"])
        for bundle, slug in data:
            for record in bundle["actors"]:
                self.actor(record, slug)
        pending = {r["id"]: (r, slug) for bundle, slug in data for r in bundle["locations"]}
        while pending:  # parents first, so each path extends its parent's
            ready = [key for key, (r, _) in pending.items() if r["parent"] not in pending]
            assert ready, f"a cycle of parents among {sorted(pending)} passed validation"
            for key in ready:
                self.location(*pending.pop(key))
        for bundle, _ in data:
            for record in bundle["locations"]:
                self.regions(record)
        for bundle, slug in data:
            for record in bundle["relations"]:
                self.relation(record, slug)
            for record in bundle["events"]:
                self.event(record, slug)
        for bundle, slug in data:
            for record in bundle["statements"]:
                self.statement(record, slug)
        self.remove(plan)

    def remove(self, plan: Plan) -> None:
        """Withdraw each bundle's citations of the records it no longer defines, and delete
        the records no bundle supports any more (their links cascade; search documents go)."""
        for collection in reversed(COLLECTIONS):
            record_type = of_collection(collection).name
            for slug, source_id in plan.sources.items():
                kept = self.touched[(slug, collection)]
                withdrawn = Citation.select(Citation.record_id).where(
                    (Citation.record_type == record_type)
                    & contributed_by([source_id])
                    & Citation.record_id.not_in(list(kept) or [0])
                )
                ids = {row_id for (row_id,) in withdrawn.tuples()}
                stale = plan.stale.get(collection, set())
                self.summary[collection]["updated"] += len(ids - stale - self.counted[collection])
                self.counted[collection] |= ids - stale
                Citation.delete().where(
                    (Citation.record_type == record_type)
                    & contributed_by([source_id])
                    & Citation.record_id.in_(list(ids) or [0])
                ).execute()
            stale_ids = sorted(plan.stale.get(collection, ()))
            if not stale_ids:
                continue
            Citation.delete().where(
                (Citation.record_type == record_type) & Citation.record_id.in_(stale_ids)
            ).execute()
            SearchDocument.delete().where(
                (SearchDocument.record_type == record_type)
                & SearchDocument.record_id.in_(stale_ids)
            ).execute()
            model = of_collection(collection).model
            self.summary[collection]["deleted"] += (
                model.delete().where(model.id.in_(stale_ids)).execute()
            )
