"""The SQLite file of a release's download: the release's public tables as stored (those of
api/store/models.py, `PUBLIC`, with their own names and columns), each with its primary key and
no other index, copied in SQL rather than record by record:

- from a SQLite snapshot: the file is attached and each table filled by one
  `INSERT ... SELECT`;
- from a PostgreSQL snapshot: each table read through a server-side cursor (the snapshot's
  schema first on the search path) and inserted in batches.

References are declared (`REFERENCES`), so that Datasette links a row to the rows it names.

Rows go in primary-key order, so the same release gives the same bytes on every host of one
backend. What the API does not serve stays out: keys, releases, the journal, subscriptions,
derived tables (rendered records, search documents), a source's text and owner.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import peewee as pw

from api.store.db import is_postgres
from api.store.models import (
    Actor,
    ActorAlias,
    ActorIdentifier,
    ActorSameAs,
    Citation,
    Event,
    EventCasualty,
    EventParticipant,
    Location,
    LocationAlias,
    LocationIdentifier,
    LocationRegion,
    LocationSameAs,
    Relation,
    Source,
    Statement,
    StatementAddressee,
    StatementEvent,
    StatementMention,
    StatementPrincipal,
    StatementSpeaker,
)

PUBLIC: tuple[type[pw.Model], ...] = (
    Source,
    Actor,
    ActorAlias,
    ActorIdentifier,
    ActorSameAs,
    Relation,
    Location,
    LocationAlias,
    LocationIdentifier,
    LocationRegion,
    LocationSameAs,
    Event,
    EventParticipant,
    EventCasualty,
    Statement,
    StatementSpeaker,
    StatementPrincipal,
    StatementAddressee,
    StatementMention,
    StatementEvent,
    Citation,
)
_PRIVATE = {Source: ("text", "owner")}  # kept by the service, never served
_BATCH = 10_000  # rows per fetch and insert (PostgreSQL)
_TYPES = pw.SqliteDatabase(None).get_context_options()["field_types"]


def columns(model: type[pw.Model]) -> list[pw.Field]:
    """The columns of `model` a download holds, in the model's order."""
    hidden = _PRIVATE.get(model, ())
    return [f for f in model._meta.sorted_fields if f.name not in hidden]


def _create(target: sqlite3.Connection, model: type[pw.Model]) -> None:
    defined = [
        f'"{f.column_name}" {_TYPES.get(f.field_type, f.field_type)}'
        + (" PRIMARY KEY" if f.primary_key else "")
        + ("" if f.null or f.primary_key else " NOT NULL")
        + _references(f)
        for f in columns(model)
    ]
    target.execute(f'CREATE TABLE "{model._meta.table_name}" ({", ".join(defined)})')


def _references(field: pw.Field) -> str:
    """A reference declared (Datasette links and labels it; SQLite does not check it)."""
    if not isinstance(field, pw.ForeignKeyField):
        return ""
    return f' REFERENCES "{field.rel_model._meta.table_name}" ("{field.rel_field.column_name}")'


def write(snapshot: pw.Database, path: Path, about: dict[str, Any]) -> None:
    """Write the download file of `snapshot` (a release's database) at `path`, with a `release`
    table of one row (`about`)."""
    path.unlink(missing_ok=True)
    with closing(sqlite3.connect(path, isolation_level=None, uri=True)) as target:
        # a file of our own until renamed: no journal, no sync (a failure writes it again)
        target.execute("PRAGMA journal_mode = OFF")
        target.execute("PRAGMA synchronous = OFF")
        target.execute("BEGIN")
        for model in PUBLIC:
            _create(target, model)
        if is_postgres(snapshot):
            _copy_postgres(snapshot, target)
        else:
            _copy_sqlite(snapshot, target)
        names = ", ".join(f'"{name}"' for name in about)
        marks = ", ".join("?" for _ in about)
        target.execute(f"CREATE TABLE release ({names}, PRIMARY KEY (name))")
        target.execute(f"INSERT INTO release VALUES ({marks})", list(about.values()))
        target.execute("COMMIT")


def _listed(model: type[pw.Model]) -> str:
    return ", ".join(f'"{f.column_name}"' for f in columns(model))


def _copy_sqlite(snapshot: pw.Database, target: sqlite3.Connection) -> None:
    uri = f"file:{Path(snapshot.database.removeprefix('file:').split('?')[0]).as_posix()}"
    target.execute("COMMIT")  # ATTACH is refused inside a transaction
    target.execute("ATTACH DATABASE ? AS release_db", (f"{uri}?mode=ro&immutable=1",))
    target.execute("BEGIN")
    for model in PUBLIC:
        table, listed = model._meta.table_name, _listed(model)
        target.execute(
            f'INSERT INTO main."{table}" ({listed}) '
            f'SELECT {listed} FROM release_db."{table}" ORDER BY "id"'
        )
    target.execute("COMMIT")
    target.execute("DETACH DATABASE release_db")
    target.execute("BEGIN")


def _copy_postgres(snapshot: pw.Database, target: sqlite3.Connection) -> None:
    with snapshot.connection_context():
        for model in PUBLIC:
            fields = columns(model)
            table = model._meta.table_name
            marks = ", ".join("?" for _ in fields)
            insert = f'INSERT INTO "{table}" ({_listed(model)}) VALUES ({marks})'
            selected = ", ".join(_as_sqlite(f) for f in fields)
            # server-side, held: the connection is in autocommit
            named = f"download_{table}"
            with snapshot.connection().cursor(name=named, withhold=True) as cursor:
                cursor.itersize = _BATCH
                cursor.execute(f'SELECT {selected} FROM "{table}" ORDER BY "id"')
                while rows := cursor.fetchmany(_BATCH):
                    target.executemany(insert, rows)


def _as_sqlite(field: pw.Field) -> str:
    """A PostgreSQL column as peewee writes it into SQLite, converted by PostgreSQL (no value
    goes through Python): dates and times as ISO text with a space, booleans as 0 and 1."""
    column = f'"{field.column_name}"'
    if isinstance(field, (pw.DateField, pw.DateTimeField)):
        return f"{column}::text"
    if isinstance(field, pw.BooleanField):
        return f"{column}::int"
    if isinstance(field, pw.DecimalField):
        return f"{column}::float8"
    return column
