"""The timeline: events and statements merged on one date axis, keyset-paged."""

from __future__ import annotations

from typing import Any

import peewee as pw

from api.queries import filters
from api.queries.collection import matching
from api.queries.events import EVENTS, locations_of, participants_for
from api.queries.list_query import ListQuery
from api.queries.loading import by_id, location_ref
from api.queries.paging import (
    Page,
    Sort,
    count_rows,
    keyset,
    page_of,
    page_total,
    sorts_for,
)
from api.queries.statements import STATEMENTS, linked_actors
from api.records import record_url
from api.store.db import database
from api.store.models import Event, Location, Statement, StatementEvent, StatementSpeaker

# Items are ordered by (date, uid) with uid = 2 * id for events and 2 * id + 1 for statements:
# unique across both tables, so a (date, uid) cursor from query.py pins a position exactly.
_TIMELINE_SORTS = sorts_for({"date": Event.date})  # the names; the key is the union's date


def _timeline_arms(asked: ListQuery) -> tuple[filters.Filtered, filters.Filtered]:
    """The filtered (record_type, id, date, uid) of events, and of statements."""
    event_rows = Event.select(
        pw.Value("event").alias("record_type"),
        Event.id.alias("id"),
        Event.date.alias("date"),
        (Event.id * 2).alias("uid"),
    )
    statement_rows = Statement.select(
        pw.Value("statement").alias("record_type"),
        Statement.id.alias("id"),
        Statement.date.alias("date"),
        (Statement.id * 2 + 1).alias("uid"),
    )
    events = matching(EVENTS, event_rows, asked, skip=("location",))
    statements = matching(STATEMENTS, statement_rows, asked, skip=("location",))
    if asked.filters.get("location"):
        places = filters.descendant_location_ids(asked.filters["location"], "location")
        events = events.where(filters.member(Event.location, (places, Location.id)))
        # Statements have no place: they match when they are about an event at the place.
        statements = statements.where(_about_events(Event.location.in_(places)))
    return events, statements


def _about_events(at_place: pw.Expression) -> filters.Narrowing:
    """Statements about an event that `at_place` (a condition on Event) selects. Probed, a
    statement's own links are read and each linked event tested, rather than every event of
    the place listed first."""
    link = StatementEvent
    events = Event.select(Event.id).where(at_place)
    search = Statement.id.in_(link.select(link.statement).where(link.event.in_(events)))
    linked = link.select(link.statement).join(Event, on=(Event.id == link.event))
    probe = pw.fn.EXISTS(linked.where((link.statement == Statement.id) & at_place))
    return filters.Narrowing(search, probe)


def _arm_bound(uid: int, parity: int, after: bool) -> int:
    """The id bound, in one table's (date, id) order, of the position `uid` (2 * id + parity)
    holds in the merged (date, uid) order: after it (`after`) or before it."""
    if after:  # 2 * id + parity > uid
        return (uid - parity) // 2
    return (uid - parity + 1) // 2  # 2 * id + parity < uid


def timeline(asked: ListQuery, count_limit: int | None = None) -> tuple[list[dict], Page]:
    """One page of the merged, date-ordered timeline, keyset-paged on (date, uid); the total
    is exact up to `count_limit` (see paging.page_total).

    Each table is paged on its own (date, id) index, the cursor's uid translated to it, and
    the two pages merged: a table never sorts all of its matches; a broad filter
    is probed while its index is walked, as the lists do (filters.read_in_sort_order)."""
    arms = _timeline_arms(asked)
    events, statements = led = [filters.led_by_the_rest(arm) for arm in arms]
    union = (events.query() + statements.query()).alias("timeline")
    sort = _TIMELINE_SORTS[asked.sort or "date"]
    merged = Sort(sort.name, union.c.date, sort.descending, key_type="date")
    everything = pw.Select([union], [union.c.uid]).bind(database)
    total, estimate = page_total(everything, count_limit, count_rows)  # once per version
    broad = total is None or total > filters.PROBE_ABOVE  # else no table has many matches
    key = uid = direction = None
    if asked.cursor:
        key, uid, direction = asked.cursors.decode(asked.cursor, merged)
    forward = direction != "prev"
    after = forward != sort.descending  # the keyset's "greater than"
    limit = asked.limit
    rows = []
    for arm, unled, model, parity in zip(led, arms, (Event, Statement), (0, 1), strict=True):
        arm_sort = Sort(sort.name, model.date, sort.descending, key_type="date")
        if arm is not unled:  # few rows in its dates' range: those are read and sorted
            arm_sort = filters.unindexed_sort(arm_sort)
        elif broad and arm.narrowed:  # counted once per data version
            matches = count_rows(arm.query(), filters.PROBE_ABOVE + 1)
            arm = filters.read_in_sort_order(arm, model.date, matches, asked)
        bound = None if uid is None else _arm_bound(uid, parity, after)
        arm_page = keyset(arm.query(), arm_sort, model.id, limit, direction or "next", key, bound)
        rows.extend(arm_page.namedtuples())
    rows.sort(key=lambda row: (row.date, row.uid), reverse=sort.descending == forward)
    page = page_of(
        rows[: limit + 1],
        merged,
        limit,
        direction,
        total,
        estimate,
        key_of=lambda row: row.date,
        id_of=lambda row: row.uid,
        cursors=asked.cursors,
    )
    return _timeline_items(page.rows), page


def _timeline_items(rows: list[Any]) -> list[dict]:
    """The page's events and statements (rows: named tuples of record_type, id, date, uid)
    with just what a timeline shows (at most five queries)."""
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
