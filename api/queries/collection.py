"""The engine every collection shares: a `Collection` describes how one collection is
filtered, sorted and loaded; `list_page` and `get_record` are the two entry points."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import peewee as pw

from api.queries import fulltext, rankings
from api.queries.errors import InvalidParameter, NotFound
from api.queries.filters import (
    Filter,
    has_narrowing,
    led_by_the_rest,
    read_in_sort_order,
    unindexed_sort,
)
from api.queries.list_query import ListQuery
from api.queries.loading import Row, model_columns, row_factory, typed_rows
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
from api.queries.rendered import Rendered
from api.store import data_version
from api.store.db import database
from schemas.fastdump import Written, WrittenRecord

RELEVANCE = "relevance"
DISTANCE_SORTS = ("distance", "-distance")


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
    # SQL distance in km from a point (lat, lon), for `near`: `distance_km` and sort=distance
    distance: Callable[[float, float], Any] | None = None
    # `load` reads only columns (`row.title`, `row.location_id`): give it loading.Row dicts
    # rather than model instances (a third of a page's time, issue #14)
    light_rows: bool = False
    # `load` returns records exactly as the response schema dumps them, as JSON: its keys in
    # its order, nested likewise, values of the types its fields write (dates and datetimes
    # as such): a JSON list writes them without a dump (schemas/fastdump.py `Dumped`, proved
    # by tests/test_fastdump.py). Not with `distance_km` (added after loading).
    records_as_dumped: bool = False
    # `load`'s records kept rendered as JSON (api/queries/rendered.py): a JSON page joins them
    # (schemas/fastdump.py `Written`), a JSON record is one, instead of loading and writing them
    rendered: Rendered | None = None

    def query(self) -> pw.SelectQuery:
        """The rows `load` expects, unfiltered."""
        query = self.base_query() if self.base_query else self.model.select(self.model)
        return query.dicts() if self.light_rows else query

    _make_row: Callable[[dict], Row] | None = field(default=None, init=False, repr=False)

    def records(self, rows: list[Any], as_json: bool = False) -> list:
        """The records of `rows`; as their JSON (`Written`) when asked and kept."""
        if as_json and self.rendered is not None:
            return Written(self.rendered.json_of(rows))
        return self.load(rows)

    def row(self, fetched: Any) -> Any:
        """A fetched row as `load` takes it."""
        if not self.light_rows:
            return fetched
        if self._make_row is None:
            self._make_row = row_factory(self.model)
        return self._make_row(fetched)


def filtered(
    collection: Collection, query: pw.SelectQuery, asked: ListQuery, skip: Iterable[str] = ()
) -> pw.SelectQuery:
    """`query` narrowed by every filter `asked` sets (not paging, sort, format or `q`)."""
    if asked.ids and "ids" not in skip:  # many records by public id
        query = query.where(collection.model.slug.in_(asked.ids))
    if asked.updated_since and "updated_since" not in skip:  # changed since (UTC)
        since = asked.updated_since.astimezone(dt.UTC).replace(tzinfo=None)
        query = query.where(collection.model.updated_at >= since)
    for name, value in asked.filters.items():
        if name in collection.filters and name not in skip:
            query = collection.filters[name](query, value, asked)
    return query


def matching(
    collection: Collection, query: pw.SelectQuery, asked: ListQuery, skip: Iterable[str] = ()
) -> pw.SelectQuery:
    """`query` narrowed by the filters `asked` sets and by its full-text `q`, if any."""
    query = filtered(collection, query, asked, skip)
    if asked.q:
        query = query.where(
            collection.model.id.in_(fulltext.matching_ids(collection.name, asked.q))
        )
    return query


@dataclass(frozen=True)
class PagePlan:
    """What a page of one filter and sort needs at one data version: its compiled SQL, the
    columns it reads, its total."""

    compiled: Compiled
    fields: list[pw.Field]
    names: list[str]
    total: int | None
    estimate: int | None


def planned_page(
    collection: Collection,
    asked: ListQuery,
    sort_name: str,
    count_limit: int | None,
    as_json: bool,
) -> Page | None:
    """The page `list_page` would return, read as tuples through a plan compiled once per
    (data version, filters, sort, direction, limit); None when this request is not one it
    plans (full text, `near`, a sort of another kind, a cursor that does not decode: those
    take the general path, with its errors). `as_json`: rows of the id and the sort's key
    only, all that records kept as JSON need (from the sort's index alone, where it has one)."""
    if (
        not collection.light_rows
        or collection.base_query is not None
        or sort_name not in collection.sorts
        or asked.q
        or asked.near
    ):
        return None
    sort = collection.sorts[sort_name]
    key = row_id = direction = None
    if asked.cursor:
        try:
            key, row_id, direction = asked.cursors.decode(asked.cursor, sort)
        except InvalidParameter:
            return None
    version = data_version.current_or_none()
    selection = asked.selection()
    plan_key = None
    if version is not None and selection is not None:
        plan_key = (version, collection.name, type(database.obj), sort_name, direction)
        plan_key += (count_limit, as_json, asked.limit, selection)
    plan = remembered_plan(plan_key)
    if plan is None:
        model = collection.model
        fields, names = model_columns(model)
        if as_json:
            fields = list(dict.fromkeys([model.id, sort.key]))
            names = [field.name for field in fields]
        query = filtered(collection, model.select(*fields), asked)
        led = led_by_the_rest(query)
        total, estimate = page_total(led, count_limit)  # remembered with the plan
        page_sort = sort
        if led is not query:  # few rows in the other filters' range: read those, sort them
            query, page_sort = led, unindexed_sort(sort)
        elif has_narrowing(query._where):  # many matches: walk the sort's index and probe
            matches = total if total is not None else count_limit + 1
            query = read_in_sort_order(query, sort.key, matches, asked)
        compiled = compile_keyset(query, page_sort, model.id, asked.limit, direction)
        plan = PagePlan(compiled, fields, names, total, estimate)
        remember_plan(plan_key, plan)
    cursor = database.execute_sql(*plan.compiled.bind(key, row_id))
    rows = list(typed_rows(cursor, plan.fields, plan.names))
    column = sort.key.name
    return page_of(
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


def list_page(
    collection: Collection,
    asked: ListQuery,
    count_limit: int | None = None,
    as_json: bool = False,
) -> tuple[list, Page]:
    """One page of a collection, filtered and sorted as `asked`; the total
    is exact up to `count_limit` (all the way when None), see paging.paginate. `as_json`: the
    records as JSON (`Written`) where the collection keeps them so (not with `near`)."""
    as_json = as_json and not asked.near and collection.rendered is not None
    sort_name = asked.sort or (RELEVANCE if asked.q else collection.default_sort)
    page = planned_page(collection, asked, sort_name, count_limit, as_json)
    if page is not None:
        return collection.records(page.rows, as_json), page
    model = collection.model
    base = collection.query()
    query = filtered(collection, base, asked)
    key_of = total_of = estimator = None
    if asked.q and query is base:  # full text alone: the index pages (issue #14)
        if sort_name == RELEVANCE:
            return ranked_page(collection, asked, count_limit, as_json)
        query = query.where(fulltext.walk_or_read(model.id, collection.name, asked.q))
        # beyond the count limit, the estimate of the matches rather than of a walk that
        # tests them (at 1M, 71,163 matches: 500,000 on PostgreSQL, 1,000,000 on SQLite)
        name, text = collection.name, asked.q
        estimator = lambda _query, floor: fulltext.estimate_matches(name, text, floor)  # noqa: E731
    elif asked.q and sort_name != RELEVANCE:  # with filters: the planner chooses
        query = query.where(model.id.in_(fulltext.matching_ids(collection.name, asked.q)))
    elif asked.q:
        hits = fulltext.matches(collection.name, asked.q).alias("hits")
        query = query.select_extend(hits.c.rank.alias("rank")).join(
            hits, on=(hits.c.record_id == model.id)
        )
        if sort_name == RELEVANCE and not asked.cursor:
            # Sorting by relevance reads every match anyway: page 1 counts them in the same
            # query, one match instead of two. (Another sort can stop after the page, so a
            # window count there would read every match: it keeps the capped count.)
            query = query.select_extend(pw.fn.COUNT(pw.SQL("*")).over().alias("matches"))
            total_of = lambda row: row.matches  # noqa: E731
        # `rank` lands on the row itself
        query = query.dicts() if collection.light_rows else query.objects()
        if sort_name == RELEVANCE:
            sort, key_of = Sort(RELEVANCE, hits.c.rank), (lambda row: row.rank)
    elif sort_name == RELEVANCE:
        raise InvalidParameter(
            "sort", "sort=relevance needs a q.", ["relevance applies only together with q."]
        )
    distance = None
    if asked.near and collection.distance:
        distance = collection.distance(*asked.near)
        query = query.select_extend(distance.alias("distance_km"))
    if sort_name in DISTANCE_SORTS:
        if distance is None:
            raise InvalidParameter(
                "sort", "sort=distance needs near.", ["distance applies only together with near."]
            )
        sort = Sort(sort_name, distance, sort_name.startswith("-"), "number")
        key_of = lambda row: row.distance_km  # noqa: E731
    elif key_of is None:
        sort = collection.sorts[sort_name]
    counted, counter = query, count_rows  # remembered per data version
    if total_of is None and sort_name not in DISTANCE_SORTS and has_narrowing(query._where):
        # Many matches: the page is read in sort order, each row tested; the count still
        # reads the matches through the filters' indexes (filters.read_in_sort_order).
        cap = None if count_limit is None else count_limit + 1
        matches = count_rows(counted, cap)
        query = read_in_sort_order(counted, sort.key, matches, asked)

        def counter(_page_query: pw.SelectQuery, limit: int | None) -> int:
            return matches if limit == cap else count_rows(counted, limit)

    page = paginate(
        query,
        sort,
        model.id,
        asked.limit,
        asked.cursors,
        asked.cursor,
        key_of,
        row=collection.row,
        count_limit=count_limit,
        total_of=total_of,
        counter=counter,
        estimator=estimator,
    )
    records = collection.records(page.rows, as_json)
    if distance is not None:
        for record, row in zip(records, page.rows, strict=True):
            record["distance_km"] = round(row.distance_km, 3)
    return records, page


def ranked_page(
    collection: Collection,
    asked: ListQuery,
    count_limit: int | None = None,
    as_json: bool = False,
) -> tuple[list, Page]:
    """A page of the records matching `q` (and no filter) by relevance: the full-text matches
    are ranked and paged on their own, (id, rank) with no record read per match, and only the
    page's records are read (issue #14). Same order, cursors and totals as a joined query."""
    model = collection.model
    hits = fulltext.ranked(collection.name, asked.q).alias("hits")
    ranked = model.select(hits.c.record_id.alias("id"), hits.c.rank.alias("rank")).from_(hits)
    sort = Sort(RELEVANCE, hits.c.rank)
    ranking = rankings.kept(
        ("list", collection.name, asked.q),
        lambda at_most: fulltext.in_rank_order([collection.name], asked.q, at_most),
    )
    if ranking is not None:
        page = ranking_page(ranking, sort, asked, count_limit)
    else:
        page = ranked_rows(ranked, sort, hits, collection.name, asked, count_limit)
    ids = [row["id"] for row in page.rows]
    found = {}
    if ids:
        for fetched in collection.query().where(model.id.in_(ids)):
            record = collection.row(fetched)
            found[record.id] = record
    page.rows = [found[i] for i in ids if i in found]
    return collection.records(page.rows, as_json), page


def ranked_rows(
    ranked: pw.SelectQuery,
    sort: Sort,
    hits: pw.Node,
    record_type: str,
    asked: ListQuery,
    count_limit: int | None,
) -> Page:
    """A page of the `ranked` (id, rank) `hits` of `record_type`, ranked by the database with
    a LIMIT."""
    total_of = None  # page 1's total is exact (a later page's is counted by paginate)
    if not asked.cursor and fulltext.window_counts():  # counted as they are ranked
        ranked = ranked.select_extend(pw.fn.COUNT(pw.SQL("*")).over().alias("matches"))
        total_of = lambda row: row["matches"]  # noqa: E731
    elif not asked.cursor:  # counted from the index alone, once per data version
        matches = fulltext.count_matches([record_type], asked.q)
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


def ranking_page(
    ranking: rankings.Ranking,
    sort: Sort,
    asked: ListQuery,
    count_limit: int | None,
) -> Page:
    """The page of a kept ranking that `ranked_rows` would read: same rows, cursors and
    totals (a later page's total beyond `count_limit` is None, its estimate exact)."""
    direction = key = row_id = None
    record_type = ranking.types[0] if ranking.types else ""
    limit, cursor = asked.limit, asked.cursor
    if cursor:
        key, row_id, direction = asked.cursors.decode(cursor, sort)
    after = None if direction is None else (key, record_type, row_id)
    hits = ranking.window(after, direction or "next", limit + 1)
    rows = [{"id": record_id, "rank": rank} for rank, _type, record_id in hits]
    total, estimate = len(ranking), None
    if cursor and count_limit is not None and total > count_limit:
        total, estimate = None, len(ranking)
    key_of, id_of = (lambda row: row["rank"]), (lambda row: row["id"])
    return page_of(rows, sort, limit, direction, total, estimate, key_of, id_of, asked.cursors)


def get_record(collection: Collection, slug: str, as_json: bool = False) -> dict | WrittenRecord:
    """One record by public id; NotFound when there is none. `as_json`: as its JSON
    (`WrittenRecord`) when the collection keeps it so."""
    if as_json and collection.rendered is not None:
        found = collection.rendered.one(slug)
        if found is None:
            raise NotFound(f"No {collection.name} with id {slug!r}.")
        record = WrittenRecord(found[1])
        record.version = found[0]
        return record
    model = collection.model
    row = collection.query().where(model.slug == slug).first()
    if row is None:
        raise NotFound(f"No {collection.name} with id {slug!r}.")
    return collection.load([collection.row(row)])[0]
