"""The timeline: events and statements merged on one date axis, keyset-paged."""

from __future__ import annotations

import peewee as pw

from api.db import database
from api.models import Event, Statement, StatementEvent, StatementSpeaker
from api.paths import record_url
from api.queries.collection import matching
from api.queries.events import EVENTS, locations_of, participants_for
from api.queries.loading import by_id, location_ref
from api.queries.paging import Page, Sort, paginate, sorts_for
from api.queries.statements import STATEMENTS, linked_actors

# Items are ordered by (date, uid) with uid = 2 * id for events and 2 * id + 1 for statements:
# unique across both tables, so a (date, uid) cursor from query.py pins a position exactly.
TIMELINE_SORTS = sorts_for({"date": Event.date})  # the names; the key is the union's date


def timeline_union(args: dict) -> pw.Node:
    """The filtered (record_type, id, date, uid) of events and statements, as one UNION ALL."""
    events = Event.select(
        pw.Value("event").alias("record_type"),
        Event.id.alias("id"),
        Event.date.alias("date"),
        (Event.id * 2).alias("uid"),
    )
    statements = Statement.select(
        pw.Value("statement").alias("record_type"),
        Statement.id.alias("id"),
        Statement.date.alias("date"),
        (Statement.id * 2 + 1).alias("uid"),
    )
    events = matching(EVENTS, events, args, skip=("location",))
    statements = matching(STATEMENTS, statements, args, skip=("location",))
    if args.get("location"):
        # Statements have no place: they match when they are about an event at the place.
        at_place = EVENTS.filters["location"](Event.select(Event.id), args["location"], args)
        events = events.where(Event.id.in_(at_place))
        about = StatementEvent.select(StatementEvent.statement).where(
            StatementEvent.event.in_(at_place)
        )
        statements = statements.where(Statement.id.in_(about))
    return (events + statements).alias("timeline")


def timeline(args: dict, count_limit: int | None = None) -> tuple[list[dict], Page]:
    """One page of the merged, date-ordered timeline, keyset-paged on (date, uid); the total
    is exact up to `count_limit` (see paging.paginate)."""
    union = timeline_union(args)
    sort = TIMELINE_SORTS[args.get("sort") or "date"]
    sort = Sort(sort.name, union.c.date, sort.descending, key_type="date")
    query = (
        pw.Select([union], [union.c.record_type, union.c.id, union.c.date, union.c.uid])
        .bind(database)
        .namedtuples()
    )
    page = paginate(
        query,
        sort,
        union.c.uid,
        args["limit"],
        args.get("cursor"),
        key_of=lambda row: row.date,
        id_of=lambda row: row.uid,
        count_limit=count_limit,
    )
    return timeline_items(page.rows), page


def timeline_items(rows: list[tuple]) -> list[dict]:
    """The page's events and statements with just what a timeline shows (at most five queries)."""
    ids: dict[str, list[int]] = {"event": [], "statement": []}
    for row in rows:
        ids[row.record_type].append(row.id)
    events = by_id(Event, ids["event"])
    statements = by_id(Statement, ids["statement"])
    places = locations_of(list(events.values()))
    participants = participants_for(ids["event"])
    speakers = linked_actors(StatementSpeaker, ids["statement"])
    items = []
    for row in rows:
        if row.record_type == "event":
            record = events[row.id]
            title = record.title
            place = places.get(record.location_id)
            location = location_ref(place) if place else None
            unique = {p["actor"]["id"]: p["actor"] for p in participants[row.id]}
            actors = list(unique.values())
        else:
            record = statements[row.id]
            title, location, actors = record.text, None, speakers[row.id]
        items.append(
            {
                "record_type": row.record_type,
                "id": record.slug,
                "date": record.date,
                "end_date": record.end_date,
                "date_precision": record.date_precision,
                "date_kind": record.date_kind,
                "title": title,
                "actors": actors,
                "location": location,
                "url": record_url(row.record_type, record.slug),
            }
        )
    return items
