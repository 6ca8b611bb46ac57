"""API keys: `briefing keys create | list | revoke`; only a slow hash is stored; the key is
accepted as a Bearer token until revoked."""

from __future__ import annotations

import json
import uuid

import pytest
from click.testing import CliRunner

from api.cli import cli
from tests.import_helpers import ANDES, ANDES_ID, remove_test_sources, with_text


@pytest.fixture
def keys_cli(client, app, database_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    yield lambda *args: CliRunner().invoke(cli, ["keys", *args])
    remove_test_sources(app)


def post(client, key: str | None):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return client.post(
        "/v1/briefings?dry_run=true",
        data=json.dumps(with_text(ANDES)),
        content_type="application/json",
        headers=headers,
    )


def test_create_prints_the_key_once_and_stores_only_a_hash(keys_cli, client, app):
    from api.store.db import database
    from api.store.models import ApiKey

    name = f"test-curator-{uuid.uuid4().hex[:6]}"
    result = keys_cli("create", name, "--scope", "write")
    assert result.exit_code == 0, result.output
    key = result.output.strip().splitlines()[-1]
    prefix, _, secret = key.partition(".")
    assert prefix.startswith("bk_") and len(secret) >= 32
    with app.app_context(), database.connection_context():
        stored = ApiKey.get(ApiKey.name == name)
    assert stored.secret_hash.startswith("$argon2id$") and secret not in stored.secret_hash
    assert post(client, key).status_code == 200
    assert post(client, key + "x").status_code == 401
    listed = keys_cli("list")
    assert name in listed.output and prefix in listed.output and secret not in listed.output
    assert keys_cli("create", name).exit_code != 0  # names are unique


def test_a_revoked_key_is_refused(keys_cli, make_app):
    name = f"test-revoked-{uuid.uuid4().hex[:6]}"
    key = keys_cli("create", name, "--scope", "admin").output.strip().splitlines()[-1]
    uncached = make_app(API_KEY_CACHE_SECONDS=0).test_client()
    assert post(uncached, key).status_code == 200
    result = keys_cli("revoke", name)
    assert result.exit_code == 0, result.output
    assert post(uncached, key).status_code == 401
    assert "revoked" in keys_cli("list").output
    assert keys_cli("revoke", name).exit_code != 0


def test_a_read_key_cannot_write(keys_cli, client):
    key = keys_cli("create", f"test-reader-{uuid.uuid4().hex[:6]}", "--scope", "read")
    response = post(client, key.output.strip().splitlines()[-1])
    assert response.status_code == 403
    assert client.get(f"/v1/sources/{ANDES_ID}").status_code == 404


# ---------------------------------------------------------------- failed authentication


class CountingHasher:
    """argon2's hasher, counting the slow calls (a verification or a hash of a secret)."""

    def __init__(self, real) -> None:
        self.real, self.calls = real, 0

    def verify(self, *args):
        self.calls += 1
        return self.real.verify(*args)

    def hash(self, *args):
        self.calls += 1
        return self.real.hash(*args)


@pytest.fixture
def hasher(monkeypatch):
    from api.http import auth

    counting = CountingHasher(auth.HASHER)
    monkeypatch.setattr(auth, "HASHER", counting)
    return counting


def audit(client, key: str, address: str = "127.0.0.1"):
    return client.get(
        "/v1/audit?limit=1",
        headers={"Authorization": f"Bearer {key}"},
        environ_base={"REMOTE_ADDR": address},
    )


def new_key(keys_cli, scope: str = "admin", hasher: CountingHasher | None = None):
    """(name, key) of a new key; its creation's hashing is not counted."""
    name = f"test-key-{uuid.uuid4().hex[:8]}"
    calls = hasher.calls if hasher else 0
    key = keys_cli("create", name, "--scope", scope).output.strip().splitlines()[-1]
    if hasher:
        hasher.calls = calls
    return name, key


def test_an_unknown_prefix_is_refused_without_hashing(keys_cli, client, hasher):
    for key in ("bk_0123456789ab.nosuchsecret", "no-dot-at-all", "bk_.x", "bk_abc."):
        response = audit(client, key)
        assert response.status_code == 401, key
        assert response.headers["Content-Type"] == "application/problem+json"
    assert hasher.calls == 0


def test_a_wrong_secret_is_verified_whether_or_not_the_key_is_cached(keys_cli, make_app, hasher):
    _, key = new_key(keys_cli, hasher=hasher)
    client = make_app().test_client()
    assert audit(client, key + "x").status_code == 401  # not cached yet: one verification
    assert hasher.calls == 1
    assert audit(client, key).status_code == 200  # verified and remembered
    assert audit(client, key).status_code == 200  # remembered: no verification
    assert hasher.calls == 2
    assert audit(client, key + "x").status_code == 401  # cached prefix, wrong secret: verified
    other_last = "B" if key.endswith("A") else "A"  # a secret one character off, never the key
    assert audit(client, key[:-1] + other_last).status_code == 401
    assert hasher.calls == 4


def test_a_revoked_key_is_refused_on_the_very_next_request_by_every_worker(keys_cli, make_app):
    name, key = new_key(keys_cli)
    workers = [make_app(API_KEY_CACHE_SECONDS=600).test_client() for _ in range(2)]
    for worker in workers:
        assert audit(worker, key).status_code == 200
        assert audit(worker, key).status_code == 200  # from the worker's memory
    assert keys_cli("revoke", name).exit_code == 0
    for worker in workers:
        response = audit(worker, key)
        assert response.status_code == 401
        assert "invalid_token" in response.headers["WWW-Authenticate"]


def test_a_narrowed_scope_applies_on_the_next_request(keys_cli, make_app, app):
    from api.store.db import database
    from api.store.models import ApiKey

    name, key = new_key(keys_cli)
    client = make_app(API_KEY_CACHE_SECONDS=600).test_client()
    assert audit(client, key).status_code == 200
    with app.app_context(), database.connection_context():
        ApiKey.update(scope="write").where(ApiKey.name == name).execute()
    assert audit(client, key).status_code == 403


def limited_app(make_app, limit: str = "3/minute"):
    return make_app(RATELIMIT_ENABLED=True, AUTH_FAILURE_LIMIT=limit).test_client()


def assert_too_many(response) -> None:
    assert response.status_code == 429
    assert response.headers["Content-Type"] == "application/problem+json"
    assert 0 < int(response.headers["Retry-After"]) <= 60
    assert response.get_json()["status"] == 429


def test_repeated_failures_of_a_client_are_limited(keys_cli, make_app, hasher):
    _, key = new_key(keys_cli, hasher=hasher)
    client = limited_app(make_app)
    for n in range(3):
        assert audit(client, f"bk_{n:012x}.made-up", "10.0.0.1").status_code == 401
    assert_too_many(audit(client, "bk_ffffffffffff.made-up", "10.0.0.1"))
    calls = hasher.calls
    assert_too_many(audit(client, key + "x", "10.0.0.1"))  # refused before any hashing
    assert hasher.calls == calls
    assert audit(client, key, "10.0.0.2").status_code == 200  # another client is not
    assert (
        client.get("/v1/events?limit=1", environ_base={"REMOTE_ADDR": "10.0.0.1"}).status_code
        == 200
    )


def test_repeated_failures_on_a_key_prefix_are_limited_from_any_client(keys_cli, make_app, hasher):
    _, key = new_key(keys_cli, hasher=hasher)
    _, other = new_key(keys_cli, hasher=hasher)
    client = limited_app(make_app)
    assert audit(client, key, "10.1.0.99").status_code == 200  # this worker knows the key
    for n in range(3):
        assert audit(client, key + "x", f"10.1.0.{n}").status_code == 401
    calls = hasher.calls
    assert_too_many(audit(client, key + "x", "10.1.0.50"))  # a new client, the same prefix
    assert hasher.calls == calls
    assert audit(client, key, "10.1.0.51").status_code == 200  # the remembered key: no hashing
    assert audit(client, other, "10.1.0.52").status_code == 200  # other prefixes are not
