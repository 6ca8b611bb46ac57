"""The registry of record types joined to the store: each type of `schemas/registry.py` with
its peewee model, and the public URL of a collection and of a record.

Every module above the store reads record types from here (`RECORD_TYPES`, `WRITABLE`,
`SEARCHABLE`, `named`, `of_collection`); `schemas/` and `api/store` read the model-free half in
`schemas/registry.py`, which is the one list both are derived from.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from api.store.models import Actor, BaseModel, Event, Location, Relation, Source, Statement
from schemas import registry
from schemas.registry import API_PREFIX, RecordType

__all__ = [
    "API_PREFIX",
    "RECORD_TYPES",
    "SEARCHABLE",
    "WRITABLE",
    "StoredType",
    "collection_url",
    "named",
    "of_collection",
    "record_url",
]


@dataclass(frozen=True)
class StoredType(RecordType):
    """A record type with the model that stores its rows."""

    model: type[BaseModel]


_MODELS: dict[str, type[BaseModel]] = {
    model._meta.table_name: model for model in (Source, Actor, Relation, Location, Event, Statement)
}


def _stored(kind: RecordType) -> StoredType:
    known = {f.name: getattr(kind, f.name) for f in fields(kind)}
    return StoredType(**known, model=_MODELS[kind.name])


RECORD_TYPES: tuple[StoredType, ...] = tuple(_stored(t) for t in registry.RECORD_TYPES)
_BY_NAME = {t.name: t for t in RECORD_TYPES}
_BY_COLLECTION = {t.collection: t for t in RECORD_TYPES}
WRITABLE: tuple[StoredType, ...] = tuple(_BY_NAME[t.name] for t in registry.WRITABLE)
SEARCHABLE: tuple[StoredType, ...] = tuple(_BY_NAME[t.name] for t in registry.SEARCHABLE)


def named(name: str) -> StoredType:
    """The record type named `name` (`event`); KeyError for no such type."""
    return _BY_NAME[name]


def of_collection(collection: str) -> StoredType:
    """The record type of collection `collection` (`events`); KeyError for no such one."""
    return _BY_COLLECTION[collection]


def collection_url(record_type: str) -> str:
    """`/v1/events` for `event`."""
    return _BY_NAME[record_type].path


def record_url(record_type: str, slug: str) -> str:
    """`/v1/events/<slug>` for an event."""
    return f"{collection_url(record_type)}/{slug}"
