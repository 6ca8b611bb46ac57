"""Public URL paths of the API: the version prefix and each record type's collection."""

from __future__ import annotations

API_PREFIX = "/v1"

# record_type (as stored in citations and search documents) -> its collection's path segment
COLLECTION_PATHS: dict[str, str] = {
    "actor": "actors",
    "relation": "relations",
    "location": "locations",
    "event": "events",
    "statement": "statements",
    "source": "sources",
}


def collection_url(record_type: str) -> str:
    """`/v1/events` for `event`."""
    return f"{API_PREFIX}/{COLLECTION_PATHS[record_type]}"


def record_url(record_type: str, slug: str) -> str:
    """`/v1/events/<slug>` for an event."""
    return f"{collection_url(record_type)}/{slug}"
