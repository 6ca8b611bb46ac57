"""Aggregates: how many of the filtered events or statements, and for events how many killed and
wounded, grouped by up to three dimensions (dates, places, a grid, types, actors, sources,
speakers, channels), honest about precision.

One request shape is one SQL query: the database groups the matching records by what decides
their groups (a date's bucket, or its range when it covers several; a place's id; an actor's
id, ...) and sums their metrics; this module then places each of those few rows in its groups
by the precision rules (schemas/vocabularies.py IMPRECISE_REASONS) and formats the answer.
The answer is remembered per data version and request, like facets. One module (about 890
lines) on purpose: the date buckets, the place levels, the link dimensions, the metrics and the
precision rules are one contract, read and tested together.

The precision rules:
- a record falls in a date bucket when every day it may mean (`range_start` to `range_end`)
  lies in that bucket; else it is counted in the imprecise row of its group, with the reason
  (`date_precision`, `window`, `span`, `open_start`), or, with `spread=even`, spread over the
  buckets its days cover, each bucket getting the share of its days (an open start is never
  spread);
- a record falls in a place of a level when its place is that place or lies inside it; a place
  known only above the level (or with no place of the level around it) is
  `not_located_at_level`; a record with no place is `no_location`;
- a grid cell holds the records whose place has coordinates of its own that are not an area's
  centre;
- a record linked to several actors (sources, speakers) counts once in the group of each: such
  groups overlap, and `total` counts each record once.

Casualties (events): `stated` sums the figures the records give (an 'at least 12' counts as 12),
`low` and `high` bound the sum: `exact` and `at_least` figures give a low bound, only `exact`
ones a high bound; where a figure leaves a bound open the group's bound is null, never a guess.
Records that give no figure are counted apart (`no_figure`), never as 0.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import json
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import peewee as pw

from api.queries.collection import Collection, matching
from api.queries.errors import InvalidParameter
from api.queries.events import EVENTS
from api.queries.filters import Filtered
from api.queries.identity import grouped_column
from api.queries.list_query import ListQuery
from api.queries.statements import STATEMENTS
from api.store import data_version
from api.store.db import is_postgres
from api.store.models import (
    Actor,
    Citation,
    Event,
    EventCasualty,
    EventParticipant,
    Location,
    Source,
    Statement,
    StatementAddressee,
    StatementPrincipal,
    StatementSpeaker,
    date_span,
)
from api.store.months import WEEK_OFFSET, month_sql
from api.store.places import NO_LOCATION, NOT_AT_LEVEL
from schemas.arguments import DATE_DIMENSIONS, PLACE_DIMENSIONS, ROLE_DIMENSIONS
from schemas.vocabularies import DATE_PRECISIONS

# Places whose `centroid` coordinates stand for an area, not a point of one grid cell.
AREA_KINDS = frozenset({"country", "region", "province", "administrative_region", "district"})
# With fill=zero, at most this many groups are made up (a day series over decades).
MAX_FILLED = 100_000
_PRECISION_RANK = {"day": 0, "week": 1, "month": 2, "quarter": 3, "year": 4}


@dataclass(frozen=True)
class Shape:
    """What an aggregate request asks besides its filters: `group_by` (one to three
    dimensions), `casualties` (sum them, events only), `fill` (every date bucket between the
    ends), `spread` (spread imprecise dates evenly), `sort` (`key`, `-key`, `count`, `-count`;
    None: by key when the first dimension is a date, else most frequent first), `limit` (groups
    kept; the rest summed in one row) and `cell` (grid cell size in degrees)."""

    group_by: tuple[str, ...]
    casualties: bool = False
    fill: bool = False
    spread: bool = False
    sort: str | None = None
    limit: int = 1000
    cell: float = 1.0


@dataclass
class Aggregation:
    """The answer: `body` as the JSON response writes it; `groups_total` how many groups there
    are before `limit`; `points` the (longitude, latitude) of the places that key groups, and
    `cell` the grid's cell size (GeoJSON)."""

    body: dict
    groups_total: int
    points: dict[str, tuple[float, float]] = field(default_factory=dict)
    cell: float | None = None


# ---------------------------------------------------------------- dates


def _as_date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def bucket_of(granularity: str, day: dt.date) -> str:
    """The public key of the bucket holding `day`: `2020-04-06`, `2020-W15`, `2020-04`,
    `2020-Q2`, `2020`."""
    if granularity == "day":
        return day.isoformat()
    if granularity == "week":
        year, week, _ = day.isocalendar()
        return f"{year:04d}-W{week:02d}"
    if granularity == "month":
        return f"{day.year:04d}-{day.month:02d}"
    if granularity == "quarter":
        return f"{day.year:04d}-Q{(day.month + 2) // 3}"
    return f"{day.year:04d}"


def first_day(granularity: str, key: str) -> dt.date:
    """The first day of the bucket `key` (the inverse of `bucket_of`)."""
    if granularity == "day":
        return dt.date.fromisoformat(key)
    if granularity == "week":
        year, week = key.split("-W")
        return dt.date.fromisocalendar(int(year), int(week), 1)
    if granularity == "month":
        return dt.date(int(key[:4]), int(key[5:7]), 1)
    if granularity == "quarter":
        return dt.date(int(key[:4]), 3 * int(key[6]) - 2, 1)
    return dt.date(int(key), 1, 1)


def next_bucket(granularity: str, key: str) -> str:
    """The key of the bucket after `key`."""
    start = first_day(granularity, key)
    if granularity == "day":
        return bucket_of("day", start + dt.timedelta(days=1))
    if granularity == "week":
        return bucket_of("week", start + dt.timedelta(days=7))
    months = {"month": 1, "quarter": 3, "year": 12}[granularity]
    month = start.month - 1 + months
    return bucket_of(granularity, dt.date(start.year + month // 12, month % 12 + 1, 1))


def buckets_between(granularity: str, first: str, last: str) -> list[str]:
    """Every bucket key from `first` to `last`, both included."""
    keys, key = [], first
    while key <= last:
        keys.append(key)
        if len(keys) > MAX_FILLED:
            raise InvalidParameter(
                "fill", f"fill=zero would make more than {MAX_FILLED} buckets; narrow the dates."
            )
        key = next_bucket(granularity, key)
    return keys


def imprecise_reason(
    granularity: str, date: dt.date, precision: str, kind: str, bucket_count: int
) -> str | None:
    """Why a record whose days cover `bucket_count` buckets is in none of them (None: it is in
    one)."""
    if bucket_count <= 1 and kind != "on_or_before":
        return None
    if kind == "on_or_before":
        return "open_start"
    first, last = date_span(date, None, precision)
    if bucket_of(granularity, first) != bucket_of(granularity, last):
        return "date_precision"
    return "window" if kind == "window" else "span"


_EPOCH = dt.date(1970, 1, 1)


def _bucket_sql(granularity: str, model: type[pw.Model], end: bool) -> pw.Node:
    """SQL: the bucket of a record's first (`end` False) or last day as a number (a day as the
    date itself): the week or month number the record keeps (api/store/months.py), quarters as
    year * 4 + quarter - 1, years as such. Numbers group faster than the text of a key, and an
    index holds the weeks and months."""
    column = model.range_end if end else model.range_start
    if granularity == "day":
        return column
    if granularity == "week":
        return model.end_week if end else model.start_week
    month = model.end_month if end else model.start_month
    if granularity == "month":
        return month
    return month / (3 if granularity == "quarter" else 12)


def _public_bucket(granularity: str, raw: Any) -> str:
    """The public key of a bucket as `_bucket_sql` gives it."""
    if granularity == "day":
        return _as_date(raw).isoformat()
    number = int(raw)
    if granularity == "week":
        monday = _EPOCH + dt.timedelta(days=7 * (number - WEEK_OFFSET) - 3)
        return bucket_of("week", monday)
    if granularity == "month":
        return f"{number // 12:04d}-{number % 12 + 1:02d}"
    if granularity == "quarter":
        return f"{number // 4:04d}-Q{number % 4 + 1}"
    return f"{number:04d}"


# ---------------------------------------------------------------- places


def points_of(slugs: Iterable[str]) -> dict[str, tuple[float, float]]:
    """{slug: (longitude, latitude)} of the places named: their own coordinates, or those of
    the nearest enclosing place that has some (a place with neither is left out)."""
    wanted = sorted(set(slugs))
    rows = _located(wanted)
    around = {slug for _, path, _, _ in rows.values() for slug in path.strip("/").split("/")}
    known = {**rows, **_located(sorted(around - rows.keys()))}
    points = {}
    for slug in wanted:
        if slug not in rows:
            continue
        for ancestor in reversed(rows[slug][1].strip("/").split("/")):
            found = known.get(ancestor)
            if found is not None and found[2] is not None and found[3] is not None:
                points[slug] = (found[3], found[2])
                break
    return points


def _located(slugs: list[str]) -> dict[str, tuple[int, str, float | None, float | None]]:
    """{slug: (id, path, latitude, longitude)} of the places named."""
    found: dict[str, tuple[int, str, float | None, float | None]] = {}
    for start in range(0, len(slugs), 10_000):
        chunk = slugs[start : start + 10_000]
        query = Location.select(
            Location.slug, Location.id, Location.path, Location.latitude, Location.longitude
        ).where(Location.slug.in_(chunk))
        found.update((slug, (id_, path, lat, lon)) for slug, id_, path, lat, lon in query.tuples())
    return found


# ---------------------------------------------------------------- dimensions

Placement = tuple[Any, str | None, float]  # (internal key, imprecise reason, weight)


class Dimension:
    """One dimension of a grouping: the SQL columns that decide a record's groups (`columns`,
    through the joins `join` adds), and how one row of their values is placed (`place`)."""

    name: str
    labelled = False  # its keys name records: the answer gives their labels

    def columns(self) -> list[pw.Node]:
        raise NotImplementedError

    def counted(self) -> list[pw.Node]:
        """The columns the database groups the records by: `columns`, but for the grid
        (`Grid`), whose records are counted by place before their places' cells are found."""
        return self.columns()

    def join(self, query: pw.SelectQuery, owner: pw.Field) -> pw.SelectQuery:
        return query

    def place(self, values: tuple) -> list[Placement]:
        return [(values[0], None, 1.0)]

    def public(self, keys: set) -> dict[Any, tuple[str | None, str | None]]:
        """{internal key: (public key, label)} of the kept groups' keys."""
        return {key: (None if key is None else str(key), None) for key in keys}

    def sort_key(self, public: str | None) -> Any:
        return public


class Column(Dimension):
    """A code column of the records (`type`, `sub_type`, `channel`)."""

    def __init__(self, name: str, column: pw.Field) -> None:
        self.name, self.column = name, column

    def columns(self) -> list[pw.Node]:
        return [self.column]


class Dates(Dimension):
    """A date bucket: day, ISO week, month, quarter or year.

    Read in two passes (`passes`): the records whose days lie in one bucket, grouped by it;
    then the others, grouped by their date and range (few), to say why or to spread them."""

    def __init__(self, name: str, model: type[pw.Model], spread: bool) -> None:
        self.name, self.model, self.spread = name, model, spread
        self.start = _bucket_sql(name, model, end=False)
        self.end = _bucket_sql(name, model, end=True)
        self.precise = True

    def passes(self) -> list[tuple[bool, pw.Node]]:
        """(precise, condition) of each pass."""
        return [(True, self.start == self.end), (False, self.start != self.end)]

    def columns(self) -> list[pw.Node]:
        model = self.model
        if self.precise:  # both ends, equal here: an index of the months is then read in order
            return [self.start, self.end]
        if not self.spread:  # why, said by the database: one row per reason
            return [self.reason()]
        # spread over the buckets of its days, from its first and last day (why it is
        # imprecise follows from its first day, precision and kind: the first day of a date's
        # own span is the first of the record's, unless its start is open)
        return [model.range_start, model.date_precision, model.date_kind, model.range_end]

    def reason(self) -> pw.Node:
        """SQL: `imprecise_reason` of an imprecise record: the date's own span (a week from
        its Monday, a month, a year) covers several buckets, always (a precision coarser than
        the bucket) or for a week across a month's (quarter's, year's) end."""
        model, rank = self.model, _PRECISION_RANK[self.name]
        coarser = [p for p in DATE_PRECISIONS if p != "week" and _PRECISION_RANK[p] > rank]
        crossing: list[tuple[pw.Node, str]] = [
            (model.date_kind == "on_or_before", "open_start"),
            (model.date_precision.in_(coarser or [""]), "date_precision"),
        ]
        if self.name == "day":
            crossing.append((model.date_precision == "week", "date_precision"))
        elif self.name != "week":  # a week's Monday and Sunday in different months ...
            sunday = (
                model.range_start + 6 if is_postgres() else pw.fn.date(model.range_start, "+6 days")
            )
            per = {"month": 1, "quarter": 3, "year": 12}[self.name]
            across = month_sql(model.range_start) / per != month_sql(sunday) / per
            crossing.append(((model.date_precision == "week") & across, "date_precision"))
        crossing.append((model.date_kind == "window", "window"))
        return pw.Case(None, crossing, "span")

    def place(self, values: tuple) -> list[Placement]:
        if len(values) == 2:
            return [(_public_bucket(self.name, values[0]), None, 1.0)]
        if len(values) == 1:
            return [(None, values[0], 1.0)]
        start, precision, kind = _as_date(values[0]), values[1], values[2]
        reason = imprecise_reason(self.name, start, precision, kind, 2)
        if not self.spread or reason == "open_start":
            return [(None, reason, 1.0)]
        end = _as_date(values[3])
        days: dict[str, int] = defaultdict(int)
        for offset in range((end - start).days + 1):
            days[bucket_of(self.name, start + dt.timedelta(days=offset))] += 1
        total = sum(days.values())
        return [(key, None, n / total) for key, n in days.items()]


class Places(Dimension):
    """The place at an administrative level: the record's place or the one around it, as the
    event row keeps it (api/store/places.py: a place's id, NOT_AT_LEVEL or NO_LOCATION),
    grouped in SQL without a join."""

    labelled = True

    def __init__(self, name: str) -> None:
        self.name = name
        self.level = getattr(Event, f"{name}_place_id")

    def columns(self) -> list[pw.Node]:
        return [self.level]

    def place(self, values: tuple) -> list[Placement]:
        if values[0] == NO_LOCATION:
            return [(None, "no_location", 1.0)]
        if values[0] == NOT_AT_LEVEL:
            return [(None, "not_located_at_level", 1.0)]
        return [(values[0], None, 1.0)]

    def public(self, keys: set) -> dict[Any, tuple[str | None, str | None]]:
        names = _names(Location, keys)
        return {key: names.get(key, (None, None)) for key in keys}


class Grid(Dimension):
    """A cell of `cell` degrees, keyed by its south-west corner `lat,lon`.

    Counted in two steps (`_per_cell`): the records per place first (`counted`: the location
    column, read from its index, no join), then those few rows (a place each, not a record
    each) joined to their places and grouped again by the cell's row and column numbers,
    computed in SQL from the place's coordinates."""

    name = "grid"

    def __init__(self, located: pw.Field, cell: float) -> None:
        self.located, self.cell = located, cell
        self.location = Location.alias("grid_place")

    def counted(self) -> list[pw.Node]:
        return [self.located]

    def columns(self) -> list[pw.Node]:
        return self.cell_columns(self.located)

    def cell_columns(self, located: pw.Node) -> list[pw.Node]:
        """SQL: (why the record is on no cell, the cell's row, its column) of a record whose
        place is `located`, the place joined as `self.location`."""
        place = self.location
        area = (place.coordinate_precision == "centroid") & place.kind.in_(sorted(AREA_KINDS))
        reason = pw.Case(
            None,
            [
                (located.is_null(), "no_location"),
                (place.latitude.is_null() | place.longitude.is_null(), "no_coordinates"),
                (area, "area_centroid"),
            ],
            None,
        )
        # no cell where there is a reason: each row is then one group (the database may keep
        # the most frequent groups by counting rows)
        cell = [_floor(place.latitude / self.cell), _floor(place.longitude / self.cell)]
        return [reason, *[pw.Case(None, [(reason.is_null(), part)], None) for part in cell]]

    def place(self, values: tuple) -> list[Placement]:
        reason, row, column = values
        if reason is not None:
            return [(None, reason, 1.0)]
        return [(f"{_corner(row, self.cell)},{_corner(column, self.cell)}", None, 1.0)]

    def sort_key(self, public: str | None) -> Any:
        return None if public is None else tuple(float(n) for n in public.split(","))


def _per_cell(per_place: pw.SelectQuery, dimensions: list[Dimension], metrics: int) -> pw.Select:
    """`per_place` (the `_grouped` rows of a grid request, its grid counted by place: `c0` ...
    and `m0` ...) grouped again with each place's cell instead of the place: at 1M events the
    database joins the places of some 50k rows to their locations, not a million records."""
    rows = per_place.alias("per_place")
    columns: list[pw.Node] = []
    at, joined = 0, None
    for d in dimensions:
        counted = [rows.c[f"c{at + i}"] for i in range(len(d.counted()))]
        at += len(counted)
        if isinstance(d, Grid):
            joined = (d.location, d.location.id == counted[0])
            counted = d.cell_columns(counted[0])
        columns.extend(counted)
    # as integers: on PostgreSQL a numeric sum would make the whole column numeric
    summed = [
        pw.Cast(
            pw.fn.SUM(rows.c[f"m{i}"]) if how == "SUM" else pw.fn.MAX(rows.c[f"m{i}"]), "BIGINT"
        )
        for i, how in enumerate(_SUMMED_METRICS[:metrics])
    ]
    query = pw.Select(
        [rows],
        [
            *[c.alias(f"c{i}") for i, c in enumerate(columns)],
            *[m.alias(f"m{i}") for i, m in enumerate(summed)],
        ],
    )
    if joined is not None:
        query = query.join(joined[0], pw.JOIN.LEFT_OUTER, on=joined[1])
    query = query.group_by(*[pw.SQL(str(i + 1)) for i in range(len(columns))])
    return query.bind(per_place._database)


def _floor(value: pw.Node) -> pw.Node:
    """SQL: the largest integer not above `value` (with the slack of `cell_of` for a point on
    a cell's edge; no floor() needed: SQLite builds may lack its math functions)."""
    nudged = value + 1e-9
    if is_postgres():
        return pw.fn.FLOOR(nudged)
    truncated = pw.Cast(nudged, "INTEGER")
    return truncated - pw.Case(None, [(nudged < truncated, 1)], 0)


def _corner(number: Any, size: float) -> str:
    return f"{round(int(number) * size, 6):g}"


def cell_of(latitude: float, longitude: float, size: float) -> str:
    """`lat,lon` of the south-west corner of the grid cell holding the point."""

    def corner(value: float) -> str:
        return f"{round(math.floor(value / size + 1e-9) * size, 6):g}"

    return f"{corner(latitude)},{corner(longitude)}"


class Linked(Dimension):
    """Records by the actors (or sources) a link table ties them to: a record counts once in
    the group of each; one with none is in the group whose key is null."""

    labelled = True

    def __init__(self, name: str, links: pw.SelectQuery, label: type[pw.Model]) -> None:
        self.name, self.links, self.label = name, links.distinct().alias(f"link_{name}"), label

    def columns(self) -> list[pw.Node]:
        return [self.links.c.key]

    def join(self, query: pw.SelectQuery, owner: pw.Field) -> pw.SelectQuery:
        on = self.links.c.owner == owner
        return query.join(self.links, pw.JOIN.LEFT_OUTER, on=on).switch(owner.model)

    def public(self, keys: set) -> dict[Any, tuple[str | None, str | None]]:
        names = _names(self.label, keys)
        return {key: names.get(key, (None, None)) for key in keys}


def _names(model: type[pw.Model], ids: Iterable[Any]) -> dict[Any, tuple[str, str]]:
    """{internal id: (public id, name or title)} of actors or sources."""
    label = model.title if model is Source else model.name
    wanted = [i for i in ids if i is not None]
    found: dict[Any, tuple[str, str]] = {}
    for start in range(0, len(wanted), 10_000):
        chunk = wanted[start : start + 10_000]
        query = model.select(model.id, model.slug, label).where(model.id.in_(chunk)).tuples()
        found.update((id_, (slug, name)) for id_, slug, name in query)
    return found


class Dyad(Dimension):
    """Perpetrator x target: an event counts once for each pair of its perpetrators and
    targets; one without either is in the group whose key is null."""

    name = "dyad"
    labelled = True

    def __init__(self, asked: ListQuery) -> None:
        self.perpetrators = _role_links("perpetrator", asked).distinct().alias("dyad_p")
        self.targets = _role_links("target", asked).distinct().alias("dyad_t")

    def columns(self) -> list[pw.Node]:
        return [self.perpetrators.c.key, self.targets.c.key]

    def join(self, query: pw.SelectQuery, owner: pw.Field) -> pw.SelectQuery:
        for links in (self.perpetrators, self.targets):
            query = query.join(links, pw.JOIN.LEFT_OUTER, on=links.c.owner == owner)
            query = query.switch(owner.model)
        return query

    def place(self, values: tuple) -> list[Placement]:
        if values[0] is None or values[1] is None:
            return [(None, None, 1.0)]
        return [((values[0], values[1]), None, 1.0)]

    def public(self, keys: set) -> dict[Any, tuple[str | None, str | None]]:
        names = _names(Actor, {actor for key in keys if key for actor in key})
        result: dict[Any, tuple[str | None, str | None]] = {}
        for key in keys:
            if key is None or key[0] not in names or key[1] not in names:
                result[key] = (None, None)
            else:
                (a, a_name), (b, b_name) = names[key[0]], names[key[1]]
                result[key] = (f"{a}--{b}", f"{a_name} → {b_name}")
        return result


def _role_links(role: str | None, asked: ListQuery) -> pw.SelectQuery:
    link = EventParticipant
    actor = grouped_column("actor", link.actor, asked)  # resolve=same_as: the group's
    query = link.select(link.event.alias("owner"), actor.alias("key"))
    return query if role is None else query.where(link.role == role)


def _citing(record_type: str) -> pw.SelectQuery:
    return Citation.select(Citation.record_id.alias("owner"), Citation.source.alias("key")).where(
        Citation.record_type == record_type
    )


def _speakers(asked: ListQuery) -> pw.SelectQuery:
    """(statement, actor) for each speaker and each actor spoken for, once each (as
    `speaker=` matches; under resolve=same_as, the actor's group)."""
    spoke = StatementSpeaker.select(
        StatementSpeaker.statement.alias("owner"),
        grouped_column("actor", StatementSpeaker.actor, asked).alias("key"),
    )
    behalf = StatementPrincipal.select(
        StatementPrincipal.statement.alias("owner"),
        grouped_column("actor", StatementPrincipal.actor, asked).alias("key"),
    )
    union = (spoke | behalf).alias("speakers_union")  # UNION: each pair once
    return pw.Select([union], [union.c.owner.alias("owner"), union.c.key.alias("key")]).bind(
        Statement._meta.database
    )


def dimension(kind: str, name: str, shape: Shape, asked: ListQuery) -> Dimension:
    """The dimension `name` of events or statements (actors as their same-as groups under
    `resolve=same_as`)."""
    model = Event if kind == "event" else Statement
    if name in DATE_DIMENSIONS:
        return Dates(name, model, shape.spread)
    if name in PLACE_DIMENSIONS:
        return Places(name)
    if name == "grid":
        return Grid(Event.location, shape.cell)
    if name in ("type", "sub_type"):
        return Column(name, getattr(Event, name))
    if name == "channel":
        return Column(name, Statement.channel)
    if name == "actor":
        return Linked(name, _role_links(None, asked), Actor)
    if name in ROLE_DIMENSIONS:
        return Linked(name, _role_links(name, asked), Actor)
    if name == "dyad":
        return Dyad(asked)
    if name == "source":
        return Linked(name, _citing(kind), Source)
    if name == "speaker":
        return Linked(name, _speakers(asked), Actor)
    if name == "addressee":
        link = StatementAddressee
        actor = grouped_column("actor", link.actor, asked)
        query = link.select(link.statement.alias("owner"), actor.alias("key"))
        return Linked(name, query, Actor)
    raise InvalidParameter("group_by", f"Unknown dimension {name!r}.")


# ---------------------------------------------------------------- metrics


def _casualty_flags() -> pw.SelectQuery:
    """Per event, from its casualty rows: whether a killed (wounded) figure is `about` (no
    bound is certain) or not `exact` (no high bound), and the wounded it gives."""
    c = EventCasualty

    def flag(column: pw.Field, condition: pw.Node) -> pw.Node:
        return pw.fn.MAX(pw.Case(None, [(column.is_null(False) & condition, 1)], 0))

    return (
        c.select(
            c.event.alias("owner"),
            flag(c.killed, c.qualifier == "about").alias("k_about"),
            flag(c.killed, c.qualifier != "exact").alias("k_open"),
            pw.fn.SUM(c.wounded).alias("wounded"),
            flag(c.wounded, c.qualifier == "about").alias("w_about"),
            flag(c.wounded, c.qualifier != "exact").alias("w_open"),
        )
        .group_by(c.event)
        .alias("casualty_flags")
    )


def _metric_columns(casualties: bool, flags: pw.SelectQuery | None) -> list[pw.Node]:
    count = [pw.fn.COUNT(pw.SQL("*"))]
    if not casualties or flags is None:
        return count
    c = flags.c
    return [
        *count,
        pw.fn.SUM(Event.fatalities),
        pw.fn.COUNT(Event.fatalities),
        pw.fn.MAX(c.k_about),
        pw.fn.MAX(c.k_open),
        pw.fn.SUM(c.wounded),
        pw.fn.COUNT(c.wounded),
        pw.fn.MAX(c.w_about),
        pw.fn.MAX(c.w_open),
    ]


class Sums:
    """The metrics of one group, summed over its rows (weighted when spread)."""

    __slots__ = ("count", "flags", "killed", "killed_n", "wounded", "wounded_n")

    def __init__(self) -> None:
        self.count = self.killed = self.killed_n = self.wounded = self.wounded_n = 0.0
        self.flags = [False, False, False, False]  # killed about/open, wounded about/open

    def add(self, metrics: Sequence[Any], weight: float) -> None:
        self.count += metrics[0] * weight
        if len(metrics) > 1:
            k, kn, ka, ko, w, wn, wa, wo = metrics[1:]
            # PostgreSQL sums bigints as numeric (Decimal)
            self.killed += float(k or 0) * weight
            self.killed_n += kn * weight
            self.wounded += float(w or 0) * weight
            self.wounded_n += wn * weight
            for i, flag in enumerate((ka, ko, wa, wo)):
                self.flags[i] = self.flags[i] or bool(flag)

    def merge(self, other: Sums) -> None:
        self.count += other.count
        self.killed += other.killed
        self.killed_n += other.killed_n
        self.wounded += other.wounded
        self.wounded_n += other.wounded_n
        self.flags = [a or b for a, b in zip(self.flags, other.flags, strict=True)]

    def as_json(self, casualties: bool) -> dict:
        result: dict[str, Any] = {"count": _number(self.count)}
        if casualties:
            result["killed"] = _figure(
                self.killed, self.killed_n, self.count, self.flags[0], self.flags[1]
            )
            result["wounded"] = _figure(
                self.wounded, self.wounded_n, self.count, self.flags[2], self.flags[3]
            )
        return result


def _number(value: float) -> int | float:
    rounded = round(value, 6)
    return int(rounded) if rounded == int(rounded) else rounded


def _figure(total: float, given: float, count: float, about: bool, open_: bool) -> dict:
    """A casualty sum: stated, its bounds (null when a figure leaves one open or none is
    given), how many records give a figure and how many do not."""
    stated = _number(total) if given > 1e-9 else None
    return {
        "stated": stated,
        "low": None if stated is None or about else stated,
        "high": None if stated is None or open_ else stated,
        "with_figure": _number(given),
        "no_figure": _number(count - given),
    }


# ---------------------------------------------------------------- the query


def _dumped(answer: Aggregation) -> str:
    return json.dumps([answer.body, answer.groups_total, answer.points, answer.cell])


def _loaded(text: str) -> Aggregation:
    body, groups_total, points, cell = json.loads(text)
    return Aggregation(body, groups_total, {k: (p[0], p[1]) for k, p in points.items()}, cell)


_remembered = data_version.PerVersion(
    maxsize=5_000,
    getsizeof=lambda answer: len(answer.body["groups"]) + 1,
    shared="aggregates",
    dump=_dumped,
    load=_loaded,
)  # groups kept per worker; the least recently used answers go first; shared by the workers
# (api/store/shared_answers.py)


def aggregate(kind: str, shape: Shape, asked: ListQuery) -> Aggregation:
    """The events (`kind` `event`) or statements matching `asked`, aggregated as `shape` says
    (remembered per data version, filters and shape)."""
    selection = asked.selection()
    key = None if selection is None else (kind, shape, selection)
    return _remembered.get(key, lambda: _aggregate(kind, shape, asked))


def _collection(kind: str) -> Collection:
    return EVENTS if kind == "event" else STATEMENTS


def _aggregate(kind: str, shape: Shape, asked: ListQuery) -> Aggregation:
    collection = _collection(kind)
    casualties = shape.casualties and kind == "event"
    dimensions = [dimension(kind, name, shape, asked) for name in shape.group_by]
    flags = _casualty_flags() if casualties else None

    dated = next((d for d in dimensions if isinstance(d, Dates)), None)
    overlapping = any(isinstance(d, Linked | Dyad) for d in dimensions)
    # each row of a precise pass is one group of its own, which no other row adds to: the
    # database may keep the most frequent and sum the others (not with `fill`, which makes
    # groups of those it reads, nor `spread`, which adds to them)
    limited = not (overlapping or shape.fill or shape.spread)
    groups: dict[tuple, Sums] = defaultdict(Sums)
    beyond = Beyond()
    where = matching(collection, collection.model.select(), asked)  # each pass's filters
    for precise, condition in dated.passes() if dated else [(True, None)]:
        if dated is not None:
            dated.precise = precise
        query = _grouped(collection, dimensions, flags, casualties, condition, where)
        if limited and precise:
            rows = _most_frequent(query, shape.limit, casualties, beyond)
        else:
            rows = _read(query.tuples())
        _place_rows(rows, dimensions, groups)

    summed = sum(s.count for s in groups.values()) + beyond.sums.count
    if overlapping:
        total = _total(collection, where, casualties)  # groups may overlap: count apart
    else:  # each record is in exactly one group (or spread over some): the groups add up
        total = Sums()
        for sums in groups.values():
            total.merge(sums)
        total.merge(beyond.sums)
    if shape.fill:
        _fill(groups, dimensions, asked)
    return _answer(kind, shape, dimensions, groups, beyond, total, summed, casualties)


def _grouped(
    collection: Collection,
    dimensions: list[Dimension],
    flags: pw.SelectQuery | None,
    casualties: bool,
    condition: pw.Node | None,
    where: Filtered,
) -> pw.SelectQuery:
    """One row per distinct combination of the dimensions' columns of the records `where`
    selects (that meet `condition` too), with the metrics summed: (*columns, count, *casualty
    sums), named `c0` ... and `m0` ..."""
    model = collection.model
    columns = [column for d in dimensions for column in d.counted()]
    metrics = _metric_columns(casualties, flags)
    select = model.select(
        *[c.alias(f"c{i}") for i, c in enumerate(columns)],
        *[m.alias(f"m{i}") for i, m in enumerate(metrics)],
    )
    for d in dimensions:
        select = d.join(select, model.id)
    if flags is not None:
        select = select.join(flags, pw.JOIN.LEFT_OUTER, on=flags.c.owner == model.id)
        select = select.switch(model)
    if condition is not None:
        select = select.where(condition)
    # by position: PostgreSQL would not match an expression with parameters to its twin
    select = select.group_by(*[pw.SQL(str(i + 1)) for i in range(len(columns))])
    grouped = where.reselect(lambda _: select).query()
    if any(isinstance(d, Grid) for d in dimensions):
        return _per_cell(grouped, dimensions, len(metrics))
    return grouped


@dataclass
class Beyond:
    """The groups a query left in the database (fewer than the most frequent): how many, and
    their metrics summed."""

    groups: int = 0
    sums: Sums = field(default_factory=lambda: Sums())


# how the metrics of several groups add up (_metric_columns' order): sums, and flags (MAX)
_SUMMED_METRICS = ("SUM", "SUM", "SUM", "MAX", "MAX", "SUM", "SUM", "MAX", "MAX")


def _most_frequent(
    grouped: pw.SelectQuery, limit: int, casualties: bool, beyond: Beyond
) -> list[tuple]:
    """The rows of `grouped` whose count is at least that of its `limit`-th most frequent (all
    of them when it has fewer); the others summed by the database into `beyond`. The most
    frequent `limit` groups of the whole answer are among those rows (or come from another
    pass): no row below is ever kept, whatever ties are broken by."""
    sql, params = grouped.sql()
    width = len(grouped.selected_columns)
    metrics = [f"m{i}" for i in range(9 if casualties else 1)]
    # the limit-th count, found once (a top-N of the groups) for both arms
    threshold = f"COALESCE((SELECT m0 FROM grouped ORDER BY m0 DESC LIMIT 1 OFFSET {limit - 1}), 0)"
    # as integers: on PostgreSQL a numeric sum would make the whole column numeric
    summed = ", ".join(
        f"CAST({how}({m}) AS BIGINT)" for how, m in zip(_SUMMED_METRICS, metrics, strict=False)
    )
    nulls = ", ".join(["NULL"] * (width - len(metrics)))
    query = (
        f"WITH grouped AS MATERIALIZED ({sql}), "
        f"cut AS MATERIALIZED (SELECT {threshold} AS at_least) "
        "SELECT grouped.*, 0 FROM grouped, cut WHERE m0 >= at_least "
        f"UNION ALL SELECT {nulls}, {summed}, COUNT(*) FROM grouped, cut WHERE m0 < at_least"
    )
    with pw.__exception_wrapper__:
        rows = list(grouped._database.execute_sql(query, params))
    below = rows.pop()  # the sums row comes last: UNION ALL keeps the order of its arms
    if below[-1]:
        beyond.groups += below[-1]
        sums = below[width - len(metrics) : -1]  # PostgreSQL sums counts as numeric
        beyond.sums.add([v if v is None else float(v) for v in sums], 1.0)
    return [row[:-1] for row in rows]


def _read(query: pw.SelectQuery) -> list[tuple]:
    """Every row of `query`, a driver's error while reading them raised as peewee's (as an
    execute raises it): a query over its budget is then a 503 like any other."""
    with pw.__exception_wrapper__:
        return list(query)


def _place_rows(rows: list[tuple], dimensions: list[Dimension], groups: dict) -> None:
    """Add each row's metrics to the groups its values place it in."""
    widths = [len(d.columns()) for d in dimensions]
    placed: list[dict[tuple, list[Placement]]] = [{} for _ in dimensions]
    width = sum(widths)
    for row in rows:
        values, at = [], 0
        for i, (d, size) in enumerate(zip(dimensions, widths, strict=True)):
            part = row[at : at + size]
            at += size
            found = placed[i].get(part)
            if found is None:
                found = placed[i][part] = d.place(part)
            values.append(found)
        metrics = row[width:]
        if len(values) == 1:  # one dimension: no product to build
            for key, reason, weight in values[0]:
                groups[(key,), (reason,)].add(metrics, weight)
            continue
        for combination in itertools.product(*values):
            keys = tuple(c[0] for c in combination)
            reasons = tuple(c[1] for c in combination)
            weight = math.prod(c[2] for c in combination)
            groups[keys, reasons].add(metrics, weight)


def _total(collection: Collection, where: Filtered, casualties: bool) -> Sums:
    """The metrics of the records `where` selects, each counted once."""
    model = collection.model
    flags = _casualty_flags() if casualties else None
    select = model.select(*_metric_columns(casualties, flags))
    if flags is not None:
        select = select.join(flags, pw.JOIN.LEFT_OUTER, on=flags.c.owner == model.id)
    row = _read(where.reselect(lambda _: select).query().tuples())[0]
    total = Sums()
    total.add(row, 1.0)
    return total


def _fill(groups: dict[tuple, Sums], dimensions: list[Dimension], asked: ListQuery) -> None:
    """Every bucket of the date dimension between the ends (the date filters, else the first
    and last buckets found), for every combination of the other keys found."""
    at = next(i for i, d in enumerate(dimensions) if isinstance(d, Dates))
    granularity = dimensions[at].name
    found = [keys[at] for keys, reasons in groups if reasons[at] is None and keys[at]]
    start, end = asked.filters.get("date_from"), asked.filters.get("date_to")
    first = bucket_of(granularity, start) if start else min(found, default=None)
    last = bucket_of(granularity, end) if end else max(found, default=None)
    if first is None or last is None:
        return
    others = {
        (keys[:at] + keys[at + 1 :], reasons)
        for keys, reasons in groups
        if reasons[at] is None and keys[at] is not None
    }
    if not others and len(dimensions) == 1:
        others = {((), (None,))}
    series = buckets_between(granularity, first, last)
    if len(series) * len(others) > MAX_FILLED:
        raise InvalidParameter(
            "fill", f"fill=zero would make more than {MAX_FILLED} groups; narrow the request."
        )
    for rest, reasons in others:
        for bucket in series:
            keys = (*rest[:at], bucket, *rest[at:])
            if (keys, reasons) not in groups:
                groups[keys, reasons] = Sums()


def _answer(
    kind: str,
    shape: Shape,
    dimensions: list[Dimension],
    groups: dict[tuple, Sums],
    beyond: Beyond,
    total: Sums,
    summed: float,
    casualties: bool,
) -> Aggregation:
    def internal_order(item: tuple) -> tuple:
        (keys, reasons), sums = item
        return (-sums.count, tuple((k is None, str(k)) for k in keys), tuple(map(str, reasons)))

    items = list(groups.items())
    kept, rest = items, []
    if len(items) > shape.limit:
        # as sorting them all by internal_order and keeping the first: only the groups counted
        # as often as the limit-th are ordered by their keys (thousands at 1M: a cost)
        at = heapq.nlargest(shape.limit, (sums.count for _, sums in items))[-1]
        above = [item for item in items if item[1].count > at]
        tied = sorted((item for item in items if item[1].count == at), key=internal_order)
        room = shape.limit - len(above)
        kept = sorted(above + tied[:room], key=internal_order)
        rest = [item for item in items if item[1].count < at] + tied[room:]
    groups_total = len(items) + beyond.groups
    public = [d.public({keys[i] for (keys, _), _ in kept}) for i, d in enumerate(dimensions)]
    names = [d.name for d in dimensions]
    rows = []
    for (keys, reasons), sums in kept:
        shown = [public[i].get(k, (None, None)) for i, k in enumerate(keys)]
        group: dict[str, Any] = {"key": {n: s[0] for n, s in zip(names, shown, strict=True)}}
        labelled = [i for i, d in enumerate(dimensions) if d.labelled]
        if labelled:
            group["label"] = {names[i]: shown[i][1] for i in labelled}
        if any(reasons):
            group["imprecise"] = {n: r for n, r in zip(names, reasons, strict=True) if r}
        group.update(sums.as_json(casualties))
        rows.append(group)
    _sorted(rows, shape, dimensions)
    if rest or beyond.groups:
        other = Sums()
        other.merge(beyond.sums)
        for _, sums in rest:
            other.merge(sums)
        row: dict[str, Any] = {"key": dict.fromkeys(names)}
        if any(d.labelled for d in dimensions):
            row["label"] = {d.name: None for d in dimensions if d.labelled}
        row.update(other.as_json(casualties))
        row["rest"] = len(rest) + beyond.groups
        rows.append(row)
    body = {
        "group_by": list(names),
        "spread": "even" if shape.spread else "none",
        "overlapping": summed > total.count + 1e-6,
        "total": total.as_json(casualties),
        "groups": rows,
    }
    placed = [d.name for d in dimensions if isinstance(d, Places)]
    points = points_of(row["key"][name] for row in rows for name in placed if row["key"][name])
    grid = any(isinstance(d, Grid) for d in dimensions)
    return Aggregation(body, groups_total, points, shape.cell if grid else None)


def sort_order(shape: Shape) -> str:
    """The sort a request gets: its own, else by key when its first dimension is a date,
    else most frequent first."""
    if shape.sort:
        return shape.sort
    return "key" if shape.group_by[0] in DATE_DIMENSIONS else "-count"


def _sorted(rows: list[dict], shape: Shape, dimensions: list[Dimension]) -> None:
    """`rows` in the request's order: by key (nulls last either way), or by count, ties by
    key."""
    order = sort_order(shape)
    descending = order == "-key"

    def by_key(row: dict) -> tuple:
        parts = []
        for d in dimensions:
            value = d.sort_key(row["key"][d.name])
            missing = value is None
            parts.append((missing != descending, () if missing else value))
        return (tuple(parts), tuple(sorted((row.get("imprecise") or {}).items())))

    rows.sort(key=by_key, reverse=descending)
    if order in ("count", "-count"):
        rows.sort(key=lambda row: row["count"], reverse=order == "-count")
