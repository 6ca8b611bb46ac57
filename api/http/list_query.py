"""The one place where a list request's parsed arguments (a dict from the argument schemas)
become the query layer's typed `ListQuery`."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from flask import current_app

from api.queries.list_query import ListQuery
from api.queries.paging import CursorSigner

# argument name -> ListQuery attribute, for the parameters the engine itself acts on; every
# other argument is one of the collection's filters
ATTRIBUTES = {
    "limit": "limit",
    "cursor": "cursor",
    "sort": "sort",
    "q": "q",
    "ids_": "ids",
    "updated_since": "updated_since",
    "radius_km": "radius_km",
    "buckets": "buckets",
    "format": "format",
    "fields_": "fields",
    "bom": "bom",
}


def cursor_signer() -> CursorSigner:
    """The app's cursor signer (built once, with its `SECRET_KEY`, by create_app)."""
    return current_app.extensions["cursors"]


def list_query(args: dict[str, Any]) -> ListQuery:
    """`args` as a ListQuery: the engine's parameters as attributes, the rest as `filters`
    (values given only; repeated values as tuples), cursors signed with the app's key."""
    typed: dict[str, Any] = {}
    filters: dict[str, Any] = {}
    for name, value in args.items():
        if value is None:
            continue
        if isinstance(value, list):
            value = tuple(value)
        if name in ATTRIBUTES:
            typed[ATTRIBUTES[name]] = value
        else:
            filters[name] = value
    return ListQuery(cursors=cursor_signer(), filters=MappingProxyType(filters), **typed)
