"""HTTP caching and compression: strong ETags and 304s, Cache-Control, Vary, gzip, and a
request id on every response."""

from __future__ import annotations

import gzip
import re

import pytest

STRONG_ETAG = re.compile(r'^"[^"]+"$')
GETS = [
    "/v1/events",
    "/v1/events?format=csv",
    "/v1/events/rocket-strike-near-halliburton-2020-04-06",
    "/v1/locations?format=geojson",
    "/v1/actors/kataib-hezbollah/network",
    "/v1/search?q=ghaani",
    "/v1/timeline",
    "/v1/events/facets?field=type",
    "/v1/vocabularies",
    "/openapi.json",
]


@pytest.mark.parametrize("url", GETS)
def test_every_get_has_a_strong_etag_and_answers_304_when_it_matches(client, url):
    first = client.get(url)
    assert first.status_code == 200
    etag = first.headers["ETag"]
    assert STRONG_ETAG.match(etag), etag
    assert first.headers["Cache-Control"] == "public, max-age=60"
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == etag
    assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200


def test_etag_changes_with_the_content(client):
    one = client.get("/v1/events?limit=1").headers["ETag"]
    two = client.get("/v1/events?limit=2").headers["ETag"]
    assert one != two
    assert client.get("/v1/events?limit=1").headers["ETag"] == one


def test_lists_vary_by_accept(client):
    for url in ("/v1/events", "/v1/actors/kataib-hezbollah", "/v1/events?limt=1"):
        vary = {v.strip() for v in client.get(url).headers["Vary"].split(",")}
        assert "Accept" in vary, url


def test_errors_and_health_are_not_cached(client):
    assert client.get("/v1/events?limt=1").headers["Cache-Control"] == "no-store"
    assert client.get("/v1/events/nope").headers["Cache-Control"] == "no-store"
    assert "ETag" not in client.get("/v1/events/nope").headers
    assert client.get("/healthz").headers["Cache-Control"] == "no-cache"
    assert client.get("/readyz").headers["Cache-Control"] == "no-cache"


def test_large_bodies_are_gzipped_and_small_ones_are_not(client):
    big = client.get("/v1/events?limit=500", headers={"Accept-Encoding": "gzip"})
    assert big.headers["Content-Encoding"] == "gzip"
    plain = client.get("/v1/events?limit=500")
    assert "Content-Encoding" not in plain.headers
    assert gzip.decompress(big.data) == plain.data
    assert len(big.data) < len(plain.data) / 3
    assert "Accept-Encoding" in big.headers["Vary"]
    # the gzipped variant has its own strong ETag, and revalidates too
    etag = big.headers["ETag"]
    assert etag != plain.headers["ETag"] and STRONG_ETAG.match(etag)
    again = client.get(
        "/v1/events?limit=500", headers={"Accept-Encoding": "gzip", "If-None-Match": etag}
    )
    assert again.status_code == 304
    small = client.get("/healthz", headers={"Accept-Encoding": "gzip"})
    assert len(plain.data) > 1024 and len(small.data) < 1024
    assert "Content-Encoding" not in small.headers


@pytest.mark.parametrize("url", ["/v1/events", "/v1/events/nope", "/v1/events?limt=1", "/healthz"])
def test_every_response_has_a_request_id_and_echoes_the_clients(client, url):
    first = client.get(url).headers["X-Request-Id"]
    second = client.get(url).headers["X-Request-Id"]
    assert first and second and first != second
    assert client.get(url, headers={"X-Request-Id": "trace-42"}).headers["X-Request-Id"] == (
        "trace-42"
    )
    injected = client.get(url, headers={"X-Request-Id": "a b\x7f" + "x" * 200})
    assert injected.headers["X-Request-Id"] not in ("", "a b\x7f" + "x" * 200)


def test_an_answer_to_a_request_with_a_key_is_for_that_client_only(curated, make_app):
    """RFC 9111 3.5: `public` lets a shared cache store an answer to a request that carried
    `Authorization` and serve it to others. The audit trail (admin only) and every read of a
    deployment whose reads need a key are `private`; public reads stay `public`."""
    client = curated.app.test_client()
    audit = client.get("/v1/audit", headers=curated.auth("admin"))
    assert audit.status_code == 200
    assert audit.headers["Cache-Control"] == "private, max-age=60"
    keyed = client.get("/v1/actors?limit=1", headers=curated.auth("read"))
    assert keyed.headers["Cache-Control"] == "private, max-age=60"
    assert client.get("/v1/actors?limit=1").headers["Cache-Control"] == "public, max-age=60"
    private = make_app(curated.url, READS_REQUIRE_KEY=True).test_client()
    read = private.get("/v1/events?limit=1", headers=curated.auth("read"))
    assert read.status_code == 200
    assert read.headers["Cache-Control"] == "private, max-age=60"
