"""Snapshots of the whole database, one per release, that a request is bound to
(`db.bound_to`) so that the one query engine answers from it.

- SQLite: a copy of the file made with SQLite's online backup API (one step: a consistent read
  of the database while writers go on, WAL), in a folder beside the database
  (`instance/briefing.releases/<storage>.db`); served `immutable` and `query_only`.
- PostgreSQL: a schema per release (`<storage>`), every table of the live schema copied in one
  REPEATABLE READ transaction (the state of one moment while writers go on), its indexes built
  again, then vacuumed and analysed; served with the release's schema first on the search path
  (the text-search configuration and extensions are found after it, in the live schema) and
  read-only sessions.

A snapshot has its own data-version epoch (api/store/data_version.py), so that nothing kept per
data version (totals, facets, rankings, cached responses) is ever shared with the live data, and
holds neither API keys nor the release list (authentication always reads the live database).
"""

from __future__ import annotations

import fcntl
import re
import shutil
import sqlite3
import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import peewee as pw
from playhouse.pool import PooledPostgresqlDatabase, PooledSqliteDatabase

from api.store import db
from api.store.db import is_postgres
from api.store.models import ApiKey, DataVersion, Delivery, Release, SharedAnswer, Subscription

# Tables a snapshot leaves empty (SQLite) or does not copy (PostgreSQL).
_NOT_COPIED = (ApiKey._meta.table_name, Release._meta.table_name)
# Tables a snapshot holds empty on both backends: webhooks' subscriptions (their secrets, which
# the live database rotates and deletes) and their outbox are not data a release cites, and a
# release never reads the live database's shared answers (api/store/shared_answers.py).
_COPIED_EMPTY = tuple(m._meta.table_name for m in (Subscription, Delivery, SharedAnswer))
_OPEN_AT_MOST = 8  # release databases a worker keeps open (least recently used closed first)
_POOL_SIZE = 4
_MAKING_LOCK = 727275  # PostgreSQL advisory lock id: one snapshot made (or collected) at a time
_STORAGE = re.compile(r"^release_[0-9a-f]{16}$")  # every name `new_storage` gives
_open: OrderedDict[str, pw.Database] = OrderedDict()
_open_lock = threading.Lock()
files_root: Path | None = None  # RELEASES_DIR (api/config.py), set when the app is made


def new_storage() -> str:
    """A fresh name for a snapshot's file or schema."""
    return f"release_{uuid.uuid4().hex[:16]}"


@contextmanager
def making() -> Iterator[None]:
    """Held while a snapshot is made or orphans are collected, so that a snapshot being made
    is never taken for an orphan. PostgreSQL: a session advisory lock on a connection of its
    own (every host agrees; it goes with the session if the process is killed). SQLite: a
    lock on a file beside the snapshots (it goes with the process)."""
    live = db.live()
    if is_postgres(live):
        session = pw.PostgresqlDatabase(live.database, **live.connect_params)
        session.connect()
        try:
            session.execute_sql("SELECT pg_advisory_lock(%s)", (_MAKING_LOCK,))
            yield
        finally:
            session.close()
        return
    folder().mkdir(parents=True, exist_ok=True)
    with (folder() / "making.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def stored() -> set[str]:
    """The storage names of every snapshot of the live database and of every download folder
    of it on this host, whether a release names them or not."""
    live = db.live()
    names: list[str] = []
    places = [_downloads()]
    if is_postgres(live):
        with live.connection_context():
            names += [name for (name,) in live.execute_sql("SELECT nspname FROM pg_namespace")]
    else:
        places.append(folder())
    for place in places:
        if place.is_dir():
            names += [entry.name.split(".")[0] for entry in place.iterdir()]
    return {name for name in names if _STORAGE.match(name)}


def _live_sqlite_path() -> Path:
    return Path(db.live().database)


def folder() -> Path:
    """SQLite: where the release files of the live database live."""
    path = _live_sqlite_path()
    return path.with_name(f"{path.stem}.releases")


def sqlite_file(storage: str) -> Path:
    return folder() / f"{storage}.db"


def files(storage: str) -> Path:
    """The folder of a release's downloads: under `RELEASES_DIR` when set, else beside its
    SQLite snapshot, or, on PostgreSQL, `instance/releases/<database>/` (each host writes its
    own)."""
    return _downloads() / storage


def _downloads() -> Path:
    live = db.live()
    if files_root is not None:
        return (files_root / Path(live.database).name).resolve()
    if is_postgres(live):
        return Path("instance", "releases", live.database).resolve()
    return folder()


def take(storage: str) -> int:
    """Copy the live database into a new snapshot named `storage`; its size in bytes. Nothing
    is left behind when it fails."""
    return _take_postgres(storage) if is_postgres(db.live()) else _take_sqlite(storage)


def _take_sqlite(storage: str) -> int:
    target = sqlite_file(storage)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    try:
        with (
            closing(sqlite3.connect(_live_sqlite_path())) as live,
            closing(sqlite3.connect(partial, isolation_level=None)) as copy,
        ):
            live.backup(copy)  # all pages in one step: one consistent read
            copy.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
            copy.execute("PRAGMA secure_delete = ON")
            copy.execute("BEGIN")
            for table in _NOT_COPIED + _COPIED_EMPTY:
                copy.execute(f'DELETE FROM "{table}"')
            copy.execute(
                f"UPDATE {DataVersion._meta.table_name} SET epoch = ?", (uuid.uuid4().hex,)
            )
            copy.execute("COMMIT")
        partial.replace(target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return target.stat().st_size


def _take_postgres(storage: str) -> int:
    live = db.live()
    with live.connection_context():
        connection = live.connection()
        previous = connection.isolation_level
        connection.set_session(isolation_level="REPEATABLE READ")
        try:
            with live.atomic():
                schema = live.execute_sql("SELECT current_schema()").fetchone()[0]
                live.execute_sql(f'CREATE SCHEMA "{storage}"')
                for table in sorted(set(live.get_tables(schema=schema)) - set(_NOT_COPIED)):
                    _copy_table(live, schema, storage, table, rows=table not in _COPIED_EMPTY)
                live.execute_sql(
                    f'UPDATE "{storage}".{DataVersion._meta.table_name} SET epoch = %s',
                    (uuid.uuid4().hex,),
                )
        finally:
            connection.set_session(isolation_level=previous)
        settle(storage)  # outside the copy's transaction
        return int(  # the sum is a numeric: a Decimal
            live.execute_sql(
                "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = %s AND c.relkind = 'r'",
                (storage,),
            ).fetchone()[0]
        )


def _copy_table(
    live: pw.Database, schema: str, storage: str, table: str, rows: bool = True
) -> None:
    """The rows of `schema.table` (`rows=False`: none) into `storage.table`, then its indexes
    (faster than maintaining them row by row)."""
    data = "" if rows else " WITH NO DATA"
    live.execute_sql(f'CREATE TABLE "{storage}"."{table}" AS TABLE "{schema}"."{table}"{data}')
    indexes = live.execute_sql(
        "SELECT indexdef FROM pg_indexes WHERE schemaname = %s AND tablename = %s",
        (schema, table),
    ).fetchall()
    on_live = re.compile(rf'\bON (ONLY )?(?:"?{re.escape(schema)}"?\.)?"?{re.escape(table)}"? ')
    for (definition,) in indexes:
        live.execute_sql(on_live.sub(f'ON "{storage}"."{table}" ', definition, count=1))


def settle(storage: str) -> None:
    """PostgreSQL: vacuum and analyse a snapshot's tables once written (statistics for the
    planner, and the visibility map that index-only scans need: ANALYZE alone leaves them
    reading every row's page). SQLite: nothing to do."""
    live = db.live()
    if is_postgres(live):
        with live.connection_context():
            for table in live.get_tables(schema=storage):
                live.execute_sql(f'VACUUM (ANALYZE) "{storage}"."{table}"')


@contextmanager
def writable(storage: str) -> Iterator[pw.Database]:
    """The database of a snapshot opened for writing (its migration, api/store/migrations.py),
    closed after; this worker's read-only connections to it are closed first."""
    close(storage)
    live = db.live()
    if not _exists(storage):  # never a new, empty one in its place
        raise FileNotFoundError(f"The snapshot {storage} is missing.")
    if is_postgres(live):
        params = dict(live.connect_params)
        params["options"] = f"{params.get('options', '')} -c search_path={storage},{_path(live)}"
        target: pw.Database = pw.PostgresqlDatabase(live.database, **params)
    else:
        pragmas = {"journal_mode": "delete", "foreign_keys": 1, "busy_timeout": 60_000}
        target = pw.SqliteDatabase(sqlite_file(storage), pragmas=pragmas)
    try:
        yield target
    finally:
        target.close()


def _exists(storage: str) -> bool:
    live = db.live()
    if not is_postgres(live):
        return sqlite_file(storage).is_file()
    with live.connection_context():
        found = "SELECT 1 FROM pg_namespace WHERE nspname = %s"
        return live.execute_sql(found, (storage,)).fetchone() is not None


def _path(live: pw.Database) -> str:
    """The live database's search path (a snapshot's schema goes before it)."""
    with live.connection_context():
        return live.execute_sql("SHOW search_path").fetchone()[0].replace(" ", "")


def drop(storage: str) -> None:
    """Delete a snapshot (its file, or its schema); nothing when it is gone already."""
    close(storage)
    shutil.rmtree(files(storage), ignore_errors=True)
    files(storage).with_suffix(".lock").unlink(missing_ok=True)
    if is_postgres(db.live()):
        with db.live().connection_context():
            db.live().execute_sql(f'DROP SCHEMA IF EXISTS "{storage}" CASCADE')
        return
    sqlite_file(storage).unlink(missing_ok=True)
    sqlite_file(storage).with_suffix(".partial").unlink(missing_ok=True)


def opened(storage: str) -> pw.Database:
    """The database of a snapshot, read-only and pooled, opened once per worker."""
    with _open_lock:
        found = _open.get(storage)
        if found is not None:
            _open.move_to_end(storage)
            return found
        found = _open[storage] = _connect(storage)
        while len(_open) > _OPEN_AT_MOST:
            _, evicted = _open.popitem(last=False)
            evicted.close_all()
        return found


def close(storage: str) -> None:
    """Close this worker's connections to a snapshot (before it is deleted)."""
    with _open_lock:
        found = _open.pop(storage, None)
    if found is not None:
        found.close_all()


def close_all() -> None:
    """Close every snapshot this worker holds open (a new database is bound)."""
    with _open_lock:
        held = list(_open.values())
        _open.clear()
    for found in held:
        found.close_all()


def _connect(storage: str) -> pw.Database:
    live = db.live()
    if not is_postgres(live):
        path = sqlite_file(storage)
        if not path.is_file():
            raise FileNotFoundError(f"The release file {path} is missing.")
        return PooledSqliteDatabase(
            f"file:{path.resolve().as_posix()}?immutable=1",
            uri=True,
            pragmas={"query_only": 1, "foreign_keys": 1, "cache_size": -32_000},
            max_connections=_POOL_SIZE,
            timeout=10,
            check_same_thread=False,
        )
    params = dict(live.connect_params)
    # after the live database's own options: these win
    params["options"] = (
        f"{params.get('options', '')} -c search_path={storage},{_path(live)}"
        " -c default_transaction_read_only=on"
    )
    return PooledPostgresqlDatabase(
        live.database, max_connections=_POOL_SIZE, stale_timeout=300, timeout=10, **params
    )


# A database bound anew (tests, the CLI): the snapshots opened for the previous one are closed.
db.database.attach_callback(lambda _bound: close_all())
