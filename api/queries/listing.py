"""A page of a collection's list, read by one of five strategies.

`list_page` is the entry point: `choose_strategy` looks at the request alone (no query runs)
and picks the strategy; each strategy's docstring says when it is chosen and why it is fast.
All of them return the same records, order, cursors and totals a plain keyset query over the
filtered rows would (paging.paginate). The strategies stay in one module, over 400 lines,
because they are read side by side: they share `walk` and the plan cache."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import peewee as pw

from api.queries import fulltext, rankings
from api.queries.collection import DISTANCE_SORTS, RELEVANCE, Collection, filtered
from api.queries.errors import InvalidParameter
from api.queries.filters import Filtered, led_by_the_rest, read_in_sort_order, unindexed_sort
from api.queries.list_query import ListQuery
from api.queries.loading import model_columns, typed_rows
from api.queries.paging import (
    Compiled,
    Page,
    Sort,
    compile_keyset,
    count_rows,
    page_of,
    page_total,
    paginate,
    remember_plan,
    remembered_plan,
)
from api.store import data_version
from api.store.db import database

Position = tuple[Any, int, str]  # a decoded cursor: (sort key, id, direction)


class ListStrategy(Protocol):
    """One way of reading a list page."""

    def page(
        self, collection: Collection, asked: ListQuery, sort_name: str, count_limit: int | None
    ) -> tuple[list[Any], Page]:
        """The page's rows (as `collection.row` makes them) and the Page around them."""
        ...


def list_page(
    collection: Collection,
    asked: ListQuery,
    count_limit: int | None = None,
    as_json: bool = False,
) -> tuple[list, Page]:
    """One page of a collection, filtered and sorted as `asked` (already validated); the
    total is exact up to `count_limit` (all the way when None), see paging.paginate.
    `as_json`: the records as JSON (`Written`) where the collection keeps them so (not with
    `near`)."""
    as_json = as_json and not asked.near and collection.rendered is not None
    sort_name = asked.sort or (RELEVANCE if asked.q else collection.default_sort)
    strategy = choose_strategy(collection, asked, sort_name, as_json)
    rows, page = strategy.page(collection, asked, sort_name, count_limit)
    records = collection.records(rows, as_json)
    if asked.near and collection.distance:
        for record, row in zip(records, rows, strict=True):
            record["distance_km"] = round(row.distance_km, 3)
    return records, page


def choose_strategy(
    collection: Collection, asked: ListQuery, sort_name: str, as_json: bool
) -> ListStrategy:
    """The one place a list's strategy is chosen, from the request alone."""
    if asked.q and not asked.has_filters:
        if sort_name == RELEVANCE:
            return RankedMatches()
        return FullTextInSortOrder()
    if asked.q:
        return FullTextWithFilters()
    if (
        collection.light_rows
        and collection.base_query is None
        and sort_name in collection.sorts
        and not asked.near
    ):
        sort = collection.sorts[sort_name]
        try:
            position = asked.cursors.decode(asked.cursor, sort) if asked.cursor else None
        except InvalidParameter:
            return FilteredKeyset()  # which refuses the cursor once the filters are checked
        return PlannedPage(position, as_json)
    return FilteredKeyset()


# ---------------------------------------------------------------- planned pages


@dataclass(frozen=True)
class PagePlan:
    """What a page of one filter and sort needs at one data version: its compiled SQL, the
    columns it reads, its total."""

    compiled: Compiled
    fields: list[pw.Field]
    names: list[str]
    total: int | None
    estimate: int | None


@dataclass(frozen=True)
class PlannedPage:
    """Chosen for a list without `q` or `near`, sorted by one of its columns, of a collection
    whose records load from plain columns (`light_rows`). The page's SQL and its total are
    worked out once per (data version, filters, sort, direction, limit) and kept as a plan
    (paging.remember_plan); a request then only binds the cursor's key and id into the
    compiled SQL and reads tuples, without building a peewee query or counting again. With
    `as_json`, rows of the id and the sort's key only, all that records kept as JSON need
    (read from the sort's index alone, where it has one)."""

    position: Position | None  # the cursor's; None on the first page
    as_json: bool

    def page(
        self, collection: Collection, asked: ListQuery, sort_name: str, count_limit: int | None
    ) -> tuple[list[Any], Page]:
        sort = collection.sorts[sort_name]
        key, row_id, direction = self.position or (None, None, None)
        version = data_version.current_or_none()
        selection = asked.selection()
        plan_key: tuple | None = None
        if version is not None and selection is not None:
            plan_key = (version, collection.name, type(database.obj), sort_name, direction)
            plan_key += (count_limit, self.as_json, asked.limit, selection)
        plan = remembered_plan(plan_key)
        if plan is None:
            plan = self.plan(collection, asked, sort, direction, count_limit)
            remember_plan(plan_key, plan)
        cursor = database.execute_sql(*plan.compiled.bind(key, row_id))
        rows = list(typed_rows(cursor, plan.fields, plan.names))
        column = sort.key.name
        page = page_of(
            rows,
            sort,
            asked.limit,
            direction,
            plan.total,
            plan.estimate,
            lambda row: row[column],
            lambda row: row["id"],
            asked.cursors,
        )
        return page.rows, page

    def plan(
        self,
        collection: Collection,
        asked: ListQuery,
        sort: Sort,
        direction: str | None,
        count_limit: int | None,
    ) -> PagePlan:
        """The plan of this page: its SQL (narrowings probed where that reads fewer rows) and
        its total."""
        model = collection.model
        fields, names = model_columns(model)
        if self.as_json:
            fields = list(dict.fromkeys([model.id, sort.key]))
            names = [field.name for field in fields]
        found = filtered(collection, model.select(*fields), asked)
        led = led_by_the_rest(found)
        total, estimate = page_total(led.query(), count_limit)
        page_sort = sort
        if led is not found:  # few rows in the other filters' range: read those, sort them
            found, page_sort = led, unindexed_sort(sort)
        elif found.narrowed:  # many matches: walk the sort's index and probe
            if total is None:  # beyond the count limit (paging.page_total)
                assert count_limit is not None
                matches = count_limit + 1
            else:
                matches = total
            found = read_in_sort_order(found, sort.key, matches, asked)
        compiled = compile_keyset(found.query(), page_sort, model.id, asked.limit, direction)
        return PagePlan(compiled, fields, names, total, estimate)


# ---------------------------------------------------------------- full text alone, by rank


class RankedMatches:
    """Chosen for `q` with no filter, sorted by relevance. The full-text matches are ranked
    and paged on their own, as (id, rank) pairs, without reading a record per match; only the
    page's records are read. The ranking comes from a kept ranking (rankings.kept: the
    service holds the query's whole ranking, so a later page is a slice of it) or, when none
    is kept, from the database with a LIMIT (`ranked_by_database`)."""

    def page(
        self, collection: Collection, asked: ListQuery, sort_name: str, count_limit: int | None
    ) -> tuple[list[Any], Page]:
        model, q = collection.model, asked.q or ""
        hits = fulltext.ranked(collection.name, q).alias("hits")
        sort = Sort(RELEVANCE, hits.c.rank)
        ranking = rankings.kept(
            ("list", collection.name, q),
            lambda at_most: fulltext.in_rank_order([collection.name], q, at_most),
        )
        if ranking is not None:
            page = slice_of_kept_ranking(ranking, sort, asked, count_limit)
        else:
            ranked = model.select(hits.c.record_id.alias("id"), hits.c.rank.alias("rank"))
            page = ranked_by_database(
                ranked.from_(hits), sort, hits, collection.name, asked, count_limit
            )
        ids = [row["id"] for row in page.rows]
        found = {}
        if ids:
            for fetched in collection.query().where(model.id.in_(ids)):
                record = collection.row(fetched)
                found[record.id] = record
        page.rows = [found[i] for i in ids if i in found]
        return page.rows, page


def ranked_by_database(
    ranked: pw.SelectQuery,
    sort: Sort,
    hits: pw.Node,
    record_type: str,
    asked: ListQuery,
    count_limit: int | None,
) -> Page:
    """A page of the `ranked` (id, rank) `hits` of `record_type`, ranked by the database with
    a LIMIT. Page 1's total is exact: counted in the ranking query itself where the backend
    counts that way cheaply (fulltext.window_counts), else from the index alone, once per
    data version; a later page's is counted by paginate."""
    total_of = None
    if not asked.cursor and fulltext.window_counts():
        ranked = ranked.select_extend(pw.fn.COUNT(pw.SQL("*")).over().alias("matches"))
        total_of = lambda row: row["matches"]  # noqa: E731
    elif not asked.cursor:
        matches = fulltext.count_matches([record_type], asked.q or "")
        total_of = lambda row: matches  # noqa: E731
    return paginate(
        ranked.dicts(),
        sort,
        hits.c.record_id,
        asked.limit,
        asked.cursors,
        asked.cursor,
        key_of=lambda row: row["rank"],
        id_of=lambda row: row["id"],
        count_limit=count_limit,
        total_of=total_of,
        counter=count_rows,
    )


def slice_of_kept_ranking(
    ranking: rankings.Ranking, sort: Sort, asked: ListQuery, count_limit: int | None
) -> Page:
    """The page of a kept ranking that `ranked_by_database` would read: same rows, cursors
    and totals (a later page's total beyond `count_limit` is None, its estimate exact)."""
    direction: str | None = None
    after: rankings.Hit | None = None
    if asked.cursor:
        key, row_id, direction = asked.cursors.decode(asked.cursor, sort)
        after = (key, ranking.types[0] if ranking.types else "", row_id)
    hits = ranking.window(after, direction or "next", asked.limit + 1)
    rows = [{"id": record_id, "rank": rank} for rank, _type, record_id in hits]
    total: int | None = len(ranking)
    estimate: int | None = None
    if asked.cursor and count_limit is not None and len(ranking) > count_limit:
        total, estimate = None, len(ranking)
    key_of, id_of = (lambda row: row["rank"]), (lambda row: row["id"])
    return page_of(
        rows, sort, asked.limit, direction, total, estimate, key_of, id_of, asked.cursors
    )


# ---------------------------------------------------------------- keyset walks


@dataclass(frozen=True)
class Walk:
    """What a keyset strategy hands to `walk`: the filtered rows, and how the page reads its
    sort key and total when they are not the collection's own (None: the defaults)."""

    found: Filtered
    sort: Sort | None = None  # None: the collection's sort of that name
    key_of: Callable[[Any], Any] | None = None
    total_of: Callable[[Any], int] | None = None  # the total read off page 1's first row
    estimator: Callable[[pw.SelectQuery, int], int] | None = None


class FullTextInSortOrder:
    """Chosen for `q` with no filter and a sort other than relevance. A common word walks the
    sort's index and tests each row against the matches, stopping after the page; a rare one
    reads its matches and sorts them (fulltext.walk_or_read decides by the word's count).
    Beyond the count limit, the estimate is of the word's matches, not of the walk."""

    def page(
        self, collection: Collection, asked: ListQuery, sort_name: str, count_limit: int | None
    ) -> tuple[list[Any], Page]:
        name, q = collection.name, asked.q or ""
        found = Filtered(collection.query()).where(
            fulltext.walk_or_read(collection.model.id, name, q)
        )
        estimator = lambda _query, floor: fulltext.estimate_matches(name, q, floor)  # noqa: E731
        return walk(collection, asked, sort_name, count_limit, Walk(found, estimator=estimator))


class FullTextWithFilters:
    """Chosen for `q` with filters. By relevance: the matches' ranks join the filtered rows,
    and page 1 counts its matches in the same query (`COUNT(*) OVER ()`: ranking reads every
    match anyway). Another sort: `id IN (the matches)`, and the planner chooses whether to
    read the matches or walk the sort's index (a window count there would read every match,
    so it keeps the capped count)."""

    def page(
        self, collection: Collection, asked: ListQuery, sort_name: str, count_limit: int | None
    ) -> tuple[list[Any], Page]:
        model, q = collection.model, asked.q or ""
        found = filtered(collection, collection.query(), asked)
        if sort_name != RELEVANCE:
            found = found.where(model.id.in_(fulltext.matching_ids(collection.name, q)))
            return walk(collection, asked, sort_name, count_limit, Walk(found))
        hits = fulltext.matches(collection.name, q).alias("hits")

        def ranked(select: pw.SelectQuery) -> pw.SelectQuery:
            select = select.select_extend(hits.c.rank.alias("rank")).join(
                hits, on=(hits.c.record_id == model.id)
            )
            if not asked.cursor:
                select = select.select_extend(pw.fn.COUNT(pw.SQL("*")).over().alias("matches"))
            return select.dicts() if collection.light_rows else select.objects()  # rank: a field

        total_of = None if asked.cursor else (lambda row: row.matches)
        return walk(
            collection,
            asked,
            sort_name,
            count_limit,
            Walk(
                found.reselect(ranked),
                Sort(RELEVANCE, hits.c.rank),
                key_of=lambda row: row.rank,
                total_of=total_of,
            ),
        )


class FilteredKeyset:
    """Chosen for every other list: filters without `q` that no plan serves (`near`, a sort
    by distance, a collection loading model instances or joining others, a cursor that does
    not decode). A keyset query over the filtered rows; when its narrowings (places, actors,
    roles, sources) match many rows, the page walks the sort's index and probes each row
    while the count reads the matches through the filters' indexes
    (filters.read_in_sort_order)."""

    def page(
        self, collection: Collection, asked: ListQuery, sort_name: str, count_limit: int | None
    ) -> tuple[list[Any], Page]:
        found = filtered(collection, collection.query(), asked)
        if sort_name == RELEVANCE:
            raise InvalidParameter(
                "sort", "sort=relevance needs a q.", ["relevance applies only together with q."]
            )
        return walk(collection, asked, sort_name, count_limit, Walk(found))


def walk(
    collection: Collection,
    asked: ListQuery,
    sort_name: str,
    count_limit: int | None,
    plan: Walk,
) -> tuple[list[Any], Page]:
    """The keyset page of `plan.found` that the walking strategies share: the distance from
    `near` as a column (and its sort), narrowings probed when they match many rows, then
    paging.paginate."""
    found, sort, key_of = plan.found, plan.sort, plan.key_of
    distance = None
    if asked.near and collection.distance:
        distance = collection.distance(*asked.near)
        found = found.reselect(lambda select: select.select_extend(distance.alias("distance_km")))
    if sort_name in DISTANCE_SORTS:
        if distance is None:
            raise InvalidParameter(
                "sort", "sort=distance needs near.", ["distance applies only together with near."]
            )
        sort = Sort(sort_name, distance, sort_name.startswith("-"), "number")
        key_of = lambda row: row.distance_km  # noqa: E731
    elif sort is None:
        sort = collection.sorts[sort_name]
    query = found.query()
    counter: Callable[[pw.SelectQuery, int | None], int] = count_rows  # remembered per version
    if plan.total_of is None and sort_name not in DISTANCE_SORTS and found.narrowed:
        # Many matches: the page is read in sort order, each row tested; the count still
        # reads the matches through the filters' indexes (filters.read_in_sort_order).
        counted = query
        cap = None if count_limit is None else count_limit + 1
        matches = count_rows(counted, cap)
        query = read_in_sort_order(found, sort.key, matches, asked).query()

        def counted_once(_page_query: pw.SelectQuery, limit: int | None) -> int:
            return matches if limit == cap else count_rows(counted, limit)

        counter = counted_once

    page = paginate(
        query,
        sort,
        collection.model.id,
        asked.limit,
        asked.cursors,
        asked.cursor,
        key_of,
        row=collection.row,
        count_limit=count_limit,
        total_of=plan.total_of,
        counter=counter,
        estimator=plan.estimator,
    )
    return page.rows, page
