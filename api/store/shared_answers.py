"""Answers shared by every worker of the service, and every host of one database: what a
`data_version.PerVersion` made with a `shared` name computes (facets, aggregates) is kept in
`shared_answer` under the data version it was computed at, so that a worker that has not
computed it yet reads it (one indexed query) instead of computing it again, and so does a
service started again on the same data.

The data version is part of the key: after a write no answer of an older version is ever read
again (they are deleted when the next answer is kept). A key is kept only when its text names
no object by address, so that two processes never read one key for two questions. A read that
fails (a database made before the table) is a miss; a keep that fails (a database served
read-only) is skipped, logged once: the answer is then the worker's own, as without this.
Off under tests but in their own (`SHARED_ANSWERS`).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Hashable, Iterator
from contextlib import contextmanager

import peewee as pw

from api.store.db import database, is_postgres, rebound
from api.store.models import SharedAnswer

log = logging.getLogger(__name__)
_state = {"enabled": False, "failure_logged": False}


def enable(on: bool) -> None:
    """Share answers (True) or keep them per worker only (False)."""
    _state["enabled"] = on


def digest(name: str, key: Hashable) -> str | None:
    """The stored key of `key` asked of `name`; None when it must not be shared (sharing off,
    a release's snapshot bound, or a part of the key that prints as an address)."""
    if not _state["enabled"] or rebound() is not None:
        return None
    text = f"{name}\0{key!r}"
    if " at 0x" in text:
        return None
    return hashlib.sha256(text.encode()).hexdigest()


def read(version: str, key: str) -> str | None:
    """The answer kept for `key` at `version`, or None."""
    try:
        with database.atomic():
            query = SharedAnswer.select(SharedAnswer.answer).where(
                (SharedAnswer.version == version) & (SharedAnswer.key == key)
            )
            row = query.tuples().first()
    except pw.DatabaseError as error:
        _failed("read", error)
        return None
    return None if row is None else row[0]


def keep(version: str, key: str, answer: str) -> None:
    """Keep `answer` for `key` at `version` (the first one kept wins), and drop the answers
    of other versions. On SQLite, never waits for the write lock: while another writer holds
    it (an import), the answer is not kept (a later ask keeps it)."""
    try:
        with _without_waiting(), database.atomic():
            SharedAnswer.delete().where(SharedAnswer.version != version).execute()
            SharedAnswer.insert(
                version=version, key=key, answer=answer
            ).on_conflict_ignore().execute()
    except pw.OperationalError as error:
        if "locked" not in str(error):  # SQLite's write lock is taken: not kept this time
            _failed("keep", error)
    except pw.DatabaseError as error:
        _failed("keep", error)


@contextmanager
def _without_waiting() -> Iterator[None]:
    """SQLite: the connection's busy timeout 0 meanwhile (a GET must not wait, in the loop
    that serves its worker's requests, for an import to commit). PostgreSQL: as it is."""
    if is_postgres():
        yield
        return
    (waits,) = database.execute_sql("PRAGMA busy_timeout").fetchone()
    database.execute_sql("PRAGMA busy_timeout = 0")
    try:
        yield
    finally:
        database.execute_sql(f"PRAGMA busy_timeout = {int(waits)}")


def _failed(what: str, error: Exception) -> None:
    if not _state["failure_logged"]:
        _state["failure_logged"] = True
        log.warning("Shared answers: cannot %s (%s); each worker keeps its own", what, error)
