"""The data version (issue #14): one row, `(epoch, version)`, that changes with every write, so
that a response computed at one version can be served again until the next write.

Who bumps it, always inside the transaction of the write (a reader that sees the new version
sees the new data too):

- every writer that takes the write lock, `ddl.exclusive()` (imports, dry runs included,
  whose rollback undoes the bump with the rest; record writes; source deletion);
- a migration that changes the schema (`migrations.upgrade`);
- a trigger on `source`, for bulk loaders that write without the lock: the synthetic corpus
  (`briefing seed --synthetic`) inserts and deletes its sources in the transaction of its rows.
  A row trigger, so SQLite can have it too, on a table of a few rows: no cost to bulk loads.

`epoch` is drawn when the row is made: two databases (or one dropped and made again) never
share a version, even at the same count.
"""

from __future__ import annotations

import logging
import uuid

import peewee as pw

from api.db import database, is_postgres
from api.models import DataVersion

log = logging.getLogger(__name__)
_unreadable_logged = False

TABLE = DataVersion._meta.table_name
BUMP = f"UPDATE {TABLE} SET version = version + 1"
READ = f"SELECT epoch, version FROM {TABLE}"

SQLITE_TRIGGERS = [
    f"CREATE TRIGGER IF NOT EXISTS source_bumps_data_version_{name} AFTER {event} ON source "
    f"BEGIN {BUMP}; END"
    for name, event in (("ai", "INSERT"), ("au", "UPDATE"), ("ad", "DELETE"))
]
POSTGRES_TRIGGERS = [
    f"""CREATE OR REPLACE FUNCTION bump_data_version() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN {BUMP}; RETURN NULL; END $$""",
    "DROP TRIGGER IF EXISTS source_bumps_data_version ON source",
    """CREATE TRIGGER source_bumps_data_version
        AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON source
        FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version()""",
]


def create() -> None:
    """The row (when missing) and the trigger on `source`; within the caller's transaction,
    after the table exists."""
    database.execute_sql(
        f"INSERT INTO {TABLE} (epoch, version) SELECT {database.param}, 1 "
        f"WHERE NOT EXISTS (SELECT 1 FROM {TABLE})",
        (uuid.uuid4().hex,),
    )
    for statement in POSTGRES_TRIGGERS if is_postgres() else SQLITE_TRIGGERS:
        database.execute_sql(statement)


def bump() -> None:
    """A new version, in the current transaction (a rollback undoes it)."""
    database.execute_sql(BUMP)


def current() -> str | None:
    """`epoch:version` of the data now (one indexed read); None when there is no row."""
    row = database.execute_sql(READ).fetchone()
    return None if row is None else f"{row[0]}:{row[1]}"


def current_or_none() -> str | None:
    """`current()`, or None (logged once per process) when it cannot be read: a database made
    by an older release and served read-only (`DATABASE_READONLY`) has no version; whatever
    would be keyed on it is then computed each time."""
    global _unreadable_logged
    try:
        return current()
    except (pw.DatabaseError, pw.InterfaceError) as error:
        if not _unreadable_logged:
            _unreadable_logged = True
            log.warning("No data version (%s): responses and totals are computed each time", error)
        return None
