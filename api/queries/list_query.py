"""`ListQuery`: a list request as the query layer reads it, typed and frozen.

The HTTP layer validates the query string with the argument schemas and builds one ListQuery
(api/http/list_query.py); lists, exports, facets and the timeline read its attributes. The
parameters the engine itself acts on are attributes; the parameters of one collection's
filters (`actor`, `type`, `bbox`, ...) are in `filters`, by name."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from api.queries.paging import CursorSigner
from schemas.arguments import DEFAULT_BUCKETS, DEFAULT_LIMIT, DEFAULT_RADIUS_KM

NO_FILTERS: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True)
class ListQuery:
    """Which records (`filters`, `ids`, `updated_since`, `q`), in which order (`sort`), which
    page (`limit`, `cursor`, signed and read by `cursors`) and in which form (`format`,
    `fields`, `bom`: read by the HTTP layer). Repeated values are tuples."""

    cursors: CursorSigner
    limit: int = DEFAULT_LIMIT  # facets take none
    cursor: str | None = None
    sort: str | None = None
    q: str | None = None
    # the collection's own filters that the request sets, by parameter name (never None)
    filters: Mapping[str, Any] = field(default_factory=lambda: NO_FILTERS)
    ids: tuple[str, ...] = ()
    updated_since: dt.datetime | None = None
    radius_km: float = DEFAULT_RADIUS_KM  # of `near`
    buckets: int = DEFAULT_BUCKETS  # facets: how many buckets
    format: str | None = None
    fields: tuple[str, ...] = ()
    bom: bool = False

    @property
    def near(self) -> tuple[float, float] | None:
        """The point of the `near` filter (latitude, longitude), if set."""
        return self.filters.get("near")

    @property
    def has_filters(self) -> bool:
        """True when anything but the full-text `q` narrows the records."""
        return bool(self.filters or self.ids or self.updated_since is not None)

    def at(self, cursor: str | None, limit: int | None = None) -> ListQuery:
        """The same query at another page (and page size)."""
        return replace(self, cursor=cursor, limit=self.limit if limit is None else limit)

    def selection(self) -> tuple | None:
        """What chooses the rows (filters, ids, updated_since, q), hashable: the key under
        which plans, counts and facets are remembered; None when a value is not hashable."""
        items = tuple((name, type(value), value) for name, value in sorted(self.filters.items()))
        selection = (items, self.ids, self.updated_since, self.q, self.radius_km)
        try:
            hash(selection)
        except TypeError:
            return None
        return selection
