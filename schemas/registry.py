"""The registry of record types: for each type (source, actor, relation, location, event,
statement) its name, collection, path, schemas and search code, in one frozen dataclass.

Every list or dict keyed by record type is derived from `RECORD_TYPES`; there is no second
list. The registry has two halves because of the layers: this one lives in `schemas/` (the
bottom layer, which imports nothing of `api/`), so that the schemas themselves can read it;
`api/records.py` joins each type to its peewee model (`StoredType`), for the layers above the
store. Readers above the store use `api/records.py`, `schemas/` and `api/store` use this module.
"""

from __future__ import annotations

from dataclasses import dataclass

import marshmallow as ma

from schemas.bundle import (
    BundleActorSchema,
    BundleEventSchema,
    BundleLocationSchema,
    BundleRelationSchema,
    BundleSourceSchema,
    BundleStatementSchema,
)
from schemas.records import (
    ActorSchema,
    EventSchema,
    LocationSchema,
    RelationSchema,
    SourceSchema,
    StatementSchema,
)

API_PREFIX = "/v1"


@dataclass(frozen=True)
class RecordType:
    """One record type.

    `name` is its journal code: the `record_type` that changes, citations and search documents
    store (`actor`). `collection` is its path segment and its key in a bundle (`actors`).
    `bundle_schema` validates it in a bundle; `write_schema` validates a record write, which is
    validated exactly like an import (so it is the bundle schema), or is None where the type is
    not written record by record (sources come in with their briefing). `response_schema` dumps
    it. `search_code` keys its documents in SQLite's full-text index (None: not searchable), and
    `meaning` says what it is in the search and timeline vocabularies.
    """

    name: str
    collection: str
    meaning: str
    bundle_schema: type[ma.Schema]
    response_schema: type[ma.Schema]
    write_schema: type[ma.Schema] | None
    search_code: int | None

    @property
    def path(self) -> str:
        """`/v1/events` for events."""
        return f"{API_PREFIX}/{self.collection}"


RECORD_TYPES: tuple[RecordType, ...] = (
    RecordType("source", "sources", "A source document", BundleSourceSchema, SourceSchema, None, 5),
    RecordType("actor", "actors", "An actor", BundleActorSchema, ActorSchema, BundleActorSchema, 1),
    RecordType(
        "relation",
        "relations",
        "A relation",
        BundleRelationSchema,
        RelationSchema,
        BundleRelationSchema,
        None,
    ),
    RecordType(
        "location",
        "locations",
        "A location",
        BundleLocationSchema,
        LocationSchema,
        BundleLocationSchema,
        4,
    ),
    RecordType("event", "events", "An event", BundleEventSchema, EventSchema, BundleEventSchema, 2),
    RecordType(
        "statement",
        "statements",
        "A statement",
        BundleStatementSchema,
        StatementSchema,
        BundleStatementSchema,
        3,
    ),
)
# The types a briefing extracts from its source, a bundle lists and a record write changes.
WRITABLE: tuple[RecordType, ...] = tuple(t for t in RECORD_TYPES if t.write_schema is not None)
# The types full-text search finds, in the order of their search codes.
SEARCHABLE: tuple[RecordType, ...] = tuple(
    sorted((t for t in RECORD_TYPES if t.search_code is not None), key=lambda t: t.search_code or 0)
)
# The searchable types as a vocabulary: {name: meaning}.
SEARCH_TYPES: dict[str, str] = {t.name: f"{t.meaning} (`{t.path}`)." for t in SEARCHABLE}

_BY_NAME = {t.name: t for t in RECORD_TYPES}
_BY_COLLECTION = {t.collection: t for t in RECORD_TYPES}


def named(name: str) -> RecordType:
    """The record type named `name` (`event`); KeyError for no such type."""
    return _BY_NAME[name]


def of_collection(collection: str) -> RecordType:
    """The record type of collection `collection` (`events`); KeyError for no such one."""
    return _BY_COLLECTION[collection]
