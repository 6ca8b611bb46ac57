"""Every test runs on SQLite, and again on PostgreSQL when TEST_DATABASE_URL is set.

The database of each backend is created once per session and seeded with the briefings in
seed/briefings and the test briefings in tests/fixtures/briefings (a second source, in another
region and language, so that filters by source can fail). One app serves it for the whole
session; tests that write leave it as they found it (the loader is idempotent), and tests that
bind another database restore the binding.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import uuid
from dataclasses import dataclass

import pytest
from argon2 import PasswordHasher, profiles
from flask import Flask

from api.app import create_app
from api.http import auth
from api.http.auth import SCOPES, clear_cache
from api.http.keys import create_key
from api.http.release_files import build
from api.ingest import default_files, load_files
from api.ingest.releases import create as create_release
from api.store.db import bind
from api.store.ddl import create_schema, drop_schema
from tests.helpers import briefing_files
from tests.push_helpers import PUSH_TEST_CONFIG
from tests.scratch import scratch_database

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


def postgres_url_of_this_worker(url: str) -> str:
    """`url` as is, or, under pytest-xdist (`make test` runs one worker per core), the same
    database with this worker's own PostgreSQL schema first on the search path, so that
    parallel workers never share tables."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    schema = f"test_{worker}"
    bind(url)
    from api.store.db import database

    with database.connection_context():
        database.execute_sql(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}"


@pytest.fixture(scope="session", autouse=True)
def cheap_key_hashes():
    """API keys hashed with argon2's cheapest parameters (its profile for tests): the default
    cost is deliberate in service and a waste in tests that create keys by the hundred."""
    auth.HASHER = PasswordHasher.from_parameters(profiles.CHEAPEST)


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """A freshly created and seeded database of one backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'briefing.db'}"
    else:
        url = postgres_url_of_this_worker(os.environ["TEST_DATABASE_URL"])
    bind(url)
    drop_schema()
    create_schema()
    load_files(briefing_files())
    yield url
    if request.param == "postgresql":
        bind(url)
        drop_schema()


@pytest.fixture(scope="session")
def app(database_url: str, tmp_path_factory: pytest.TempPathFactory):
    """One app per backend for the whole session, its data also held by a release (`latest`),
    so that the reads of a release and the spec's examples have one."""
    releases = tmp_path_factory.mktemp("releases")
    app = create_app(
        {
            "DATABASE_URL": database_url,
            "TESTING": True,
            "RELEASES_DIR": releases,
            **PUSH_TEST_CONFIG,
        }
    )
    create_release("tests", "The session's data.", "tests", lambda made: build(app, made))
    return app


@pytest.fixture(scope="session")
def seeded_template(app, database_url: str, tmp_path_factory: pytest.TempPathFactory):
    """A database of the session's backend holding the seed (seed/briefings) and nothing else,
    made once: tests that write work on a copy, `scratch_database(..., template=...)`."""
    with scratch_database(database_url, tmp_path_factory.mktemp("template"), "seed") as url:
        create_app({"DATABASE_URL": url, "TESTING": True})  # creates the schema
        load_files(default_files())
        bind(database_url)  # no connection may stay open to a PostgreSQL template
        yield url
        bind(database_url)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests marked `response_cache` that use `client` run twice: with the response cache off
    (as every test does) and on, as the service runs."""
    if metafunc.definition.get_closest_marker("response_cache") and (
        "client" in metafunc.fixturenames
    ):
        metafunc.parametrize(
            "response_cache", [False, True], ids=["uncached", "cached"], indirect=True
        )


@pytest.fixture
def response_cache(request: pytest.FixtureRequest) -> bool:
    """Whether `client` answers with the response cache on (see pytest_generate_tests)."""
    return getattr(request, "param", False)


@pytest.fixture(scope="session")
def cached_app(app, database_url: str):
    """The session's app with the response cache on, as in service: one cache for the session,
    so that a response asked for twice, in one test or across tests, is replayed."""
    return create_app(
        {"DATABASE_URL": database_url, "TESTING": True, "RESPONSE_CACHE": True, **PUSH_TEST_CONFIG}
    )


@pytest.fixture
def client(app, database_url: str, response_cache: bool, request: pytest.FixtureRequest):
    """A test client of the session's app (or of `cached_app`), bound to the session's
    database."""
    from api.store.db import database

    if database.obj is None or getattr(database.obj, "database", None) not in database_url:
        bind(database_url)  # a previous test bound another database
    if response_cache:
        return request.getfixturevalue("cached_app").test_client()
    return app.test_client()


@pytest.fixture
def make_app(database_url: str):
    """A factory of new apps (for tests that add routes or bind another database); the
    session's database is bound again afterwards."""
    yield lambda url=database_url, **config: create_app(
        {"DATABASE_URL": url, "TESTING": True, **PUSH_TEST_CONFIG, **config}
    )
    bind(database_url)


@dataclass
class Curated:
    app: Flask
    url: str
    keys: dict[str, str]
    names: dict[str, str]

    def auth(self, scope: str = "write") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[scope]}"}


@pytest.fixture
def curated(app, database_url, seeded_template, tmp_path):
    """A fresh copy of the seeded database, keys of each scope, and the session's app bound
    to that copy."""
    with scratch_database(database_url, tmp_path, "curation", template=seeded_template) as url:
        bind(url)
        names = {scope: f"{scope}-{uuid.uuid4().hex[:6]}" for scope in SCOPES}
        keys = {scope: create_key(names[scope], scope) for scope in SCOPES}
        try:
            yield Curated(app, url, keys, names)
        finally:
            clear_cache()
            bind(database_url)


@pytest.fixture
def sqlite_copy(database_url, tmp_path):
    """A copy of the session's SQLite database, for tests that break or freeze a file (SQLite
    only)."""
    if not database_url.startswith("sqlite"):
        pytest.skip("changes a database file: SQLite only")
    source = database_url.split(":///", 1)[1]
    with sqlite3.connect(source) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    target = tmp_path / "copy.db"
    shutil.copy(source, target)
    return target
