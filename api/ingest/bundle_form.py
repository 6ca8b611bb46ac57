"""Records as bundle records: the definition of a stored record (compared with an incoming
one to detect redefinitions) and the bundle that reproduces a source."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import peewee as pw

from api.records import WRITABLE
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
    Source,
    StatementAddressee,
    StatementEvent,
    StatementMention,
    StatementPrincipal,
    StatementSpeaker,
)

# Lists whose order carries no meaning: compared as sets.
_UNORDERED = (
    "aliases",
    "participants",
    "addressees",
    "mentions",
    "events",
    "on_behalf_of",
    "regions",
    "identifiers",
)
SOURCE_FIELDS = ("title", "publisher", "published", "published_precision", "url", "author")


def contributor() -> pw.Node:
    """The source whose bundle contributed a citation."""
    return pw.fn.COALESCE(Citation.bundle, Citation.source)


def contributed_by(source_ids: list[int]) -> pw.Expression:
    """Citations that these sources' bundles contributed (in a form indexes can serve)."""
    return Citation.bundle.in_(source_ids) | (
        Citation.bundle.is_null() & Citation.source.in_(source_ids)
    )


# A citation's columns, in the order `citation_item` takes them.
CITATION_COLUMNS = (
    Citation.excerpt,
    Citation.public_record,
    Citation.public_record_where,
    Citation.supports,
)


def citation_item(
    source: str | None,
    excerpt: str,
    public_record: str | None,
    where: str | None,
    supports: str | None,
) -> dict:
    """A stored citation in the bundle's form: `{excerpt, source}`, or a public record's
    `{public_record, where, supports, fact, source}`."""
    if public_record is None:
        return {"excerpt": excerpt, "source": source}
    return {
        "public_record": public_record,
        "where": where,
        "supports": (supports or "").split(),
        "fact": excerpt,
        "source": source,
    }


def citation_columns(item: dict) -> dict:
    """A bundle citation as the columns of its row (a public record's fact in `excerpt`)."""
    if item.get("public_record") is None:
        return {
            "excerpt": item["excerpt"],
            "public_record": None,
            "public_record_where": None,
            "supports": None,
        }
    return {
        "excerpt": item["fact"],
        "public_record": item["public_record"],
        "public_record_where": item["where"],
        "supports": " ".join(item["supports"]),
    }


def _slug_of(model: type[pw.Model], row_id: int | None) -> str | None:
    return None if row_id is None else model.get_by_id(row_id).slug


def aliases(model: type[pw.Model], owner: pw.Field, row_id: int) -> list[dict]:
    rows = model.select().where(owner == row_id).order_by(model.id)
    return [{"name": a.name, "language": a.language} for a in rows]


def identifiers(model: type[pw.Model], owner: pw.Field, row_id: int) -> list[dict]:
    rows = model.select().where(owner == row_id).order_by(model.id)
    return [{"scheme": i.scheme, "value": i.value, "reason": i.reason} for i in rows]


def _actor_slugs(link: type[pw.Model], statement_id: int, order: pw.Field) -> list[str]:
    query = (
        Actor.select(Actor.slug)
        .join(link, on=(link.actor == Actor.id))
        .where(link.statement == statement_id)
        .order_by(order)
    )
    return [slug for (slug,) in query.tuples()]


def _region_slugs(location_id: int) -> list[str]:
    query = (
        Location.select(Location.slug)
        .join(LocationRegion, on=(LocationRegion.region == Location.id))
        .where(LocationRegion.location == location_id)
        .order_by(LocationRegion.id)
    )
    return [slug for (slug,) in query.tuples()]


def casualties(event_id: int) -> list[dict]:
    rows = (
        EventCasualty.select()
        .where(EventCasualty.event == event_id)
        .order_by(EventCasualty.position, EventCasualty.id)
    )
    return [
        {"side": _slug_of(Actor, c.side_id)}
        | {f: getattr(c, f) for f in ("killed", "wounded", "qualifier")}
        for c in rows
    ]


def definition(collection: str, row: pw.Model) -> dict:
    """A stored record in the shape the bundle schema loads (without citations)."""
    if collection == "actors":
        fields: tuple[str, ...] = ("name", "kind", "title", "description", "country")
        return {"id": row.slug, **{f: getattr(row, f) for f in fields}} | {
            "aliases": aliases(ActorAlias, ActorAlias.actor, row.id),
            "identifiers": identifiers(ActorIdentifier, ActorIdentifier.actor, row.id),
        }
    if collection == "locations":
        fields = ("name", "kind", "latitude", "longitude", "coordinate_precision", "country")
        return (
            {"id": row.slug, "parent": _slug_of(Location, row.parent_id)}
            | {f: getattr(row, f) for f in (*fields, "description")}
            | {"aliases": aliases(LocationAlias, LocationAlias.location, row.id)}
            | {"regions": _region_slugs(row.id)}
            | {"identifiers": identifiers(LocationIdentifier, LocationIdentifier.location, row.id)}
        )
    if collection == "relations":
        return {
            "subject": _slug_of(Actor, row.subject_id),
            "predicate": row.predicate,
            "object": _slug_of(Actor, row.object_id),
        } | {
            f: getattr(row, f) for f in ("start_date", "end_date", "date_precision", "description")
        }
    dated = {f: getattr(row, f) for f in ("date", "end_date", "date_precision", "date_kind")}
    if collection == "events":
        participants = (
            EventParticipant.select(Actor.slug, EventParticipant.role)
            .join(Actor)
            .where(EventParticipant.event == row.id)
            .order_by(EventParticipant.id)
        )
        fields = ("title", "summary", "type", "sub_type", "fatalities")
        return {"id": row.slug, **{f: getattr(row, f) for f in fields}, **dated} | {
            "location": _slug_of(Location, row.location_id),
            "participants": [{"actor": a, "role": r} for a, r in participants.tuples()],
            "casualties": casualties(row.id),
        }
    fields = ("signatory_count", "anonymous", "attribution", "channel", "text", "verbatim")
    events = (
        Event.select(Event.slug)
        .join(StatementEvent)
        .where(StatementEvent.statement == row.id)
        .order_by(StatementEvent.id)
    )
    return {"id": row.slug, **{f: getattr(row, f) for f in (*fields, "summary")}, **dated} | {
        "speakers": _actor_slugs(StatementSpeaker, row.id, StatementSpeaker.position),
        "on_behalf_of": _actor_slugs(StatementPrincipal, row.id, StatementPrincipal.id),
        "addressees": _actor_slugs(StatementAddressee, row.id, StatementAddressee.id),
        "mentions": _actor_slugs(StatementMention, row.id, StatementMention.id),
        "outlet": _slug_of(Actor, row.outlet_id),
        "events": [slug for (slug,) in events.tuples()],
    }


def _comparable(record: dict) -> dict:
    """A definition without citations, its unordered lists sorted: equal means same record."""
    result = {}
    for key, value in record.items():
        if key in ("citations",):
            continue
        if key in _UNORDERED:
            value = sorted(repr(sorted(v.items())) if isinstance(v, dict) else v for v in value)
        result[key] = value
    return result


def differences(stored: dict, incoming: dict) -> list[str]:
    """The fields whose values differ between two definitions."""
    old, new = _comparable(stored), _comparable(incoming)
    return [key for key in new if old.get(key) != new[key]]


def export_bundle(source: Source) -> dict:
    """The bundle that reproduces `source`: its records and the citations its bundle gave
    (values as the bundle schema loads them; dump it with BriefingBundleSchema)."""
    citations: dict[tuple[str, int], list] = defaultdict(list)
    query = (
        Citation.select(Citation.record_type, Citation.record_id, Source.slug, *CITATION_COLUMNS)
        .join(Source, on=(Citation.source == Source.id))
        .where(contributed_by([source.id]))
        .order_by(Citation.record_type, Citation.record_id, Citation.position, Citation.id)
    )
    for record_type, record_id, cited, *columns in query.tuples():
        item = citation_item(None if cited == source.slug else cited, *columns)
        citations[(record_type, record_id)].append(item)
    bundle: dict[str, Any] = {
        "source": {"id": source.slug, **{f: getattr(source, f) for f in SOURCE_FIELDS}}
        | {"language": source.language, "text": source.text}
    }
    for kind in WRITABLE:
        collection, record_type, model = kind.collection, kind.name, kind.model
        ids = sorted(rid for (kind, rid) in citations if kind == record_type)
        rows = model.select().where(model.id.in_(ids)).order_by(model.id) if ids else []
        bundle[collection] = [
            definition(collection, row) | {"citations": citations[(record_type, row.id)]}
            for row in rows
        ]
    return bundle
