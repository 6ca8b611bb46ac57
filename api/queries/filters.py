"""Filter builders shared by the collections: a filter is `(value, asked) -> condition` (None:
no condition of its own), and `Filtered` holds a select with the conditions that filter it.

Public ids in filters are resolved to internal ids first; an id that names nothing is an
InvalidParameter naming the parameter (a typo must not return unfiltered data).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from functools import reduce
from typing import Any

import peewee as pw

from api.queries.errors import InvalidParameter
from api.queries.list_query import ListQuery
from api.queries.paging import Sort, count_rows
from api.store.db import is_postgres
from api.store.models import Citation, Location, LocationRegion, Source

_EARTH_RADIUS_KM = 6371.0088
Filter = Callable[[Any, ListQuery], pw.Node | None]  # a condition, or None: none of its own
# A list page whose filters match more rows than this is read in the order of its sort index,
# each row tested (`Narrowing.probe`), rather than by reading every match and sorting them
# (bbox and role=target at 1M events); fewer matches are read through the filter.
PROBE_ABOVE = 10_000


class Narrowing(pw.ColumnBase):
    """A filter's condition in two forms that select the same rows.

    `search` (`key IN (subquery)`, what it renders as) lets the planner read the matches
    through the filter's own index: the plan for counts, facets and narrow filters. `probe`
    (`EXISTS (subquery WHERE its key = key)`) tests one row at a time: on SQLite, a list page
    of a broad filter then walks its sort index and stops after the page (SQLite never turns
    either form into the other; PostgreSQL plans both as the same semi-join)."""

    def __init__(self, search: pw.Node, probe: pw.Node) -> None:
        super().__init__()
        self.search = search
        self.probe = probe

    def __sql__(self, ctx: pw.Context) -> pw.Context:
        return ctx.sql(self.search)


def member(key: pw.Node, *subqueries: tuple[pw.SelectQuery, pw.Field]) -> Narrowing:
    """`key` is among the values of any of `subqueries` (a query selecting one column, and
    that column): `key IN (a UNION b ...)`, or probed, `EXISTS (a WHERE column = key) OR ...`."""
    rows = [query for query, _ in subqueries]
    search = key.in_(rows[0] if len(rows) == 1 else reduce(operator.or_, rows))
    probe = reduce(
        operator.or_, [pw.fn.EXISTS(query.where(column == key)) for query, column in subqueries]
    )
    return Narrowing(search, probe)


def unindexed(column: pw.Node) -> pw.Node:
    """`+column`: the same value, which SQLite reads through no index of the column."""
    return pw.NodeList((pw.SQL("+"), column), glue="")


def _probing(node: Any) -> Any:
    """A WHERE clause with each Narrowing in it in its probe form (the clause itself when it
    has none)."""
    if isinstance(node, Narrowing):
        return node.probe
    if isinstance(node, pw.Expression):
        lhs, rhs = _probing(node.lhs), _probing(node.rhs)
        if lhs is not node.lhs or rhs is not node.rhs:
            return pw.Expression(lhs, node.op, rhs, node.flat)
    return node


def has_narrowing(node: Any) -> bool:
    """True when the condition `node` holds a Narrowing."""
    return _probing(node) is not node


@dataclass(frozen=True)
class Filtered:
    """A select and the conditions (joined by AND) that filter it, kept apart: a list strategy
    rewrites the conditions (probes a narrowing, keeps some alone) without reading them back
    out of the query. `query()` is the select with its conditions applied in order."""

    select: pw.SelectQuery
    terms: tuple[Any, ...] = ()

    def where(self, *terms: Any) -> Filtered:
        """These conditions added."""
        return replace(self, terms=self.terms + terms)

    def reselect(self, change: Callable[[pw.SelectQuery], pw.SelectQuery]) -> Filtered:
        """The same conditions on `change(select)` (a column added, a join, another row type)."""
        return replace(self, select=change(self.select))

    def query(self) -> pw.SelectQuery:
        """The select, filtered."""
        query = self.select
        for term in self.terms:
            query = query.where(term)
        return query

    @property
    def narrowed(self) -> bool:
        """True when a condition holds a Narrowing."""
        return any(has_narrowing(term) for term in self.terms)

    def probed(self) -> Filtered:
        """Each Narrowing in its probe form (itself when it has none)."""
        terms = tuple(_probing(term) for term in self.terms)
        if all(new is old for new, old in zip(terms, self.terms, strict=True)):
            return self
        return replace(self, terms=terms)


def read_in_sort_order(query: Filtered, sort_key: Any, matches: int, asked: ListQuery) -> Filtered:
    """The page query of a list: `query` itself, or, when its filters match more than
    PROBE_ABOVE rows, are narrowings (places, actors, roles, sources) and the list is read
    in the order of an indexed column, `query` with its narrowings probed.

    A date filter is no reason to read the matches: the date-order indexes hold each row's
    span (`range_end`, `range_start`), so a walk tests the dates from the index alone and
    probes only the rows in range."""
    if matches <= PROBE_ABOVE or asked.q or not _is_indexed(sort_key):
        return query
    return query.probed()


def led_by_the_rest(query: Filtered) -> Filtered:
    """SQLite: `query` with its narrowings probed when its other conditions (dates, types)
    match at most LED_AT_MOST rows on their own (counted once per data version), so that
    SQLite reads those few rows and tests each rather than every match of a broad narrowing;
    else `query` itself. PostgreSQL weighs the two sides itself (SQLite, without STAT4,
    prefers an `IN` list whatever its size). A page led by the rest sorts the rows it read:
    page it with `unindexed_sort`, or SQLite walks the sort's index instead."""
    if is_postgres() or not query.narrowed:
        return query
    rest = alone(query, lambda term: not has_narrowing(term))
    if rest is None or count_rows(rest.query(), LED_AT_MOST + 1) > LED_AT_MOST:
        return query
    return query.probed()


# A query led by the rest reads up to this many rows through their index, probes each and
# sorts them, where searching a broad narrowing reads its every match.
LED_AT_MOST = 2 * PROBE_ABOVE


def unindexed_sort(sort: Sort) -> Sort:
    """`sort` by `+key`: the same order, which SQLite gets by sorting the rows it read rather
    than by walking the key's index (for a query `led_by_the_rest`)."""
    return replace(sort, key=unindexed(sort.key), key_type=sort.kind)


def alone(query: Filtered, keep: Callable[[Any], bool]) -> Filtered | None:
    """`query` with only the conditions (split at each AND) that `keep` keeps; None when it
    keeps none."""
    terms = [part for term in query.terms for part in _conjuncts(term) if keep(part)]
    if not terms:
        return None
    return replace(query, terms=tuple(terms))


def _conjuncts(node: Any) -> list[Any]:
    """The terms of a WHERE clause joined by AND (the clause itself when it has one)."""
    if isinstance(node, pw.Expression) and node.op == pw.OP.AND:
        return _conjuncts(node.lhs) + _conjuncts(node.rhs)
    return [node]


def _is_indexed(column: Any) -> bool:
    """True for a model column that leads an index (its rows can be read in its order)."""
    if not isinstance(column, pw.Field):
        return False
    if column.index or column.unique or column.primary_key:
        return True
    return any(
        isinstance(fields, tuple | list) and fields and fields[0] == column.name
        for fields, _ in column.model._meta.indexes
    )


def ids_for(model: type[pw.Model], slugs: Iterable[str], parameter: str) -> list[int]:
    """Internal ids of the records named by `slugs`; InvalidParameter naming any missing one."""
    slugs = list(dict.fromkeys(slugs))
    found = dict(model.select(model.slug, model.id).where(model.slug.in_(slugs)).tuples())
    missing = [slug for slug in slugs if slug not in found]
    if missing:
        kind = model.__name__.lower()
        raise InvalidParameter(
            parameter,
            f"Unknown {kind} id(s) in {parameter!r}: " + ", ".join(missing),
            [f"No {kind} with id {slug!r}." for slug in missing],
        )
    return [found[slug] for slug in slugs]


def any_of(column: pw.Field) -> Filter:
    """A repeatable filter matching any of its values."""
    return lambda values, asked: column.in_(values)


def equals(column: pw.Field) -> Filter:
    """A single-valued filter matching its value exactly."""
    return lambda value, asked: column == value


def cited_by(record_type: str, model: type[pw.Model]) -> Filter:
    """Records that any of the named sources cites."""

    def apply(slugs: Sequence[str], asked: ListQuery) -> pw.Node:
        source_ids = ids_for(Source, slugs, "source")
        cited = Citation.select(Citation.record_id).where(
            (Citation.record_type == record_type) & Citation.source.in_(source_ids)
        )
        return member(model.id, (cited, Citation.record_id))

    return apply


def date_from(model: type[pw.Model]) -> Filter:
    """Records whose date span ends on or after the day (a month-precise date overlaps; a
    window overlaps when any of its days may be in the range; an `on_or_before` date has an
    open start, so any range that reaches its end overlaps it)."""
    return lambda value, asked: model.range_end >= value


def date_to(model: type[pw.Model]) -> Filter:
    """Records whose date span starts on or before the day."""
    return lambda value, asked: model.range_start <= value


# ---------------------------------------------------------------- places


def _path_starts_with(prefix: str, path: pw.Field = Location.path) -> pw.Expression:
    """Case-sensitive prefix match on a location's `path` that an index can serve: GLOB on
    SQLite, LIKE on PostgreSQL (index with text_pattern_ops). Paths hold only slug
    characters, none of them a wildcard."""
    if is_postgres():
        return pw.Expression(path, "LIKE", f"{prefix}%")
    return pw.Expression(path, "GLOB", f"{prefix}*")


def descendant_location_ids(slugs: Iterable[str], parameter: str) -> pw.SelectQuery:
    """Ids of the named locations and of every location inside them: below them in the
    parent tree, or listing one of them (or a place below one) among its `regions`, with
    everything below such a member (one step of membership: a region of a region's member
    is not followed)."""
    return within_paths(inside_paths(slugs, parameter))


def inside_paths(slugs: Iterable[str], parameter: str) -> list[str]:
    """The paths whose locations, and those below them, are the places `slugs` name with
    everything inside them (`descendant_location_ids`)."""
    return [path for path, *_ in inside_places(slugs, parameter)]


def inside_places(slugs: Iterable[str], parameter: str, *columns: pw.Field) -> list[tuple]:
    """(path, *columns) of the named places, then of the places listing one of them (or a place
    below one) among their `regions` that are not below a named place already: the places at
    or below them are the places `slugs` name with everything inside them."""
    ids = ids_for(Location, slugs, parameter)
    named = list(Location.select(Location.path, *columns).where(Location.id.in_(ids)).tuples())
    paths = [row[0] for row in named]
    region = Location.alias("region")
    members = (  # from the memberships (few), not from every place inside (thousands)
        Location.select(Location.path, *columns)
        .join(LocationRegion, on=(LocationRegion.location == Location.id))
        .join(region, on=(region.id == LocationRegion.region))
        .where(_any_path(paths, region.path))
    )
    return named + [row for row in members.tuples() if not any(row[0].startswith(q) for q in paths)]


def within_paths(paths: list[str]) -> pw.SelectQuery:
    """Ids of the locations at or below any of `paths`."""
    return Location.select(Location.id).where(_any_path(paths))


def _any_path(paths: list[str], column: pw.Field = Location.path) -> pw.Expression:
    """Locations (`column`: their path) at or below any of these paths."""
    condition = None
    for path in paths:
        clause = _path_starts_with(path, column)
        condition = clause if condition is None else condition | clause
    return condition if condition is not None else pw.SQL("1 = 0")


def in_bbox(bbox: Sequence[float], asked: ListQuery) -> pw.Node:
    """Places inside `[min_lon, min_lat, max_lon, max_lat]` (a box may cross the antimeridian)."""
    min_lon, min_lat, max_lon, max_lat = bbox
    inside = Location.latitude.between(min_lat, max_lat)
    if min_lon <= max_lon:
        inside &= Location.longitude.between(min_lon, max_lon)
    else:  # the box crosses the antimeridian
        inside &= (Location.longitude >= min_lon) | (Location.longitude <= max_lon)
    return inside


def great_circle_km(lat: float, lon: float) -> pw.Expression:
    """SQL: the haversine distance in km from (lat, lon) to a location's coordinates."""
    lat1, lat2 = pw.fn.radians(lat), pw.fn.radians(Location.latitude)
    half_dlat = (lat2 - lat1) / 2
    half_dlon = (pw.fn.radians(Location.longitude) - pw.fn.radians(lon)) / 2
    a = pw.fn.sin(half_dlat) * pw.fn.sin(half_dlat) + pw.fn.cos(lat1) * pw.fn.cos(lat2) * pw.fn.sin(
        half_dlon
    ) * pw.fn.sin(half_dlon)
    return 2 * _EARTH_RADIUS_KM * pw.fn.asin(pw.fn.sqrt(pw.Case(None, [(a > 1, 1.0)], a)))


def near(point: Sequence[float], asked: ListQuery) -> pw.Node:
    """Within `asked.radius_km` on the great circle (haversine), pre-filtered by a box."""
    lat, lon = point
    radius = asked.radius_km
    dlat = math.degrees(radius / _EARTH_RADIUS_KM)
    dlon = min(180.0, dlat / max(math.cos(math.radians(lat)), 1e-6))
    box = Location.latitude.between(lat - dlat, lat + dlat)
    if dlon < 180:
        box &= Location.longitude.between(lon - dlon, lon + dlon)
    return box & (great_circle_km(lat, lon) <= radius)
