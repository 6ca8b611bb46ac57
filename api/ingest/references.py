"""What refers to what among records: the references a record makes (to check that they
resolve), the nearest known id to suggest for one that does not, and who refers to a record
of each collection (to refuse or cascade its removal). Imports and record writes share them.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator

import peewee as pw

from api.records import named
from api.store.models import (
    Event,
    EventCasualty,
    EventParticipant,
    Location,
    LocationRegion,
    Relation,
    Source,
    Statement,
    StatementAddressee,
    StatementEvent,
    StatementMention,
    StatementPrincipal,
    StatementSpeaker,
)


def references(collection: str, record: dict) -> Iterator[tuple[str, str | None, str]]:
    """(kind, id, field) of every reference a record makes (of a partial record: those of
    its fields that passed the schema)."""
    for n, citation in enumerate(record.get("citations") or []):
        if isinstance(citation, dict):
            yield "source", citation.get("source"), f"citations[{n}].source"
    if collection == "relations":
        yield "actor", record.get("subject"), "subject"
        yield "actor", record.get("object"), "object"
    elif collection == "locations":
        yield "location", record.get("parent"), "parent"
        for n, slug in enumerate(record.get("regions") or []):
            yield "location", slug, f"regions[{n}]"
    elif collection == "events":
        yield "location", record.get("location"), "location"
        for n, participant in enumerate(record.get("participants") or []):
            if isinstance(participant, dict):
                yield "actor", participant.get("actor"), f"participants[{n}].actor"
        for n, casualty in enumerate(record.get("casualties") or []):
            if isinstance(casualty, dict) and casualty.get("side"):
                yield "actor", casualty.get("side"), f"casualties[{n}].side"
    elif collection == "statements":
        for name in ("speakers", "on_behalf_of", "addressees", "mentions"):
            for n, slug in enumerate(record.get(name) or []):
                yield "actor", slug, f"{name}[{n}]"
        yield "actor", record.get("outlet"), "outlet"
        for n, slug in enumerate(record.get("events") or []):
            yield "event", slug, f"events[{n}]"


def suggestion(kind: str, slug: str, defined: dict, stale: dict[str, set[int]]) -> str:
    """`; did you mean 'x'?` with the nearest known id (difflib), or nothing: among the stored
    records (but the `stale` ones, which go) and those `defined` by the import."""
    if kind == "source":
        candidates = [s for (s,) in Source.select(Source.slug).tuples()]
    else:
        collection, model = named(kind).collection, named(kind).model
        gone = stale.get(collection, set())
        candidates = [s for s, i in model.select(model.slug, model.id).tuples() if i not in gone]
        candidates += list(defined[collection])
    nearest = difflib.get_close_matches(slug, candidates, n=1, cutoff=0.6)
    return f"; did you mean {nearest[0]!r}?" if nearest else ""


# Who refers to a record of each collection: (referring collection, link model, its record
# column, its reference column).
REFERRERS: dict[str, list[tuple[str, type[pw.Model], pw.Field, pw.Field]]] = {
    "actors": [
        ("relations", Relation, Relation.id, Relation.subject),
        ("relations", Relation, Relation.id, Relation.object),
        ("events", EventParticipant, EventParticipant.event, EventParticipant.actor),
        ("events", EventCasualty, EventCasualty.event, EventCasualty.side),
        ("statements", StatementPrincipal, StatementPrincipal.statement, StatementPrincipal.actor),
        ("statements", StatementSpeaker, StatementSpeaker.statement, StatementSpeaker.actor),
        ("statements", StatementAddressee, StatementAddressee.statement, StatementAddressee.actor),
        ("statements", StatementMention, StatementMention.statement, StatementMention.actor),
        ("statements", Statement, Statement.id, Statement.outlet),
    ],
    "locations": [
        ("events", Event, Event.id, Event.location),
        ("locations", Location, Location.id, Location.parent),
        ("locations", LocationRegion, LocationRegion.location, LocationRegion.region),
    ],
    "events": [("statements", StatementEvent, StatementEvent.statement, StatementEvent.event)],
}
