"""Facets: how many of the filtered events or statements fall under each value of a field."""

from __future__ import annotations

import heapq
import json
import operator
from collections import defaultdict
from collections.abc import Callable, Iterable
from functools import reduce

import peewee as pw

from api.queries.collection import Collection, matching
from api.queries.events import EVENTS
from api.queries.identity import grouped_column, location_groups
from api.queries.list_query import ListQuery
from api.queries.statements import STATEMENTS
from api.store import data_version
from api.store.db import is_postgres
from api.store.models import (
    Actor,
    Event,
    EventParticipant,
    Location,
    Statement,
    StatementPrincipal,
    StatementSpeaker,
)

# Buckets per (data version, collection, field, filters): facets by actor count every link of
# the events, by type every event, and the counts change only with the data version. What is
# kept is the answer (at most `buckets` buckets and the number of values),
# never the rows counted; every write changes the version, so a remembered answer is exact.
_remembered = data_version.PerVersion(
    maxsize=20_000,
    getsizeof=lambda answer: len(answer[0]) + 1,
    shared="facets",
    load=lambda text: tuple(json.loads(text)),
)  # buckets kept per worker (a few MB at most); the least recently used answers go first;
# shared by the workers (api/store/shared_answers.py)


def remembered(
    kind: str, field: str, asked: ListQuery, count: Callable[[], tuple[list[dict], int]]
) -> tuple[list[dict], int]:
    """`count()`, computed once per data version for the same facet and filters (computed
    each time when the database has no data version, or a filter value is not hashable)."""
    selection = asked.selection()
    key = None if selection is None else (kind, field, asked.buckets, selection)
    buckets, total = _remembered.get(key, count)
    return [dict(bucket) for bucket in buckets], total


def _month_of(column: pw.Field) -> pw.Node:
    """`YYYY-MM` of a date column (stored as ISO text on SQLite, as a date on PostgreSQL)."""
    if is_postgres():
        return pw.fn.to_char(column, "YYYY-MM")
    return pw.fn.strftime("%Y-%m", column)


def buckets(rows: Iterable[tuple], size: int, chronological: bool = False) -> tuple[list, int]:
    """The `size` most frequent buckets (months then in calendar order), and how many in all.

    `rows` are (value, label, count); only the kept ones become dicts (89k actors at 1M
    events: a heap of tuples, not a sort of dicts)."""
    rows = list(rows)
    kept = heapq.nsmallest(size, rows, key=lambda r: (-r[2], r[0] is None, r[0] or ""))
    if chronological:
        kept.sort(key=lambda r: (r[0] is None, r[0] or ""))
    result = [{"value": value, "label": label, "count": count} for value, label, count in kept]
    return result, len(rows)


def _code_facet(
    collection: Collection, column: pw.Node, asked: ListQuery, chronological: bool = False
) -> tuple[list[dict], int]:
    model = collection.model
    value = column.alias("value")
    query = model.select(value, pw.fn.COUNT(pw.SQL("*"))).group_by(column)  # index-only on PG
    rows = matching(collection, query, asked).query().tuples()
    return buckets(((v, None, n) for v, n in rows), asked.buckets, chronological)


def _actor_facet(
    collection: Collection,
    link: type[pw.Model],
    owner: pw.Field,
    asked: ListQuery,
    role: str | None,
) -> tuple[list[dict], int]:
    """Records per linked actor; a record counts once per actor however many links it has.

    Counted on the link table alone, grouped by actor id, then joined to the actors: the
    records' table is read only when a filter narrows them."""
    model = collection.model
    count = pw.fn.COUNT(owner.distinct()).alias("n")
    actor = grouped_column("actor", link.actor, asked)  # a same-as group counts once
    per_actor = link.select(actor.alias("actor_id"), count).group_by(actor)
    if role:
        per_actor = per_actor.where(link.role == role)
    records = matching(collection, model.select(model.id), asked)
    if records.terms:
        per_actor = per_actor.where(owner.in_(records.query()))
    return _top_actors(per_actor, asked.buckets)


def _speaker_facet(asked: ListQuery) -> tuple[list[dict], int]:
    """Statements per speaker, as `speaker=` matches them: an actor counts the statements it
    made and those made on its behalf (once each).

    Both link tables are unique per (statement, actor), so an actor's count is its spoken
    statements + those on its behalf - those both: three grouped counts on the link tables
    (read from their actor indexes), never a union of millions of links."""
    found = matching(STATEMENTS, Statement.select(Statement.id), asked)
    narrowed, records = bool(found.terms), found.query()
    speaker, principal = StatementSpeaker, StatementPrincipal
    # under resolve=same_as each side's actor stands for its group and statements are counted
    # distinct (a group's members may share one); otherwise each link is one statement
    spoken_by = grouped_column("actor", speaker.actor, asked)
    spoken_for = grouped_column("actor", principal.actor, asked)
    grouped = spoken_by is not speaker.actor or spoken_for is not principal.actor

    def count(link: type[pw.Model]) -> pw.Node:
        return pw.fn.COUNT(link.statement.distinct()) if grouped else pw.fn.COUNT(pw.SQL("*"))

    both = principal.select(spoken_for.alias("actor_id"), (count(principal) * -1).alias("n")).join(
        speaker,
        on=(speaker.statement == principal.statement) & (spoken_by == spoken_for),
    )
    parts = []
    for query, link, column in (
        (
            speaker.select(spoken_by.alias("actor_id"), count(speaker).alias("n")),
            speaker,
            spoken_by,
        ),
        (
            principal.select(spoken_for.alias("actor_id"), count(principal).alias("n")),
            principal,
            spoken_for,
        ),
        (both, principal, spoken_for),
    ):
        if narrowed:
            query = query.where(link.statement.in_(records))
        parts.append(query.group_by(column))
    terms = reduce(operator.add, parts).alias("terms")  # UNION ALL of (actor_id, n)
    actor_id, n = terms.c.actor_id, terms.c.n
    per_actor = (
        pw.Select([terms], [actor_id.alias("actor_id"), pw.fn.SUM(n).alias("n")])
        .group_by(actor_id)
        .having(pw.fn.SUM(n) > 0)
        .bind(Actor._meta.database)
    )
    return _top_actors(per_actor, asked.buckets)


def _top_actors(per_actor: pw.SelectBase, size: int) -> tuple[list[dict], int]:
    """The `size` most frequent actors of `(actor id, count)` rows, and how many there are:
    only the actors that can make the cut (ties included) are read, not one row per counted
    actor (89k at 1M events)."""
    counts = {actor: int(n) for actor, n in per_actor.tuples()}
    if not counts:
        return [], 0
    cut = heapq.nlargest(size, counts.values())[-1]
    candidates = [actor for actor, n in counts.items() if n >= cut]
    names: dict[int, tuple[str, str]] = {}
    for start in range(0, len(candidates), 10_000):
        chunk = candidates[start : start + 10_000]
        query = Actor.select(Actor.id, Actor.slug, Actor.name).where(Actor.id.in_(chunk))
        names.update((actor, (slug, name)) for actor, slug, name in query.tuples())
    rows = [(*names[actor], counts[actor]) for actor in candidates if actor in names]
    kept, _ = buckets(rows, size)
    return kept, len(counts)


def _location_facet(asked: ListQuery) -> tuple[list[dict], int]:
    """Events per place, rolled up the location tree like the `location` filter.

    Counted per location from the events' own column first (its index, no join), then those
    rows (some 50k at 1M events, not a million) joined to their paths; each location's count
    goes to every place of its path."""
    per_location = (
        matching(
            EVENTS,
            Event.select(
                Event.location.alias("located"), pw.fn.COUNT(Event.id).alias("n")
            ).group_by(Event.location),
            asked,
        )
        .query()
        .alias("per_location")
    )
    query = (
        pw.Select([per_location], [Location.path, per_location.c.n])
        .join(Location, pw.JOIN.LEFT_OUTER, on=Location.id == per_location.c.located)
        .bind(Location._meta.database)
    )
    counts: dict[str | None, int] = defaultdict(int)
    group_of = location_groups(asked)  # under resolve=same_as: a place's group's id
    for path, count in query.tuples():
        slugs = path.strip("/").split("/") if path else [None]
        for slug in dict.fromkeys(group_of.get(s, s) if s else s for s in slugs):
            counts[slug] += count
    kept, total = buckets(((s, None, n) for s, n in counts.items()), asked.buckets)
    names = dict(
        Location.select(Location.slug, Location.name)
        .where(Location.slug.in_([b["value"] for b in kept if b["value"]]))
        .tuples()
    )
    for bucket in kept:
        bucket["label"] = names.get(bucket["value"])
    return kept, total


def event_facets(field: str, asked: ListQuery) -> tuple[list[dict], int]:
    """Buckets of the filtered events by `field`, and how many buckets there are in all
    (remembered per data version)."""
    return remembered("event", field, asked, lambda: _count_events(field, asked))


def statement_facets(field: str, asked: ListQuery) -> tuple[list[dict], int]:
    """Buckets of the filtered statements by `field`, and how many buckets there are in all
    (remembered per data version)."""
    return remembered("statement", field, asked, lambda: _count_statements(field, asked))


def _count_events(field: str, asked: ListQuery) -> tuple[list[dict], int]:
    """Buckets of the filtered events by `field`, counted now."""
    if field == "actor":
        return _actor_facet(
            EVENTS, EventParticipant, EventParticipant.event, asked, asked.filters.get("role")
        )
    if field == "location":
        return _location_facet(asked)
    if field == "month":
        return _code_facet(EVENTS, _month_of(Event.date), asked, chronological=True)
    return _code_facet(EVENTS, getattr(Event, field), asked)


def _count_statements(field: str, asked: ListQuery) -> tuple[list[dict], int]:
    """Buckets of the filtered statements by `field`, counted now."""
    if field == "speaker":
        return _speaker_facet(asked)
    if field == "month":
        return _code_facet(STATEMENTS, _month_of(Statement.date), asked, chronological=True)
    return _code_facet(STATEMENTS, Statement.channel, asked)
