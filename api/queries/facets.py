"""Facets: how many of the filtered events or statements fall under each value of a field."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import peewee as pw

from api.db import is_postgres
from api.models import (
    Actor,
    Event,
    EventParticipant,
    Location,
    Statement,
    StatementPrincipal,
    StatementSpeaker,
)
from api.queries.collection import Collection, matching
from api.queries.events import EVENTS
from api.queries.statements import STATEMENTS


def month_of(column: pw.Field) -> pw.Node:
    """`YYYY-MM` of a date column (stored as ISO text on SQLite, as a date on PostgreSQL)."""
    if is_postgres():
        return pw.fn.to_char(column, "YYYY-MM")
    return pw.fn.strftime("%Y-%m", column)


def buckets(rows: Iterable[tuple], size: int, chronological: bool = False) -> tuple[list, int]:
    """The `size` most frequent buckets (months then in calendar order), and how many in all."""
    result = [{"value": value, "label": label, "count": count} for value, label, count in rows]
    result.sort(key=lambda b: (-b["count"], b["value"] is None, b["value"] or ""))
    kept = result[:size]
    if chronological:
        kept.sort(key=lambda b: (b["value"] is None, b["value"] or ""))
    return kept, len(result)


def code_facet(
    collection: Collection, column: pw.Node, args: dict, chronological: bool = False
) -> tuple[list[dict], int]:
    model = collection.model
    value = column.alias("value")
    query = model.select(value, pw.fn.COUNT(model.id)).group_by(column)
    rows = matching(collection, query, args).tuples()
    return buckets(((v, None, n) for v, n in rows), args["buckets"], chronological)


def actor_facet(
    collection: Collection, link: type[pw.Model], owner: pw.Field, args: dict, role: str | None
) -> tuple[list[dict], int]:
    """Records per linked actor; a record counts once per actor however many links it has.

    Counted on the link table alone, grouped by actor id, then joined to the actors: the
    records' table is read only when a filter narrows them (issue #14)."""
    model = collection.model
    count = pw.fn.COUNT(owner.distinct()).alias("n")
    per_actor = link.select(link.actor.alias("actor_id"), count).group_by(link.actor)
    if role:
        per_actor = per_actor.where(link.role == role)
    records = matching(collection, model.select(model.id), args)
    if records._where is not None or records._from_list != [model]:
        per_actor = per_actor.where(owner.in_(records))
    per_actor = per_actor.alias("per_actor")
    query = Actor.select(Actor.slug, Actor.name, per_actor.c.n).join(
        per_actor, on=(per_actor.c.actor_id == Actor.id)
    )
    return buckets(query.tuples(), args["buckets"])


def speaker_facet(args: dict) -> tuple[list[dict], int]:
    """Statements per speaker, as `speaker=` matches them: an actor counts the statements it
    made and those made on its behalf (once each)."""
    links = (
        StatementSpeaker.select(StatementSpeaker.statement, StatementSpeaker.actor)
        | StatementPrincipal.select(StatementPrincipal.statement, StatementPrincipal.actor)
    ).alias("links")
    query = (
        Statement.select(Actor.slug, Actor.name, pw.fn.COUNT(Statement.id.distinct()))
        .join(links, on=(links.c.statement_id == Statement.id))
        .join(Actor, on=(links.c.actor_id == Actor.id))
        .group_by(Actor.id, Actor.slug, Actor.name)
    )
    return buckets(matching(STATEMENTS, query, args).tuples(), args["buckets"])


def location_facet(args: dict) -> tuple[list[dict], int]:
    """Events per place, rolled up the location tree like the `location` filter."""
    query = (
        Event.select(Location.path, pw.fn.COUNT(Event.id))
        .join(Location, pw.JOIN.LEFT_OUTER, on=(Event.location == Location.id))
        .group_by(Location.path)
    )
    counts: dict[str | None, int] = defaultdict(int)
    for path, count in matching(EVENTS, query, args).tuples():
        for slug in path.strip("/").split("/") if path else [None]:
            counts[slug] += count
    names = dict(
        Location.select(Location.slug, Location.name)
        .where(Location.slug.in_([s for s in counts if s]))
        .tuples()
    )
    return buckets(((s, names.get(s), n) for s, n in counts.items()), args["buckets"])


def event_facets(field: str, args: dict) -> tuple[list[dict], int]:
    """Buckets of the filtered events by `field`, and how many buckets there are in all."""
    if field == "actor":
        return actor_facet(EVENTS, EventParticipant, EventParticipant.event, args, args.get("role"))
    if field == "location":
        return location_facet(args)
    if field == "month":
        return code_facet(EVENTS, month_of(Event.date), args, chronological=True)
    return code_facet(EVENTS, getattr(Event, field), args)


def statement_facets(field: str, args: dict) -> tuple[list[dict], int]:
    """Buckets of the filtered statements by `field`, and how many buckets there are in all."""
    if field == "speaker":
        return speaker_facet(args)
    if field == "month":
        return code_facet(STATEMENTS, month_of(Statement.date), args, chronological=True)
    return code_facet(STATEMENTS, Statement.channel, args)
