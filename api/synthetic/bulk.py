"""Bulk loading for the synthetic corpus: raw batched inserts, indexes built after the load.

Building SQL with peewee costs far more than the database's own work at this scale, so a chunk
goes to the driver as it is: `executemany` of one prepared INSERT on SQLite, `COPY ... FROM
STDIN` on PostgreSQL. Values are converted here the way peewee would store them (dates as ISO
text and booleans as 0/1 on SQLite). Secondary indexes of the loaded tables (and PostgreSQL's
GIN indexes of full text) are dropped before the load and built once after it, which sorts
instead of updating a B-tree per row; SQLite's FTS5 index is filled by one statement after the
load instead of a trigger per row. Everything happens inside the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import peewee as pw

from api.store import ddl, places
from api.store.db import SQLITE_PRAGMAS, database, is_postgres

log = logging.getLogger(__name__)

Row = Sequence[Any]
Convert = Callable[[Any], Any]

# SQLite: the FTS5 trigger on insert into search_document (the first trigger of ddl.SQLITE_DDL)
FTS_INSERT_TRIGGER = "search_document_ai"
# PostgreSQL: the GIN indexes of full text (ddl.POSTGRES_DDL, rebuilt by ddl.create_objects)
GIN_INDEXES = ["search_document_tsv"] + [
    f"search_document_tsv_{kind}" for kind in ("actor", "event", "statement", "location", "source")
]


def _same(value: Any) -> Any:
    return value


def _iso(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def _datetime(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat(" ")


def _flag(value: bool | None) -> int | None:
    return None if value is None else int(value)


def sqlite_converter(field: pw.Field) -> Convert:
    """How SQLite stores a value of `field` as peewee writes it."""
    if isinstance(field, pw.DateTimeField):
        return _datetime
    if isinstance(field, pw.DateField):
        return _iso
    if isinstance(field, pw.BooleanField):
        return _flag
    return _same


def copy_text(value: Any) -> str:
    """One value in PostgreSQL's COPY text format."""
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, dt.datetime):
        return value.isoformat(" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        if "\\" in value:
            value = value.replace("\\", "\\\\")
        if "\t" in value or "\n" in value or "\r" in value:
            value = value.replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
        return value
    return str(value)


class Sink:
    """Inserts chunks of rows into one table through the driver."""

    def __init__(self, model: type[pw.Model], columns: Sequence[str]) -> None:
        self.model = model
        self.columns = list(columns)
        self.table = model._meta.table_name
        self.postgres = is_postgres()
        fields = model._meta.fields
        quoted = ", ".join(f'"{fields[name].column_name}"' for name in self.columns)
        if self.postgres:
            self.sql = f'COPY "{self.table}" ({quoted}) FROM STDIN'
        else:
            marks = ", ".join("?" for _ in self.columns)
            self.sql = f'INSERT INTO "{self.table}" ({quoted}) VALUES ({marks})'
            self.converters = [sqlite_converter(fields[name]) for name in columns]
            # the columns whose values SQLite cannot take as they are
            self.converted = [
                (index, convert)
                for index, convert in enumerate(self.converters)
                if convert is not _same
            ]

    def insert(self, rows: Sequence[Row]) -> None:
        """Insert `rows` (tuples in the order of `columns`)."""
        if not rows:
            return
        cursor = database.cursor()
        if self.postgres:
            buffer = io.StringIO()
            buffer.writelines("\t".join([copy_text(value) for value in row]) + "\n" for row in rows)
            buffer.seek(0)
            cursor.copy_expert(self.sql, buffer)
            return
        if self.converted:
            rows = [self._convert(row) for row in rows]
        cursor.executemany(self.sql, rows)

    def _convert(self, row: Row) -> Row:
        values = list(row)
        for index, convert in self.converted:
            values[index] = convert(values[index])
        return values


def max_id(model: type[pw.Model]) -> int:
    """The largest id of the table (0 when empty): explicit ids continue from it."""
    table = model._meta.table_name
    return database.execute_sql(f'SELECT COALESCE(MAX(id), 0) FROM "{table}"').fetchone()[0]


def reset_sequence(model: type[pw.Model]) -> None:
    """PostgreSQL: the id sequence continues after the explicit ids of the load."""
    if is_postgres():
        table = model._meta.table_name
        database.execute_sql(
            f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
            f'(SELECT COALESCE(MAX(id), 0) + 1 FROM "{table}"), false)'
        )


@contextmanager
def deferred_indexes(models: Sequence[type[pw.Model]]) -> Iterator[None]:
    """Drop the secondary indexes of `models` (and the full-text upkeep) for the body, then
    build them again; within the caller's transaction, so a failure leaves them as they were."""
    for model in models:
        model._schema.drop_indexes(safe=True)
    for name in ddl.AGGREGATE_INDEXES:
        database.execute_sql(f"DROP INDEX IF EXISTS {name}")
    ddl.drop_stale_event_triggers()  # the caller renders the events it wrote, once
    ddl.drop_stale_stix_triggers()  # and their STIX objects
    places.drop_event_place_triggers()  # and copies their places, once
    if is_postgres():
        for name in GIN_INDEXES:
            database.execute_sql(f'DROP INDEX IF EXISTS "{name}"')
    else:
        database.execute_sql(f"DROP TRIGGER IF EXISTS {FTS_INSERT_TRIGGER}")
        first = database.execute_sql("SELECT COALESCE(MAX(id), 0) FROM search_document")
        after = first.fetchone()[0]
    yield
    if not is_postgres():  # the rows the trigger would have indexed, in one statement
        database.execute_sql(
            f"INSERT INTO search_fts(rowid, title, body) "
            f"SELECT {ddl.fts_rowid()}, title, body FROM search_document WHERE id > ?",
            (after,),
        )
    for model in models:
        model._schema.create_indexes(safe=True)
    ddl.create_objects()  # the trigger, the GIN indexes: whatever is missing


@contextmanager
def fast_sqlite() -> Iterator[None]:
    """SQLite, outside any transaction: no WAL and no fsync while the body loads (the load is
    one transaction that can be redone), then WAL and the usual durability again."""
    if is_postgres():
        yield
        return
    if hasattr(database.obj, "close_idle"):
        database.obj.close_idle()  # leaving WAL needs the only connection: no pooled idle one
    database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    database.execute_sql("PRAGMA busy_timeout = 0")
    try:
        database.execute_sql("PRAGMA journal_mode = DELETE")
    except pw.OperationalError:
        log.info("another connection has the file open (a server?): loading in WAL mode")
    finally:
        database.execute_sql(f"PRAGMA busy_timeout = {SQLITE_PRAGMAS['busy_timeout']}")
    database.execute_sql("PRAGMA synchronous = OFF")
    database.execute_sql("PRAGMA cache_size = -262144")  # 256 MB while indexes are built
    database.execute_sql("PRAGMA temp_store = FILE")
    try:
        yield
    finally:
        for name in ("cache_size", "synchronous", "journal_mode"):
            database.execute_sql(f"PRAGMA {name} = {SQLITE_PRAGMAS[name]}")
