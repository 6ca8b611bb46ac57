"""What every collection shares: a `Collection` describes how one collection is filtered,
sorted and loaded; `filtered` and `matching` apply a request's filters, `get_record` reads one
record (a list page: api/queries/listing.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, overload

import peewee as pw

from api.queries import fulltext
from api.queries.errors import NotFound
from api.queries.filters import Filter, Filtered
from api.queries.list_query import ListQuery
from api.queries.loading import Row, row_factory
from api.queries.paging import Sort
from api.queries.rendered import Rendered
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
    # rather than model instances (a third of a page's time)
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
    collection: Collection, select: pw.SelectQuery, asked: ListQuery, skip: Iterable[str] = ()
) -> Filtered:
    """`select` with the conditions of every filter `asked` sets (not paging, sort, format or
    `q`), in the order they were given."""
    terms = []
    if asked.ids and "ids" not in skip:  # many records by public id
        terms.append(collection.model.slug.in_(asked.ids))
    if asked.updated_since and "updated_since" not in skip:  # changed since (UTC)
        since = asked.updated_since.astimezone(dt.UTC).replace(tzinfo=None)
        terms.append(collection.model.updated_at >= since)
    for name, value in asked.filters.items():
        if name in collection.filters and name not in skip:
            term = collection.filters[name](value, asked)
            if term is not None:
                terms.append(term)
    return Filtered(select, tuple(terms))


def matching(
    collection: Collection, select: pw.SelectQuery, asked: ListQuery, skip: Iterable[str] = ()
) -> Filtered:
    """`select` with the conditions of the filters `asked` sets and of its full-text `q`."""
    found = filtered(collection, select, asked, skip)
    if asked.q:
        found = found.where(
            collection.model.id.in_(fulltext.matching_ids(collection.name, asked.q))
        )
    return found


@overload
def get_record(collection: Collection, slug: str, as_json: Literal[False] = False) -> dict: ...
@overload
def get_record(collection: Collection, slug: str, as_json: bool) -> dict | WrittenRecord: ...
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
