"""The schema: tables, extra indexes and the full-text index (FTS5 on SQLite, a generated
tsvector with GIN indexes on PostgreSQL), created if missing; and `exclusive()`, the one lock
that serialises schema changes and imports across processes and hosts."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import peewee as pw

from api.db import database, is_postgres
from api.models import MODELS, SchemaVersion

# The version create_schema() builds; api/migrations.py brings older databases up to it.
SCHEMA_VERSION = 3
SCHEMA_LOCK = 727274  # PostgreSQL advisory lock id: one writer of schema or data at a time


class SchemaOutdated(Exception):
    """The database was made by an older release: run `briefing db upgrade`."""


@contextmanager
def exclusive() -> Iterator[pw._transaction]:
    """A transaction that holds the database's one write lock until it ends.

    PostgreSQL: a transaction-scoped advisory lock (every host agrees on it). SQLite:
    `BEGIN IMMEDIATE` (the write lock is taken at BEGIN, so two writers queue on busy_timeout
    instead of failing with "database is locked" when a read transaction tries to write).
    Inside another transaction this is a savepoint of it (the lock is already held).
    """
    if is_postgres():
        with database.atomic() as transaction:
            database.execute_sql("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
            yield transaction
    else:
        with database.atomic("IMMEDIATE") as transaction:
            yield transaction


def table_names() -> set[str]:
    """The tables of the current schema (on PostgreSQL, the first of the search path, which
    need not be `public`)."""
    if is_postgres():
        schema = database.execute_sql("SELECT current_schema()").fetchone()[0]
        return set(database.get_tables(schema=schema))
    return set(database.get_tables())


def is_legacy(tables: set[str]) -> bool:
    """True for a database of release 1 (tables, but no schema_version table)."""
    return "source" in tables and "schema_version" not in tables


SQLITE_DDL = [
    """CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5(
        title, body, content='search_document', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2')""",
    """CREATE TRIGGER IF NOT EXISTS search_document_ai AFTER INSERT ON search_document BEGIN
        INSERT INTO search_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END""",
    """CREATE TRIGGER IF NOT EXISTS search_document_ad AFTER DELETE ON search_document BEGIN
        INSERT INTO search_fts(search_fts, rowid, title, body)
        VALUES ('delete', old.id, old.title, old.body); END""",
    """CREATE TRIGGER IF NOT EXISTS search_document_au AFTER UPDATE ON search_document BEGIN
        INSERT INTO search_fts(search_fts, rowid, title, body)
        VALUES ('delete', old.id, old.title, old.body);
        INSERT INTO search_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END""",
]

POSTGRES_DDL = [
    """ALTER TABLE search_document ADD COLUMN IF NOT EXISTS tsv tsvector
        GENERATED ALWAYS AS (
            setweight(to_tsvector('simple', coalesce(title, '')), 'A') ||
            setweight(to_tsvector('simple', coalesce(body, '')), 'B')) STORED""",
    "CREATE INDEX IF NOT EXISTS search_document_tsv ON search_document USING GIN (tsv)",
] + [
    # One partial index per record type: a search of events never reads statements' entries.
    f"CREATE INDEX IF NOT EXISTS search_document_tsv_{kind} ON search_document "
    f"USING GIN (tsv) WHERE record_type = '{kind}'"
    for kind in ("actor", "event", "statement", "location", "source")
]


def create_schema() -> None:
    """Create every missing table, index and full-text structure of the current version, in
    one locked transaction; SchemaOutdated on a database of an older release."""
    with database.connection_context(), exclusive():
        if is_legacy(table_names()):
            raise SchemaOutdated("The database predates schema versions: run briefing db upgrade.")
        create_objects()
        if not SchemaVersion.select().exists():
            SchemaVersion.create(version=SCHEMA_VERSION)


def create_objects() -> None:
    """Every missing table, index and full-text structure (within the caller's transaction)."""
    database.create_tables(MODELS, safe=True)
    if is_postgres():  # location paths are matched by prefix (LIKE 'x%'), in any collation
        database.execute_sql(
            "CREATE INDEX IF NOT EXISTS location_path_prefix ON location (path text_pattern_ops)"
        )
    for statement in POSTGRES_DDL if is_postgres() else SQLITE_DDL:
        database.execute_sql(statement)


def drop_schema() -> None:
    """Drop every table of the service (tests start from an empty database)."""
    with database.connection_context():
        database.drop_tables(MODELS, safe=True, cascade=is_postgres())
        if not is_postgres():
            database.execute_sql("DROP TABLE IF EXISTS search_fts")
