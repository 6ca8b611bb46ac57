"""Sorting and keyset pagination: the one engine every collection's list uses.

A page is fetched with `WHERE (sort_key, id) > (last_key, last_id) ORDER BY sort_key, id
LIMIT n + 1`, so page 1,000 costs what page 1 costs and stays correct while rows are added.
The cursor is opaque to clients: a small JSON document (sort, key, id, direction), signed
with the service's secret (itsdangerous, url-safe). A cursor that is not one we issued, or
whose content is not exactly what we issue, is an InvalidParameter naming `cursor` (a 422):
the signature stops forged documents, and strict decoding stops anything else.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import peewee as pw
from cachetools import LRUCache
from itsdangerous import BadData, Signer, URLSafeSerializer

from api.queries.errors import InvalidParameter
from api.store import data_version
from api.store.db import database as bound_database
from api.store.db import is_postgres


@dataclass(frozen=True)
class Sort:
    """A named sort order: an expression, ascending or not, with `id` as tie-breaker."""

    name: str
    key: Any  # a peewee column or expression
    descending: bool = False
    key_type: str = ""  # "date", "text" or "number"; by default read off the column

    @property
    def kind(self) -> str:
        if self.key_type:
            return self.key_type
        if isinstance(self.key, pw.DateField):
            return "date"
        return "text" if isinstance(self.key, pw.CharField | pw.TextField) else "number"


@dataclass
class Page:
    rows: list[Any]
    total: int | None  # None: more than the count limit; then `total_estimate`
    next_cursor: str | None
    prev_cursor: str | None
    total_estimate: int | None = None


# Totals per (data version, counting SQL and parameters): the rows only change with the data
# version, so the pages of one filter, and every client asking for it, count it once per
# version instead of scanning up to EXACT_COUNT_LIMIT matches each time.
_counts = data_version.PerVersion(maxsize=4096)
_plans_lock = threading.Lock()


def forget_counts() -> None:
    """Drop every remembered total (and page plan, facet, source count), so that the next
    request of each filter counts again."""
    data_version.PerVersion.forget_all()
    with _plans_lock:
        _plans.clear()


# Page plans per (data version, collection, sort, direction, limit, filters): the compiled SQL
# of a list's page and its total, so that the pages of one filter build and count it once
# per version (building the SQL was a fifth of a 50-event page).
_plans: LRUCache = LRUCache(maxsize=1024)


def remembered_plan(key: tuple | None) -> Any:
    """The plan remembered under `key`, or None."""
    if key is None:
        return None
    with _plans_lock:
        return _plans.get(key)


def remember_plan(key: tuple | None, plan: Any) -> None:
    """Keep `plan` under `key` (nothing when `key` is None)."""
    if key is not None:
        with _plans_lock:
            _plans[key] = plan


def plain_count(query: pw.SelectQuery, limit: int | None = None) -> int:
    """How many rows `query` returns (at most `limit` when given), counted now."""
    return (query.order_by() if limit is None else query.order_by().limit(limit)).count()


def count_rows(query: pw.SelectQuery, limit: int | None = None) -> int:
    """How many rows `query` returns (at most `limit` when given), remembered per data
    version (api/store/data_version.py: every write changes it)."""
    counted = query.order_by() if limit is None else query.order_by().limit(limit)
    sql, params = counted.sql()
    return _counts.get((sql, *params), counted.count)


def estimate_rows(query: pw.SelectQuery, floor: int) -> int:
    """A cheap estimate of how many rows `query` returns, at least `floor`: PostgreSQL's
    planner estimate (`EXPLAIN`, no execution); on SQLite, which has none, the row count of
    the query's table recorded by the last `ANALYZE` (an upper bound for a filtered query;
    `floor` for a query of no one model, such as the timeline's union)."""
    model = getattr(query, "model", None)
    database = model._meta.database if model is not None else bound_database
    found = 0
    try:
        if is_postgres(database):
            sql, params = query.order_by().sql()
            plan = database.execute_sql(f"EXPLAIN (FORMAT JSON) {sql}", params).fetchone()[0]
            plan = json.loads(plan) if isinstance(plan, str) else plan
            found = int(plan[0]["Plan"]["Plan Rows"])
        elif model is not None:
            stat = database.execute_sql(
                "SELECT stat FROM sqlite_stat1 WHERE tbl = ? LIMIT 1",
                (model._meta.table_name,),
            ).fetchone()
            found = int(stat[0].split()[0]) if stat else 0
    except (pw.DatabaseError, ValueError, KeyError, IndexError, TypeError):
        found = 0
    return max(found, floor)


def sorts_for(names: dict[str, Any]) -> dict[str, Sort]:
    """`{"date": Event.date}` -> sorts named `date` and `-date`."""
    result = {}
    for name, key in names.items():
        result[name] = Sort(name, key)
        result[f"-{name}"] = Sort(f"-{name}", key, descending=True)
    return result


CURSOR_SALT = "briefing-api.cursor"
MAX_ID = 2**63 - 1  # SQLite's and PostgreSQL's largest integer
MAX_TEXT_KEY = 1000


class CursorSerializer(URLSafeSerializer):
    """itsdangerous' url-safe serializer, its signer built once rather than on every cursor
    (same signatures)."""

    def make_signer(self, salt: str | bytes | None = None) -> Signer:
        if salt is not None and salt != self.salt:
            return super().make_signer(salt)
        signer = self.__dict__.get("_made_signer")
        if signer is None:
            signer = self._made_signer = super().make_signer(salt)
        return signer


class CursorSigner:
    """Signs the cursors of keyset pages with one secret key and reads them back: built once
    per app (create_app) and handed down with each list request. Every worker and replica
    must use the same key, or a cursor issued by one is refused by another."""

    def __init__(self, secret_key: str) -> None:
        self._serializer = CursorSerializer(secret_key, salt=CURSOR_SALT)

    def encode(self, sort: Sort, key: Any, row_id: int, direction: str) -> str:
        """A signed, url-safe cursor pinning the row `(key, row_id)` of `sort`."""
        if isinstance(key, dt.date):
            key = key.isoformat()
        return self._serializer.dumps({"s": sort.name, "k": key, "i": row_id, "d": direction})

    def decode(self, cursor: str, sort: Sort) -> tuple[Any, int, str]:
        """(key, id, direction) of a cursor issued for `sort`; InvalidParameter if it is not
        one."""
        try:
            return strict_document(self._serializer.loads(cursor), sort)
        except (BadData, ValueError, TypeError, OverflowError, RecursionError):
            raise InvalidParameter(
                "cursor",
                "Invalid cursor: pass back the cursor of a Link header unchanged, with the "
                "same sort.",
                ["Not a cursor issued for this list and sort."],
            ) from None


def coerce_key(sort: Sort, key: Any) -> Any:
    """The cursor's key as the sort column's type; ValueError when it cannot be."""
    if sort.kind == "date":
        if not isinstance(key, str) or len(key) != 10:
            raise ValueError
        return dt.date.fromisoformat(key)
    if sort.kind == "text":
        if not isinstance(key, str) or "\x00" in key or len(key) > MAX_TEXT_KEY:
            raise ValueError
        return key
    if isinstance(key, bool) or not isinstance(key, int | float):
        raise ValueError
    if isinstance(key, int) and abs(key) > MAX_ID:
        raise ValueError
    if not math.isfinite(key):
        raise ValueError
    return float(key)


def strict_document(document: Any, sort: Sort) -> tuple[Any, int, str]:
    """(key, id, direction) of a decoded cursor document; ValueError unless it is exactly what
    CursorSigner.encode writes for `sort`."""
    if not isinstance(document, dict) or set(document) != {"s", "k", "i", "d"}:
        raise ValueError
    row_id, direction = document["i"], document["d"]
    if document["s"] != sort.name or direction not in ("next", "prev"):
        raise ValueError
    if isinstance(row_id, bool) or not isinstance(row_id, int) or not 0 <= row_id <= MAX_ID:
        raise ValueError
    return coerce_key(sort, document["k"]), row_id, direction


def page_total(
    query: pw.SelectQuery,
    count_limit: int | None,
    counter: Callable[[pw.SelectQuery, int | None], int] | None = None,
    estimator: Callable[[pw.SelectQuery, int], int] | None = None,
) -> tuple[int | None, int | None]:
    """(total, estimate) of `query`: the total exact when `count_limit` is None, else exact up
    to `count_limit` and beyond it None, with an estimate instead (see `paginate`)."""
    if count_limit is None:
        return (counter or plain_count)(query, None), None
    total = (counter or plain_count)(query, count_limit + 1)
    if total > count_limit:
        return None, (estimator or estimate_rows)(query, count_limit + 1)
    return total, None


def keyset(
    query: pw.SelectQuery,
    sort: Sort,
    id_column: pw.Field,
    limit: int,
    direction: str = "next",
    key: Any = None,
    row_id: Any = None,
) -> pw.SelectQuery:
    """`query` ordered by `sort` and limited to `limit + 1` rows (one more tells whether there
    is a next page); after (`direction` "next") or before ("prev") the row `(key, row_id)`
    when `row_id` is given."""
    forward_desc = sort.descending
    if row_id is not None:
        # Moving forward in a descending sort means smaller keys, and vice versa.
        greater = (direction == "next") != forward_desc
        boundary = pw.Tuple(sort.key, id_column)
        if isinstance(key, dt.date):
            key = key.isoformat()  # compares as a date on both backends
        marker = pw.Tuple(pw.Value(key), pw.Value(row_id))
        query = query.where(boundary > marker if greater else boundary < marker)
    descending = forward_desc != (direction == "prev")
    order = (sort.key.desc(), id_column.desc()) if descending else (sort.key, id_column)
    return query.order_by(*order).limit(limit + 1)


@dataclass(frozen=True)
class Compiled:
    """The SQL of a `keyset` page, compiled once: the cursor's key and id are bound per call."""

    sql: str
    params: tuple
    places: tuple[int, int] | None  # where the cursor's key and id go; None: a first page

    def bind(self, key: Any = None, row_id: Any = None) -> tuple[str, list]:
        """(sql, parameters) for the page after or before `(key, row_id)`."""
        params = list(self.params)
        if self.places is not None:
            if isinstance(key, dt.date):
                key = key.isoformat()  # as `keyset` binds it
            params[self.places[0]], params[self.places[1]] = key, row_id
        return self.sql, params


class _StandIn:
    """A parameter that `compile_keyset` finds again in the compiled parameters."""

    __slots__ = ()


def compile_keyset(
    query: pw.SelectQuery, sort: Sort, id_column: pw.Field, limit: int, direction: str | None
) -> Compiled:
    """`keyset(...)` compiled with stand-ins for the cursor's key and id (`direction` None:
    the first page, no cursor)."""
    if direction is None:
        sql, params = keyset(query, sort, id_column, limit).sql()
        return Compiled(sql, tuple(params), None)
    key, row_id = _StandIn(), _StandIn()
    sql, params = keyset(query, sort, id_column, limit, direction, key, row_id).sql()
    places = [i for i, p in enumerate(params) for s in (key, row_id) if p is s]
    if len(places) != 2 or params[places[0]] is not key:
        raise ValueError("compile_keyset: the cursor must be bound once")
    return Compiled(sql, tuple(params), (places[0], places[1]))


def page_of(
    rows: list[Any],
    sort: Sort,
    limit: int,
    direction: str | None,
    total: int | None,
    estimate: int | None,
    key_of: Callable[[Any], Any],
    id_of: Callable[[Any], int],
    cursors: CursorSigner,
) -> Page:
    """The Page of the `limit + 1` rows `keyset` fetched (`direction` None: the first page),
    with the cursors either side, signed by `cursors`."""
    reverse = direction == "prev"
    more = len(rows) > limit
    rows = rows[:limit]
    if reverse:
        rows.reverse()
    if not rows:
        return Page(rows, total, None, None, estimate)
    first, last = rows[0], rows[-1]
    has_next = more if not reverse else True
    has_prev = more if reverse else direction is not None
    return Page(
        rows,
        total,
        cursors.encode(sort, key_of(last), id_of(last), "next") if has_next else None,
        cursors.encode(sort, key_of(first), id_of(first), "prev") if has_prev else None,
        estimate,
    )


def paginate(
    query: pw.SelectQuery,
    sort: Sort,
    id_column: pw.Field,
    limit: int,
    cursors: CursorSigner,
    cursor: str | None = None,
    key_of: Callable[[Any], Any] | None = None,
    id_of: Callable[[Any], int] | None = None,
    row: Callable[[Any], Any] | None = None,
    count_limit: int | None = None,
    total_of: Callable[[Any], int] | None = None,
    counter: Callable[[pw.SelectQuery, int | None], int] | None = None,
    estimator: Callable[[pw.SelectQuery, int], int] | None = None,
) -> Page:
    """One page of `query` (a model query, or any bound select) in `sort` order, with cursors
    for the pages either side.

    `key_of(row)` and `id_of(row)` read the sort key and the tie-breaker back from a row
    (default: the attribute named like the sort column, and `id`); `row(fetched)`, when
    given, turns each fetched row into what the caller wants (e.g. a loading.Row).

    The total: exact when `count_limit` is None; else exact up to `count_limit` (a COUNT over
    `LIMIT count_limit + 1`: never a scan of every match) and beyond it None, with
    `total_estimate` instead. `total_of(row)`, when given, reads the total off a row of the
    first page (a `COUNT(*) OVER ()` the page query computed: full text runs its match once).
    `counter(query, limit)` counts (default: now; `count_rows` remembers counts per data
    version); `estimator(query, floor)` estimates beyond `count_limit` (default:
    `estimate_rows`).
    """
    total: int | None = None
    estimate = None
    windowed = total_of is not None and not cursor
    if not windowed:  # else read off the page below
        total, estimate = page_total(query, count_limit, counter, estimator)
    key_of = key_of or (lambda row: getattr(row, sort.key.name))
    id_of = id_of or (lambda row: row.id)
    direction = key = row_id = None
    if cursor:  # an empty cursor means the first page
        key, row_id, direction = cursors.decode(cursor, sort)
    rows = list(keyset(query, sort, id_column, limit, direction or "next", key, row_id))
    if row is not None:
        rows = [row(fetched) for fetched in rows]
    if total_of is not None and windowed:
        total = total_of(rows[0]) if rows else 0
    return page_of(rows, sort, limit, direction, total, estimate, key_of, id_of, cursors)
