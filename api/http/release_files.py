"""A release's downloads, written once from its snapshot by the list engine itself (each record
as the release's NDJSON export writes it):

- `release.sqlite`: the release's public tables as stored, copied in SQL
  (api/store/release_file.py), and a `release` table of one row (name, description,
  created_at, seq, counts, schema_version).
- `<collection>.ndjson.gz`: the collection's NDJSON export, gzipped (no timestamp in the
  header: the same release gives the same bytes on every host).

Record URLs are those of the release (`PUBLIC_URL/releases/{name}/v1/...`, root-relative without
`PUBLIC_URL`). Each file is written when first asked for (`briefing release create` writes them
all at once), under a temporary name then renamed, so a download never serves half a file; a
host that lacks one (PostgreSQL behind several hosts) writes it on first use, the same bytes.
"""

from __future__ import annotations

import fcntl
import gzip
import hashlib
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import marshmallow as ma
from flask import Flask

from api.http.formats import list_response
from api.ingest import releases as making
from api.queries.actors import ACTORS
from api.queries.collection import Collection
from api.queries.events import EVENTS
from api.queries.locations import LOCATIONS
from api.queries.relations import RELATIONS
from api.queries.sources import SOURCES
from api.queries.statements import STATEMENTS
from api.records import named
from api.store import release_file, snapshots
from api.store.db import bound_to, database
from api.store.models import Release
from schemas import arguments, fastdump
from schemas.urls import base_url

SQLITE_FILE = "release.sqlite"
SQLITE_TYPE = "application/vnd.sqlite3"
GZIP_TYPE = "application/gzip"
_CHUNK = 1 << 20

EXPORTS: tuple[tuple[Collection, type[ma.Schema]], ...] = (
    (SOURCES, arguments.SourceListArgs),
    (ACTORS, arguments.ActorListArgs),
    (RELATIONS, arguments.RelationListArgs),
    (LOCATIONS, arguments.LocationListArgs),
    (EVENTS, arguments.EventListArgs),
    (STATEMENTS, arguments.StatementListArgs),
)
COLLECTIONS = tuple(named(collection.name).collection for collection, _ in EXPORTS)
_building = threading.Lock()
_digests: dict[Path, str] = {}


def ndjson_file(collection: str) -> str:
    return f"{collection}.ndjson.gz"


def file_names() -> list[str]:
    """Every file of a release's download, in the order they are listed."""
    return [SQLITE_FILE, *(ndjson_file(c) for c in COLLECTIONS)]


def release_root(app: Flask, name: str) -> str:
    """The root of the release's URLs in its files."""
    return f"{app.config.get('PUBLIC_URL', '')}/releases/{name}"


def located(release: Release, file: str, app: Flask) -> tuple[Path, str]:
    """The file of a release's download and its SHA-256. Each file is written on the first
    request for it (one writer at a time on this host: a lock file), and listed in the
    release; a host that lacks it writes the same bytes."""
    folder = snapshots.files(release.storage)
    path = folder / file
    if not path.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        with _building, (folder.parent / f"{folder.name}.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # another worker may be writing it
            if not path.is_file():
                _write(app, release, file)
                release = making.list_download(release, _listed(path))
    listed = {item["file"]: item["sha256"] for item in json.loads(release.downloads)}
    if file not in listed:  # written by another worker, listed since: digested once here
        with _building:
            if path not in _digests:
                _digests[path] = _listed(path)["sha256"]
        return path, _digests[path]
    return path, listed[file]


def build(
    app: Flask, release: Release, spent: dict[str, float] | None = None
) -> list[dict[str, Any]]:
    """Write every file of the release's download; each as listed (file, bytes, sha256).
    `spent`, when given, gets the seconds each file took (the benchmark's)."""
    folder = snapshots.files(release.storage)
    folder.mkdir(parents=True, exist_ok=True)
    for file in file_names():
        started = time.perf_counter()
        _write(app, release, file)
        if spent is not None:
            spent[file] = time.perf_counter() - started
    return [_listed(folder / file) for file in file_names()]


def _write(app: Flask, release: Release, file: str) -> None:
    """Write one file of the release's download (under a temporary name, then renamed)."""
    folder = snapshots.files(release.storage)
    snapshot = snapshots.opened(release.storage)
    if file == SQLITE_FILE:
        partial = folder / f"{SQLITE_FILE}.partial"
        release_file.write(snapshot, partial, _about(release))
        partial.replace(folder / SQLITE_FILE)
        return
    collection, args = next(
        (c, a) for c, a in EXPORTS if ndjson_file(named(c.name).collection) == file
    )
    root = release_root(app, release.name)
    with (
        bound_to(snapshot),
        app.test_request_context("/v1/", base_url=f"http://localhost{root}"),
        database.connection_context(),  # inside: the request's teardown closes what is open
    ):
        token = base_url.set(root)
        try:
            _write_gzipped(_ndjson(collection, args), folder / file)
        finally:
            base_url.reset(token)


def _ndjson(collection: Collection, args: type[ma.Schema]) -> Iterator[str]:
    """The chunks of the collection's NDJSON export (GET /v1/<collection>?format=ndjson)."""
    parsed = args().load({"format": "ndjson"})
    schema = fastdump.install(named(collection.name).response_schema())
    response = list_response(collection, parsed, schema, ("ndjson",))
    for chunk in response.response:
        yield chunk.decode() if isinstance(chunk, bytes) else chunk


def _write_gzipped(chunks: Iterator[str], target: Path) -> None:
    partial = target.with_name(target.name + ".partial")
    with (
        partial.open("wb") as raw,
        gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=0) as zipped,
    ):
        for chunk in chunks:
            zipped.write(chunk.encode())
    partial.replace(target)


def _about(release: Release) -> dict[str, Any]:
    return {
        "name": release.name,
        "description": release.description,
        "created_at": release.created_at.isoformat(),
        "seq": release.seq,
        "counts": release.counts,
        "schema_version": release.schema_version,
    }


def _listed(path: Path) -> dict[str, Any]:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(_CHUNK):
            digest.update(chunk)
    return {"file": path.name, "bytes": path.stat().st_size, "sha256": digest.hexdigest()}
