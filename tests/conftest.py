"""Every test runs on SQLite, and again on PostgreSQL when TEST_DATABASE_URL is set.

The database of each backend is created and seeded with the briefings in seed/briefings once
per session; tests that write leave it as they found it (the loader is idempotent).
"""

from __future__ import annotations

import os

import pytest

from api import create_app
from api.db import bind, database
from api.models import MODELS
from seed.loader import default_files, load_files

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


def reset_postgres(url: str) -> None:
    """Drop every table of the service, so the schema is built fresh."""
    bind(url, create_tables=False)
    with database.connection_context():
        database.drop_tables(MODELS, safe=True, cascade=True)


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """A freshly created and seeded database of one backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'briefing.db'}"
    else:
        url = os.environ["TEST_DATABASE_URL"]
        reset_postgres(url)
    bind(url)
    load_files(default_files())
    yield url
    if request.param == "postgresql":
        reset_postgres(url)


@pytest.fixture
def app(database_url: str):
    return create_app({"DATABASE_URL": database_url, "TESTING": True})


@pytest.fixture
def client(app):
    return app.test_client()
