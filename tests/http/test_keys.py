"""API keys over HTTP (`/v1/keys`, admin) and `briefing keys`, one code path: create (the secret
shown once), list, revoke, rotate with a grace period, expiry, last use; no secret or hash in
any response, log line or audit entry."""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid

import pytest
from click.testing import CliRunner

from api.cli import cli
from tests.helpers import assert_problem
from tests.import_helpers import ANDES, with_text


@pytest.fixture
def client(curated):
    return curated.app.test_client()


def admin(curated) -> dict[str, str]:
    return curated.auth("admin")


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def dry_run(client, key: str):
    """A write that changes nothing: a dry-run import."""
    return client.post(
        "/v1/briefings?dry_run=true",
        data=json.dumps(with_text(ANDES)),
        content_type="application/json",
        headers=bearer(key),
    )


def create(client, curated, **body):
    body = {"name": f"k-{uuid.uuid4().hex[:8]}", "owner": "partner-a", **body}
    return client.post("/v1/keys", json=body, headers=admin(curated))


def set_key(curated, name: str, **values) -> None:
    """Move a key's times, as the clock would (no test waits)."""
    from api.store.db import database
    from api.store.models import ApiKey

    with curated.app.app_context(), database.connection_context():
        ApiKey.update(**values).where(ApiKey.name == name).execute()


def stored(curated, name: str):
    from api.store.db import database
    from api.store.models import ApiKey

    with curated.app.app_context(), database.connection_context():
        return ApiKey.get(ApiKey.name == name)


def test_create_shows_the_secret_once_and_the_key_writes_for_its_owner(client, curated):
    response = create(client, curated, scope="write")
    assert response.status_code == 201, response.json
    issued = response.json
    assert issued["owner"] == "partner-a" and issued["scope"] == "write"
    assert issued["state"] == "active" and issued["last_used_at"] is None
    assert response.headers["Location"] == f"/v1/keys/{issued['name']}"
    assert response.headers["Cache-Control"] == "no-store"
    assert issued["key"].startswith(issued["prefix"] + ".")
    assert dry_run(client, issued["key"]).status_code == 200
    shown = client.get(f"/v1/keys/{issued['name']}", headers=admin(curated)).json
    assert "key" not in shown and shown["owner"] == "partner-a"
    listed = client.get("/v1/keys", headers=admin(curated)).json
    assert issued["name"] in [key["name"] for key in listed]
    assert all(set(key) == set(shown) for key in listed)


@pytest.mark.parametrize(
    ("body", "status", "where"),
    [
        ({"owner": None}, 422, "owner"),
        ({"owner": "a b"}, 422, "owner"),
        ({"scope": "root"}, 422, "scope"),
        ({"expires_at": "2001-01-01T00:00:00Z"}, 422, None),
        ({"colour": "red"}, 422, "colour"),
    ],
)
def test_a_bad_key_is_refused(client, curated, body, status, where):
    response = create(client, curated, **body)
    problem = assert_problem(response, status)
    if where:
        assert any(where in error["path"] for error in problem["errors"]), problem


def test_names_are_unique_and_only_an_admin_manages_keys(client, curated):
    name = create(client, curated).json["name"]
    assert_problem(create(client, curated, name=name), 409)
    write = curated.auth("write")
    assert_problem(client.get("/v1/keys", headers=write), 403)
    assert_problem(client.post("/v1/keys", json={"name": "x", "owner": "y"}, headers=write), 403)
    assert_problem(client.delete(f"/v1/keys/{name}", headers=write), 403)
    assert_problem(client.get("/v1/keys"), 401)
    assert_problem(client.get("/v1/keys/no-such-key", headers=admin(curated)), 404)


def test_a_revoked_key_is_refused_on_the_next_request(client, curated):
    issued = create(client, curated).json
    assert dry_run(client, issued["key"]).status_code == 200  # and remembered by this worker
    revoked = client.delete(f"/v1/keys/{issued['name']}", headers=admin(curated))
    assert revoked.status_code == 200 and revoked.json["state"] == "revoked"
    assert_problem(dry_run(client, issued["key"]), 401)
    assert_problem(client.delete(f"/v1/keys/{issued['name']}", headers=admin(curated)), 404)


def test_an_expired_key_is_refused(client, curated):
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(days=30)).isoformat()
    issued = create(client, curated, expires_at=later).json
    assert issued["expires_at"].startswith(later[:16])
    assert dry_run(client, issued["key"]).status_code == 200
    set_key(curated, issued["name"], expires_at=dt.datetime(2020, 1, 1))
    assert_problem(dry_run(client, issued["key"]), 401)
    shown = client.get(f"/v1/keys/{issued['name']}", headers=admin(curated)).json
    assert shown["state"] == "expired"


def test_rotation_keeps_the_old_secret_through_its_grace_and_not_after(client, curated):
    issued = create(client, curated).json
    old = issued["key"]
    assert dry_run(client, old).status_code == 200  # remembered by this worker
    rotated = client.post(
        f"/v1/keys/{issued['name']}/rotate", json={"grace_seconds": 600}, headers=admin(curated)
    )
    assert rotated.status_code == 200, rotated.json
    new = rotated.json["key"]
    assert new != old and new.split(".")[0] == old.split(".")[0]
    assert rotated.json["previous_secret_until"] is not None
    assert dry_run(client, new).status_code == 200
    assert dry_run(client, old).status_code == 200  # within the grace
    set_key(curated, issued["name"], previous_until=dt.datetime(2020, 1, 1))  # grace over
    assert_problem(dry_run(client, old), 401)
    assert dry_run(client, new).status_code == 200
    again = client.post(
        f"/v1/keys/{issued['name']}/rotate", json={"grace_seconds": 0}, headers=admin(curated)
    ).json
    assert again["previous_secret_until"] is None
    assert_problem(dry_run(client, new), 401)  # no grace: the previous secret stops at once
    assert dry_run(client, again["key"]).status_code == 200
    refused = client.post(
        f"/v1/keys/{issued['name']}/rotate", json={"grace_seconds": -1}, headers=admin(curated)
    )
    assert_problem(refused, 422)


def test_last_use_is_written_at_most_once_per_interval(client, curated, make_app):
    issued = create(client, curated).json
    assert stored(curated, issued["name"]).last_used_at is None
    assert dry_run(client, issued["key"]).status_code == 200
    first = stored(curated, issued["name"]).last_used_at
    assert first is not None
    assert dry_run(client, issued["key"]).status_code == 200
    assert stored(curated, issued["name"]).last_used_at == first  # within the interval
    set_key(curated, issued["name"], last_used_at=first - dt.timedelta(minutes=2))
    assert dry_run(client, issued["key"]).status_code == 200
    assert stored(curated, issued["name"]).last_used_at > first - dt.timedelta(minutes=2)
    shown = client.get(f"/v1/keys/{issued['name']}", headers=admin(curated)).json
    assert shown["last_used_at"] is not None


def test_no_secret_or_hash_in_any_response_log_line_or_audit_entry(client, curated, caplog):
    caplog.set_level(logging.DEBUG)
    bodies = []
    issued = create(client, curated, scope="write")
    bodies.append(issued)
    key = issued.json["key"]
    name = issued.json["name"]
    rotated = client.post(f"/v1/keys/{name}/rotate", json={}, headers=admin(curated))
    bodies.append(rotated)
    new = rotated.json["key"]
    imported = client.post(
        "/v1/briefings",
        data=json.dumps(with_text(ANDES)),
        content_type="application/json",
        headers=bearer(new),
    )
    assert imported.status_code == 201
    bodies += [imported, dry_run(client, key + "x"), dry_run(client, "bk_000000000000.nope")]
    bodies += [
        client.get("/v1/keys", headers=admin(curated)),
        client.get(f"/v1/keys/{name}", headers=admin(curated)),
        client.get("/v1/audit?limit=1000", headers=admin(curated)),
        client.delete(f"/v1/keys/{name}", headers=admin(curated)),
    ]
    row = stored(curated, name)
    secrets = [key.split(".")[1], new.split(".")[1], row.secret_hash, row.previous_hash]
    shown = [json.dumps(dict(r.headers)) + r.get_data(as_text=True) for r in bodies[2:]]
    shown += [json.dumps(dict(r.headers)) for r in bodies[:2]]  # their bodies hold the key once
    shown += [caplog.text]
    for text in shown:
        for secret in secrets:
            assert secret not in text
        assert "$argon2" not in text
    for issued_response, secret in ((bodies[0], key), (bodies[1], new)):
        body = issued_response.json
        assert body.pop("key") == secret
        assert secret.split(".")[1] not in json.dumps(body) and "$argon2" not in json.dumps(body)


def test_the_command_line_manages_keys_through_the_same_code(client, curated, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", curated.url)
    run = lambda *args: CliRunner().invoke(cli, ["keys", *args])  # noqa: E731
    name = f"cli-{uuid.uuid4().hex[:6]}"
    made = run("create", name, "--owner", "partner-b", "--expires-at", "2099-01-01")
    assert made.exit_code == 0, made.output
    key = made.output.strip().splitlines()[-1]
    shown = client.get(f"/v1/keys/{name}", headers=admin(curated)).json
    assert shown["owner"] == "partner-b" and shown["expires_at"].startswith("2099-01-01")
    listed = run("list").output
    assert name in listed and "partner-b" in listed and key.split(".")[1] not in listed
    rotated = run("rotate", name, "--grace", "60")
    assert rotated.exit_code == 0, rotated.output
    new = rotated.output.strip().splitlines()[-1]
    assert dry_run(client, new).status_code == 200 and dry_run(client, key).status_code == 200
    assert run("create", name).exit_code != 0  # names are unique
    assert run("create", "bad name").exit_code != 0
    assert run("revoke", name).exit_code == 0
    assert_problem(dry_run(client, new), 401)
