"""The connection (api/store/db.py), over HTTP on both backends: a query over its time budget is
a 503, an unreachable database a 503 naming no internals, a prebuilt SQLite file is served
read-only, and PostgreSQL sessions run without JIT."""

from __future__ import annotations

import sqlite3
from contextlib import closing

import peewee as pw
import pytest

from tests.helpers import assert_problem

SLOW_SQL = {
    "sqlite": "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
    "WHERE i < 50000000) SELECT count(*) FROM n",
    "postgresql": "SELECT pg_sleep(5)",
}


def test_a_query_over_its_budget_is_a_503_not_a_dead_worker(make_app, database_url):
    from api.store.db import database

    app = make_app(QUERY_TIMEOUT_MS=200, RETRY_AFTER_SECONDS=7)
    backend = "postgresql" if database_url.startswith("postgres") else "sqlite"

    @app.get("/v1/slow")
    def slow():
        return {"n": database.execute_sql(SLOW_SQL[backend]).fetchone()[0]}

    client = app.test_client()
    response = client.get("/v1/slow")
    body = assert_problem(response, 503)
    assert response.headers["Retry-After"] == "7"
    assert "budget" in body["detail"]
    assert client.get("/v1/events?limit=1").status_code == 200  # the same worker serves on


def unreachable(database_url: str, tmp_path):
    """Point the bound database somewhere that does not answer; returns an undo function."""
    from api.store.db import database

    target = database.obj
    if database_url.startswith("postgres"):
        target.close_all()
        port = target.connect_params.get("port", 5432)
        target.connect_params["port"] = 5499
        return lambda: (target.close_all(), target.connect_params.update(port=port))
    path = target.database
    target.close_all()  # the pooled connections too
    target.database = str(tmp_path / "missing-dir" / "x.db")
    return lambda: setattr(target, "database", path)


@pytest.mark.parametrize("path", ["/v1/events", "/v1/search?q=iraq", "/healthz", "/readyz"])
def test_503_names_no_internals_and_says_when_to_retry(
    make_app, database_url, tmp_path, path, caplog
):
    client = make_app(RETRY_AFTER_SECONDS=3).test_client()
    undo = unreachable(database_url, tmp_path)
    try:
        response = client.get(path)
    finally:
        undo()
    body = assert_problem(response, 503)
    assert response.headers["Retry-After"] == "3"
    text = response.get_data(as_text=True)
    for internal in ("5499", "127.0.0.1", "missing-dir", "connection to server", "sqlite", "x.db"):
        assert internal not in text, internal
    assert "retry" in body["detail"].lower()
    assert client.get(path).status_code == 200  # back without a restart
    assert "5499" in caplog.text or "unable to open" in caplog.text  # the cause is logged


def test_a_prebuilt_database_is_served_read_only(make_app, sqlite_copy):
    folder = sqlite_copy.parent
    before = sorted(p.name for p in folder.iterdir())
    client = make_app(url=f"sqlite:///{sqlite_copy}", DATABASE_READONLY=True).test_client()
    for path in ("/v1/events", "/v1/search?q=iraq", "/readyz", "/v1/timeline"):
        assert client.get(path).status_code == 200, path
    assert sorted(p.name for p in folder.iterdir()) == before  # no -wal, no -shm
    from api.store.db import database

    with pytest.raises(pw.DatabaseError):
        database.execute_sql("DELETE FROM event")


def test_a_database_of_an_older_release_is_served_read_only(client, make_app, sqlite_copy):
    """A file made before event records were kept rendered (schema 10) has no `event_json`:
    its event pages are built from the rows, the same bytes."""
    with closing(sqlite3.connect(sqlite_copy)) as connection:
        connection.execute("DROP TABLE event_json")
        connection.commit()
    served = make_app(url=f"sqlite:///{sqlite_copy}", DATABASE_READONLY=True).test_client()
    for path in ("/v1/events?limit=500", "/v1/events?q=base&sort=-date"):
        assert served.get(path).status_code == 200, path
        assert served.get(path).json == client.get(path).json, path


def test_postgresql_sessions_compile_no_query(database_url):
    """JIT compiling costs the heavier queries more than it saves; the URL's own `options`
    still apply, and win."""
    if not database_url.startswith("postgresql"):
        pytest.skip("JIT is PostgreSQL's")
    from urllib.parse import parse_qs, urlencode, urlsplit

    from api.store.db import connect

    def setting(url: str, name: str) -> str:
        db = connect(url)
        try:
            return db.execute_sql(f"SHOW {name}").fetchone()[0]
        finally:
            db.close_all()

    assert setting(database_url, "jit") == "off"
    parts = urlsplit(database_url)
    query = parse_qs(parts.query)
    theirs = " ".join([*query.pop("options", []), "-c jit=on -c work_mem=7MB"])
    url = parts._replace(query=urlencode({**query, "options": theirs}, doseq=True)).geturl()
    assert (setting(url, "jit"), setting(url, "work_mem")) == ("on", "7MB")


def test_a_postgres_connection_is_pinged_only_after_being_idle(database_url, monkeypatch):
    """The pool asks the server `SELECT 1` before lending a connection idle for a while, not
    one just given back (that round trip was half of a remembered answer's time)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("the pool of PostgreSQL connections")
    from api.store.db import PooledPostgres, connect

    pool = connect(database_url, pool_size=1)
    pings = []
    ping = pool._adapter.is_connection_closed
    monkeypatch.setattr(pool._adapter, "is_connection_closed", lambda c: pings.append(1) or ping(c))
    try:
        for _ in range(3):
            pool.connect()
            pool.close()
        assert pings == []
        monkeypatch.setattr(PooledPostgres, "PING_IDLE_S", 0.0)
        pool.connect()
        pool.close()
        assert pings == [1]
    finally:
        pool.close_all()
