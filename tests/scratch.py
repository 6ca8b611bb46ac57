"""Scratch databases of the session's backend: a temporary SQLite file, or a new PostgreSQL
database beside TEST_DATABASE_URL's (created and dropped here), empty or copied from a template
(a seeded database made once per session: copying it is much cheaper than seeding again)."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2


def is_postgres(url: str) -> bool:
    return url.startswith(("postgres://", "postgresql://"))


def _admin(url: str):
    connection = psycopg2.connect(url)
    connection.autocommit = True
    return connection


# A copy is another database: its own data-version epoch (api/store/data_version.py), or what is
# remembered per version (totals, cached responses) would be shared with the template's copies.
NEW_EPOCH = "UPDATE data_version SET epoch = ?"


def _sqlite_path(url: str) -> str:
    return url.split(":///", 1)[1]


@contextmanager
def scratch_database(
    database_url: str, tmp_path: Path, label: str, template: str | None = None
) -> Iterator[str]:
    """The URL of a new database of the same backend as `database_url`: empty, or a copy of
    `template` (a URL of that backend no connection is open to)."""
    if not is_postgres(database_url):
        path = tmp_path / f"{label}.db"
        if template:
            source, copy = sqlite3.connect(_sqlite_path(template)), sqlite3.connect(path)
            with closing(source), closing(copy):
                source.backup(copy)
                copy.execute(NEW_EPOCH, (uuid.uuid4().hex,))
                copy.commit()
        yield f"sqlite:///{path}"
        return
    parts = urlsplit(database_url)
    name = f"{parts.path.lstrip('/')}_{label}_{uuid.uuid4().hex[:6]}"
    admin = _admin(urlunsplit(parts._replace(query="")))
    try:
        with admin.cursor() as cursor:
            copied = f' TEMPLATE "{urlsplit(template).path.lstrip("/")}"' if template else ""
            cursor.execute(f'CREATE DATABASE "{name}"{copied}')
        url = urlunsplit(parts._replace(path=f"/{name}", query=""))  # its own search path
        if template:
            with closing(psycopg2.connect(url)) as copy, copy, copy.cursor() as cursor:
                cursor.execute(NEW_EPOCH.replace("?", "%s"), (uuid.uuid4().hex,))
        yield url
    finally:
        from api.store.db import database

        if database.obj is not None and getattr(database.obj, "database", None) == name:
            database.obj.close_all() if hasattr(database.obj, "close_all") else None
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
