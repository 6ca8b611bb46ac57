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
