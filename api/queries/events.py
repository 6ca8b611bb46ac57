"""`event` records: what happened, where, when, who took part."""

from __future__ import annotations

import operator
from collections import defaultdict
from collections.abc import Mapping, Sequence
from functools import reduce
from typing import Any

import peewee as pw

from api.queries.collection import Collection
from api.queries.filters import (
    Filter,
    Narrowing,
    any_of,
    cited_by,
    date_from,
    date_to,
    great_circle_km,
    in_bbox,
    inside_places,
    member,
    near,
    unindexed,
    within_paths,
)
from api.queries.identity import actor_ids, location_slugs
from api.queries.list_query import ListQuery
from api.queries.loading import (
    Row,
    as_utc,
    citations_for,
    prepared,
    rows_by_id,
    typed_rows,
)
from api.queries.paging import sorts_for
from api.queries.rendered import Rendered
from api.store.ddl import AGGREGATE_INDEXES
from api.store.models import Actor, Event, EventCasualty, EventJson, EventParticipant, Location
from api.store.places import LEVEL_FIELDS


def locations_of(events: Sequence[Event | Row]) -> dict[int, Row]:
    """The locations of many events in one query: {location id: location}."""
    return rows_by_id(Location, list({event.location_id for event in events if event.location_id}))


# What an event record shows of its place: its ref, and its coordinates (or its path, to find an
# enclosing place's); the aggregates read every place with the same columns.
PLACE_COLUMNS = [
    Location.id,
    Location.slug,
    Location.name,
    Location.kind,
    Location.path,
    Location.latitude,
    Location.longitude,
    Location.coordinate_precision,
]
_PLACE_NAMES = [column.name for column in PLACE_COLUMNS]


def places_of(events: Sequence[Event | Row]) -> dict[int, Row]:
    """The places of many event rows (the columns their records show), in one query."""
    ids = list({event["location_id"] for event in events if event["location_id"]})
    if not ids:
        return {}
    cursor = prepared(
        "places_of",
        lambda ids: Location.select(*PLACE_COLUMNS).where(Location.id.in_(ids)).tuples(),
        ids,
    )
    return {row["id"]: row for row in typed_rows(cursor, PLACE_COLUMNS, _PLACE_NAMES)}


def participants_for(event_ids: list[int]) -> dict[int, list[dict]]:
    """Participants of many events in one query: {event id: [{actor, role}]}."""
    result: dict[int, list[dict]] = defaultdict(list)
    if not event_ids:
        return result
    cursor = prepared(
        "participants_for",
        lambda ids: (
            EventParticipant.select(
                EventParticipant.event, EventParticipant.role, Actor.slug, Actor.name, Actor.kind
            )
            .join(Actor)
            .where(EventParticipant.event.in_(ids))
            # by event first: with 1,000 ids, ordering by id alone made SQLite read every
            # participant through the actors
            .order_by(EventParticipant.event, EventParticipant.id)
            .tuples()
        ),
        event_ids,
    )
    for owner, role, slug, name, kind in cursor:
        result[owner].append({"actor": {"id": slug, "name": name, "kind": kind}, "role": role})
    return result


def casualties_for(event_ids: list[int]) -> dict[int, list[dict]]:
    """Casualty figures of many events in one query: {event id: [{side, killed, ...}]}."""
    result: dict[int, list[dict]] = defaultdict(list)
    if not event_ids:
        return result
    cursor = prepared(
        "casualties_for",
        lambda ids: (
            EventCasualty.select(
                EventCasualty.event,
                EventCasualty.side,
                Actor.slug,
                Actor.name,
                Actor.kind,
                EventCasualty.killed,
                EventCasualty.wounded,
                EventCasualty.qualifier,
            )
            .join(Actor, pw.JOIN.LEFT_OUTER)
            .where(EventCasualty.event.in_(ids))
            .order_by(EventCasualty.event, EventCasualty.position, EventCasualty.id)
            .tuples()
        ),
        event_ids,
    )
    for event_id, side_id, slug, name, kind, killed, wounded, qualifier in cursor:
        result[event_id].append(
            {
                "side": {"id": slug, "name": name, "kind": kind} if side_id else None,
                "killed": killed,
                "wounded": wounded,
                "qualifier": qualifier,
            }
        )
    return result


def _located_ancestors(locations: Mapping[int, Location | Row]) -> dict[str, Location]:
    """The enclosing places (with coordinates) of the places that have none, in one query."""
    wanted = {
        slug
        for loc in locations.values()
        if loc.latitude is None
        for slug in loc.path.strip("/").split("/")[:-1]
    }
    if not wanted:
        return {}
    query = Location.select().where(
        Location.slug.in_(list(wanted)) & Location.latitude.is_null(False)
    )
    return {loc.slug: loc for loc in query}


def coordinates(
    location: Location | Row | None, ancestors: Mapping[str, Location | Row]
) -> dict | None:
    """An event's point: its location's coordinates or, when it has none, the nearest
    enclosing place's (marked `source: ancestor`); None when no place has any."""
    if location is None:
        return None
    source = "location"
    if location.latitude is None:
        chain = [ancestors.get(slug) for slug in location.path.strip("/").split("/")[:-1]]
        found = [loc for loc in chain if loc is not None]
        if not found:
            return None
        location, source = found[-1], "ancestor"
    return {
        "latitude": location.latitude,
        "longitude": location.longitude,
        "precision": location.coordinate_precision,
        "source": source,
        "location": location.slug,
    }


def _place_view(place: Row, ancestors: dict[str, Location]) -> tuple[dict, dict | None]:
    """An event's `location` ref and `coordinates` from its place's row (as `location_ref` and
    `coordinates` write them; items, not attributes, for a place with coordinates)."""
    ref = {"id": place["slug"], "name": place["name"], "kind": place["kind"]}
    if place["latitude"] is None:
        return ref, coordinates(place, ancestors)
    point = {
        "latitude": place["latitude"],
        "longitude": place["longitude"],
        "precision": place["coordinate_precision"],
        "source": "location",
        "location": place["slug"],
    }
    return ref, point


def _load_events(events: list[Row]) -> list[dict]:
    """Event records for a page of rows (loading.Row dicts; a fixed number of queries), keys in
    the order of the response schema (see Collection.records_as_dumped)."""
    ids = [event["id"] for event in events]
    locations = places_of(events)
    ancestors = _located_ancestors(locations)
    participants = participants_for(ids)
    casualties = casualties_for(ids)
    citations = citations_for("event", ids)
    # per place, not per event: a page often repeats its places
    places = {place_id: _place_view(place, ancestors) for place_id, place in locations.items()}
    nowhere = (None, None)
    records = []
    for event in events:
        event_id = event["id"]
        place, point = places[event["location_id"]] if event["location_id"] else nowhere
        records.append(
            {
                "id": event["slug"],
                "title": event["title"],
                "summary": event["summary"],
                "type": event["type"],
                "sub_type": event["sub_type"],
                "date": event["date"],
                "end_date": event["end_date"],
                "date_precision": event["date_precision"],
                "date_kind": event["date_kind"],
                "location": place,
                "coordinates": point,
                "fatalities": event["fatalities"],
                "casualties": casualties[event_id],
                "participants": participants[event_id],
                "citations": citations[event_id],
                "version": event["version"],
                "updated_at": as_utc(event["updated_at"]),
            }
        )
    return records


def _event_actor(slugs: Sequence[str], asked: ListQuery) -> pw.Node:
    """Events in which any of the actors took part (in `role`, when given)."""
    links = EventParticipant.select(EventParticipant.event).where(
        EventParticipant.actor.in_(actor_ids(slugs, "actor", asked))
    )
    if asked.filters.get("role"):
        links = links.where(EventParticipant.role == asked.filters["role"])
    return member(Event.id, (links, EventParticipant.event))


def _event_role(role: str, asked: ListQuery) -> pw.Node | None:
    """Events with a participant in `role` (applied with `actor` when both are given)."""
    if asked.filters.get("actor"):
        return None  # applied together with `actor`
    links = EventParticipant.select(EventParticipant.event).where(EventParticipant.role == role)
    return member(Event.id, (links, EventParticipant.event))


def _at_location(slugs: Sequence[str], asked: ListQuery) -> pw.Node:
    """Events at any of the places or anywhere inside them (`inside_places`).

    A place that is its own place at a level an index leads with (a country within no other
    country, a province within no other province) is matched on the event's copy of its place
    at that level (`Event.country_place_id`, ...: the events inside it, and only those, hold
    its id there; api/store/places.py): one range of that index, where its thousands of places
    were as many seeks. Any other place (a district, a city, a region, a base) through the ids
    of the places at or below its path: few places, each read through its own index."""
    rows = inside_places(
        location_slugs(slugs, asked), "location", Location.id, *LEVEL_FIELDS.values()
    )
    at_level: dict[str, list[int]] = defaultdict(list)
    others = []
    for path, id_, *places in rows:
        levels = zip(LEVEL_FIELDS, places, strict=True)
        level = next((lv for lv, own in levels if own == id_ and lv in _INDEXED_LEVELS), None)
        if level is None:
            others.append(path)
        else:
            at_level[level].append(id_)
    parts = [_at_place_level(level, ids) for level, ids in at_level.items()]
    if others:
        parts.append(member(Event.location, (within_paths(others), Location.id)))
    return reduce(operator.or_, parts)


# The levels whose column on the event leads an index (a district's or city's column has none:
# read through the paths of its few places instead of every event).
_INDEXED_LEVELS = frozenset(
    level
    for level in LEVEL_FIELDS
    for table, columns, partial in AGGREGATE_INDEXES.values()
    if table == "event" and not partial and columns[0] == f"{level}_place_id"
)


def _at_place_level(level: str, ids: list[int]) -> Narrowing:
    """Events whose place at `level` is one of `ids`; probed (a row at a time) through no
    index of the column, so that SQLite walks the list's sort index instead."""
    column = getattr(Event, f"{level}_place_id")
    if len(ids) == 1:
        return Narrowing(column == ids[0], unindexed(column) == ids[0])
    return Narrowing(column.in_(ids), unindexed(column).in_(ids))


def at_place(apply: Filter) -> Filter:
    """A filter on events through a geographic filter of their location."""

    def event_filter(value: Any, asked: ListQuery) -> pw.Node:
        places = Location.select(Location.id).where(apply(value, asked))
        return member(Event.location, (places, Location.id))

    return event_filter


def _distance_to_location(lat: float, lon: float) -> pw.Expression:
    """SQL: km from (lat, lon) to the event's location (a correlated subquery)."""
    nearest = Location.select(great_circle_km(lat, lon)).where(Location.id == Event.location)
    return pw.NodeList((nearest,))  # an expression: it can be selected, compared and sorted


# Event records kept rendered as JSON; every writer refreshes them (api/queries/rendered.py).
EVENT_JSON = Rendered(Event, EventJson, _load_events)

EVENTS = Collection(
    name="event",
    model=Event,
    sorts=sorts_for({"date": Event.date, "title": Event.title}),
    default_sort="date",
    filters={
        "actor": _event_actor,
        "role": _event_role,
        "location": _at_location,
        "type": any_of(Event.type),
        "sub_type": any_of(Event.sub_type),
        "date_from": date_from(Event),
        "date_to": date_to(Event),
        "fatalities_min": lambda v, asked: Event.fatalities >= v,
        "source": cited_by("event", Event),
        "bbox": at_place(in_bbox),
        "near": at_place(near),
    },
    load=_load_events,
    distance=_distance_to_location,
    light_rows=True,
    records_as_dumped=True,
    rendered=EVENT_JSON,
)
