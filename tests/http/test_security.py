"""Security headers on every response, a CORS policy that offers only what is served, links
that never echo a client's Host header, per-client rate limits, and injection or traversal
attempts that get no data."""

from __future__ import annotations

import os
import socket

import pytest

from tests.helpers import links

PROBLEM = "application/problem+json"


@pytest.mark.parametrize(
    "path",
    [
        "/v1/events?limit=1",
        "/v1/events?format=csv",
        "/v1/locations?format=geojson",
        "/v1/events/no-such-event",
        "/v1/events?limt=1",
        "/openapi.json",
        "/healthz",
        "/readyz",
        "/docs",
        "/docs/assets/swagger-ui-bundle.js",
    ],
)
def test_every_response_carries_the_security_headers(client, path):
    response = client.get(path)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    if not path.startswith("/docs"):
        assert "default-src 'none'" in csp


def test_the_docs_page_runs_under_its_csp(client):
    """Every script of /docs is a local file or the inline script the CSP allows by hash."""
    import base64
    import hashlib
    import re

    page = client.get("/docs")
    csp = page.headers["Content-Security-Policy"]
    html = page.get_data(as_text=True)
    inline = re.findall(r"<script>(.*?)</script>", html, re.DOTALL)
    assert len(inline) == 1
    digest = base64.b64encode(hashlib.sha256(inline[0].encode()).digest()).decode()
    assert f"'sha256-{digest}'" in csp
    assert "'unsafe-inline'" not in csp.split("script-src", 1)[1].split(";")[0]
    for src in re.findall(r'<script src="([^"]+)"', html):
        assert src.startswith("/docs/assets/") and client.get(src).status_code == 200


def test_cors_preflight_offers_only_what_is_served(client):
    response = client.options(
        "/v1/events",
        headers={
            "Origin": "https://example.org",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "X-Evil, Authorization",
        },
    )
    methods = {m.strip() for m in response.headers["Access-Control-Allow-Methods"].split(",")}
    assert methods <= {"GET", "HEAD", "OPTIONS"}
    allowed = response.headers.get("Access-Control-Allow-Headers", "").lower()
    assert "x-evil" not in allowed and "authorization" not in allowed
    simple = client.get("/v1/events?limit=1", headers={"Origin": "https://example.org"})
    assert simple.headers["Access-Control-Allow-Origin"] == "*"


def test_a_forged_host_header_is_not_copied_into_links(client):
    response = client.get("/v1/events?limit=1", headers={"Host": "evil.example"})
    assert response.status_code == 200
    assert "evil.example" not in response.headers["Link"]
    assert links(response)["next"].startswith("http://localhost/v1/events?")


def test_public_url_is_the_base_of_links(make_app):
    client = make_app(PUBLIC_URL="https://api.example.org").test_client()
    response = client.get("/v1/events?limit=1", headers={"Host": "evil.example"})
    assert links(response)["next"].startswith("https://api.example.org/v1/events?")


def test_forwarded_host_is_trusted_only_behind_a_configured_proxy(make_app):
    forwarded = {"X-Forwarded-Host": "api.example.org", "X-Forwarded-Proto": "https"}
    plain = make_app().test_client().get("/v1/events?limit=1", headers=forwarded)
    assert "api.example.org" not in plain.headers["Link"]
    proxied = make_app(PROXY_COUNT=1).test_client().get("/v1/events?limit=1", headers=forwarded)
    assert links(proxied)["next"].startswith("https://api.example.org/v1/events?")


# ---------------------------------------------------------------- rate limits


def test_the_test_suite_is_not_throttled_by_default(client):
    for _ in range(5):
        response = client.get("/v1/sources")
        assert response.status_code == 200
    assert "RateLimit-Limit" not in response.headers


def test_a_client_over_its_budget_gets_a_429_problem_with_retry_after(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_DEFAULT="3/minute")
    client = app.test_client()
    responses = [client.get("/v1/sources") for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 200]
    # a 200 carries the budget, not `Retry-After` (Flask-Limiter adds it to every response)
    assert [r.headers["RateLimit-Remaining"] for r in responses] == ["2", "1", "0"]
    assert all("Retry-After" not in r.headers for r in responses)
    response = client.get("/v1/sources")
    assert response.status_code == 429 and response.mimetype == PROBLEM
    assert response.json["status"] == 429
    assert int(response.headers["Retry-After"]) > 0
    assert response.headers["RateLimit-Limit"] == "3"
    assert response.headers["RateLimit-Remaining"] == "0"
    # Seconds until the one-minute window resets (the IETF RateLimit fields), not a Unix time;
    # Flask-Limiter rounds the reset time up to the next second.
    assert 0 < int(response.headers["RateLimit-Reset"]) <= 61
    assert client.get("/healthz").status_code == 200  # probes are never throttled
    assert client.get("/readyz").status_code == 200
    other = client.get("/v1/sources", environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert other.status_code == 200  # the budget is per client


def test_the_rate_limit_key_is_pluggable(make_app):
    from flask import request

    app = make_app(
        RATELIMIT_ENABLED=True,
        RATELIMIT_DEFAULT="2/minute",
        RATELIMIT_KEY_FUNC=lambda: request.headers.get("X-Key", "anonymous"),
    )
    client = app.test_client()
    for _ in range(2):
        assert client.get("/v1/sources", headers={"X-Key": "a"}).status_code == 200
    assert client.get("/v1/sources", headers={"X-Key": "a"}).status_code == 429
    assert client.get("/v1/sources", headers={"X-Key": "b"}).status_code == 200


def redis_url() -> str | None:
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return url
    except OSError:
        return None


@pytest.mark.skipif(redis_url() is None, reason="no Redis on 127.0.0.1:6379")
def test_replicas_share_one_budget_through_redis(make_app):
    import uuid

    limit = "3/minute"
    prefix = str(uuid.uuid4())  # a budget of this test's own in the shared Redis
    config = {
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_DEFAULT": limit,
        "RATELIMIT_STORAGE_URI": redis_url(),
        "RATELIMIT_KEY_FUNC": lambda: prefix,
    }
    one, two = make_app(**config).test_client(), make_app(**config).test_client()
    statuses = [c.get("/v1/sources").status_code for c in (one, two, one, two)]
    assert statuses == [200, 200, 200, 429]


@pytest.mark.parametrize(
    "url",
    [
        "/v1/events?q=' OR 1=1 --",
        '/v1/actors?q="; DROP TABLE actor; --',
        '/v1/search?q=NEAR(a b) OR * AND "',
        "/v1/statements?q=%27%29%3B--",
        "/v1/events?actor=x' OR '1'='1",
        "/v1/sources?publisher=' UNION SELECT 1 --",
        "/v1/events/..%2F..%2Fetc%2Fpasswd",
        "/docs/assets/../../../../etc/passwd",
        "/docs/assets/%2e%2e/%2e%2e/etc/passwd",
    ],
)
def test_injection_and_traversal_get_no_data_and_no_500(client, url):
    response = client.get(url)
    assert response.status_code in (200, 404, 422), response.get_data(as_text=True)[:300]
    assert b"root:" not in response.data
    if response.status_code != 200:
        assert response.mimetype == PROBLEM
    assert client.get("/v1/actors?limit=1").status_code == 200  # the tables are still there
