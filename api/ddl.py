"""The schema: tables, extra indexes and the full-text index (FTS5 on SQLite, a generated
tsvector with GIN indexes on PostgreSQL), created if missing."""

from __future__ import annotations

from api.db import database, is_postgres
from api.models import MODELS

SCHEMA_LOCK = 727274  # PostgreSQL advisory lock id: one process creates the schema at a time

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
    """Create every missing table, index and full-text structure, in one transaction."""
    with database.connection_context(), database.atomic():
        if is_postgres():
            database.execute_sql("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
        database.create_tables(MODELS, safe=True)
        if is_postgres():  # location paths are matched by prefix (LIKE 'x%'), in any collation
            database.execute_sql(
                "CREATE INDEX IF NOT EXISTS location_path_prefix "
                "ON location (path text_pattern_ops)"
            )
        for statement in POSTGRES_DDL if is_postgres() else SQLITE_DDL:
            database.execute_sql(statement)


def drop_schema() -> None:
    """Drop every table of the service (tests start from an empty database)."""
    with database.connection_context():
        database.drop_tables(MODELS, safe=True, cascade=is_postgres())
        if not is_postgres():
            database.execute_sql("DROP TABLE IF EXISTS search_fts")
