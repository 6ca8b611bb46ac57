"""`/v1/subscriptions`: made, read, changed and removed by the key that made them (an admin
key: any); the secret shown once; bad bodies and refused targets are 4xx problems that change
nothing. No request reaches a target here (no worker runs)."""

from __future__ import annotations

import uuid

import pytest

from api.http.keys import create_key
from tests.helpers import assert_problem, located
from tests.push_helpers import DNS

HOOK = "http://127.0.0.1:9/hook"  # never dialled: no worker runs in these tests


@pytest.fixture
def client(curated):
    return curated.app.test_client()


def test_a_subscription_is_made_read_changed_and_removed(client, curated):
    made = client.post(
        "/v1/subscriptions",
        json={"url": HOOK, "description": "mirror", "filters": {"record_type": ["event"]}},
        headers=curated.auth(),
    )
    assert made.status_code == 201, made.json
    body = made.json
    assert body["secret"].startswith("whsec_") and body["enabled"] is True
    assert made.headers["Location"].endswith(f"/v1/subscriptions/{body['id']}")
    assert body["filters"] == {"record_type": ["event"], "source": []}

    shown = client.get(f"/v1/subscriptions/{body['id']}", headers=curated.auth())
    assert shown.status_code == 200 and "secret" not in shown.json  # shown once only
    assert [s["id"] for s in client.get("/v1/subscriptions", headers=curated.auth()).json] == [
        body["id"]
    ]

    changed = client.patch(
        f"/v1/subscriptions/{body['id']}",
        json={"filters": {"source": ["a-source"]}, "enabled": False},
        headers=curated.auth(),
    )
    assert changed.status_code == 200, changed.json
    assert changed.json["filters"] == {"record_type": [], "source": ["a-source"]}
    assert changed.json["enabled"] is False
    assert changed.json["disabled_reason"] == "Disabled by its owner."

    assert (
        client.delete(f"/v1/subscriptions/{body['id']}", headers=curated.auth()).status_code == 204
    )
    gone = client.get(f"/v1/subscriptions/{body['id']}", headers=curated.auth())
    assert_problem(gone, 404)


def test_a_key_sees_its_own_subscriptions_and_an_admin_every_one(client, curated):
    made = client.post("/v1/subscriptions", json={"url": HOOK}, headers=curated.auth()).json
    other = create_key(f"other-{uuid.uuid4().hex[:6]}", "write")
    stranger = {"Authorization": f"Bearer {other}"}
    assert client.get("/v1/subscriptions", headers=stranger).json == []
    for method in ("get", "patch", "delete"):
        response = getattr(client, method)(
            f"/v1/subscriptions/{made['id']}", headers=stranger, json={}
        )
        assert_problem(response, 404)
    assert_problem(client.get(f"/v1/subscriptions/{made['id']}/deliveries", headers=stranger), 404)
    assert_problem(client.post(f"/v1/subscriptions/{made['id']}/secret", headers=stranger), 404)
    admin = client.get("/v1/subscriptions", headers=curated.auth("admin")).json
    assert made["id"] in [s["id"] for s in admin]


def test_subscriptions_need_a_write_key(client, curated):
    unauthenticated = client.get("/v1/subscriptions")
    assert_problem(unauthenticated, 401)
    assert unauthenticated.headers["WWW-Authenticate"].startswith("Bearer")
    assert_problem(client.post("/v1/subscriptions", json={"url": HOOK}), 401)
    assert_problem(client.get("/v1/subscriptions", headers=curated.auth("read")), 403)


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({}, "url"),
        ({"url": HOOK, "filters": {"record_type": ["nonsense"]}}, "filters.record_type[0]"),
        ({"url": HOOK, "extra": 1}, "extra"),
        ({"url": HOOK, "description": "x" * 501}, "description"),
        ({"url": HOOK, "description": "bell\x07"}, "description"),
        ({"url": "ftp://127.0.0.1/"}, "url"),
        ({"url": "http://user:pw@127.0.0.1/"}, "url"),
        ({"url": "http://internal.test/hook"}, "url"),  # resolves to a private address
        ({"url": "http://metadata.test/latest/meta-data"}, "url"),  # to the metadata address
        ({"url": "http://unknown.test/hook"}, "url"),  # does not resolve
    ],
)
def test_a_refused_subscription_is_a_422_that_changes_nothing(client, curated, body, path):
    DNS.names["internal.test"] = ["192.168.10.10"]
    DNS.names["metadata.test"] = ["169.254.169.254"]
    try:
        response = client.post("/v1/subscriptions", json=body, headers=curated.auth())
    finally:
        DNS.names.pop("internal.test")
        DNS.names.pop("metadata.test")
    problem = assert_problem(response, 422)
    assert f"json.{path}" in located(problem), problem
    assert client.get("/v1/subscriptions", headers=curated.auth("admin")).json == []


def test_a_url_changed_to_a_refused_target_is_refused(client, curated):
    made = client.post("/v1/subscriptions", json={"url": HOOK}, headers=curated.auth()).json
    DNS.names["link-local.test"] = ["fe80::1"]
    try:
        response = client.patch(
            f"/v1/subscriptions/{made['id']}",
            json={"url": "http://link-local.test/hook"},
            headers=curated.auth(),
        )
    finally:
        DNS.names.pop("link-local.test")
    assert "link-local" in assert_problem(response, 422)["detail"]
    assert client.get(f"/v1/subscriptions/{made['id']}", headers=curated.auth()).json["url"] == HOOK


def test_https_is_required_unless_the_deployment_allows_http(make_app, curated):
    strict = make_app(curated.url, WEBHOOK_ALLOW_HTTP=False).test_client()
    response = strict.post("/v1/subscriptions", json={"url": HOOK}, headers=curated.auth())
    assert "must be https" in assert_problem(response, 422)["detail"]
    no_loopback = make_app(curated.url, WEBHOOK_ALLOW_LOOPBACK=False).test_client()
    response = no_loopback.post("/v1/subscriptions", json={"url": HOOK}, headers=curated.auth())
    assert "loopback" in assert_problem(response, 422)["detail"]


def test_subscriptions_are_never_cached(make_app, curated):
    """Not by a shared cache (no-store), nor by the response cache under READS_REQUIRE_KEY,
    where keyed reads are cached: deliveries change without a new data version."""
    client = make_app(curated.url, RESPONSE_CACHE=True, READS_REQUIRE_KEY=True).test_client()
    assert client.get("/v1/subscriptions", headers=curated.auth()).json == []
    made = client.post("/v1/subscriptions", json={"url": HOOK}, headers=curated.auth())
    listed = client.get("/v1/subscriptions", headers=curated.auth())
    assert [s["id"] for s in listed.json] == [made.json["id"]]
    assert listed.headers["Cache-Control"] == "no-store"
    assert made.headers["Cache-Control"] == "no-store"
