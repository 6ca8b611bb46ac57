"""Load briefing bundles (YAML) into the database: validate, resolve, upsert in one transaction.

Records are keyed by their public id, so loading the same files twice changes nothing. A file
with any error is refused whole, with messages naming the file, the record and the field.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import marshmallow as ma
import peewee as pw
import yaml

from api.db import database
from api.models import (
    Actor,
    ActorAlias,
    Citation,
    Event,
    EventParticipant,
    Location,
    LocationAlias,
    Relation,
    SearchDocument,
    Source,
    Statement,
    StatementAddressee,
    StatementEvent,
    StatementMention,
    StatementSpeaker,
    date_span,
    relation_slug,
)
from schemas.bundle import BriefingBundleSchema

# The seed briefings ship as data of the `seed` package (read as files, never imported).
BRIEFINGS_DIR = Path(str(resources.files("seed").joinpath("briefings")))


class SeedError(Exception):
    """A bundle that cannot be loaded; `problems` are readable lines."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class Report:
    files: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)  # records per collection in the files
    changed: int = 0  # rows inserted, updated or deleted


def default_files() -> list[Path]:
    """Every briefing file of seed/briefings/, in name order."""
    return sorted(BRIEFINGS_DIR.glob("*.yaml"))


# ---------------------------------------------------------------- validation


def record_label(bundle: Any, collection: str, index: Any) -> str:
    try:
        record_id = bundle[collection][index].get("id") or (
            f"{bundle[collection][index]['subject']} {bundle[collection][index]['predicate']} "
            f"{bundle[collection][index]['object']}"
        )
        return f"{collection}[{index}] ({record_id})"
    except (KeyError, IndexError, TypeError, AttributeError):
        return f"{collection}[{index}]"


def flatten_errors(messages: Any, prefix: str = "") -> list[tuple[str, str]]:
    """marshmallow's nested error dict as (field path, message) pairs."""
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return [(prefix, message) for message in messages]
    if isinstance(messages, dict):
        pairs = []
        for key, value in messages.items():
            part = f"[{key}]" if isinstance(key, int) else (f".{key}" if prefix else str(key))
            pairs.extend(flatten_errors(value, prefix + part))
        return pairs
    return [(prefix, str(messages))]


def describe_errors(path: Path, raw: Any, messages: dict) -> list[str]:
    """'file: collection[i] (id) field: message' lines."""
    lines = []
    for collection, detail in messages.items():
        if isinstance(detail, dict) and all(isinstance(k, int) for k in detail):
            for index, fields in detail.items():
                label = record_label(raw, collection, index)
                for field_path, message in flatten_errors(fields):
                    lines.append(f"{path.name}: {label} {field_path or '(record)'}: {message}")
        else:
            for field_path, message in flatten_errors(detail, collection):
                lines.append(f"{path.name}: {field_path}: {message}")
    return lines


def read_bundle(path: Path) -> dict:
    """Parse and validate one file; SeedError naming file, record and field."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise SeedError([f"{path}: cannot read: {error}"]) from error
    except yaml.YAMLError as error:
        raise SeedError([f"{path.name}: not valid YAML: {error}"]) from error
    if not isinstance(raw, dict):
        raise SeedError([f"{path.name}: must be a mapping with source, actors, events, ..."])
    try:
        return BriefingBundleSchema().load(raw)
    except ma.ValidationError as error:
        raise SeedError(describe_errors(path, raw, error.messages)) from error


def check_references(bundles: dict[Path, dict]) -> None:
    """Every reference resolves to a record in the files or already in the database."""
    known: dict[str, set[str]] = {kind: set() for kind in ("actor", "location", "event", "source")}
    for model, kind in (
        (Actor, "actor"),
        (Location, "location"),
        (Event, "event"),
        (Source, "source"),
    ):
        if model.table_exists():
            known[kind].update(slug for (slug,) in model.select(model.slug).tuples())
    for bundle in bundles.values():
        known["source"].add(bundle["source"]["id"])
        for collection, kind in (
            ("actors", "actor"),
            ("locations", "location"),
            ("events", "event"),
        ):
            known[kind].update(record["id"] for record in bundle[collection])

    problems = []
    for path, bundle in bundles.items():

        def need(
            kind: str, slug: str | None, where: str, field_name: str, path: Path = path
        ) -> None:
            if slug is not None and slug not in known[kind]:
                problems.append(f"{path.name}: {where} {field_name}: unknown {kind} {slug!r}")

        for collection in ("actors", "relations", "locations", "events", "statements"):
            for index, record in enumerate(bundle[collection]):
                where = record_label(bundle, collection, index)
                for n, citation in enumerate(record["citations"]):
                    need("source", citation["source"], where, f"citations[{n}].source")
                if collection == "relations":
                    need("actor", record["subject"], where, "subject")
                    need("actor", record["object"], where, "object")
                elif collection == "locations":
                    need("location", record["parent"], where, "parent")
                elif collection == "events":
                    need("location", record["location"], where, "location")
                    for n, participant in enumerate(record["participants"]):
                        need("actor", participant["actor"], where, f"participants[{n}].actor")
                elif collection == "statements":
                    for name in ("speakers", "addressees", "mentions"):
                        for n, slug in enumerate(record[name]):
                            need("actor", slug, where, f"{name}[{n}]")
                    need("actor", record["outlet"], where, "outlet")
                    for n, slug in enumerate(record["events"]):
                        need("event", slug, where, f"events[{n}]")
    if problems:
        raise SeedError(problems)


def validate_files(paths: Iterable[Path]) -> dict[Path, dict]:
    """Read, validate and cross-check files; SeedError listing every problem found."""
    bundles, problems = {}, []
    for path in paths:
        try:
            bundles[Path(path)] = read_bundle(Path(path))
        except SeedError as error:
            problems.extend(error.problems)
    if problems:
        raise SeedError(problems)
    check_references(bundles)
    return bundles


# ---------------------------------------------------------------- upsert


def attribute(model: type[pw.Model], column: str) -> str:
    """The attribute holding a column's raw value (`actor_id` for the foreign key `actor`)."""
    field = model._meta.fields[column]
    return field.object_id_name if isinstance(field, pw.ForeignKeyField) else column


class Upserter:
    """Writes bundles, counting the rows it really changes."""

    def __init__(self) -> None:
        self.changed = 0
        self.ids: dict[type[pw.Model], dict[str, int]] = {}

    def id_of(self, model: type[pw.Model], slug: str) -> int:
        cache = self.ids.setdefault(model, {})
        if slug not in cache:
            cache[slug] = model.get(model.slug == slug).id
        return cache[slug]

    def upsert(self, model: type[pw.Model], key: dict, values: dict) -> pw.Model:
        """Insert or update the row matching `key`; touch nothing when nothing differs."""
        row = model.get_or_none(*[getattr(model, k) == v for k, v in key.items()])
        if row is None:
            row = model.create(**key, **values)
            self.changed += 1
        elif any(getattr(row, attribute(model, k)) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(row, k, v)
            row.save()
            self.changed += 1
        if "slug" in key:
            self.ids.setdefault(model, {})[key["slug"]] = row.id
        return row

    def sync(self, model: type[pw.Model], owner: dict, rows: list[dict]) -> None:
        """Make the child rows of `owner` exactly `rows`: delete the others, add the missing."""

        columns = sorted({column for row in rows for column in row})
        wanted = {tuple(row[c] for c in columns): row for row in rows}
        stale = []
        for row in model.select().where(*[getattr(model, k) == v for k, v in owner.items()]):
            values = tuple(getattr(row, attribute(model, c)) for c in columns)
            if values in wanted:
                del wanted[values]
            else:
                stale.append(row.id)
        if stale:
            model.delete().where(model.id.in_(stale)).execute()
        if wanted:
            model.insert_many([{**owner, **row} for row in wanted.values()]).execute()
        self.changed += len(stale) + len(wanted)

    def citations(self, record_type: str, record_id: int, items: list[dict], source: str) -> None:
        rows = [
            {
                "source": self.id_of(Source, item["source"] or source),
                "excerpt": item["excerpt"],
                "position": position,
            }
            for position, item in enumerate(items)
        ]
        self.sync(Citation, {"record_type": record_type, "record_id": record_id}, rows)

    def search_document(self, record_type: str, record_id: int, title: str, *body: Any) -> None:
        text = "\n".join(str(part) for part in body if part)
        self.upsert(
            SearchDocument,
            {"record_type": record_type, "record_id": record_id},
            {"title": title, "body": text},
        )

    # -- one method per collection --------------------------------------------------------

    def source(self, data: dict) -> None:
        values = {
            k: data[k]
            for k in (
                "title",
                "publisher",
                "published",
                "published_precision",
                "url",
                "author",
                "language",
            )
        }
        row = self.upsert(Source, {"slug": data["id"]}, values)
        self.search_document("source", row.id, data["title"], data["publisher"], data["author"])

    def actor(self, data: dict, source: str) -> None:
        values = {k: data[k] for k in ("name", "kind", "title", "description", "country")}
        row = self.upsert(Actor, {"slug": data["id"]}, values)
        aliases = [{"name": a["name"], "language": a["language"]} for a in data["aliases"]]
        self.sync(ActorAlias, {"actor": row.id}, aliases)
        self.citations("actor", row.id, data["citations"], source)
        self.search_document(
            "actor",
            row.id,
            data["name"],
            *[a["name"] for a in aliases],
            data["title"],
            data["description"],
        )

    def relation(self, data: dict, source: str) -> None:
        key = {
            "subject": self.id_of(Actor, data["subject"]),
            "predicate": data["predicate"],
            "object": self.id_of(Actor, data["object"]),
        }
        values = {k: data[k] for k in ("start_date", "end_date", "date_precision", "description")}
        values["slug"] = relation_slug(data["subject"], data["predicate"], data["object"])
        row = self.upsert(Relation, key, values)
        self.citations("relation", row.id, data["citations"], source)

    def location(self, data: dict, source: str) -> None:
        parent = Location.get(Location.slug == data["parent"]) if data["parent"] else None
        path = f"{parent.path if parent else '/'}{data['id']}/"
        values = {
            k: data[k]
            for k in (
                "name",
                "kind",
                "latitude",
                "longitude",
                "coordinate_precision",
                "country",
                "description",
            )
        }
        values.update(parent=parent.id if parent else None, path=path)
        row = self.upsert(Location, {"slug": data["id"]}, values)
        aliases = [{"name": a["name"], "language": a["language"]} for a in data["aliases"]]
        self.sync(LocationAlias, {"location": row.id}, aliases)
        self.citations("location", row.id, data["citations"], source)
        self.search_document(
            "location", row.id, data["name"], *[a["name"] for a in aliases], data["description"]
        )

    def dated(self, data: dict) -> dict:
        start, end = date_span(data["date"], data["end_date"], data["date_precision"])
        return {
            "date": data["date"],
            "end_date": data["end_date"],
            "date_precision": data["date_precision"],
            "range_start": start,
            "range_end": end,
        }

    def event(self, data: dict, source: str) -> None:
        values = {k: data[k] for k in ("title", "summary", "type", "sub_type", "fatalities")}
        values.update(self.dated(data))
        values["location"] = self.id_of(Location, data["location"]) if data["location"] else None
        row = self.upsert(Event, {"slug": data["id"]}, values)
        participants = [
            {"actor": self.id_of(Actor, p["actor"]), "role": p["role"]}
            for p in data["participants"]
        ]
        self.sync(EventParticipant, {"event": row.id}, participants)
        self.citations("event", row.id, data["citations"], source)
        self.search_document("event", row.id, data["title"], data["summary"])

    def statement(self, data: dict, source: str) -> None:
        values = {
            k: data[k]
            for k in (
                "text",
                "verbatim",
                "summary",
                "channel",
                "signatory_count",
                "anonymous",
                "attribution",
            )
        }
        values.update(self.dated(data))
        values["outlet"] = self.id_of(Actor, data["outlet"]) if data["outlet"] else None
        row = self.upsert(Statement, {"slug": data["id"]}, values)
        speakers = [
            {"actor": self.id_of(Actor, slug), "position": n}
            for n, slug in enumerate(data["speakers"])
        ]
        self.sync(StatementSpeaker, {"statement": row.id}, speakers)
        self.sync(
            StatementAddressee,
            {"statement": row.id},
            [{"actor": self.id_of(Actor, slug)} for slug in data["addressees"]],
        )
        self.sync(
            StatementMention,
            {"statement": row.id},
            [{"actor": self.id_of(Actor, slug)} for slug in data["mentions"]],
        )
        self.sync(
            StatementEvent,
            {"statement": row.id},
            [{"event": self.id_of(Event, slug)} for slug in data["events"]],
        )
        self.citations("statement", row.id, data["citations"], source)
        self.search_document(
            "statement",
            row.id,
            data["text"][:200],
            data["text"],
            data["summary"],
            data["attribution"],
        )

    def bundles(self, bundles: list[dict]) -> None:
        """In dependency order across all files, so files may refer to each other's records."""
        for bundle in bundles:
            self.source(bundle["source"])
        for bundle in bundles:
            for record in bundle["actors"]:
                self.actor(record, bundle["source"]["id"])
        pending = {r["id"]: (r, b["source"]["id"]) for b in bundles for r in b["locations"]}
        while pending:  # parents first, so each path extends its parent's
            ready = [key for key, (r, _) in pending.items() if r["parent"] not in pending]
            if not ready:
                raise SeedError([f"locations: parent cycle among {sorted(pending)}"])
            for key in ready:
                self.location(*pending.pop(key))
        for bundle in bundles:
            for record in bundle["relations"]:
                self.relation(record, bundle["source"]["id"])
            for record in bundle["events"]:
                self.event(record, bundle["source"]["id"])
        for bundle in bundles:
            for record in bundle["statements"]:
                self.statement(record, bundle["source"]["id"])


def load_files(paths: Iterable[Path] | None = None) -> Report:
    """Validate every file, then write them all in one transaction (all or nothing)."""
    paths = [Path(p) for p in (paths or default_files())]
    with database.connection_context():
        bundles = validate_files(paths)
        upserter = Upserter()
        with database.atomic():
            upserter.bundles(list(bundles.values()))
    counts: dict[str, int] = {}
    for bundle in bundles.values():
        for collection in ("actors", "relations", "locations", "events", "statements"):
            counts[collection] = counts.get(collection, 0) + len(bundle[collection])
    counts["sources"] = len(bundles)
    return Report([p.name for p in paths], counts, upserter.changed)


def is_empty() -> bool:
    """True when no source has been loaded yet."""
    with database.connection_context():
        return not Source.select().exists()
