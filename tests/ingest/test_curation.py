"""Record writes: versions and ETags, POST / PATCH (merge patch) / DELETE with
If-Match, the importer's validation, the audit trail and the change feed, on both backends.
Each test runs on its own seeded copy of the session's backend (writes leave it changed)."""

from __future__ import annotations

import json
import threading

import pytest

from api.app import create_app
from api.ingest import default_files, load_files
from api.store.db import bind
from tests.helpers import assert_problem

SOURCE = "al-monitor-2020-04-07-us-iran-showdown-iraq"
EXCERPT = (
    "Kataib Hezbollah spokesman Mohammad Mohyee warned against four possible moves by the "
    "United States."
)
MERGE = "application/merge-patch+json"


@pytest.fixture
def client(curated):
    return curated.app.test_client()


def patch(client, curated, path: str, body: dict, etag: str | None, scope: str = "write"):
    headers = {**curated.auth(scope), "Content-Type": MERGE}
    if etag is not None:
        headers["If-Match"] = etag
    return client.patch(path, data=json.dumps(body), headers=headers)


def delete(client, curated, path: str, etag: str | None):
    headers = curated.auth() | ({"If-Match": etag} if etag else {})
    return client.delete(path, headers=headers)


def feed(client) -> list[dict]:
    """The whole change feed, following `Link`."""
    entries, url = [], "/v1/changes?limit=50"
    while url:
        response = client.get(url)
        assert response.status_code == 200
        entries += response.json
        link = response.headers.get("Link")
        url = link[1 : link.index(">")].removeprefix("http://localhost") if link else None
    return entries


def records(client) -> dict[tuple[str, str], dict]:
    """Every record of the journaled collections, by (record_type, id)."""
    found = {}
    for collection in ("sources", "actors", "relations", "locations", "events", "statements"):
        for record in client.get(f"/v1/{collection}?limit=500").json:
            found[(collection[:-1], record["id"])] = record
    return found


def new_actor(slug: str = "curated-actor", **extra) -> dict:
    return {
        "id": slug,
        "name": "Curated actor",
        "kind": "person",
        "citations": [{"source": SOURCE, "excerpt": EXCERPT}],
        **extra,
    }


def test_a_record_has_a_version_and_an_etag_that_answers_304(client):
    response = client.get("/v1/actors/kataib-hezbollah")
    assert response.json["version"] == 1 and response.json["updated_at"].endswith("+00:00")
    etag = response.headers["ETag"]
    assert etag.startswith('"v1-')
    assert (
        client.get("/v1/actors/kataib-hezbollah", headers={"If-None-Match": etag}).status_code
        == 304
    )


def test_patch_needs_if_match_and_refuses_a_stale_one(client, curated):
    path = "/v1/actors/kataib-hezbollah"
    etag = client.get(path).headers["ETag"]
    assert patch(client, curated, path, {"description": "x"}, None).status_code == 428
    changed = patch(client, curated, path, {"description": "Curated."}, etag)
    assert changed.status_code == 200, changed.json
    assert changed.json["description"] == "Curated." and changed.json["version"] == 2
    assert changed.headers["ETag"].startswith('"v2-') and changed.headers["ETag"] != etag
    assert client.get(path).headers["ETag"] == changed.headers["ETag"]
    assert client.get(path, headers={"If-None-Match": etag}).status_code == 200
    stale = patch(client, curated, path, {"description": "Lost."}, etag)
    assert stale.status_code == 412 and stale.headers["Content-Type"].startswith(
        "application/problem+json"
    )
    assert client.get(path).json["description"] == "Curated."
    assert delete(client, curated, path, None).status_code == 428
    assert delete(client, curated, path, etag).status_code == 412


def test_two_patches_with_the_same_if_match_one_wins(client, curated):
    """The lost update: both read version 1, both PATCH; exactly one may succeed."""
    path = "/v1/events/rocket-strike-near-halliburton-2020-04-06"
    etag = client.get(path).headers["ETag"]
    barrier, statuses = threading.Barrier(2), []

    def write(summary: str) -> None:
        local = curated.app.test_client()
        barrier.wait()
        statuses.append(patch(local, curated, path, {"summary": summary}, etag).status_code)

    threads = [threading.Thread(target=write, args=(f"Writer {n}.",)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    bind(curated.url)
    assert sorted(statuses) == [200, 412]
    assert client.get(path).json["version"] == 2
    audited = client.get(
        f"/v1/audit?record={path.rsplit('/', 1)[1]}", headers=curated.auth("admin")
    )
    assert [e["op"] for e in audited.json] == ["create", "update"]


@pytest.mark.parametrize(
    ("body", "where"),
    [
        (
            {"citations": [{"source": SOURCE, "excerpt": "Words that the article never printed."}]},
            "citations[0]",
        ),
        ({"kind": "wizard"}, "kind"),
        ({"country": "XX"}, "country"),
        ({"citations": [{"source": "no-such-source", "excerpt": EXCERPT}]}, "citations[0].source"),
        ({"id": "renamed"}, "id"),
    ],
)
def test_a_refused_patch_changes_nothing(client, curated, body, where):
    path = "/v1/actors/kataib-hezbollah"
    before, etag = client.get(path).json, client.get(path).headers["ETag"]
    entries = len(feed(client))
    response = patch(client, curated, path, body, etag)
    assert response.status_code == 422, response.json
    assert where in [e["path"] for e in response.json["errors"]]
    assert client.get(path).json == before
    assert len(feed(client)) == entries


def test_create_validates_references_and_excerpts(client, curated):
    bad = new_actor(citations=[{"source": SOURCE, "excerpt": "Not a sentence of the source."}])
    assert client.post("/v1/actors", json=bad, headers=curated.auth()).status_code == 422
    event = {
        "id": "curated-event",
        "title": "A curated event",
        "type": "battles",
        "sub_type": "armed_clash",
        "date": "2020-04-01",
        "date_precision": "day",
        "location": "ain-al-asad-air-bse",
        "fatalities": None,
        "participants": [{"actor": "kataib-hezbollah", "role": "perpetrator"}],
        "citations": [{"source": SOURCE, "excerpt": EXCERPT}],
    }
    refused = client.post("/v1/events", json=event, headers=curated.auth())
    assert refused.status_code == 422
    assert "did you mean 'ain-al-asad-air-base'" in json.dumps(refused.json)
    assert client.get("/v1/events/curated-event").status_code == 404
    created = client.post(
        "/v1/events", json=event | {"location": "ain-al-asad-air-base"}, headers=curated.auth()
    )
    assert created.status_code == 201, created.json
    assert created.headers["Location"].endswith("/v1/events/curated-event")
    assert created.json["version"] == 1 and created.headers["ETag"].startswith('"v1-')
    again = client.post(
        "/v1/events", json=event | {"location": "ain-al-asad-air-base"}, headers=curated.auth()
    )
    assert_problem(again, 409)
    assert "curated-event" in again.json["detail"]


def test_writes_need_a_write_key(client, curated):
    assert client.post("/v1/actors", json=new_actor()).status_code == 401
    read = client.post("/v1/actors", json=new_actor(), headers=curated.auth("read"))
    assert read.status_code == 403
    assert client.get("/v1/audit", headers=curated.auth("write")).status_code == 403
    assert client.get("/v1/audit").status_code == 401


def test_a_referenced_delete_is_refused_unless_cascade(client, curated):
    path = "/v1/actors/mohammad-mohyee"
    etag = client.get(path).headers["ETag"]
    refused = delete(client, curated, path, etag)
    assert refused.status_code == 409
    referrer = "/v1/relations/mohammad-mohyee--spokesperson-for--kataib-hezbollah"
    assert referrer in [e["path"] for e in refused.json["errors"]], refused.json
    assert client.get(referrer).status_code == 200  # the path is the referring record's
    assert client.get(path).status_code == 200
    statement = next(s for s in client.get("/v1/statements?speaker=mohammad-mohyee").json)
    gone = client.delete(f"{path}?cascade=true", headers={**curated.auth(), "If-Match": etag})
    assert gone.status_code == 204
    assert client.get(path).status_code == 404
    relation = "/v1/relations/mohammad-mohyee--spokesperson-for--kataib-hezbollah"
    assert client.get(relation).status_code == 404
    after = client.get(f"/v1/statements/{statement['id']}").json
    assert "mohammad-mohyee" not in [s["id"] for s in after["speakers"]]
    assert after["version"] == statement["version"] + 1
    tombstones = [e for e in feed(client) if e["op"] == "delete"]
    assert {(e["record_type"], e["id"]) for e in tombstones} == {
        ("actor", "mohammad-mohyee"),
        ("relation", "mohammad-mohyee--spokesperson-for--kataib-hezbollah"),
    }


def test_the_audit_trail_has_every_write_path(client, curated):
    created = client.post("/v1/actors", json=new_actor(), headers=curated.auth())
    assert created.status_code == 201
    etag = created.headers["ETag"]
    changed = patch(client, curated, "/v1/actors/curated-actor", {"title": "Curator"}, etag)
    assert changed.status_code == 200
    assert (
        delete(client, curated, "/v1/actors/curated-actor", changed.headers["ETag"]).status_code
        == 204
    )
    admin = curated.auth("admin")
    entries = client.get("/v1/audit?record=curated-actor", headers=admin).json
    assert [e["op"] for e in entries] == ["create", "update", "delete"]
    assert {e["key"] for e in entries} == {curated.names["write"]}
    assert entries[0]["before"] is None and entries[0]["after"]["name"] == "Curated actor"
    assert entries[1]["before"]["title"] is None and entries[1]["after"]["title"] == "Curator"
    assert entries[2]["after"] is None and [e["version"] for e in entries] == [1, 2, 3]
    seeded = client.get("/v1/audit?key=cli&record_type=actor&limit=1000", headers=admin).json
    assert len(seeded) == len(client.get("/v1/actors?limit=500").json)
    assert all(e["op"] == "create" and e["after"]["citations"] for e in seeded)
    since = {"time_from": entries[0]["time"]}
    later = client.get("/v1/audit", query_string=since, headers=admin).json
    assert [e["seq"] for e in later] == [e["seq"] for e in entries]


def test_replaying_the_feed_reproduces_the_records(client, curated):
    """An integrator's copy: apply the feed from the start to an empty store."""
    created = client.post("/v1/actors", json=new_actor(), headers=curated.auth())
    etag = client.get("/v1/locations/ain-al-asad-air-base").headers["ETag"]
    path = "/v1/locations/ain-al-asad-air-base"
    assert patch(client, curated, path, {"description": "Curated."}, etag).status_code == 200
    assert (
        delete(client, curated, "/v1/actors/curated-actor", created.headers["ETag"]).status_code
        == 204
    )
    copy: dict[tuple[str, str], dict] = {}
    for entry in feed(client):
        key = (entry["record_type"], entry["id"])
        if entry["op"] == "delete":
            copy.pop(key, None)
        else:
            fetched = client.get(f"/v1/{entry['record_type']}s/{entry['id']}")
            if fetched.status_code == 200:  # gone later: a tombstone follows
                copy[key] = fetched.json
    assert copy == records(client)
    versions = {}
    for entry in feed(client):
        versions[(entry["record_type"], entry["id"])] = entry
    assert {k: v["version"] for k, v in versions.items() if v["op"] != "delete"} == {
        k: r["version"] for k, r in records(client).items()
    }
    assert versions[("actor", "curated-actor")]["op"] == "delete"
    seqs = [e["seq"] for e in feed(client)]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)


def test_lists_take_updated_since(client, curated):
    path = "/v1/actors/kataib-hezbollah"
    etag = client.get(path).headers["ETag"]
    changed = patch(client, curated, path, {"description": "Curated."}, etag).json
    since = changed["updated_at"]
    recent = client.get("/v1/actors", query_string={"updated_since": since}).json
    assert [a["id"] for a in recent] == ["kataib-hezbollah"]
    assert client.get("/v1/actors?updated_since=yesterday").status_code == 422


def test_a_reimport_wins_over_a_curated_change(client, curated):
    path = "/v1/actors/kataib-hezbollah"
    seeded = client.get(path).json
    etag = client.get(path).headers["ETag"]
    assert patch(client, curated, path, {"description": "Curated."}, etag).status_code == 200
    load_files(default_files())
    again = client.get(path).json
    assert again["description"] == seeded["description"] and again["version"] == 3
    trail = client.get("/v1/audit?record=kataib-hezbollah", headers=curated.auth("admin")).json
    assert [(e["op"], e["key"] == "cli") for e in trail] == [
        ("create", True),
        ("update", False),
        ("update", True),
    ]


def test_private_reads_need_a_read_key(curated):
    app = create_app({"DATABASE_URL": curated.url, "TESTING": True, "READS_REQUIRE_KEY": True})
    private = app.test_client()
    assert private.get("/v1/events").status_code == 401
    assert private.get("/v1/events", headers=curated.auth("read")).status_code == 200
    assert private.get("/healthz").status_code == 200


@pytest.mark.parametrize(
    ("target", "patch_", "result"),
    [  # RFC 7396, Appendix A
        ({"a": "b"}, {"a": "c"}, {"a": "c"}),
        ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
        ({"a": "b"}, {"a": None}, {}),
        ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
        ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
        ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
        ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
        ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
        (["a", "b"], ["c", "d"], ["c", "d"]),
        ({"a": "b"}, ["c"], ["c"]),
        ({"a": "foo"}, None, None),
        ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
        ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
        ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
    ],
)
def test_merge_patch_follows_rfc_7396(target, patch_, result):
    from api.ingest.curation import merge_patch

    assert merge_patch(target, patch_) == result


def test_deleting_a_source_journals_the_records_that_keep_other_citations(client, curated):
    from pathlib import Path

    from api.ingest import read_bundle

    baltic = Path(__file__).parents[1] / "fixtures" / "import" / "baltic.yaml"
    load_files([*default_files(), baltic])
    bundle = read_bundle(baltic)
    other = {
        "source": bundle["source"]["id"],
        "excerpt": bundle["actors"][0]["citations"][0]["excerpt"],
    }
    body = new_actor(citations=[{"source": SOURCE, "excerpt": EXCERPT}, other])
    assert client.post("/v1/actors", json=body, headers=curated.auth()).status_code == 201
    gone = client.delete(
        f"/v1/sources/{other['source']}", headers=curated.auth() | {"If-Match": "*"}
    )
    assert gone.status_code in (200, 204), gone.json
    admin = curated.auth("admin")
    trail = client.get("/v1/audit?record=curated-actor", headers=admin).json
    assert [(e["op"], e["key"]) for e in trail] == [
        ("create", curated.names["write"]),
        ("update", curated.names["write"]),
    ]
    assert [c["source"] for c in trail[1]["after"]["citations"]] == [SOURCE]
    removed = client.get("/v1/audit?record_type=actor&record=test-karin-dahl", headers=admin).json
    assert [e["op"] for e in removed] == ["create", "delete"]
    assert client.get("/v1/actors/curated-actor").json["version"] == 2


def test_full_text_follows_writes(client, curated):
    """A write updates the full-text index of its record (SQLite: the FTS5 entry keyed by the
    record, replaced by the triggers), and the index stays in step with the documents."""
    path = "/v1/events/rocket-strike-near-halliburton-2020-04-06"
    assert not client.get("/v1/events?q=zanzibarqux").json
    etag = client.get(path).headers["ETag"]
    assert patch(client, curated, path, {"summary": "Zanzibarqux."}, etag).status_code == 200
    slug = path.rsplit("/", 1)[1]
    for query in ("/v1/events?q=zanzibarqux", "/v1/events?q=zanzibarqux&sort=date"):
        assert [r["id"] for r in client.get(query).json] == [slug], query
    hits = client.get("/v1/search?q=zanzibarqux").json
    assert [(h["record_type"], h["id"]) for h in hits] == [("event", slug)]
    etag = client.get(path).headers["ETag"]
    assert patch(client, curated, path, {"summary": "Quiet."}, etag).status_code == 200
    assert not client.get("/v1/search?q=zanzibarqux").json
    assert client.get("/readyz").status_code == 200  # one index entry per document
