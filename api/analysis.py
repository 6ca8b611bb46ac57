"""The analyst views' queries: timeline, actor network, cross-collection search and facets.

They reuse records.py's collections (filters, loaders, references, `ids_for`) so every view
filters exactly as the lists do, and each answers in a fixed number of queries whatever the
page size or the size of the graph.
"""

from __future__ import annotations

import functools
import operator
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import peewee as pw
from flask_smorest import abort

from api import search
from api.db import database, is_postgres
from api.models import (
    Actor,
    Event,
    EventParticipant,
    Location,
    Relation,
    SearchDocument,
    Source,
    Statement,
    StatementEvent,
    StatementSpeaker,
)
from api.query import Page, Sort, paginate, sorts_for
from api.records import (
    EVENTS,
    STATEMENTS,
    Collection,
    actor_ref,
    citations_for,
    filtered,
    linked_actors,
    location_ref,
    locations_of,
    participants_for,
)

PATHS = {
    "actor": "actors",
    "event": "events",
    "statement": "statements",
    "location": "locations",
    "source": "sources",
}
MODELS: dict[str, type[pw.Model]] = {
    "actor": Actor,
    "event": Event,
    "statement": Statement,
    "location": Location,
    "source": Source,
}


def url_of(record_type: str, slug: str) -> str:
    return f"/v1/{PATHS[record_type]}/{slug}"


def search_ids(record_type: str, text: str) -> pw.Select:
    """Internal ids of the records of one type that match `text` (a subquery)."""
    hits = search.matches(record_type, text).alias("hits")
    return pw.Select([hits], [hits.c.record_id])


def narrowed(
    collection: Collection, query: pw.SelectQuery, args: dict, skip: Iterable[str] = ()
) -> pw.SelectQuery:
    """`query` with the collection's list filters in `args` applied, `q` included."""
    query = filtered(collection, query, args, skip)
    if args.get("q"):
        query = query.where(collection.model.id.in_(search_ids(collection.name, args["q"])))
    return query


def scalar(select: pw.Select) -> Any:
    return select.bind(database).scalar()


# ---------------------------------------------------------------- timeline

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
    events = narrowed(EVENTS, events, args, skip=("location",))
    statements = narrowed(STATEMENTS, statements, args, skip=("location",))
    if args.get("location"):
        # Statements have no place: they match when they are about an event at the place.
        at_place = EVENTS.filters["location"](Event.select(Event.id), args["location"], args)
        events = events.where(Event.id.in_(at_place))
        about = StatementEvent.select(StatementEvent.statement).where(
            StatementEvent.event.in_(at_place)
        )
        statements = statements.where(Statement.id.in_(about))
    return (events + statements).alias("timeline")


def timeline(args: dict) -> tuple[list[dict], Page]:
    """One page of the merged, date-ordered timeline, keyset-paged on (date, uid)."""
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
    )
    return timeline_items(page.rows), page


def by_id(model: type[pw.Model], ids: list[int]) -> dict[int, pw.Model]:
    """Rows of `model` by internal id, in one query (none for no ids)."""
    return {row.id: row for row in model.select().where(model.id.in_(ids))} if ids else {}


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
                "title": title,
                "actors": actors,
                "location": location,
                "url": url_of(row.record_type, record.slug),
            }
        )
    return items


# ---------------------------------------------------------------- network

EDGE_ORDER = {"relation": 0, "co_participation": 1, "co_signatory": 2}
# kind -> (link table, its record column, record model, evidence field of the edge)
SHARED = {
    "co_participation": (EventParticipant, "event", Event, "events"),
    "co_signatory": (StatementSpeaker, "statement", Statement, "statements"),
}


def pairs(kind: str) -> tuple[Any, Any, Any, pw.Expression]:
    """Two aliases of a link table joined on the record they share, for two actors."""
    link, owner, _, _ = SHARED[kind]
    a, b = link.alias("a"), link.alias("b")
    return a, b, owner, (getattr(a, owner) == getattr(b, owner)) & (a.actor != b.actor)


def incident_edges(actor_ids: set[int], edges: dict[tuple, dict]) -> None:
    """Add to `edges` every edge touching `actor_ids`, co-records counted: three queries."""
    ids = list(actor_ids)
    for rel_id, subject, predicate, obj in (
        Relation.select(Relation.id, Relation.subject, Relation.predicate, Relation.object)
        .where(Relation.subject.in_(ids) | Relation.object.in_(ids))
        .tuples()
    ):
        edges.setdefault(
            ("relation", rel_id),
            {"kind": "relation", "ends": (subject, obj), "predicate": predicate, "id": rel_id},
        )
    for kind in SHARED:
        a, b, owner, shared = pairs(kind)
        query = (
            a.select(a.actor, b.actor, pw.fn.COUNT(getattr(a, owner).distinct()))
            .join(b, on=shared)
            # A pair within `actor_ids` comes once, not once from each end.
            .where(a.actor.in_(ids) & (b.actor.not_in(ids) | (a.actor < b.actor)))
            .group_by(a.actor, b.actor)
            .tuples()
        )
        for one, other, count in query:
            pair = (one, other) if one < other else (other, one)
            edges.setdefault((kind, *pair), {"kind": kind, "ends": pair, "weight": count})


def evidence(kind: str, kept: set[int], expanded: set[int]) -> dict[tuple, list[str]]:
    """{(actor, actor): record ids, oldest first} for the pairs of kept actors that share
    records and touch an expanded actor: one query."""
    a, b, owner, shared = pairs(kind)
    model = SHARED[kind][2]
    query = (
        a.select(a.actor, b.actor, model.slug)
        .join(b, on=shared)
        .join_from(a, model, on=(getattr(a, owner) == model.id))
        .where(a.actor.in_(list(expanded & kept)) & b.actor.in_(list(kept)))
        .order_by(model.date, model.id)
        .tuples()
    )
    found: dict[tuple, dict[str, None]] = defaultdict(dict)  # ordered sets of ids
    for one, other, slug in query:
        found[(one, other) if one < other else (other, one)][slug] = None
    return {pair: list(slugs) for pair, slugs in found.items()}


def network(slug: str, depth: int, limit: int) -> dict:
    """The actors and edges within `depth` hops of an actor, at most `limit` nodes.

    Each level finds the edges touching the level's frontier, with co-records only counted;
    the record ids are fetched once, for the edges between the nodes kept.
    """
    center = Actor.get_or_none(Actor.slug == slug)
    if center is None:
        abort(404, message=f"No actor with id {slug!r}.")
    depth_of = {center.id: 0}
    actors = {center.id: center}
    strength: dict[int, int] = defaultdict(int)
    score: dict[int, int] = {center.id: 0}  # strength when the node was reached
    edges: dict[tuple, dict] = {}

    def rank(n: int) -> tuple:  # nearest, then best connected, then by name
        return (depth_of[n], -score[n], actors[n].name, actors[n].slug)

    frontier, expanded = {center.id}, set()
    for level in range(1, depth + 1):
        before = set(edges)
        incident_edges(frontier, edges)
        expanded |= frontier
        reached = set()
        for key in set(edges) - before:
            for end in edges[key]["ends"]:
                strength[end] += edges[key].get("weight", 1)
                if end not in depth_of:
                    depth_of[end] = level
                    reached.add(end)
        if not reached:
            break
        actors.update((a.id, a) for a in Actor.select().where(Actor.id.in_(list(reached))))
        score.update((n, strength[n]) for n in reached)
        # Only the neighbours that can make the cut are explored further; scores are frozen
        # so that the nodes finally kept are among those explored.
        frontier = set(sorted(reached, key=rank)[: limit - 1])
    ranked = sorted(depth_of, key=rank)
    kept = set(ranked[:limit])
    shown = [e for e in edges.values() if set(e["ends"]) <= kept]
    citations = citations_for("relation", [e["id"] for e in shown if e["kind"] == "relation"])
    records = {
        kind: evidence(kind, kept, expanded) if any(e["kind"] == kind for e in shown) else {}
        for kind in SHARED
    }

    def place(n: int) -> tuple:
        return (depth_of[n], actors[n].slug)

    result_edges = []
    for edge in shown:
        kind, (source, target) = edge["kind"], edge["ends"]
        if kind != "relation" and place(target) < place(source):
            source, target = target, source
        shared = {"events": [], "statements": []}
        if kind != "relation":
            shared[SHARED[kind][3]] = records[kind].get(edge["ends"], [])
        result_edges.append(
            {
                "kind": kind,
                "source": actors[source].slug,
                "target": actors[target].slug,
                "predicate": edge["predicate"] if kind == "relation" else None,
                "citations": citations[edge["id"]] if kind == "relation" else [],
                **shared,
            }
        )
    result_edges.sort(
        key=lambda e: (EDGE_ORDER[e["kind"]], e["source"], e["target"], e["predicate"] or "")
    )
    return {
        "actor": actor_ref(center),
        "depth": depth,
        "nodes": [{**actor_ref(actors[n]), "depth": depth_of[n]} for n in ranked[:limit]],
        "edges": result_edges,
        "truncated": len(ranked) > limit,
    }


# ---------------------------------------------------------------- search

SNIPPET_WIDTH = 160


def fold(text: str) -> tuple[str, list[int]]:
    """`text` case-folded without diacritics, and each folded character's index in `text`."""
    chars, index = [], []
    for position, char in enumerate(text):
        for part in unicodedata.normalize("NFKD", char):
            if unicodedata.combining(part):
                continue
            for folded in part.casefold():
                chars.append(folded)
                index.append(position)
    return "".join(chars), index


def snippet(texts: Iterable[str], words: list[str], width: int = SNIPPET_WIDTH) -> str:
    """About `width` characters of the first text that holds a match, around the match."""
    texts = [re.sub(r"\s+", " ", text).strip() for text in texts if text]
    if not texts:
        return ""
    folded_words = [fold(word)[0] for word in words]
    pattern = (
        re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, folded_words)) + ")")
        if folded_words
        else None
    )
    for text in texts:
        folded, index = fold(text)
        found = pattern.search(folded) if pattern else None
        if found:
            center = index[found.start()]
            break
    else:
        text, center = texts[0], 0
    if len(text) <= width:
        return text
    start = max(0, min(center - width // 3, len(text) - width))
    end = min(len(text), start + width)
    if start > 0:  # begin and end on word boundaries
        space = text.find(" ", start, center)
        start = space + 1 if space != -1 else start
    if end < len(text):
        space = text.rfind(" ", center, end)
        end = space if space > center else end
    return ("…" if start > 0 else "") + text[start:end].strip() + ("…" if end < len(text) else "")


def search_all(text: str, types: list[str], limit: int) -> tuple[list[dict], int]:
    """The best `limit` hits across `types`, and how many hits there are in all: two queries.

    The hits of each type come from search.py; the best `limit` of their UNION ALL are picked
    first, and only those are joined to their documents and public ids.
    """
    arms = [search.matches(t, text).select_extend(pw.Value(t).alias("record_type")) for t in types]
    hits = functools.reduce(operator.add, arms).alias("hits")
    # Counting needs no rank: the same matches, projecting a constant.
    counted = functools.reduce(
        operator.add, [search.matches(t, text).select(pw.SQL("1")) for t in types]
    ).alias("counted")
    total = scalar(pw.Select([counted], [pw.fn.COUNT(pw.SQL("*"))]))
    order = (hits.c.rank, hits.c.record_type, hits.c.record_id)
    best = (
        pw.Select([hits], [hits.c.record_type, hits.c.record_id, hits.c.rank])
        .order_by(*order)
        .limit(limit)
        .alias("best")
    )
    doc = SearchDocument
    models = [MODELS[t] for t in types]
    slugs = [model.slug for model in models]  # one per type, joined only on its own hits
    query = doc.select(
        best.c.record_type.alias("record_type"),
        best.c.rank.alias("rank"),
        doc.title,
        doc.body,
        (pw.fn.COALESCE(*slugs) if len(slugs) > 1 else slugs[0]).alias("slug"),
    ).join(best, on=(doc.record_type == best.c.record_type) & (doc.record_id == best.c.record_id))
    for record_type, model in zip(types, models, strict=True):
        query = query.join_from(
            doc,
            model,
            pw.JOIN.LEFT_OUTER,
            on=(best.c.record_type == record_type) & (model.id == best.c.record_id),
        )
    query = query.order_by(best.c.rank, best.c.record_type, best.c.record_id)
    words = search.tokens(text)
    results = [
        {
            "record_type": row["record_type"],
            "id": row["slug"],
            "title": row["title"],
            "snippet": snippet([row["body"], row["title"]], words),
            "score": round(-float(row["rank"]), 6) + 0.0,
            "url": url_of(row["record_type"], row["slug"]),
        }
        for row in query.dicts()
    ]
    return results, total


# ---------------------------------------------------------------- facets


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
    rows = narrowed(collection, query, args).tuples()
    return buckets(((v, None, n) for v, n in rows), args["buckets"], chronological)


def actor_facet(
    collection: Collection, link: type[pw.Model], owner: pw.Field, args: dict, role: str | None
) -> tuple[list[dict], int]:
    """Records per linked actor; a record counts once per actor however many links it has."""
    model = collection.model
    query = (
        model.select(Actor.slug, Actor.name, pw.fn.COUNT(model.id.distinct()))
        .join(link, on=(owner == model.id))
        .join(Actor, on=(link.actor == Actor.id))
        .group_by(Actor.id, Actor.slug, Actor.name)
    )
    if role:
        query = query.where(link.role == role)
    return buckets(narrowed(collection, query, args).tuples(), args["buckets"])


def location_facet(args: dict) -> tuple[list[dict], int]:
    """Events per place, rolled up the location tree like the `location` filter."""
    query = (
        Event.select(Location.path, pw.fn.COUNT(Event.id))
        .join(Location, pw.JOIN.LEFT_OUTER, on=(Event.location == Location.id))
        .group_by(Location.path)
    )
    counts: dict[str | None, int] = defaultdict(int)
    for path, count in narrowed(EVENTS, query, args).tuples():
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
        return actor_facet(STATEMENTS, StatementSpeaker, StatementSpeaker.statement, args, None)
    if field == "month":
        return code_facet(STATEMENTS, month_of(Statement.date), args, chronological=True)
    return code_facet(STATEMENTS, Statement.channel, args)
