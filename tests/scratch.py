"""Scratch databases of the session's backend: a temporary SQLite file, or a new PostgreSQL
database beside TEST_DATABASE_URL's (created and dropped here)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2


def is_postgres(url: str) -> bool:
    return url.startswith(("postgres://", "postgresql://"))


def _admin(url: str):
    connection = psycopg2.connect(url)
    connection.autocommit = True
    return connection


@contextmanager
def scratch_database(database_url: str, tmp_path: Path, label: str) -> Iterator[str]:
    """The URL of an empty database of the same backend as `database_url`."""
    if not is_postgres(database_url):
        yield f"sqlite:///{tmp_path / f'{label}.db'}"
        return
    parts = urlsplit(database_url)
    name = f"{parts.path.lstrip('/')}_{label}_{uuid.uuid4().hex[:6]}"
    admin = _admin(urlunsplit(parts._replace(query="")))
    try:
        with admin.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        yield urlunsplit(parts._replace(path=f"/{name}", query=""))  # its own search path
    finally:
        from api.db import database

        if database.obj is not None and getattr(database.obj, "database", None) == name:
            database.obj.close_all() if hasattr(database.obj, "close_all") else None
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
