"""The database connection: one peewee proxy, bound by `DATABASE_URL` to SQLite or PostgreSQL.

The schema itself (tables, indexes, full text) is api/store/ddl.py's.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import peewee as pw
from playhouse.db_url import connect as connect_url
from playhouse.db_url import parse as parse_url
from playhouse.pool import PooledPostgresqlDatabase

# The database this context reads instead of the bound one (a release: api/store/snapshots.py);
# a context var, so each gevent greenlet (each request) has its own.
_rebound: ContextVar[pw.Database | None] = ContextVar("rebound_database", default=None)


class BindableProxy(pw.DatabaseProxy):
    """peewee's proxy, whose target a context may replace for a while (`bound_to`): a request
    for a release reads the release's snapshot with the very same models and queries, while
    every other request, in the same process at the same time, reads the live database."""

    __slots__ = ("_live",)
    _SETTABLE = frozenset({"obj", "_callbacks", "_Model", "_live"})

    def __setattr__(self, attr: str, value: Any) -> None:
        if attr not in self._SETTABLE:
            raise AttributeError("Cannot set attribute on proxy.")
        object.__setattr__(self, attr, value)

    @property
    def obj(self) -> Any:
        rebound = _rebound.get()
        return self._live if rebound is None else rebound

    @obj.setter
    def obj(self, value: Any) -> None:
        self._live = value


database = BindableProxy()


@contextmanager
def bound_to(target: pw.Database | None) -> Iterator[None]:
    """Within the block, this context's reads and writes go to `target` (None: the live
    database, e.g. to check an API key during a release's request)."""
    token = _rebound.set(target)
    try:
        yield
    finally:
        _rebound.reset(token)


def rebind(target: pw.Database | None) -> None:
    """From now until this context ends, read and write `target` (run it in a context of its
    own: `contextvars.copy_context().run(rebind, target)`)."""
    _rebound.set(target)


def live() -> pw.Database:
    """The database bound by `bind` (whatever this context reads)."""
    return database._live


def rebound() -> pw.Database | None:
    """The database this context reads instead of the live one, if any."""
    return _rebound.get()


class HideKeyParameters(logging.Filter):
    """peewee logs every query with its parameters at DEBUG: those of a query on `api_key`
    (secret hashes) are replaced, so that no log line holds one. Runs only when DEBUG is on."""

    def filter(self, record: logging.LogRecord) -> bool:
        query = record.msg
        if isinstance(query, tuple) and len(query) == 2 and '"api_key"' in str(query[0]):
            record.msg = (query[0], "[parameters of a query on api_key not logged]")
        return True


logging.getLogger("peewee").addFilter(HideKeyParameters())

SQLITE_PRAGMAS = {
    "journal_mode": "wal",  # readers never block the writer
    "foreign_keys": 1,
    "busy_timeout": 5000,
    "synchronous": "normal",
    "cache_size": -32_000,  # 32 MB page cache
}


# Each PostgreSQL session: no JIT compilation. The API's queries are short; the few that
# read many rows crossed `jit_above_cost` and compiled for longer than they saved.
POSTGRES_OPTIONS = "-c jit=off"


def is_postgres(db: pw.Database | pw.DatabaseProxy = database) -> bool:
    """True when the (bound) database is PostgreSQL."""
    target = db.obj if isinstance(db, pw.DatabaseProxy) else db
    return isinstance(target, pw.PostgresqlDatabase)


def connect(url: str, pool_size: int = 8) -> pw.Database:
    """A peewee database for `url`: `sqlite:///path` or `postgresql://user@host/db`, each
    with a pool of `pool_size` connections (per process: one per thread that serves)."""
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[1] if ":///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # Pooled: a request takes a connection opened (and its pragmas set) by an earlier one
        # and gives it back, instead of opening and closing the file each time: that was a
        # tenth of a computed page and most of a cached one.
        pooled = "sqlite+pool:" + url.split(":", 1)[1]
        # A pooled connection serves one thread at a time, but not always the same one.
        return connect_url(
            pooled,
            pragmas=SQLITE_PRAGMAS,
            max_connections=pool_size,
            timeout=10,
            check_same_thread=False,
        )
    if url.startswith(("postgresql://", "postgres://")):
        # The URL's own `options` come after POSTGRES_OPTIONS: a setting of theirs wins.
        theirs = parse_qs(urlsplit(url).query).get("options", [])
        settings = parse_url("postgresql://" + url.split("://", 1)[1])
        settings["options"] = " ".join([POSTGRES_OPTIONS, *theirs])
        return PooledPostgres(max_connections=pool_size, stale_timeout=300, timeout=10, **settings)
    raise ValueError(f"Unsupported DATABASE_URL {url!r}: use sqlite:/// or postgresql://")


class PooledPostgres(PooledPostgresqlDatabase):
    """peewee's pool of PostgreSQL connections, which asks the server `SELECT 1` before each
    checkout (a round trip: half of a remembered answer's time under load), asking only of a
    connection idle for `PING_IDLE_S` or more (what a server restart or a firewall may have
    dropped); one just given back is alive, and a query on a dead one fails as any database
    error does, the connection then discarded."""

    PING_IDLE_S = 10.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._returned: dict[int, float] = {}  # connection key -> when it was given back

    def _close(self, conn: Any, close_conn: bool = False) -> None:
        self._returned[self.conn_key(conn)] = time.monotonic()
        super()._close(conn, close_conn)

    def _close_raw(self, conn: Any) -> None:
        self._returned.pop(self.conn_key(conn), None)
        super()._close_raw(conn)

    def _is_closed(self, conn: Any) -> bool:
        if conn.closed:
            return True
        returned = self._returned.get(self.conn_key(conn))
        if returned is not None and time.monotonic() - returned < self.PING_IDLE_S:
            return False
        return super()._is_closed(conn)


def bind(url: str, pool_size: int = 8) -> pw.Database:
    """Point the proxy at `url`, closing any previous binding."""
    previous = database.obj
    if previous is not None:
        previous.close_all() if hasattr(previous, "close_all") else previous.close()
    db = connect(url, pool_size)
    database.initialize(db)
    return db


def reopen_files() -> None:
    """For the probes: close the idle pooled SQLite connections, so that the next connection
    opens the file again (an open connection still reads a file deleted or replaced since)."""
    target = database.obj
    if target is not None and not is_postgres() and hasattr(target, "close_idle"):
        target.close_idle()
