"""Replay (api/http/response_cache.py): a cache hit answered before Flask is the answer Flask's own
path gives, status, headers (names, order, values) and body, with and without the rate
limiter; only the values that belong to one request differ (request id, date, the limiter's
remaining budget)."""

from __future__ import annotations

import pytest
from playhouse.test_utils import count_queries

from api.http.response_cache import Replay
from api.store import data_version

PAGE = "/v1/events?limit=5"
# Values of one request: compared by name and place, not by value.
PER_REQUEST = {"X-Request-Id", "Date", "RateLimit-Remaining", "RateLimit-Reset", "Retry-After"}
UNLIMITED = "1000000/minute"


@pytest.fixture
def flask_path(monkeypatch):
    """Turns Replay off (every request goes on to Flask, whose lookup replays the hit)."""

    def turn_off() -> None:
        monkeypatch.setattr(Replay, "__call__", lambda self, env, start: self.wsgi_app(env, start))

    return turn_off


def shape(response) -> tuple:
    headers = [
        (name, "…" if name in PER_REQUEST else value) for name, value in response.headers.items()
    ]
    return response.status_code, headers, response.data


def replayed_and_flask(make_app, flask_path, method: str, path: str, headers: dict, **config):
    """The same request answered by Replay and by Flask's path (the same cache, primed)."""
    app = make_app(RESPONSE_CACHE=True, **config)
    client = app.test_client()
    unconditional = {k: v for k, v in headers.items() if not k.startswith("If-")}
    primed = client.open(path, method=method, headers=unconditional)
    assert primed.status_code == 200
    etag = primed.headers["ETag"]
    headers = {name: value.replace("{etag}", etag) for name, value in headers.items()}
    with count_queries() as counter:
        replayed = client.open(path, method=method, headers=headers)
    assert counter.count == 1  # the data version
    flask_path()
    return replayed, client.open(path, method=method, headers=headers)


REQUESTS = [
    ("GET", {}),
    ("GET", {"Origin": "https://example.org"}),
    ("GET", {"Origin": "https://example.org", "Access-Control-Request-Private-Network": "true"}),
    ("GET", {"Accept-Encoding": "gzip"}),
    ("GET", {"Accept": "text/csv"}),
    ("GET", {"X-Request-Id": "client-id-1"}),
    ("GET", {"X-Request-Id": "bad id\tinjected"}),
    ("GET", {"If-None-Match": "{etag}", "Origin": "https://example.org"}),
    ("GET", {"If-None-Match": '"another"'}),
    ("GET", {"If-Modified-Since": "Sun, 01 Jan 2090 00:00:00 GMT"}),
    ("HEAD", {}),
    ("HEAD", {"If-None-Match": "{etag}"}),
]


@pytest.mark.parametrize("limited", [False, True], ids=["no-limiter", "limiter"])
@pytest.mark.parametrize(("method", "headers"), REQUESTS)
def test_a_replay_is_the_flask_answer(make_app, flask_path, limited, method, headers):
    config = {"RATELIMIT_ENABLED": limited, "RATELIMIT_DEFAULT": UNLIMITED}
    replayed, flask = replayed_and_flask(make_app, flask_path, method, PAGE, headers, **config)
    assert shape(replayed) == shape(flask)
    assert ("RateLimit-Limit" in replayed.headers) is limited
    if "If-None-Match" in headers and "another" not in headers["If-None-Match"]:
        assert replayed.status_code == 304 and not replayed.data
    if method == "HEAD":
        assert replayed.data == b""
        assert replayed.status_code == 304 or int(replayed.headers["Content-Length"]) > 0
    given = headers.get("X-Request-Id", "")
    assert (replayed.headers["X-Request-Id"] == given) is (given == "client-id-1")
    assert replayed.headers["X-Request-Id"] != flask.headers["X-Request-Id"] or given


def test_replays_spend_the_rate_limit_and_are_refused_as_flask_refuses(make_app, flask_path):
    """Each hit counts against the client's budget; beyond it, Flask's own 429."""
    config = {"RESPONSE_CACHE": True, "RATELIMIT_ENABLED": True, "RATELIMIT_DEFAULT": "3/minute"}

    def four_requests() -> list:
        client = make_app(**config).test_client()
        return [client.get(PAGE, headers={"Origin": "https://example.org"}) for _ in range(4)]

    replayed = four_requests()
    assert [r.headers["RateLimit-Remaining"] for r in replayed[:3]] == ["2", "1", "0"]
    assert replayed[3].status_code == 429
    flask_path()
    computed = four_requests()
    assert [shape(r) for r in replayed] == [shape(r) for r in computed]


def test_a_miss_costs_no_query_more_than_on_flask_path(make_app, flask_path):
    """Replay reads the data version; on a miss, Flask's path takes it from there."""

    def queries_of_a_miss() -> list[str]:
        client = make_app(RESPONSE_CACHE=True).test_client()
        with count_queries() as counter:
            assert client.get(PAGE).status_code == 200
        return [sql for sql, _ in (query.msg for query in counter.get_queries())]

    replayed = queries_of_a_miss()
    flask_path()
    assert replayed == queries_of_a_miss()


def test_replays_follow_the_trusted_host_rules(make_app):
    """The key is the URL the trusted-host rules leave: behind a proxy, each forwarded host
    has its own entry (links name it); with PUBLIC_URL, any Host header gets the one entry."""
    client = make_app(RESPONSE_CACHE=True, PROXY_COUNT=1).test_client()
    for _ in range(2):
        for host in ("a.example", "b.example"):
            response = client.get(PAGE, headers={"X-Forwarded-Host": host})
            assert f"<http://{host}/v1/events?" in response.headers["Link"]
    client = make_app(RESPONSE_CACHE=True, PUBLIC_URL="https://api.example/base").test_client()
    first = client.get(PAGE, headers={"Host": "evil.example"})
    with count_queries() as counter:
        again = client.get(PAGE, headers={"Host": "other.example"})
    assert counter.count == 1 and again.data == first.data
    assert again.headers["Link"].startswith("<https://api.example/base/v1/events?")


def test_authorised_and_non_v1_requests_are_not_replayed(make_app):
    client = make_app(RESPONSE_CACHE=True).test_client()
    for path in ("/openapi.json", "/healthz"):
        client.get(path)
        with count_queries() as counter:
            client.get(path)
        assert data_version.READ not in [sql for sql, _ in (q.msg for q in counter.get_queries())]
    client.get(PAGE)
    with count_queries() as counter:
        refused = client.get(PAGE, headers={"Authorization": "Bearer bk_nope.nope"})
    assert refused.status_code == 200 and counter.count > 1  # computed, as a public read is
