"""POST /v1/briefings, DELETE /v1/sources/{id}, GET /v1/sources/{id}/text and /bundle: the
same importer as `briefing seed`, behind API keys, on both backends."""

from __future__ import annotations

import json
import uuid

import pytest
import yaml

from tests.import_helpers import ANDES, ANDES_ID, BALTIC, remove_test_sources, with_text

SEED_ID = "al-monitor-2020-04-07-us-iran-showdown-iraq"
PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def keys(app):
    """A key of each scope (names unique per backend: the session database keeps them)."""
    from api.http.keys import create_key

    with app.app_context():
        return {
            scope: create_key(f"test-{scope}-{uuid.uuid4().hex[:8]}", scope)
            for scope in ("read", "write", "admin")
        }


@pytest.fixture
def api(client, app, keys):
    """The client, with `post(bundle, scope=..., **query)`; removes what the test imported."""

    class Api:
        def post(self, bundle, scope="write", media="application/json", query=""):
            body = json.dumps(bundle) if media.endswith("json") else yaml.safe_dump(bundle)
            headers = {"Authorization": f"Bearer {keys[scope]}"} if scope else {}
            return client.post(
                f"/v1/briefings{query}", data=body, content_type=media, headers=headers
            )

        def delete(self, source_id, scope="write", if_match="*"):
            headers = {"Authorization": f"Bearer {keys[scope]}"} if scope else {}
            headers |= {"If-Match": if_match} if if_match else {}
            return client.delete(f"/v1/sources/{source_id}", headers=headers)

    yield Api()
    remove_test_sources(app)


def test_a_write_without_a_key_is_401_with_a_bearer_challenge(api, client):
    response = api.post(with_text(ANDES), scope=None)
    assert response.status_code == 401
    assert response.mimetype == PROBLEM
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    bad = client.post(
        "/v1/briefings",
        data=json.dumps(with_text(ANDES)),
        content_type="application/json",
        headers={"Authorization": "Bearer bk_000000000000.not-a-key"},
    )
    assert bad.status_code == 401 and "invalid_token" in bad.headers["WWW-Authenticate"]
    assert client.get(f"/v1/sources/{ANDES_ID}").status_code == 404


def test_a_key_without_the_write_scope_is_403(api, client):
    response = api.post(with_text(ANDES), scope="read")
    assert response.status_code == 403 and response.mimetype == PROBLEM
    assert api.delete(SEED_ID, scope="read").status_code == 403
    assert api.delete(SEED_ID, scope=None).status_code == 401
    assert client.get(f"/v1/sources/{SEED_ID}").status_code == 200


def test_an_import_answers_201_with_its_location_and_summary(api, client):
    response = api.post(with_text(ANDES), scope="admin")  # admin implies write
    assert response.status_code == 201, response.json
    assert response.headers["Location"] == f"/v1/sources/{ANDES_ID}"
    body = response.json
    assert body["source"] == ANDES_ID and body["dry_run"] is False
    assert body["collections"]["statements"] == {
        "created": 1,
        "updated": 0,
        "deleted": 0,
        "unchanged": 0,
    }
    assert body["collections"]["actors"]["created"] == 2  # reuters is the seed's: updated
    assert body["collections"]["actors"]["updated"] == 1
    again = api.post(with_text(ANDES))
    assert again.status_code == 201 and again.json["changed"] == 0
    assert again.json["collections"]["events"]["unchanged"] == 1
    assert client.get(response.headers["Location"]).json["counts"]["events"] == 1


@pytest.mark.parametrize("dump", [yaml.safe_dump, json.dumps], ids=["yaml", "json"])
def test_a_bundle_file_may_come_as_octet_stream(api, client, keys, dump):
    """The spec's YAML body: a bundle file as is (YAML, or JSON), `application/octet-stream`."""
    response = client.post(
        "/v1/briefings?dry_run=true",
        data=dump(with_text(BALTIC)),
        content_type="application/octet-stream",
        headers={"Authorization": f"Bearer {keys['write']}"},
    )
    assert response.status_code == 200, response.json
    assert response.json["collections"]["events"]["created"] >= 1
    broken = client.post(
        "/v1/briefings",
        data="source: [unclosed",
        content_type="application/octet-stream",
        headers={"Authorization": f"Bearer {keys['write']}"},
    )
    assert broken.status_code == 422 and broken.json["errors"][0]["message"].startswith(
        "Not valid YAML"
    )


def test_the_source_text_travels_with_the_bundle(api, client):
    assert api.post(with_text(BALTIC), media="application/yaml").status_code == 201
    response = client.get("/v1/sources/test-baltic-2024-02-03-gotland-cable/text")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.get_data(as_text=True) == with_text(BALTIC)["source"]["text"]
    assert client.get("/v1/sources/no-such-source/text").status_code == 404


def test_a_dry_run_counts_the_same_and_writes_nothing(api, client):
    dry = api.post(with_text(ANDES), query="?dry_run=true")
    assert dry.status_code == 200 and dry.json["dry_run"] is True
    assert client.get(f"/v1/sources/{ANDES_ID}").status_code == 404
    assert client.get("/v1/search?q=Quispe").json == []
    real = api.post(with_text(ANDES))
    assert real.json["collections"] == dry.json["collections"]


def test_a_bundle_with_errors_is_422_listing_each(api, client):
    bundle = with_text(ANDES)
    bundle["events"][0]["date"] = "2021-02-30"
    bundle["actors"][1]["country"] = "ZZ"
    bundle["relations"][0]["object"] = "test-sindicato-minero"
    response = api.post(bundle)
    assert response.status_code == 422 and response.mimetype == PROBLEM
    errors = response.json["errors"]
    assert {"path": "events[0].date", "message": "Not a real date (YYYY-MM-DD)."} in errors
    assert any(e["path"] == "actors[1].country" for e in errors)
    assert {
        "path": "relations[0].object",
        "message": "unknown actor 'test-sindicato-minero'; did you mean "
        "'test-sindicato-minero-del-altiplano'?",
    } in errors
    assert client.get(f"/v1/sources/{ANDES_ID}").status_code == 404


def test_bodies_that_are_not_bundles(api, client, keys):
    headers = {"Authorization": f"Bearer {keys['write']}"}
    plain = client.post("/v1/briefings", data="hello", content_type="text/plain", headers=headers)
    assert plain.status_code == 415 and plain.mimetype == PROBLEM
    broken = client.post(
        "/v1/briefings", data="{not json", content_type="application/json", headers=headers
    )
    assert broken.status_code == 422 and broken.json["errors"][0]["message"].startswith(
        "Not valid JSON"
    )
    listed = client.post(
        "/v1/briefings", data="[]", content_type="application/json", headers=headers
    )
    assert listed.status_code == 422


def test_a_body_over_the_limit_is_413(api, client, keys, make_app):
    headers = {"Authorization": f"Bearer {keys['write']}"}
    huge = b'{"source": "' + b"x" * (5 * 1024 * 1024) + b'"}'
    response = client.post(
        "/v1/briefings", data=huge, content_type="application/json", headers=headers
    )
    assert response.status_code == 413 and response.mimetype == PROBLEM
    small = make_app(MAX_CONTENT_LENGTH=2000).test_client()
    body = json.dumps(with_text(ANDES))
    response = small.post(
        "/v1/briefings", data=body, content_type="application/json", headers=headers
    )
    assert response.status_code == 413


def test_export_then_import_changes_nothing(api, client):
    assert api.post(with_text(ANDES)).status_code == 201
    for source_id in (ANDES_ID, SEED_ID):
        exported = client.get(f"/v1/sources/{source_id}/bundle")
        assert exported.status_code == 200
        again = api.post(exported.json, query="?dry_run=true")
        assert again.status_code == 200, again.json
        assert again.json["changed"] == 0, again.json
    assert client.get("/v1/sources/no-such-source/bundle").status_code == 404


def test_deleting_a_source_removes_what_only_it_supports(api, client):
    assert api.post(with_text(ANDES)).status_code == 201
    assert client.get("/v1/search?q=Quispe").json
    response = api.delete(ANDES_ID)
    assert response.status_code == 200, response.json
    assert response.json["collections"]["sources"]["deleted"] == 1
    assert response.json["collections"]["actors"] == {
        "created": 0,
        "updated": 1,
        "deleted": 2,
        "unchanged": 0,
    }
    for path in (
        f"/v1/sources/{ANDES_ID}",
        "/v1/actors/test-ramiro-quispe",
        "/v1/locations/test-bolivia",
        "/v1/statements/test-quispe-reuters-2023-05",
    ):
        assert client.get(path).status_code == 404, path
    assert client.get("/v1/search?q=Quispe").json == []
    reuters = client.get("/v1/actors/reuters").json
    assert {c["source"]["id"] for c in reuters["citations"]} == {SEED_ID}
    assert api.delete(ANDES_ID).status_code == 404


def test_a_source_others_still_refer_to_cannot_go(api, client):
    assert api.post(with_text(ANDES)).status_code == 201
    baltic = with_text(BALTIC)
    baltic["relations"].append(
        {
            "subject": "test-karin-dahl",
            "predicate": "opposes",
            "object": "test-ramiro-quispe",
            "citations": ["coastguard spokesperson Karin Dahl"],
        }
    )
    assert api.post(baltic).status_code == 201
    response = api.delete(ANDES_ID)
    assert response.status_code == 422
    assert "test-karin-dahl--opposes--test-ramiro-quispe" in json.dumps(response.json)
    assert client.get("/v1/actors/test-ramiro-quispe").status_code == 200


def test_the_spec_declares_bearer_auth_on_writes(client):
    spec = client.get("/openapi.json").json
    scheme = spec["components"]["securitySchemes"]["bearerAuth"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    assert spec["paths"]["/v1/briefings"]["post"]["security"] == [{"bearerAuth": []}]
    assert spec["paths"]["/v1/sources/{record_id}"]["delete"]["security"] == [{"bearerAuth": []}]
    assert "security" not in spec["paths"]["/v1/sources/{record_id}"]["get"]


def test_sources_are_journaled_like_every_record(api, client, keys):
    """Create, update (a new title, by another key) and delete of a source: feed entries
    with a tombstone, audit entries with before and after."""
    admin = {"Authorization": f"Bearer {keys['admin']}"}
    since = int(client.get("/v1/changes?since=0&limit=1").headers["X-Total-Count"])
    last = client.get("/v1/changes?since=0&limit=1000").json[-1]["seq"] if since else 0
    assert api.post(with_text(ANDES)).status_code == 201
    created = client.get(f"/v1/sources/{ANDES_ID}")
    assert created.json["version"] == 1 and created.headers["ETag"].startswith('"v1-')
    retitled = with_text(ANDES)
    retitled["source"]["title"] = "A new title"
    assert api.post(retitled, scope="admin").status_code == 201
    assert api.post(retitled, scope="admin").status_code == 201  # unchanged: no entry
    updated = client.get(f"/v1/sources/{ANDES_ID}")
    assert updated.json["version"] == 2 and updated.json["title"] == "A new title"
    stale = api.delete(ANDES_ID, if_match=created.headers["ETag"])
    assert stale.status_code == 412 and stale.mimetype == PROBLEM
    assert api.delete(ANDES_ID, if_match=None).status_code == 428
    assert client.get(f"/v1/sources/{ANDES_ID}").status_code == 200
    assert api.delete(ANDES_ID, if_match=updated.headers["ETag"]).status_code == 200
    feed = client.get(f"/v1/changes?since={last}&limit=1000").json
    mine = [(e["op"], e["version"]) for e in feed if e["record_type"] == "source"]
    assert mine == [("create", 1), ("update", 2), ("delete", 3)]
    query = f"since={last}&record={ANDES_ID}&record_type=source"
    trail = client.get(f"/v1/audit?{query}", headers=admin).json
    assert [e["op"] for e in trail] == ["create", "update", "delete"]
    assert (
        trail[1]["before"]["title"] != "A new title" and trail[1]["after"]["title"] == "A new title"
    )
    assert trail[1]["key"] != trail[0]["key"]  # another key retitled it
    assert trail[2]["after"] is None and trail[2]["before"]["title"] == "A new title"
    assert len(trail[0]["after"]["text_sha256"]) == 64
