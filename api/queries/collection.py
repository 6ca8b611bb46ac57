"""The engine every collection shares: a `Collection` describes how one collection is
filtered, sorted and loaded; `list_page` and `get_record` are the two entry points."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import peewee as pw

from api.queries import fulltext
from api.queries.errors import InvalidParameter, NotFound
from api.queries.filters import Filter
from api.queries.loading import Row, row_factory
from api.queries.paging import Page, Sort, count_rows, paginate

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

    def query(self) -> pw.SelectQuery:
        """The rows `load` expects, unfiltered."""
        query = self.base_query() if self.base_query else self.model.select(self.model)
        return query.dicts() if self.light_rows else query

    _make_row: Callable[[dict], Row] | None = field(default=None, init=False, repr=False)

    def row(self, fetched: Any) -> Any:
        """A fetched row as `load` takes it."""
        if not self.light_rows:
            return fetched
        if self._make_row is None:
            self._make_row = row_factory(self.model)
        return self._make_row(fetched)


def filtered(
    collection: Collection, query: pw.SelectQuery, args: dict, skip: Iterable[str] = ()
) -> pw.SelectQuery:
    """`query` narrowed by every filter in `args` (not paging, sort, format or `q`)."""
    if args.get("ids") and "ids" not in skip:  # many records by public id
        query = query.where(collection.model.slug.in_(args["ids"]))
    if args.get("updated_since") and "updated_since" not in skip:  # changed since (UTC)
        since = args["updated_since"].astimezone(dt.UTC).replace(tzinfo=None)
        query = query.where(collection.model.updated_at >= since)
    for name, value in args.items():
        if name in collection.filters and name not in skip and value is not None:
            query = collection.filters[name](query, value, args)
    return query


def matching(
    collection: Collection, query: pw.SelectQuery, args: dict, skip: Iterable[str] = ()
) -> pw.SelectQuery:
    """`query` narrowed by the filters in `args` and by its full-text `q`, if any."""
    query = filtered(collection, query, args, skip)
    if args.get("q"):
        query = query.where(
            collection.model.id.in_(fulltext.matching_ids(collection.name, args["q"]))
        )
    return query


def list_page(
    collection: Collection, args: dict, count_limit: int | None = None
) -> tuple[list[dict], Page]:
    """One page of a collection, filtered and sorted by `args` (already validated); the total
    is exact up to `count_limit` (all the way when None), see paging.paginate."""
    model = collection.model
    base = collection.query()
    query = filtered(collection, base, args)
    sort_name = args.get("sort") or (RELEVANCE if args.get("q") else collection.default_sort)
    key_of = total_of = None
    if args.get("q") and query is base:  # full text alone: the index pages (issue #14)
        if sort_name == RELEVANCE:
            return ranked_page(collection, args, count_limit)
        query = query.where(fulltext.walk_or_read(model.id, collection.name, args["q"]))
    elif args.get("q") and sort_name != RELEVANCE:  # with filters: the planner chooses
        query = query.where(model.id.in_(fulltext.matching_ids(collection.name, args["q"])))
    elif args.get("q"):
        hits = fulltext.matches(collection.name, args["q"]).alias("hits")
        query = query.select_extend(hits.c.rank.alias("rank")).join(
            hits, on=(hits.c.record_id == model.id)
        )
        if sort_name == RELEVANCE and not args.get("cursor"):
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
    if args.get("near") and collection.distance:
        distance = collection.distance(*args["near"])
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
    page = paginate(
        query,
        sort,
        model.id,
        args["limit"],
        args.get("cursor"),
        key_of,
        row=collection.row,
        count_limit=count_limit,
        total_of=total_of,
        counter=count_rows,  # remembered per data version
    )
    records = collection.load(page.rows)
    if distance is not None:
        for record, row in zip(records, page.rows, strict=True):
            record["distance_km"] = round(row.distance_km, 3)
    return records, page


def ranked_page(
    collection: Collection, args: dict, count_limit: int | None = None
) -> tuple[list[dict], Page]:
    """A page of the records matching `q` (and no filter) by relevance: the full-text matches
    are ranked and paged on their own, (id, rank) with no record read per match, and only the
    page's records are read (issue #14). Same order, cursors and totals as a joined query."""
    model = collection.model
    hits = fulltext.ranked(collection.name, args["q"]).alias("hits")
    ranked = model.select(hits.c.record_id.alias("id"), hits.c.rank.alias("rank")).from_(hits)
    total_of = None  # page 1's total is exact (a later page's is counted by paginate)
    if not args.get("cursor") and fulltext.window_counts():  # counted as they are ranked
        ranked = ranked.select_extend(pw.fn.COUNT(pw.SQL("*")).over().alias("matches"))
        total_of = lambda row: row["matches"]  # noqa: E731
    elif not args.get("cursor"):  # counted from the index alone, once per data version
        matches = fulltext.count_matches([collection.name], args["q"])
        total_of = lambda row: matches  # noqa: E731
    page = paginate(
        ranked.dicts(),
        Sort(RELEVANCE, hits.c.rank),
        hits.c.record_id,
        args["limit"],
        args.get("cursor"),
        key_of=lambda row: row["rank"],
        id_of=lambda row: row["id"],
        count_limit=count_limit,
        total_of=total_of,
        counter=count_rows,
    )
    ids = [row["id"] for row in page.rows]
    found = {}
    if ids:
        for fetched in collection.query().where(model.id.in_(ids)):
            record = collection.row(fetched)
            found[record.id] = record
    page.rows = [found[i] for i in ids if i in found]
    return collection.load(page.rows), page


def get_record(collection: Collection, slug: str) -> dict:
    """One record by public id; NotFound when there is none."""
    model = collection.model
    row = collection.query().where(model.slug == slug).first()
    if row is None:
        raise NotFound(f"No {collection.name} with id {slug!r}.")
    return collection.load([collection.row(row)])[0]
