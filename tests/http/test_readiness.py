"""Readiness (api/http/readiness.py): /readyz reports each check, and is a 503 while the schema
is older than the code, a table is corrupt or the full-text index is out of step."""

from __future__ import annotations

import sqlite3

import pytest

from tests.helpers import assert_problem, located


def test_readyz_reports_every_check(client, database_url):
    body = client.get("/readyz").json
    assert body["status"] == "ok"
    assert body["checks"] == {"database": "ok", "schema": "ok", "tables": "ok", "fulltext": "ok"}
    assert body["backend"] == ("postgresql" if database_url.startswith("postgres") else "sqlite")
    from api.store.ddl import SCHEMA_VERSION

    assert body["schema_version"] == SCHEMA_VERSION


def test_readyz_is_503_when_the_schema_is_older_than_the_code(make_app, sqlite_copy):
    """A replica whose database was not upgraded must not take traffic."""
    with sqlite3.connect(sqlite_copy) as connection:
        connection.execute("UPDATE schema_version SET version = version - 1")
    client = make_app(url=f"sqlite:///{sqlite_copy}", SCHEMA_UPGRADE=False).test_client()
    response = client.get("/readyz")
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert "checks.schema" in located(response.json)
    assert "db upgrade" in response.json["detail"]


def test_readyz_is_503_when_a_table_is_corrupt(make_app, sqlite_copy):
    with sqlite3.connect(sqlite_copy) as connection:
        page_size = connection.execute("PRAGMA page_size").fetchone()[0]
        root = connection.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = 'statement'"
        ).fetchone()[0]
    with open(sqlite_copy, "r+b") as file:  # overwrite the statement table's root page
        file.seek((root - 1) * page_size)
        file.write(b"\xa5" * page_size)
    client = make_app(url=f"sqlite:///{sqlite_copy}").test_client()
    body = assert_problem(client.get("/readyz"), 503)
    assert "statement" in located(body)["checks.tables"][0]
    response = client.get("/v1/statements")  # a 500, but a problem without a trace
    assert_problem(response, 500)
    assert "malformed" not in response.get_data(as_text=True)


def test_readyz_is_503_when_the_fulltext_index_is_out_of_step(make_app, sqlite_copy):
    with sqlite3.connect(sqlite_copy) as connection:
        connection.execute("INSERT INTO search_fts(search_fts) VALUES ('delete-all')")
    client = make_app(url=f"sqlite:///{sqlite_copy}").test_client()
    body = assert_problem(client.get("/readyz"), 503)
    assert "out of step" in located(body)["checks.fulltext"][0]
    assert client.get("/healthz").status_code == 200  # the process itself is fine


def test_readyz_is_503_without_the_postgresql_fulltext_index(client, database_url):
    if not database_url.startswith("postgres"):
        pytest.skip("the GIN index is PostgreSQL's")
    from api.store.db import database
    from api.store.ddl import create_schema

    with database.connection_context():
        database.execute_sql("DROP INDEX search_document_tsv")
    try:
        body = assert_problem(client.get("/readyz"), 503)
        assert located(body)["checks.fulltext"] == ["the full-text index is missing or invalid"]
    finally:
        create_schema()  # puts the index back
    assert client.get("/readyz").status_code == 200
