"""The data version: one row, `(epoch, version)`, that changes with every write, so
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

import json
import logging
import threading
import uuid
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

import peewee as pw
from cachetools import LRUCache

from api.store import shared_answers
from api.store.db import database, is_postgres
from api.store.models import DataVersion

log = logging.getLogger(__name__)
_unreadable_logged = False
T = TypeVar("T")
_MISSING = object()

TABLE = DataVersion._meta.table_name
BUMP = f"UPDATE {TABLE} SET version = version + 1"
READ = f"SELECT epoch, version FROM {TABLE}"

_SQLITE_TRIGGERS = [
    f"CREATE TRIGGER IF NOT EXISTS source_bumps_data_version_{name} AFTER {event} ON source "
    f"BEGIN {BUMP}; END"
    for name, event in (("ai", "INSERT"), ("au", "UPDATE"), ("ad", "DELETE"))
]
_POSTGRES_TRIGGERS = [
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
    for statement in _POSTGRES_TRIGGERS if is_postgres() else _SQLITE_TRIGGERS:
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


class PerVersion:
    """Answers computed at most once per data version and key, for each worker: every write
    changes the version, so an answer is never served for data it was not computed from
    (totals, facets, source counts). The least recently used go first beyond
    `maxsize` (weighed by `getsizeof` when given); safe across a worker's threads. Without a
    data version, or for a key that is None or not hashable, computed each time.

    `shared`: a name under which the answers are also kept for every worker and host
    (api/store/shared_answers.py), written by `dump` as JSON text and read back by `load`."""

    every: list[PerVersion] = []  # for `forget_all`

    def __init__(
        self,
        maxsize: int,
        getsizeof: Callable[[Any], int] | None = None,
        shared: str | None = None,
        dump: Callable[[Any], str] = json.dumps,
        load: Callable[[str], Any] = json.loads,
    ) -> None:
        self._answers: LRUCache = LRUCache(maxsize=maxsize, getsizeof=getsizeof)
        self._lock = threading.Lock()
        self.shared, self.dump, self.load = shared, dump, load
        PerVersion.every.append(self)

    MISSING = _MISSING  # what `lookup` finds for a key remembered at no version

    def get(self, key: Hashable | None, compute: Callable[[], T]) -> T:
        """The answer remembered for `key` at the current data version, else `compute()`."""
        version, found = self.lookup(key)
        if found is _MISSING:
            found = self._shared(version, key, compute)
            self.store(version, key, found)
        return found

    def _shared(self, version: str | None, key: Hashable | None, compute: Callable[[], T]) -> T:
        """The answer another worker kept for `key` at `version`, else `compute()` (kept for
        the others)."""
        stored = (
            None
            if self.shared is None or version is None
            else shared_answers.digest(self.shared, key)
        )
        if stored is None or version is None:
            return compute()
        text = shared_answers.read(version, stored)
        if text is not None:
            return self.load(text)
        found = compute()
        shared_answers.keep(version, stored, self.dump(found))
        return found

    def lookup(self, key: Hashable | None) -> tuple[str | None, Any]:
        """(the current data version, the answer remembered for `key` at it or MISSING): None
        and MISSING without a data version, or for a key that is None or not hashable."""
        version = current_or_none() if key is not None else None
        if version is None:
            return None, _MISSING
        try:
            with self._lock:
                return version, self._answers.get((version, key), _MISSING)
        except TypeError:  # a part of the key is not hashable
            return None, _MISSING

    def store(self, version: str | None, key: Hashable | None, answer: Any) -> None:
        """Remember `answer` for `key` at `version`, read by `lookup` before `answer` was
        computed (nothing when `version` is None)."""
        if version is not None:
            with self._lock:
                self._answers[version, key] = answer

    def clear(self) -> None:
        """Forget every answer (tests: the next request of each computes it again)."""
        with self._lock:
            self._answers.clear()

    @classmethod
    def forget_all(cls) -> None:
        """`clear()` every PerVersion of the process."""
        for remembered in cls.every:
            remembered.clear()
