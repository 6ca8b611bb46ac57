"""Readiness checks: can the service serve its data? The database answers, the schema is this
release's, every table is readable and the full-text index is in step with its documents.

Failures are logged with their cause; the outcomes returned name none (no host, path or driver
message), since /readyz is public.
"""

from __future__ import annotations

import logging

import peewee as pw

from api.store import ddl, migrations
from api.store.db import database, is_postgres, reopen_files
from api.store.models import TABLES, SearchDocument

log = logging.getLogger(__name__)


def database_answers() -> bool:
    reopen_files()
    try:
        with database.connection_context():
            database.execute_sql("SELECT 1").fetchone()
        return True
    except (pw.DatabaseError, pw.InterfaceError) as error:
        log.error("Health: the database does not answer: %s", error)
        return False


def readiness_checks() -> dict[str, str]:
    """Each check's outcome, in order; a check after a failed connection is not run."""
    checks = {"database": "ok", "schema": "ok", "tables": "ok", "fulltext": "ok"}
    reopen_files()
    try:
        database.connect(reuse_if_open=True)
    except (pw.DatabaseError, pw.InterfaceError) as error:
        log.error("Readiness: cannot connect: %s", error)
        return dict.fromkeys(checks, "not checked") | {"database": "unavailable"}
    try:
        checks["schema"] = schema_in_step()
        unreadable = [model._meta.table_name for model in TABLES if not readable(model)]
        if unreadable:
            checks["tables"] = "unreadable: " + ", ".join(unreadable)
        checks["fulltext"] = fulltext_in_step()
    finally:
        database.close()
    return checks


def readable(model: type[pw.Model]) -> bool:
    """The table answers a count and gives back its first and last rows (its b-tree's root
    and both ends)."""
    key = model._meta.primary_key
    if isinstance(key, pw.CompositeKey):  # ordered column by column (SQLite: no row values)
        columns = [model._meta.fields[name] for name in key.field_names]
    else:
        columns = [key]
    try:
        model.select(pw.fn.COUNT(pw.SQL("*"))).scalar()
        model.select().order_by(*columns).limit(1).tuples().first()
        model.select().order_by(*(c.desc() for c in columns)).limit(1).tuples().first()
        return True
    except (pw.DatabaseError, pw.InterfaceError) as error:
        log.error("Readiness: table %s unreadable: %s", model._meta.table_name, error)
        return False


def fulltext_in_step() -> str:
    """`ok` when the full-text index holds one entry per search document."""
    try:
        documents = SearchDocument.select().count()
        if is_postgres():
            # The GIN index of the schema on the search path, valid (not a failed build).
            sql = (
                "SELECT count(*) FROM pg_index "
                "WHERE indexrelid = to_regclass('search_document_tsv') AND indisvalid"
            )
            if database.execute_sql(sql).fetchone()[0] != 1:
                return "the full-text index is missing or invalid"
            indexed = SearchDocument.select().where(pw.SQL("tsv IS NOT NULL")).count()
        else:
            indexed = fts_row_count()
    except (pw.DatabaseError, pw.InterfaceError) as error:
        log.error("Readiness: full-text index unreadable: %s", error)
        return "unreadable"
    if indexed != documents:
        log.error("Readiness: %s search documents, %s indexed", documents, indexed)
        return f"out of step ({indexed} of {documents} documents indexed)"
    return "ok"


def fts_row_count() -> int:
    """SQLite: how many documents the FTS5 index holds. It keeps no table of them (api/store/ddl.py,
    `columnsize=0`); its averages record (`search_fts_data` row 1) begins with the count, a
    SQLite varint (big-endian groups of 7 bits, the high bit set on all but the last)."""
    row = database.execute_sql("SELECT block FROM search_fts_data WHERE id = 1").fetchone()
    count = 0
    for byte in bytes(row[0]) if row else b"":
        count = (count << 7) | (byte & 0x7F)
        if not byte & 0x80:
            break
    return count


def schema_version() -> int | None:
    """The schema version of the database, or None when it cannot be read."""
    try:
        with database.connection_context():
            return migrations.current_version()
    except (pw.DatabaseError, pw.InterfaceError):
        return None


def schema_in_step() -> str:
    """`ok` when the database is at this release's schema version."""
    version = migrations.current_version()
    if version != ddl.SCHEMA_VERSION:
        log.error(
            "Readiness: schema version %s, this release needs %s", version, ddl.SCHEMA_VERSION
        )
        return f"at version {version}; this release needs {ddl.SCHEMA_VERSION} (run db upgrade)"
    return "ok"
