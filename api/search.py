"""Full-text search: FTS5 on SQLite, tsvector + GIN on PostgreSQL, over `search_document`.

Any user text is a valid query: it is split into word tokens, each matched as a prefix, all
required (AND). Text with no word characters matches nothing.
"""

from __future__ import annotations

import re

import peewee as pw

from api.db import database, is_postgres
from api.models import SearchDocument

TOKEN = re.compile(r"\w+", re.UNICODE)

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


def install() -> None:
    """Create the full-text index structures if missing (called inside a transaction)."""
    for statement in POSTGRES_DDL if is_postgres() else SQLITE_DDL:
        database.execute_sql(statement)


def tokens(text: str) -> list[str]:
    """The word tokens of a user query, lower-cased."""
    return [token.lower() for token in TOKEN.findall(text)]


def matches(record_type: str, text: str) -> pw.SelectQuery:
    """A query of (record_id, rank) for records of `record_type` matching `text`.

    Lower rank is better on both backends.
    """
    words = tokens(text)
    doc = SearchDocument
    if not words:
        return doc.select(doc.record_id, pw.Value(0.0).alias("rank")).where(pw.SQL("1 = 0"))
    if is_postgres():
        tsquery = " & ".join(f"{word}:*" for word in words)
        query = pw.fn.to_tsquery("simple", tsquery)
        rank = pw.fn.ts_rank_cd(pw.SQL("tsv"), query) * -1  # lower is better, as bm25
        return doc.select(doc.record_id, rank.alias("rank")).where(
            (doc.record_type == record_type) & pw.SQL("tsv @@ to_tsquery('simple', %s)", [tsquery])
        )
    fts = pw.Table("search_fts").alias("search_fts")
    fts_query = " ".join(f'"{word}"*' for word in words)  # \w+ tokens hold no quote
    return (
        doc.select(doc.record_id, pw.SQL("bm25(search_fts, 10.0, 1.0)").alias("rank"))
        .join(fts, on=(fts.c.rowid == doc.id))
        .where((doc.record_type == record_type) & pw.SQL("search_fts MATCH ?", [fts_query]))
    )
