"""Every collection's queries: base query, filters, sorts, and the batch loading that turns a
page of rows into the records the API serves (a fixed number of queries per page, no N+1).

Resources call `list_page(collection, args)` and `get_record(collection, slug)`; nothing else
in the service builds queries against the models.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import peewee as pw
from flask_smorest import abort

from api import search
from api.db import is_postgres
from api.models import (
    Actor,
    ActorAlias,
    Citation,
    Event,
    EventParticipant,
    Location,
    LocationAlias,
    Relation,
    Source,
    Statement,
    StatementAddressee,
    StatementEvent,
    StatementMention,
    StatementSpeaker,
)
from api.query import Page, Sort, paginate, sorts_for
from schemas.queries import DEFAULT_LIMIT, DEFAULT_RADIUS_KM

EARTH_RADIUS_KM = 6371.0088
Filter = Callable[[pw.SelectQuery, Any, dict], pw.SelectQuery]


@dataclass
class Collection:
    """How one collection is listed, filtered, sorted and turned into records."""

    name: str  # record_type in citations and search documents
    model: type[pw.Model]
    sorts: dict[str, Sort]
    default_sort: str
    filters: dict[str, Filter]
    load: Callable[[list[Any]], list[dict]]
    base_query: Callable[[], pw.SelectQuery] | None = None  # default: the model's rows

    def query(self) -> pw.SelectQuery:
        return self.base_query() if self.base_query else self.model.select(self.model)


# ---------------------------------------------------------------- references and shared filters


def actor_ref(actor: Actor) -> dict:
    return {"id": actor.slug, "name": actor.name, "kind": actor.kind}


def location_ref(location: Location) -> dict:
    return {"id": location.slug, "name": location.name, "kind": location.kind}


def event_ref(event: Event) -> dict:
    return {"id": event.slug, "title": event.title, "date": event.date}


def ids_for(model: type[pw.Model], slugs: Iterable[str], parameter: str) -> list[int]:
    """Internal ids of the records named by `slugs`; 422 naming any that does not exist."""
    slugs = list(dict.fromkeys(slugs))
    found = dict(model.select(model.slug, model.id).where(model.slug.in_(slugs)).tuples())
    missing = [slug for slug in slugs if slug not in found]
    if missing:
        abort(
            422,
            message=f"Unknown {model.__name__.lower()} id(s) in {parameter!r}: "
            + ", ".join(missing),
            errors={
                "query": {
                    parameter: [f"No {model.__name__.lower()} with id {s!r}." for s in missing]
                }
            },
        )
    return [found[slug] for slug in slugs]


def path_starts_with(prefix: str) -> pw.Expression:
    """Case-sensitive prefix match on `Location.path` that an index can serve: GLOB on
    SQLite, LIKE on PostgreSQL (index with text_pattern_ops). Paths hold only slug
    characters, none of them a wildcard."""
    if is_postgres():
        return pw.Expression(Location.path, "LIKE", f"{prefix}%")
    return pw.Expression(Location.path, "GLOB", f"{prefix}*")


def descendant_location_ids(slugs: Iterable[str], parameter: str) -> pw.SelectQuery:
    """Ids of the named locations and of every location inside them."""
    ids = ids_for(Location, slugs, parameter)
    condition = None
    for (path,) in Location.select(Location.path).where(Location.id.in_(ids)).tuples():
        clause = path_starts_with(path)
        condition = clause if condition is None else condition | clause
    return Location.select(Location.id).where(condition)


def any_of(column: pw.Field) -> Filter:
    """A repeatable filter matching any of its values."""
    return lambda query, values, args: query.where(column.in_(values))


def equals(column: pw.Field) -> Filter:
    return lambda query, value, args: query.where(column == value)


def cited_by(record_type: str, model: type[pw.Model]) -> Filter:
    def apply(query: pw.SelectQuery, slugs: list[str], args: dict) -> pw.SelectQuery:
        source_ids = ids_for(Source, slugs, "source")
        cited = Citation.select(Citation.record_id).where(
            (Citation.record_type == record_type) & Citation.source.in_(source_ids)
        )
        return query.where(model.id.in_(cited))

    return apply


def date_from(model: type[pw.Model]) -> Filter:
    """Records whose date span ends on or after the day (a month-precise date overlaps)."""
    return lambda query, value, args: query.where(model.range_end >= value)


def date_to(model: type[pw.Model]) -> Filter:
    return lambda query, value, args: query.where(model.range_start <= value)


def in_bbox(query: pw.SelectQuery, bbox: list[float], args: dict) -> pw.SelectQuery:
    min_lon, min_lat, max_lon, max_lat = bbox
    inside = Location.latitude.between(min_lat, max_lat)
    if min_lon <= max_lon:
        inside &= Location.longitude.between(min_lon, max_lon)
    else:  # the box crosses the antimeridian
        inside &= (Location.longitude >= min_lon) | (Location.longitude <= max_lon)
    return query.where(inside)


def near(query: pw.SelectQuery, point: list[float], args: dict) -> pw.SelectQuery:
    """Within `radius_km` on the great circle (haversine), pre-filtered by a bounding box."""
    lat, lon = point
    radius = args.get("radius_km", DEFAULT_RADIUS_KM)
    dlat = math.degrees(radius / EARTH_RADIUS_KM)
    dlon = min(180.0, dlat / max(math.cos(math.radians(lat)), 1e-6))
    lat1, lat2 = pw.fn.radians(lat), pw.fn.radians(Location.latitude)
    half_dlat = (lat2 - lat1) / 2
    half_dlon = (pw.fn.radians(Location.longitude) - pw.fn.radians(lon)) / 2
    a = pw.fn.sin(half_dlat) * pw.fn.sin(half_dlat) + pw.fn.cos(lat1) * pw.fn.cos(lat2) * pw.fn.sin(
        half_dlon
    ) * pw.fn.sin(half_dlon)
    distance = (
        2 * EARTH_RADIUS_KM * pw.fn.asin(pw.fn.sqrt(pw.Case(None, [(a > 1, 1.0)], a)))
    )  # clamp rounding
    box = Location.latitude.between(lat - dlat, lat + dlat)
    if dlon < 180:
        box &= Location.longitude.between(lon - dlon, lon + dlon)
    return query.where(box & (distance <= radius))


def citations_for(record_type: str, ids: list[int]) -> dict[int, list[dict]]:
    """Citations of many records in one query: {record_id: [{source, excerpt}]}."""
    result: dict[int, list[dict]] = defaultdict(list)
    if not ids:
        return result
    query = (
        Citation.select(Citation, Source)
        .join(Source)
        .where((Citation.record_type == record_type) & Citation.record_id.in_(ids))
        .order_by(Citation.record_id, Citation.position, Citation.id)
    )
    for citation in query:
        result[citation.record_id].append(
            {
                "source": {"id": citation.source.slug, "title": citation.source.title},
                "excerpt": citation.excerpt,
            }
        )
    return result


def aliases_for(model: type[pw.Model], owner: pw.Field, ids: list[int]) -> dict[int, list]:
    result: dict[int, list] = defaultdict(list)
    if ids:
        for alias in model.select().where(owner.in_(ids)).order_by(model.id):
            result[getattr(alias, f"{owner.name}_id")].append(
                {"name": alias.name, "language": alias.language}
            )
    return result


# ---------------------------------------------------------------- events


def locations_of(events: list[Event]) -> dict[int, Location]:
    """The locations of many events in one query: {location id: location}."""
    location_ids = list({event.location_id for event in events if event.location_id})
    if not location_ids:
        return {}
    return {loc.id: loc for loc in Location.select().where(Location.id.in_(location_ids))}


def participants_for(event_ids: list[int]) -> dict[int, list[dict]]:
    """Participants of many events in one query: {event id: [{actor, role}]}."""
    result: dict[int, list[dict]] = defaultdict(list)
    query = (
        EventParticipant.select(EventParticipant, Actor)
        .join(Actor)
        .where(EventParticipant.event.in_(event_ids))
        .order_by(EventParticipant.id)
    )
    for link in query if event_ids else []:
        result[link.event_id].append({"actor": actor_ref(link.actor), "role": link.role})
    return result


def load_events(events: list[Event]) -> list[dict]:
    ids = [event.id for event in events]
    locations = locations_of(events)
    participants = participants_for(ids)
    citations = citations_for("event", ids)
    return [
        {
            "id": event.slug,
            "title": event.title,
            "summary": event.summary,
            "type": event.type,
            "sub_type": event.sub_type,
            "date": event.date,
            "end_date": event.end_date,
            "date_precision": event.date_precision,
            "location": location_ref(locations[event.location_id]) if event.location_id else None,
            "coordinates": coordinates(locations.get(event.location_id)),
            "fatalities": event.fatalities,
            "participants": participants[event.id],
            "citations": citations[event.id],
        }
        for event in events
    ]


def coordinates(location: Location | None) -> dict | None:
    if location is None or location.latitude is None:
        return None
    return {
        "latitude": location.latitude,
        "longitude": location.longitude,
        "precision": location.coordinate_precision,
    }


def event_actor(query: pw.SelectQuery, slugs: list[str], args: dict) -> pw.SelectQuery:
    links = EventParticipant.select(EventParticipant.event).where(
        EventParticipant.actor.in_(ids_for(Actor, slugs, "actor"))
    )
    if args.get("role"):
        links = links.where(EventParticipant.role == args["role"])
    return query.where(Event.id.in_(links))


def event_role(query: pw.SelectQuery, role: str, args: dict) -> pw.SelectQuery:
    if args.get("actor"):
        return query  # applied together with `actor`
    return query.where(
        Event.id.in_(
            EventParticipant.select(EventParticipant.event).where(EventParticipant.role == role)
        )
    )


def event_place(query: pw.SelectQuery, value: Any, args: dict, apply: Filter) -> pw.SelectQuery:
    places = apply(Location.select(Location.id), value, args)
    return query.where(Event.location.in_(places))


EVENTS = Collection(
    name="event",
    model=Event,
    sorts=sorts_for({"date": Event.date, "title": Event.title}),
    default_sort="date",
    filters={
        "actor": event_actor,
        "role": event_role,
        "location": lambda q, v, a: q.where(
            Event.location.in_(descendant_location_ids(v, "location"))
        ),
        "type": any_of(Event.type),
        "sub_type": any_of(Event.sub_type),
        "date_from": date_from(Event),
        "date_to": date_to(Event),
        "fatalities_min": lambda q, v, a: q.where(Event.fatalities >= v),
        "source": cited_by("event", Event),
        "bbox": lambda q, v, a: event_place(q, v, a, in_bbox),
        "near": lambda q, v, a: event_place(q, v, a, near),
    },
    load=load_events,
)


# ---------------------------------------------------------------- statements


def linked_actors(link: type[pw.Model], statement_ids: list[int]) -> dict[int, list[dict]]:
    """{statement id: [actor refs]} through a statement-to-actor link table, in one query."""
    result: dict[int, list[dict]] = defaultdict(list)
    if not statement_ids:
        return result
    order = [link.position, link.id] if "position" in link._meta.fields else [link.id]
    query = (
        link.select(link, Actor)
        .join(Actor)
        .where(link.statement.in_(statement_ids))
        .order_by(*order)
    )
    for row in query:
        result[row.statement_id].append(actor_ref(row.actor))
    return result


def load_statements(statements: list[Statement]) -> list[dict]:
    ids = [statement.id for statement in statements]
    speakers = linked_actors(StatementSpeaker, ids)
    addressees = linked_actors(StatementAddressee, ids)
    mentions = linked_actors(StatementMention, ids)
    events: dict[int, list[dict]] = defaultdict(list)
    for link in (
        StatementEvent.select(StatementEvent, Event)
        .join(Event)
        .where(StatementEvent.statement.in_(ids))
        .order_by(Event.date, Event.id)
    ):
        events[link.statement_id].append(event_ref(link.event))
    outlet_ids = list({s.outlet_id for s in statements if s.outlet_id})
    outlets = (
        {a.id: a for a in Actor.select().where(Actor.id.in_(outlet_ids))} if outlet_ids else {}
    )
    citations = citations_for("statement", ids)
    return [
        {
            "id": statement.slug,
            "text": statement.text,
            "verbatim": statement.verbatim,
            "summary": statement.summary,
            "speakers": speakers[statement.id],
            "anonymous": statement.anonymous,
            "attribution": statement.attribution,
            "signatory_count": statement.signatory_count,
            "addressees": addressees[statement.id],
            "mentions": mentions[statement.id],
            "channel": statement.channel,
            "outlet": actor_ref(outlets[statement.outlet_id]) if statement.outlet_id else None,
            "date": statement.date,
            "end_date": statement.end_date,
            "date_precision": statement.date_precision,
            "events": events[statement.id],
            "citations": citations[statement.id],
        }
        for statement in statements
    ]


def statements_linked(link: type[pw.Model], parameter: str) -> Filter:
    def apply(query: pw.SelectQuery, slugs: list[str], args: dict) -> pw.SelectQuery:
        actor_ids = ids_for(Actor, slugs, parameter)
        return query.where(
            Statement.id.in_(link.select(link.statement).where(link.actor.in_(actor_ids)))
        )

    return apply


def statement_actor(query: pw.SelectQuery, slugs: list[str], args: dict) -> pw.SelectQuery:
    actor_ids = ids_for(Actor, slugs, "actor")
    spoken = StatementSpeaker.select(StatementSpeaker.statement).where(
        StatementSpeaker.actor.in_(actor_ids)
    )
    addressed = StatementAddressee.select(StatementAddressee.statement).where(
        StatementAddressee.actor.in_(actor_ids)
    )
    return query.where(Statement.id.in_(spoken | addressed))  # one IN over a UNION


def statement_event(query: pw.SelectQuery, slugs: list[str], args: dict) -> pw.SelectQuery:
    event_ids = ids_for(Event, slugs, "event")
    linked = StatementEvent.select(StatementEvent.statement).where(
        StatementEvent.event.in_(event_ids)
    )
    return query.where(Statement.id.in_(linked))


STATEMENTS = Collection(
    name="statement",
    model=Statement,
    sorts=sorts_for({"date": Statement.date}),
    default_sort="date",
    filters={
        "speaker": statements_linked(StatementSpeaker, "speaker"),
        "addressed_to": statements_linked(StatementAddressee, "addressed_to"),
        "mentions": statements_linked(StatementMention, "mentions"),
        "anonymous": equals(Statement.anonymous),
        "actor": statement_actor,
        "event": statement_event,
        "channel": any_of(Statement.channel),
        "verbatim": equals(Statement.verbatim),
        "date_from": date_from(Statement),
        "date_to": date_to(Statement),
        "source": cited_by("statement", Statement),
    },
    load=load_statements,
)


# ---------------------------------------------------------------- actors


SUBJECT, OBJECT = Actor.alias("subject"), Actor.alias("object")


def relations_query() -> pw.SelectQuery:
    """Relations with both their actors, ready for `relation_records`."""
    return (
        Relation.select(Relation, SUBJECT, OBJECT)
        .join_from(Relation, SUBJECT, on=(Relation.subject == SUBJECT.id))
        .join_from(Relation, OBJECT, on=(Relation.object == OBJECT.id))
    )


def load_relations(relations: list[Relation]) -> list[dict]:
    """Relation records; rows must come from `relations_query()` (actors joined)."""
    citations = citations_for("relation", [relation.id for relation in relations])
    return [
        {
            "id": relation.slug,
            "subject": actor_ref(relation.subject),
            "predicate": relation.predicate,
            "object": actor_ref(relation.object),
            "start_date": relation.start_date,
            "end_date": relation.end_date,
            "date_precision": relation.date_precision,
            "description": relation.description,
            "citations": citations[relation.id],
        }
        for relation in relations
    ]


def load_actors(actors: list[Actor]) -> list[dict]:
    ids = [actor.id for actor in actors]
    relations: dict[int, list[dict]] = defaultdict(list)
    if ids:
        rows = list(
            relations_query()
            .where(Relation.subject.in_(ids) | Relation.object.in_(ids))
            .order_by(Relation.id)
        )
        for row, record in zip(rows, load_relations(rows), strict=True):
            for end in {row.subject_id, row.object_id} & set(ids):
                relations[end].append(record)
    aliases = aliases_for(ActorAlias, ActorAlias.actor, ids)
    citations = citations_for("actor", ids)
    return [
        {
            "id": actor.slug,
            "name": actor.name,
            "kind": actor.kind,
            "title": actor.title,
            "description": actor.description,
            "country": actor.country,
            "aliases": aliases[actor.id],
            "relations": relations[actor.id],
            "citations": citations[actor.id],
        }
        for actor in actors
    ]


def related_to(query: pw.SelectQuery, slugs: list[str], args: dict) -> pw.SelectQuery:
    actor_ids = ids_for(Actor, slugs, "related_to")
    objects = Relation.select(Relation.object).where(Relation.subject.in_(actor_ids))
    subjects = Relation.select(Relation.subject).where(Relation.object.in_(actor_ids))
    return query.where(Actor.id.in_(objects) | Actor.id.in_(subjects))


ACTORS = Collection(
    name="actor",
    model=Actor,
    sorts=sorts_for({"name": Actor.name}),
    default_sort="name",
    filters={
        "kind": any_of(Actor.kind),
        "country": any_of(Actor.country),
        "related_to": related_to,
        "source": cited_by("actor", Actor),
    },
    load=load_actors,
)


# ---------------------------------------------------------------- relations


def relation_end(column: pw.Field, parameter: str) -> Filter:
    return lambda query, slugs, args: query.where(column.in_(ids_for(Actor, slugs, parameter)))


def relation_actor(query: pw.SelectQuery, slugs: list[str], args: dict) -> pw.SelectQuery:
    actor_ids = ids_for(Actor, slugs, "actor")
    return query.where(Relation.subject.in_(actor_ids) | Relation.object.in_(actor_ids))


RELATIONS = Collection(
    name="relation",
    model=Relation,
    sorts=sorts_for({"id": Relation.slug}),
    default_sort="id",
    filters={
        "subject": relation_end(Relation.subject, "subject"),
        "object": relation_end(Relation.object, "object"),
        "actor": relation_actor,
        "predicate": any_of(Relation.predicate),
        "source": cited_by("relation", Relation),
    },
    load=load_relations,
    base_query=relations_query,
)


# ---------------------------------------------------------------- locations


def load_locations(locations: list[Location]) -> list[dict]:
    ids = [location.id for location in locations]
    ancestor_slugs = {
        slug for location in locations for slug in location.path.strip("/").split("/")[:-1]
    }
    ancestors = (
        {a.slug: a for a in Location.select().where(Location.slug.in_(list(ancestor_slugs)))}
        if ancestor_slugs
        else {}
    )
    aliases = aliases_for(LocationAlias, LocationAlias.location, ids)
    citations = citations_for("location", ids)
    records = []
    for location in locations:
        chain = [ancestors[s] for s in location.path.strip("/").split("/")[:-1] if s in ancestors]
        records.append(
            {
                "id": location.slug,
                "name": location.name,
                "kind": location.kind,
                "parent": location_ref(chain[-1]) if chain else None,
                "ancestors": [location_ref(a) for a in chain],
                "latitude": location.latitude,
                "longitude": location.longitude,
                "coordinate_precision": location.coordinate_precision,
                "country": location.country,
                "description": location.description,
                "aliases": aliases[location.id],
                "citations": citations[location.id],
            }
        )
    return records


LOCATIONS = Collection(
    name="location",
    model=Location,
    sorts=sorts_for({"name": Location.name}),
    default_sort="name",
    filters={
        "kind": any_of(Location.kind),
        "country": any_of(Location.country),
        "within": lambda q, v, a: q.where(
            Location.id.in_(descendant_location_ids(v, "within")) & Location.slug.not_in(v)
        ),
        "bbox": in_bbox,
        "near": near,
        "source": cited_by("location", Location),
    },
    load=load_locations,
)


# ---------------------------------------------------------------- sources


# What a source's records are counted as, and the list that shows them (relations have none).
EXTRACTED = {
    "actors": ("actor", "/v1/actors"),
    "relations": ("relation", "/v1/relations"),
    "locations": ("location", "/v1/locations"),
    "events": ("event", "/v1/events"),
    "statements": ("statement", "/v1/statements"),
}


def extracted_counts(ids: list[int]) -> dict[int, dict[str, int]]:
    """{source id: {record_type: records it cites}} for many sources in one grouped query."""
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    if ids:
        query = (
            Citation.select(
                Citation.source, Citation.record_type, pw.fn.COUNT(Citation.record_id.distinct())
            )
            .where(Citation.source.in_(ids))
            .group_by(Citation.source, Citation.record_type)
        )
        for source_id, record_type, count in query.tuples():
            counts[source_id][record_type] = count
    return counts


def load_sources(sources: list[Source]) -> list[dict]:
    counts = extracted_counts([source.id for source in sources])
    return [
        {
            "id": source.slug,
            "title": source.title,
            "publisher": source.publisher,
            "published": source.published,
            "published_precision": source.published_precision,
            "url": source.url,
            "author": source.author,
            "language": source.language,
            "counts": {
                name: counts[source.id].get(record_type, 0)
                for name, (record_type, _) in EXTRACTED.items()
            },
            "links": {
                name: f"{path}?source={source.slug}" for name, (_, path) in EXTRACTED.items()
            },
        }
        for source in sources
    ]


SOURCES = Collection(
    name="source",
    model=Source,
    sorts=sorts_for({"published": Source.published, "title": Source.title}),
    default_sort="-published",
    filters={
        "publisher": any_of(Source.publisher),
    },
    load=load_sources,
)


# ---------------------------------------------------------------- the two entry points


RELEVANCE = "relevance"


def filtered(
    collection: Collection, query: pw.SelectQuery, args: dict, skip: Iterable[str] = ()
) -> pw.SelectQuery:
    """`query` narrowed by every filter in `args` (not paging, sort, format or `q`)."""
    for name, value in args.items():
        if name in collection.filters and name not in skip and value is not None:
            query = collection.filters[name](query, value, args)
    return query


def list_page(collection: Collection, args: dict) -> tuple[list[dict], Page]:
    """One page of a collection, filtered and sorted by `args` (already validated)."""
    model = collection.model
    query = filtered(collection, collection.query(), args)
    sort_name = args.get("sort") or (RELEVANCE if args.get("q") else collection.default_sort)
    key_of = None
    if args.get("q"):
        hits = search.matches(collection.name, args["q"]).alias("hits")
        query = (
            query.select_extend(hits.c.rank.alias("rank"))
            .join(hits, on=(hits.c.record_id == model.id))
            .objects()  # `rank` lands on the row itself
        )
        if sort_name == RELEVANCE:
            sort, key_of = Sort(RELEVANCE, hits.c.rank), (lambda row: row.rank)
    elif sort_name == RELEVANCE:
        abort(
            422,
            message="sort=relevance needs a q.",
            errors={"query": {"sort": ["relevance applies only together with q."]}},
        )
    if key_of is None:
        sort = collection.sorts[sort_name]
    limit = args.get("limit") or DEFAULT_LIMIT
    page = paginate(query, sort, model.id, limit, args.get("cursor"), key_of)
    return collection.load(page.rows), page


def get_record(collection: Collection, slug: str) -> dict:
    """One record by public id; 404 when there is none."""
    model = collection.model
    row = collection.query().where(model.slug == slug).first()
    if row is None:
        abort(404, message=f"No {collection.name} with id {slug!r}.")
    return collection.load([row])[0]
