"""Shared test helpers: the briefings as loaded from their YAML (the expected content of the API),
paging through a list, problem+json checks, query counts, and a live gunicorn."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from urllib.parse import urlencode

import pytest
from playhouse.test_utils import count_queries

from api.ingest import default_files, read_bundle

LINK = re.compile(r'<([^>]+)>;\s*rel="(\w+)"')
FIXTURE_BRIEFINGS = Path(__file__).parent / "fixtures" / "briefings"
COLLECTIONS = ("actors", "relations", "locations", "events", "statements")
PROBLEM = "application/problem+json"
PLURAL = {
    "actor": "actors",
    "event": "events",
    "statement": "statements",
    "location": "locations",
    "source": "sources",
}


def fixture_files() -> list[Path]:
    """The briefings written for the tests (tests/fixtures/briefings), in name order."""
    return sorted(FIXTURE_BRIEFINGS.glob("*.yaml"))


def briefing_files() -> list[Path]:
    """Every briefing the test databases hold: the seed's, then the test fixtures'."""
    return default_files() + fixture_files()


@cache
def bundles() -> dict[Path, dict]:
    """Each briefing file's validated bundle."""
    return {path: read_bundle(path) for path in briefing_files()}


@cache
def seed() -> dict[str, list[dict]]:
    """Every record of every briefing file, by collection (the expected content of the API)."""
    merged: dict[str, list[dict]] = {"sources": [], **{c: [] for c in COLLECTIONS}}
    for bundle in bundles().values():
        merged["sources"].append(bundle["source"])
        for collection in COLLECTIONS:
            merged[collection].extend(bundle[collection])
    return merged


def links(response) -> dict[str, str]:
    """rel -> url of a response's Link header."""
    return {rel: url for url, rel in LINK.findall(response.headers.get("Link", ""))}


def fetch_all(client, url: str) -> list[dict]:
    """Every record of a list, following rel="next" links; asserts the paging invariants."""
    records, seen_urls = [], set()
    response = client.get(url)
    assert response.status_code == 200, response.json
    total = int(response.headers["X-Total-Count"])
    while True:
        records.extend(response.json)
        next_url = links(response).get("next")
        if not next_url:
            break
        assert next_url not in seen_urls, "paging loops"
        seen_urls.add(next_url)
        response = client.get(next_url)
        assert response.status_code == 200, response.json
        assert int(response.headers["X-Total-Count"]) == total
    ids = [record["id"] for record in records]
    assert len(ids) == len(set(ids)), "a record appeared on two pages"
    assert len(records) == total
    return records


def ids(records: list[dict]) -> set[str]:
    return {record["id"] for record in records}


def key(item: dict) -> tuple[str, str]:
    """A timeline item or search hit as (record type, id)."""
    return (item["record_type"], item["id"])


def url(path: str, params: dict | list | None = None) -> str:
    return f"{path}?{urlencode(params, doseq=True)}" if params else path


def located(body: dict) -> dict[str, list[str]]:
    """A problem's `errors` ({path, message} items) as messages by path, checking the shape."""
    assert isinstance(body["errors"], list), body
    found: dict[str, list[str]] = {}
    for item in body["errors"]:
        assert set(item) == {"path", "message"}, item
        assert isinstance(item["path"], str) and isinstance(item["message"], str), item
        found.setdefault(item["path"], []).append(item["message"])
    return found


def assert_problem(response, status: int, parameter: str | None = None) -> dict:
    """The response is problem+json of this status, naming `parameter` when given."""
    text = response.get_data(as_text=True)
    assert response.status_code == status, text
    assert response.mimetype == PROBLEM
    assert "Traceback" not in text
    body = response.json
    assert body["status"] == status and body["title"] and body["detail"]
    located(body)  # `errors`: always a list of {path, message}
    if parameter:
        assert f"query.{parameter}" in located(body), body
        assert parameter in body["detail"]
    return body


def total(client, path: str, params: dict | list | None = None) -> int:
    response = client.get(url(path, params))
    assert response.status_code == 200, response.json
    return int(response.headers["X-Total-Count"])


def queries_for(client, path: str) -> int:
    """How many SQL statements one successful GET runs (peewee's count_queries)."""
    with count_queries() as counter:
        response = client.get(path)
    assert response.status_code == 200, response.json
    return counter.count


BRIEFING = str(Path(sys.executable).parent / "briefing")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def live_server(env: dict[str, str], workers: int) -> Iterator[tuple[str, subprocess.Popen]]:
    """`briefing serve` (gunicorn) with `env` on a free port of 127.0.0.1, once `/healthz`
    answers 200: (its base URL, its process). Stopped on exit."""
    port = free_port()
    process = subprocess.Popen(
        [BRIEFING, "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            time.sleep(0.1)
        else:
            pytest.fail("gunicorn did not answer: " + process.stderr.read().decode()[-2000:])
        yield base, process
    finally:
        process.terminate()
        process.wait(timeout=20)
