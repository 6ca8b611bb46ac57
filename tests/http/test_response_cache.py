"""The response cache (api/http/response_cache.py): a public read is replayed until the
next write, whichever path the write takes; a stale body is never served. On both backends,
each test on its own seeded database (the tests write)."""

from __future__ import annotations

import gzip
import json
import uuid
from dataclasses import dataclass

import pytest
from flask import Flask
from playhouse.test_utils import count_queries

from api.app import create_app
from api.http.auth import clear_cache
from api.http.keys import create_key
from api.store import data_version
from api.store.db import bind, database
from tests.import_helpers import ANDES, ANDES_ID, with_text
from tests.scratch import scratch_database

PAGE = "/v1/events?limit=5"
EVENT = "/v1/events/rocket-strike-near-halliburton-2020-04-06"
ACTOR = "/v1/actors/kataib-hezbollah"
SOURCE = "al-monitor-2020-04-07-us-iran-showdown-iraq"


@dataclass
class Cached:
    app: Flask
    url: str
    key: str  # a write key
    admin: str

    def auth(self, key: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key or self.key}"}

    def computed(self, path: str, **headers: str):
        """The answer computed now, by an app without the cache (same database)."""
        fresh = create_app({"DATABASE_URL": self.url, "TESTING": True, "RESPONSE_CACHE": False})
        return fresh.test_client().get(path, headers=headers)


@pytest.fixture
def cached(database_url, seeded_template, tmp_path):
    with scratch_database(database_url, tmp_path, "cache", template=seeded_template) as url:
        app = create_app({"DATABASE_URL": url, "TESTING": True, "RESPONSE_CACHE": True})
        key = create_key(f"cache-{uuid.uuid4().hex[:6]}", "write")
        admin = create_key(f"cache-admin-{uuid.uuid4().hex[:6]}", "admin")
        try:
            yield Cached(app, url, key, admin)
        finally:
            clear_cache()
            bind(database_url)


@pytest.fixture
def client(cached):
    return cached.app.test_client()


def create_actor(client, cached: Cached, slug: str, name: str):
    """POST a person cited to the seed's spokesman sentence; the response."""
    citation = {
        "source": SOURCE,
        "excerpt": "Kataib Hezbollah spokesman Mohammad Mohyee warned against four possible "
        "moves by the United States.",
    }
    body = {"id": slug, "name": name, "kind": "person", "citations": [citation]}
    return client.post(
        "/v1/actors",
        data=json.dumps(body),
        headers={**cached.auth(), "Content-Type": "application/json"},
    )


def queries(client, path: str, **headers: str) -> tuple[int, object]:
    with count_queries() as counter:
        response = client.get(path, headers=headers)
    return counter.count, response


def assert_fresh(cached: Cached, client, path: str) -> None:
    """What the cache serves is what a cacheless app computes now."""
    served, computed = client.get(path), cached.computed(path)
    assert served.status_code == computed.status_code == 200
    assert served.data == computed.data
    assert served.headers["ETag"] == computed.headers["ETag"]


def test_a_repeated_read_is_replayed_with_one_query(client):
    first_count, first = queries(client, PAGE)
    again_count, again = queries(client, PAGE)
    assert first_count > 1 and again_count == 1  # the data version, nothing else
    assert again.data == first.data
    for name in ("ETag", "Link", "X-Total-Count", "Content-Type", "Vary", "Cache-Control"):
        assert again.headers[name] == first.headers[name], name
    assert again.headers["X-Request-Id"] != first.headers["X-Request-Id"]
    assert client.get(PAGE, headers={"X-Request-Id": "mine-1"}).headers["X-Request-Id"] == "mine-1"


def test_304_on_a_replayed_response(client):
    etag = client.get(PAGE).headers["ETag"]
    client.get(PAGE)
    replayed = client.get(PAGE, headers={"If-None-Match": etag})
    assert replayed.status_code == 304 and not replayed.data
    zipped = client.get(PAGE, headers={"Accept-Encoding": "gzip"})
    again = client.get(
        PAGE, headers={"Accept-Encoding": "gzip", "If-None-Match": zipped.headers["ETag"]}
    )
    assert again.status_code == 304


def test_each_representation_is_its_own_entry(client):
    plain = client.get(PAGE)
    assert client.get("/v1/events?limit=4").json == plain.json[:4]
    csv = client.get(PAGE, headers={"Accept": "text/csv"})
    assert csv.mimetype == "text/csv" and csv.data != plain.data
    assert client.get(PAGE, headers={"Accept": "text/csv"}).data == csv.data
    assert client.get(PAGE).data == plain.data
    zipped = client.get(PAGE, headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.data) == plain.data
    assert "Content-Encoding" not in client.get(PAGE).headers
    exact = client.get(PAGE, headers={"Prefer": "count=exact"})
    assert exact.headers["Preference-Applied"] == "count=exact"
    assert "Preference-Applied" not in client.get(PAGE).headers
    fields = client.get(PAGE + "&fields=title")
    assert set(fields.json[0]) == {"id", "title"}


def test_errors_writes_probes_and_authorised_reads_are_computed(client, cached):
    assert client.get("/v1/events?limt=5").status_code == 422
    count, response = queries(client, "/v1/events?limt=5")
    assert response.status_code == 422 and count == 1  # refused again, never replayed
    client.get(ACTOR, headers=cached.auth())
    count, _ = queries(client, ACTOR, **cached.auth())
    assert count > 1
    audit = "/v1/audit?limit=5"
    assert client.get(audit, headers=cached.auth(cached.admin)).status_code == 200
    count, _ = queries(client, audit, **cached.auth(cached.admin))
    assert count > 1
    client.get("/readyz")
    count, _ = queries(client, "/readyz")
    assert count > 1
    client.get("/v1/events?format=ndjson")
    count, streamed = queries(client, "/v1/events?format=ndjson")
    assert streamed.status_code == 200 and count > 1


def test_off_computes_every_response(cached):
    app = create_app({"DATABASE_URL": cached.url, "TESTING": True, "RESPONSE_CACHE": False})
    client = app.test_client()
    client.get(PAGE)
    count, response = queries(client, PAGE)
    assert response.status_code == 200 and count > 1
    assert "response_cache" not in app.extensions


def test_a_record_write_invalidates(client, cached):
    before = client.get(EVENT)
    page = client.get("/v1/events?limit=500").data
    patched = client.patch(
        EVENT,
        data=json.dumps({"summary": "Curated through the cache test."}),
        headers={
            **cached.auth(),
            "Content-Type": "application/merge-patch+json",
            "If-Match": before.headers["ETag"],
        },
    )
    assert patched.status_code == 200, patched.json
    assert client.get(EVENT).json["summary"] == "Curated through the cache test."
    assert client.get("/v1/events?limit=500").data != page
    assert_fresh(cached, client, EVENT)
    assert_fresh(cached, client, "/v1/events?limit=500")
    assert_fresh(cached, client, "/v1/changes?since=0&limit=500")

    created = create_actor(client, cached, "cache-test-actor", "Cache test actor")
    assert created.status_code == 201, created.json
    assert_fresh(cached, client, "/v1/actors?limit=500")
    etag = client.get("/v1/actors/cache-test-actor").headers["ETag"]
    deleted = client.delete(
        "/v1/actors/cache-test-actor", headers={**cached.auth(), "If-Match": etag}
    )
    assert deleted.status_code == 204
    assert client.get("/v1/actors/cache-test-actor").status_code == 404
    assert_fresh(cached, client, "/v1/actors?limit=500")


def test_an_import_and_a_source_deletion_invalidate(client, cached):
    sources = client.get("/v1/sources").json
    assert ANDES_ID not in {s["id"] for s in sources}
    dry = client.post(
        "/v1/briefings?dry_run=true",
        data=json.dumps(with_text(ANDES)),
        content_type="application/json",
        headers=cached.auth(),
    )
    assert dry.status_code == 200, dry.json
    count, _ = queries(client, "/v1/sources")
    assert count == 1  # a dry run rolls its bump back: still cached
    imported = client.post(
        "/v1/briefings",
        data=json.dumps(with_text(ANDES)),
        content_type="application/json",
        headers=cached.auth(),
    )
    assert imported.status_code == 201, imported.json
    assert ANDES_ID in {s["id"] for s in client.get("/v1/sources").json}
    assert_fresh(cached, client, "/v1/sources")
    assert_fresh(cached, client, "/v1/events?limit=500")
    headers = cached.auth() | {"If-Match": "*"}
    assert client.delete(f"/v1/sources/{ANDES_ID}", headers=headers).status_code == 200
    assert ANDES_ID not in {s["id"] for s in client.get("/v1/sources").json}
    assert_fresh(cached, client, "/v1/sources")
    assert_fresh(cached, client, "/v1/events?limit=500")


def test_a_synthetic_seed_invalidates(client, cached):
    from api.synthetic import seed_synthetic

    page = client.get("/v1/events?limit=500").json
    seed_synthetic(12, progress=False)  # writes without the write lock: the source trigger
    grown = client.get("/v1/events?limit=500").json
    assert len(grown) > len(page)
    assert_fresh(cached, client, "/v1/events?limit=500")
    seed_synthetic(12, random_seed=7, progress=False)  # replaces the corpus
    assert client.get("/v1/events?limit=500").json != grown
    assert_fresh(cached, client, "/v1/events?limit=500")


def test_the_version_moves_with_writes_only(cached):
    bind(cached.url)
    with database.connection_context():
        start = data_version.current()
        assert start is not None
        with database.atomic() as transaction:
            data_version.bump()
            transaction.rollback()
        assert data_version.current() == start
        from api.store.ddl import exclusive

        with exclusive():
            pass
        epoch, version = data_version.current().split(":")
        assert epoch == start.split(":")[0] and int(version) == int(start.split(":")[1]) + 1


def test_two_databases_never_share_a_version(cached, database_url):
    bind(cached.url)
    with database.connection_context():
        one = data_version.current()
    bind(database_url)
    with database.connection_context():
        other = data_version.current()
    assert one.split(":")[0] != other.split(":")[0]


def test_private_reads_are_cached_per_key(cached):
    app = create_app(
        {
            "DATABASE_URL": cached.url,
            "TESTING": True,
            "RESPONSE_CACHE": True,
            "READS_REQUIRE_KEY": True,
        }
    )
    client = app.test_client()
    assert client.get(PAGE).status_code == 401
    assert client.get(PAGE).status_code == 401  # never replayed to a client without a key
    assert client.get(PAGE, headers=cached.auth()).status_code == 200
    count, response = queries(client, PAGE, **cached.auth())
    assert response.status_code == 200 and count == 2  # the data version and the key's row
    count, response = queries(client, PAGE, **cached.auth(cached.admin))
    assert response.status_code == 200 and count > 1  # another key: its own entry


def test_totals_remembered_per_version_follow_writes(cached):
    """Totals are counted once per data version (queries/paging.count_rows), cache on or off."""
    app = create_app({"DATABASE_URL": cached.url, "TESTING": True, "RESPONSE_CACHE": False})
    client = app.test_client()
    before = int(client.get("/v1/actors?limit=1").headers["X-Total-Count"])
    assert int(client.get("/v1/actors?limit=2").headers["X-Total-Count"]) == before
    created = create_actor(client, cached, "counted-actor", "Counted actor")
    assert created.status_code == 201, created.json
    assert int(client.get("/v1/actors?limit=1").headers["X-Total-Count"]) == before + 1


def test_without_a_data_version_everything_is_computed(cached):
    """A database made before the data version (served read-only, never upgraded): lists and
    totals still answer, computed each time."""
    app = create_app({"DATABASE_URL": cached.url, "TESTING": True, "RESPONSE_CACHE": True})
    with database.connection_context():
        database.execute_sql("DROP TABLE data_version")
    client = app.test_client()
    first = client.get(PAGE)
    assert first.status_code == 200 and int(first.headers["X-Total-Count"]) > 0
    count, again = queries(client, PAGE)
    assert again.data == first.data and count > 2  # computed again, count included


def test_list_pages_follow_writes_with_the_cache_off(cached):
    """Without the response cache, list pages still reuse their compiled query and total per
    data version (api/queries/listing.py): a write shows in the next page and its total."""
    app = create_app({"DATABASE_URL": cached.url, "TESTING": True, "RESPONSE_CACHE": False})
    client = app.test_client()
    path = "/v1/events?limit=2&sort=-date"
    client.get(path)
    before = client.get(path)
    total = int(before.headers["X-Total-Count"])
    gone = before.get_json()[0]["id"]
    etag = client.get(f"/v1/events/{gone}").headers["ETag"]
    deleted = client.delete(
        f"/v1/events/{gone}?cascade=true", headers={**cached.auth(), "If-Match": etag}
    )
    assert deleted.status_code == 204, deleted.get_json()
    after = client.get(path)
    assert int(after.headers["X-Total-Count"]) == total - 1
    assert gone not in [event["id"] for event in after.get_json()]
    assert after.data == cached.computed(path).data
    cursor = after.headers["Link"].split("cursor=")[1].split(">")[0]
    second = client.get(f"{path}&cursor={cursor}")
    assert second.data == cached.computed(f"{path}&cursor={cursor}").data


def test_facets_remembered_per_version_follow_writes(cached):
    """Facets are counted once per data version (queries/facets.py), cache on or off; the
    next write counts them again."""
    app = create_app({"DATABASE_URL": cached.url, "TESTING": True, "RESPONSE_CACHE": False})
    client = app.test_client()
    path = "/v1/events/facets?field=type&buckets=50"
    first = client.get(path)
    with count_queries() as counter:
        again = client.get(path)
    assert again.json == first.json
    assert [sql for sql, _ in (q.msg for q in counter.get_queries())] == [data_version.READ]
    event = client.get(EVENT)
    gone = client.delete(
        f"{EVENT}?cascade=true", headers={**cached.auth(), "If-Match": event.headers["ETag"]}
    )
    assert gone.status_code == 204, gone.json
    before = {bucket["value"]: bucket["count"] for bucket in first.json}
    after = {bucket["value"]: bucket["count"] for bucket in client.get(path).json}
    kind = event.json["type"]
    assert after.get(kind, 0) == before[kind] - 1
    assert client.get(path).json == cached.computed(path).json


def test_source_counts_remembered_per_version_follow_writes(cached):
    """A source's counts of what it supports are counted once per data version
    (queries/sources.py: they read every citation of the source); the next write counts
    them again."""
    app = create_app({"DATABASE_URL": cached.url, "TESTING": True, "RESPONSE_CACHE": False})
    client = app.test_client()
    path = f"/v1/sources/{SOURCE}"
    first = client.get(path)
    with count_queries() as counter:
        again = client.get(path)
    assert again.json == first.json
    assert not any("citation" in sql for sql, _ in (q.msg for q in counter.get_queries()))
    event = client.get(EVENT)
    gone = client.delete(
        f"{EVENT}?cascade=true", headers={**cached.auth(), "If-Match": event.headers["ETag"]}
    )
    assert gone.status_code == 204, gone.json
    assert client.get(path).json["counts"]["events"] == first.json["counts"]["events"] - 1
