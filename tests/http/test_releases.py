"""Releases over HTTP, on both backends: made on a seeded copy, then the live data changes (an
import, a PATCH, a deletion) and the release still answers what it answered when made (lists,
a record, a view, an aggregate, byte for byte, with the same ETags); the diff lists exactly what
changed, and replayed on the older release gives the newer; the downloads open with sqlite3,
hold the release's counts, and resume with Range."""

from __future__ import annotations

import gzip
import io
import json
import shutil
import sqlite3

import pytest
from click.testing import CliRunner

from api.cli import cli
from api.ingest import load_files
from api.records import of_collection
from api.store import snapshots
from api.store.ddl import SCHEMA_VERSION
from tests.helpers import assert_problem, fixture_files, links

MERGE = "application/merge-patch+json"
ACTOR = "kataib-hezbollah"
EVENT = "rocket-strike-near-halliburton-2020-04-06"
READS = (  # a list in each format, a record, a view, an aggregate, a search, facets
    "/v1/events",
    "/v1/events?format=csv",
    "/v1/events?format=ndjson",
    "/v1/events?format=geojson&limit=5",
    f"/v1/actors/{ACTOR}",
    f"/v1/events/{EVENT}",
    "/v1/timeline?limit=20",
    "/v1/events/aggregate?group_by=month",
    "/v1/search?q=rocket",
    "/v1/events/facets?field=type",
    "/v1/sources",
    "/v1/relations?limit=5",
)


@pytest.fixture(autouse=True)
def release_files_in_tmp(tmp_path, monkeypatch):
    """Downloads are written under the test's folder (PostgreSQL's would go to instance/)."""
    monkeypatch.setattr(snapshots, "files_root", tmp_path / "releases")


@pytest.fixture
def client(curated):
    return curated.app.test_client()


def make(client, curated, name: str, **extra):
    body = {"name": name, **extra}
    return client.post("/v1/releases", json=body, headers=curated.auth("admin"))


def etag_of(client, path: str) -> str:
    return client.get(path).headers["ETag"]


def change_live_data(client, curated) -> None:
    """An import of a second briefing, a PATCH and a deletion, after the release."""
    load_files(fixture_files())
    headers = {
        **curated.auth(),
        "Content-Type": MERGE,
        "If-Match": etag_of(client, f"/v1/actors/{ACTOR}"),
    }
    patched = client.patch(
        f"/v1/actors/{ACTOR}", data=json.dumps({"description": "Changed later."}), headers=headers
    )
    assert patched.status_code == 200, patched.json
    headers = {**curated.auth(), "If-Match": etag_of(client, f"/v1/events/{EVENT}")}
    assert client.delete(f"/v1/events/{EVENT}", headers=headers).status_code in (200, 204)


def read(client, prefix: str, path: str):
    response = client.get(prefix + path, buffered=True)  # read whole, as a server sends it
    assert response.status_code == 200, (path, response.get_data(as_text=True)[:300])
    return response


def test_a_release_answers_what_it_answered_when_made(client, curated):
    before = {path: read(client, "", path) for path in READS}
    made = make(client, curated, "first", description="The seed.")
    assert made.status_code == 201, made.json
    assert made.headers["Location"].endswith("/v1/releases/first")
    at_release = {path: read(client, "/releases/first", path) for path in READS}
    change_live_data(client, curated)
    assert read(client, "", f"/v1/actors/{ACTOR}").json["description"] == "Changed later."
    assert client.get(f"/v1/events/{EVENT}").status_code == 404
    for path in READS:
        later = read(client, "/releases/first", path)
        assert later.data == at_release[path].data, path  # byte for byte, and so the ETag
        assert later.headers.get("ETag") == at_release[path].headers.get("ETag"), path
        # what the live service answered when the release was made, apart from URLs
        assert later.data.replace(b"/releases/first", b"") == before[path].data, path
    assert read(client, "/releases/latest", f"/v1/events/{EVENT}").json["id"] == EVENT
    etag = at_release["/v1/events"].headers["ETag"]
    cached = client.get("/releases/first/v1/events", headers={"If-None-Match": etag})
    assert cached.status_code == 304


def test_links_and_urls_of_a_release_stay_in_it(client, curated):
    assert make(client, curated, "paged").status_code == 201
    first = read(client, "/releases/paged", "/v1/events?limit=2")
    following = links(first)["next"]
    assert following.startswith("http://localhost/releases/paged/v1/events?")
    change_live_data(client, curated)
    second = read(client, "", following.removeprefix("http://localhost"))
    assert first.json[-1]["id"] != second.json[0]["id"]
    described = client.get("/v1/releases/paged").json
    assert described["url"] == "http://localhost/releases/paged"


def test_release_metadata_counts_seq_and_latest(client, curated):
    seq = client.get("/v1/changes?since=0&limit=1000").json[-1]["seq"]
    assert make(client, curated, "one").status_code == 201
    release = client.get("/v1/releases/one").json
    assert release["seq"] == seq
    for collection, count in release["counts"].items():
        assert int(client.get(f"/v1/{collection}?limit=1").headers["X-Total-Count"]) == count
    change_live_data(client, curated)
    assert make(client, curated, "two").status_code == 201
    assert client.get("/v1/releases/latest").json["name"] == "two"
    assert [r["name"] for r in client.get("/v1/releases").json] == ["two", "one"]
    assert client.get("/v1/releases/two").json["seq"] > seq


def test_names_are_checked_and_never_reused(client, curated):
    assert_problem(make(client, curated, "Not A Name"), 422)
    assert_problem(make(client, curated, "latest"), 422)
    assert_problem(client.post("/v1/releases", json={"name": "x"}), 401)
    forbidden = client.post("/v1/releases", json={"name": "x"}, headers=curated.auth("write"))
    assert_problem(forbidden, 403)
    assert_problem(client.get("/v1/releases/latest"), 404)  # none yet
    assert make(client, curated, "kept").status_code == 201
    assert_problem(make(client, curated, "kept"), 409)
    assert_problem(client.get("/releases/nothing/v1/events"), 404)
    assert_problem(client.get("/v1/releases/nothing"), 404)


def test_a_release_is_read_only_and_serves_only_reads(client, curated):
    assert make(client, curated, "ro").status_code == 201
    assert_problem(client.post("/releases/ro/v1/actors", json={}, headers=curated.auth()), 405)
    assert_problem(client.get("/releases/ro/v1/releases"), 404)
    assert_problem(client.get("/releases/ro/docs"), 404)


def test_the_latest_cannot_be_deleted_an_older_one_is_tombstoned(client, curated):
    assert make(client, curated, "old").status_code == 201
    admin = curated.auth("admin")
    assert_problem(client.delete("/v1/releases/old", headers=admin), 409)
    assert make(client, curated, "new").status_code == 201
    assert_problem(client.delete("/v1/releases/old", headers=curated.auth("write")), 403)
    storage = _storage_of("old")
    assert client.delete("/v1/releases/old", headers=admin).status_code == 204
    gone = assert_problem(client.get("/v1/releases/old"), 410)
    assert curated.names["admin"] in gone["detail"]
    assert_problem(client.get("/releases/old/v1/events"), 410)
    assert_problem(make(client, curated, "old"), 409)
    assert not snapshots.files(storage).exists()
    assert [r["name"] for r in client.get("/v1/releases").json] == ["new"]


def _storage_of(name: str) -> str:
    from api.store.db import database
    from api.store.models import Release

    with database.connection_context():
        return Release.get(Release.name == name).storage


def every_diff_entry(client, url: str) -> list[dict]:
    entries = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.json
        entries += response.json
        url = links(response).get("next", "").removeprefix("http://localhost")
    return entries


def test_the_diff_lists_exactly_what_changed(client, curated):
    assert make(client, curated, "a").status_code == 201
    headers = {
        **curated.auth(),
        "Content-Type": MERGE,
        "If-Match": etag_of(client, f"/v1/actors/{ACTOR}"),
    }
    client.patch(f"/v1/actors/{ACTOR}", data=json.dumps({"title": "Changed"}), headers=headers)
    headers = {**curated.auth(), "If-Match": etag_of(client, f"/v1/events/{EVENT}")}
    assert client.delete(f"/v1/events/{EVENT}", headers=headers).status_code in (200, 204)
    assert make(client, curated, "b").status_code == 201
    diff = every_diff_entry(client, "/v1/releases/a/diff/b?limit=1")
    assert {(e["op"], e["record_type"], e["id"]) for e in diff} == {
        ("changed", "actor", ACTOR),
        ("removed", "event", EVENT),
    }
    changed = next(e for e in diff if e["op"] == "changed")
    assert changed["fields"] == ["title"] and changed["after"] == {"title": "Changed"}
    assert client.get("/v1/releases/a/diff/now").json == client.get("/v1/releases/a/diff/b").json
    assert client.get("/v1/releases/b/diff/now").json == []
    ndjson = client.get("/v1/releases/a/diff/b?format=ndjson")
    assert [json.loads(line) for line in ndjson.data.splitlines()] == diff
    assert_problem(client.get("/v1/releases/b/diff/a"), 422)


def audit_state(client, curated, until: int) -> dict[tuple[str, str], dict]:
    """Every record as of seq `until`, from the audit trail (bundle form)."""
    state: dict[tuple[str, str], dict] = {}
    url = "/v1/audit?since=0&limit=1000"
    while url:
        response = client.get(url, headers=curated.auth("admin"))
        for entry in response.json:
            if entry["seq"] > until:
                return state
            if entry["after"] is None:
                state.pop((entry["record_type"], entry["id"]), None)
            else:
                state[(entry["record_type"], entry["id"])] = entry["after"]
        url = links(response).get("next", "").removeprefix("http://localhost")
    return state


def test_a_diff_replayed_on_the_older_release_gives_the_newer(client, curated):
    assert make(client, curated, "older").status_code == 201
    change_live_data(client, curated)
    assert make(client, curated, "newer").status_code == 201
    older, newer = client.get("/v1/releases/older").json, client.get("/v1/releases/newer").json
    state = audit_state(client, curated, older["seq"])
    for entry in every_diff_entry(client, "/v1/releases/older/diff/newer?limit=7"):
        record = (entry["record_type"], entry["id"])
        if entry["op"] == "added":
            assert record not in state
            state[record] = entry["after"]
        elif entry["op"] == "removed":
            assert state.pop(record) == entry["before"]
        else:
            for field in entry["fields"]:
                assert state[record].get(field) == entry["before"].get(field)
                state[record].pop(field, None)
            state[record].update(entry["after"])
    assert state == audit_state(client, curated, newer["seq"])
    # and the records the replay holds are those the newer release serves
    for collection in ("actors", "events", "statements", "locations", "relations", "sources"):
        served = {
            r["id"] for r in read(client, "/releases/newer", f"/v1/{collection}?limit=500").json
        }
        assert served == {i for (t, i) in state if t == collection[:-1]}, collection


def test_the_sqlite_download_opens_and_holds_the_release(client, curated, tmp_path):
    assert make(client, curated, "dl").status_code == 201
    change_live_data(client, curated)
    listed = client.get("/v1/releases/dl").json["downloads"]
    assert [(item["file"], item["bytes"]) for item in listed][:2] == [
        ("release.sqlite", None),  # written when first asked for
        ("sources.ndjson.gz", None),
    ]
    response = client.get(listed[0]["url"].removeprefix("http://localhost"))
    release = client.get("/v1/releases/dl").json
    files = {item["file"]: item for item in release["downloads"]}
    assert response.status_code == 200
    assert files["statements.ndjson.gz"]["bytes"] is None  # each file written when asked for
    assert response.headers["Content-Type"] == "application/vnd.sqlite3"
    assert (
        int(response.headers["Content-Length"])
        == len(response.data)
        == files["release.sqlite"]["bytes"]
    )
    assert response.headers["ETag"].strip('"') == files["release.sqlite"]["sha256"]
    path = tmp_path / "dl.sqlite"
    path.write_bytes(response.data)
    with sqlite3.connect(path) as opened:
        for collection, count in release["counts"].items():
            table = of_collection(collection).model._meta.table_name
            assert opened.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == count
        row = opened.execute("SELECT description FROM actor WHERE slug = ?", (ACTOR,)).fetchone()
        assert row[0] != "Changed later."
        assert opened.execute("SELECT id FROM event WHERE slug = ?", (EVENT,)).fetchone()
        assert opened.execute("SELECT name, seq FROM release").fetchone() == ("dl", release["seq"])
        columns = {row[1] for row in opened.execute("PRAGMA table_info(source)")}
        assert "title" in columns and not columns & {"text", "owner"}  # not served
        tables = {row[0] for row in opened.execute("SELECT name FROM sqlite_master")}
        assert not tables & {"api_key", "change", "subscription", "event_json"}
        declared = opened.execute("PRAGMA foreign_key_list(event)").fetchall()
        assert [(row[2], row[3]) for row in declared] == [("location", "location_id")]
        assert not opened.execute("PRAGMA foreign_key_check").fetchall()  # none broken


def test_an_ndjson_download_is_the_release_export_gzipped(client, curated):
    assert make(client, curated, "nd").status_code == 201
    export = read(client, "/releases/nd", "/v1/events?format=ndjson").data
    change_live_data(client, curated)
    response = client.get("/v1/releases/nd/download/events")
    assert response.headers["Content-Type"] == "application/gzip"
    assert gzip.decompress(response.data) == export
    assert_problem(client.get("/v1/releases/nd/download/nothing"), 404)


def test_a_download_resumed_with_range_gives_the_same_bytes(client, curated):
    assert make(client, curated, "resume").status_code == 201
    whole = client.get("/v1/releases/resume/download")
    etag = whole.headers["ETag"]
    cut = len(whole.data) // 3
    rest = client.get(
        "/v1/releases/resume/download", headers={"Range": f"bytes={cut}-", "If-Range": etag}
    )
    assert rest.status_code == 206
    assert rest.headers["Content-Range"] == f"bytes {cut}-{len(whole.data) - 1}/{len(whole.data)}"
    assert whole.data[:cut] + rest.data == whole.data
    assert (
        client.get("/v1/releases/resume/download", headers={"If-None-Match": etag}).status_code
        == 304
    )
    assert io.BytesIO(rest.data).read(1)


def test_with_the_response_cache_on_a_release_and_the_live_data_never_mix(curated, make_app):
    cached = make_app(curated.url, RESPONSE_CACHE=True).test_client()
    live_before = read(cached, "", "/v1/events?limit=2")
    assert make(cached, curated, "cached").status_code == 201
    release = read(cached, "/releases/cached", "/v1/events?limit=2")
    assert release.headers["X-Total-Count"] == live_before.headers["X-Total-Count"]
    change_live_data(cached, curated)
    live_after = read(cached, "", "/v1/events?limit=2")
    assert int(live_after.headers["X-Total-Count"]) != int(live_before.headers["X-Total-Count"])
    again = read(cached, "/releases/cached", "/v1/events?limit=2")
    assert again.data == release.data
    assert again.headers["X-Total-Count"] == release.headers["X-Total-Count"]
    assert read(cached, "", "/v1/events?limit=2").data == live_after.data
    facets = "/v1/events/facets?field=type"
    assert read(cached, "/releases/cached", facets).data != read(cached, "", facets).data


def test_a_release_of_another_schema_version_is_refused_not_misread(client, curated):
    from api.store.db import database
    from api.store.models import Release

    assert make(client, curated, "older-schema").status_code == 201
    with database.connection_context():
        Release.update(schema_version=Release.schema_version - 1).execute()
    body = assert_problem(client.get("/releases/older-schema/v1/events"), 409)
    assert "schema version" in body["detail"]
    assert client.get("/v1/releases/older-schema/download").status_code == 200


def _as_if_made_at_v17(name: str) -> None:
    """The release's snapshot as version 17 left it: what v18 fills (each place's places,
    the months of each span) empty, version 17 written in the snapshot and its release."""
    from api.store.db import bound_to, database
    from api.store.models import Release

    storage = _storage_of(name)
    with snapshots.writable(storage) as target, bound_to(target), database.connection_context():
        for table in ("event", "statement"):
            database.execute_sql(f"UPDATE {table} SET start_month = NULL, end_month = NULL")
        levels = ("country_place_id", "province_place_id", "district_place_id", "city_place_id")
        database.execute_sql(f"UPDATE location SET {' = NULL, '.join(levels)} = NULL")
        database.execute_sql("UPDATE schema_version SET version = 17")
    with database.connection_context():
        Release.update(schema_version=17).where(Release.name == name).execute()


def test_a_release_made_before_a_migration_reads_the_same_after_it(client, curated, monkeypatch):
    from api.store.data_version import PerVersion

    assert make(client, curated, "before").status_code == 201
    before = {path: read(client, "/releases/before", path) for path in READS}
    _as_if_made_at_v17("before")
    assert_problem(client.get("/releases/before/v1/events"), 409)
    monkeypatch.setenv("DATABASE_URL", curated.url)
    result = CliRunner().invoke(cli, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert client.get("/v1/releases/before").json["schema_version"] == SCHEMA_VERSION
    PerVersion.forget_all()  # answered from the snapshot again, not from what was kept
    for path, answer in before.items():
        again = read(client, "/releases/before", path)
        assert again.data == answer.data, path
        assert again.headers.get("ETag") == answer.headers.get("ETag"), path


def test_a_host_without_the_files_writes_the_same_bytes(client, curated):
    assert make(client, curated, "rebuilt").status_code == 201
    first = {
        path: client.get(path)
        for path in ("/v1/releases/rebuilt/download", "/v1/releases/rebuilt/download/actors")
    }
    shutil.rmtree(snapshots.files(_storage_of("rebuilt")))
    for path, response in first.items():
        again = client.get(path)
        assert again.data == response.data and again.headers["ETag"] == response.headers["ETag"]


def test_what_a_killed_creation_leaves_is_collected_by_gc_and_by_the_next_creation(
    client, curated, monkeypatch
):
    assert make(client, curated, "kept").status_code == 201
    kept = _storage_of("kept")
    assert client.get("/v1/releases/kept/download/sources").status_code == 200  # its files
    orphan = snapshots.new_storage()
    snapshots.take(orphan)  # made, then the process was killed before the release was saved
    snapshots.files(orphan).mkdir(parents=True)
    assert snapshots.stored() == {kept, orphan}
    monkeypatch.setenv("DATABASE_URL", curated.url)
    result = CliRunner().invoke(cli, ["release", "gc"])
    assert result.exit_code == 0, result.output
    assert orphan in result.output
    assert snapshots.stored() == {kept}
    assert snapshots.files(kept).is_dir()
    read(client, "/releases/kept", "/v1/sources")
    snapshots.take(snapshots.new_storage())  # killed again
    assert make(client, curated, "next").status_code == 201
    assert snapshots.stored() == {kept, _storage_of("next")}


def test_private_reads_of_a_release_check_keys_against_the_live_database(curated, make_app):
    private = make_app(curated.url, READS_REQUIRE_KEY=True).test_client()
    assert make(private, curated, "private").status_code == 201
    assert_problem(private.get("/releases/private/v1/events"), 401)
    read_key = curated.auth("read")
    assert private.get("/releases/private/v1/events", headers=read_key).status_code == 200
    from api.http.auth import clear_cache
    from api.http.keys import revoke_key
    from api.store.db import database

    with database.connection_context():
        revoke_key(curated.names["read"])  # after the release was made: the live key row says
    clear_cache()
    assert_problem(private.get("/releases/private/v1/events", headers=read_key), 401)


def test_a_release_says_when_it_was_made_in_utc(client, curated):
    assert make(client, curated, "dated").status_code == 201
    assert client.get("/v1/releases/dated").json["created_at"].endswith("+00:00")


def test_a_snapshot_keeps_no_webhook_secret_and_no_outbox(client, curated):
    """A release is for citing data: its snapshot holds no subscription (their secrets sign
    webhooks and are rotated or deleted in the live database) and no delivery."""
    made = client.post(
        "/v1/subscriptions",
        json={"url": "http://127.0.0.1:9/hook"},
        headers=curated.auth("write"),
    )
    assert made.status_code == 201, made.json
    etag = client.get(f"/v1/actors/{ACTOR}").headers["ETag"]
    patched = client.patch(
        f"/v1/actors/{ACTOR}",
        data=json.dumps({"description": "A change a subscription is told of."}),
        headers={**curated.auth(), "Content-Type": MERGE, "If-Match": etag},
    )
    assert patched.status_code == 200, patched.json
    assert make(client, curated, "no-secrets").status_code == 201
    snapshot = snapshots.opened(_storage_of("no-secrets"))
    with snapshot.connection_context():
        for table in ("subscription", "delivery"):
            assert snapshot.execute_sql(f'SELECT count(*) FROM "{table}"').fetchone()[0] == 0
    answer = read(client, "/releases/no-secrets", f"/v1/actors/{ACTOR}").json
    assert answer["description"] == "A change a subscription is told of."
