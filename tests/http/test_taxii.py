"""The TAXII 2.1 server, read by `taxii2-client` (OASIS's client, which no one here wrote) over
a loopback socket, and by the test client for its filters and errors, on both backends: a
walk with `added_after` and `next` gets each object once, a record changed (or deleted) after a
poll comes back in the next one with a new `modified` (or revoked)."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from taxii2client.v21 import Server, as_pages
from werkzeug.serving import make_server

from api.queries.stix import EXTENSION_ID

TAXII = "application/taxii+json;version=2.1"
SOURCE = "al-monitor-2020-04-07-us-iran-showdown-iraq"
MERGE = "application/merge-patch+json"
COLLECTIONS = ("sources", "actors", "relations", "locations", "events", "statements")


@contextmanager
def serving(app) -> Iterator[str]:
    """The app on a loopback port, in a thread, for as long as the block runs."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()


def record_count(client) -> int:
    """How many records the JSON API lists, every collection."""
    return sum(
        int(client.get(f"/v1/{name}?limit=1").headers["X-Total-Count"]) for name in COLLECTIONS
    )


def walk(collection, **filters) -> list[dict]:
    """Every object of a TAXII collection, page by page (`next`), as the client pages it."""
    found = []
    for envelope in as_pages(collection.get_objects, per_request=7, **filters):
        found += envelope.get("objects", [])
    return found


def everything(base: str):
    server = Server(f"{base}/taxii2/")
    root = server.default
    collections = {c.title: c for c in root.collections}
    return server, root, collections


def test_the_client_discovers_lists_collections_and_walks_each_object_once(app, client):
    with serving(app) as base:
        server, root, collections = everything(base)
        assert server.title and root.versions == [TAXII]
        assert "Everything" in collections and f"Source {SOURCE}" in collections
        objects = walk(collections["Everything"])
        ids = [obj["id"] for obj in objects]
        assert len(ids) == len(set(ids)), "an object came twice"
        live = [obj for obj in objects if not obj.get("revoked")]  # others' deletions: revoked
        assert len(live) == record_count(client) + 2  # and the producer and the extension
        one_source = walk(collections[f"Source {SOURCE}"])
        kinds = {o["extensions"][EXTENSION_ID]["record_type"] for o in one_source[2:]}
        assert kinds == {"source", "actor", "relation", "location", "event", "statement"}
        events = {r["id"] for r in client.get(f"/v1/events?source={SOURCE}&limit=500").json}
        cited = {
            o["extensions"][EXTENSION_ID]["record_id"]
            for o in one_source
            if o["type"] == "incident"
        }
        assert cited == events


def test_a_record_changed_after_a_poll_comes_back_in_the_next(curated):
    """So do the objects that show it (a relation, an event, a statement naming the actor:
    their `modified` follows its version), once rendered after the write's answer."""
    app = curated.app
    client = app.test_client()
    with serving(app) as base:
        _, _, collections = everything(base)
        everything_ = collections["Everything"]
        first = walk(everything_)
        last_added = max(m["date_added"] for m in everything_.get_manifest()["objects"])
        assert walk(everything_, added_after=last_added) == []
        before = {o["id"]: o for o in first}

        etag = client.get("/v1/actors/kataib-hezbollah").headers["ETag"]
        headers = {**curated.auth(), "Content-Type": MERGE, "If-Match": etag}
        patch = {"description": "Changed after the first poll."}
        patched = client.patch(
            "/v1/actors/kataib-hezbollah", data=json.dumps(patch), headers=headers
        )
        assert patched.status_code == 200
        patched.close()  # the answer is sent: what shows the actor is rendered again
        relation = client.get("/v1/relations?limit=1").json[0]["id"]
        etag = client.get(f"/v1/relations/{relation}").headers["ETag"]
        gone = client.delete(
            f"/v1/relations/{relation}", headers={**curated.auth(), "If-Match": etag}
        )
        assert gone.status_code == 204

        second = walk(everything_, added_after=last_added)
        ids = [o["id"] for o in second]
        assert len(ids) == len(set(ids))
        changed = next(o for o in second if o.get("name") == "Kataib Hezbollah")
        assert changed["description"] == "Changed after the first poll."
        assert changed["id"] in before and changed["modified"] > before[changed["id"]]["modified"]
        assert changed["created"] == before[changed["id"]]["created"]
        revoked = next(o for o in second if o.get("revoked"))
        assert revoked["id"] in before and revoked["modified"] > before[revoked["id"]]["modified"]
        assert revoked["extensions"][EXTENSION_ID]["record_id"] == relation
        showing = [o for o in first if changed["id"] in json.dumps(o) and o["id"] != changed["id"]]
        # (the reports list the actor, but copy nothing from it)
        showing = [o for o in showing if o["id"] != revoked["id"] and o["type"] != "report"]
        assert {o["type"] for o in showing} == {"relationship", "incident", "note"}
        again = {o["id"]: o for o in second}
        for old in showing:  # each with its new version
            assert again[old["id"]]["modified"] > old["modified"], old["id"]
        assert set(again) == {changed["id"], revoked["id"], *(o["id"] for o in showing)}
        # the next poll from the last object's time has nothing new
        last = max(
            m["date_added"] for m in everything_.get_manifest(added_after=last_added)["objects"]
        )
        assert walk(everything_, added_after=last) == []


def objects_url(client, title: str = "Everything") -> str:
    found = client.get("/taxii2/briefing/collections/").json["collections"]
    chosen = next(c for c in found if c["title"] == title)
    return f"/taxii2/briefing/collections/{chosen['id']}"


def test_match_filters_manifest_object_and_versions(client):
    url = objects_url(client)
    incidents = client.get(f"{url}/objects/?match[type]=incident&limit=1000")
    assert incidents.status_code == 200 and incidents.content_type == TAXII
    body = incidents.json
    total = int(client.get("/v1/events?limit=1").headers["X-Total-Count"])
    assert {o["type"] for o in body["objects"]} == {"incident"}
    live = [o for o in body["objects"] if not o.get("revoked")]  # others' deletions: revoked
    assert len(live) == total and body["more"] is False
    first = body["objects"][0]
    assert incidents.headers["X-TAXII-Date-Added-First"] <= first["modified"]

    two = [o["id"] for o in body["objects"][:2]]
    chosen = client.get(f"{url}/objects/?match[id]={','.join(two)}").json["objects"]
    assert sorted(o["id"] for o in chosen) == sorted(two)

    exact = client.get(f"{url}/objects/?match[id]={two[0]}&match[version]={first['modified']}")
    versions = [o["modified"] for o in exact.json["objects"]]
    assert versions == [first["modified"]] if first["id"] == two[0] else versions
    none = client.get(f"{url}/objects/?match[id]={two[0]}&match[version]=2001-01-01T00:00:00Z")
    assert "objects" not in none.json
    assert "objects" not in client.get(f"{url}/objects/?match[spec_version]=2.0").json

    one = client.get(f"{url}/objects/{first['id']}/")
    assert one.status_code == 200 and one.json["objects"] == [first]
    listed = client.get(f"{url}/objects/{first['id']}/versions/").json
    assert listed["versions"] == [first["modified"]] and listed["more"] is False

    manifest = client.get(f"{url}/manifest/?match[type]=incident&limit=3").json
    assert manifest["more"] is True and len(manifest["objects"]) == 3
    assert manifest["objects"][0]["id"] == first["id"]
    assert manifest["objects"][0]["version"] == first["modified"]
    assert manifest["objects"][0]["media_type"] == "application/stix+json;version=2.1"
    assert manifest["objects"][0]["date_added"] == incidents.headers["X-TAXII-Date-Added-First"]
    rest = client.get(f"{url}/manifest/?match[type]=incident&limit=3&next={manifest['next']}")
    assert rest.json["objects"][0]["id"] not in {m["id"] for m in manifest["objects"]}


def assert_taxii_error(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.content_type == TAXII
    body = response.json
    assert body["http_status"] == str(status) and body["title"]
    assert "Traceback" not in response.get_data(as_text=True)
    return body


def test_errors_are_taxii_errors(client, curated):
    url = objects_url(client)
    assert_taxii_error(client.get(f"{url}/objects/?limt=3"), 422)
    assert_taxii_error(client.get(f"{url}/objects/?next=not-a-cursor"), 422)
    assert_taxii_error(client.get(f"{url}/objects/?added_after=yesterday"), 422)
    assert_taxii_error(client.get(f"{url}/objects/?limit=0"), 422)
    assert_taxii_error(client.get(f"{url}/objects/?match[type]=malware"), 422)
    assert_taxii_error(client.get(f"{url}/objects/?match[id]=kataib-hezbollah"), 422)
    assert_taxii_error(client.get("/taxii2/briefing/collections/no-such/objects/"), 404)
    assert_taxii_error(client.get("/taxii2/elsewhere/"), 404)
    missing = "incident--00000000-0000-5000-8000-000000000000"
    assert_taxii_error(client.get(f"{url}/objects/{missing}/"), 404)
    assert_taxii_error(client.get(f"{url}/objects/", headers={"Accept": "text/html"}), 406)
    old = {"Accept": "application/taxii+json;version=2.0"}
    assert_taxii_error(client.get(f"{url}/objects/", headers=old), 406)
    assert_taxii_error(client.post(f"{url}/objects/", json={}), 405)
    # the rest of the API keeps its own shape
    assert client.get("/v1/events?limt=3").content_type == "application/problem+json"


def test_a_private_deployment_needs_a_read_key(curated, make_app):
    private = make_app(curated.url, READS_REQUIRE_KEY=True).test_client()
    body = assert_taxii_error(private.get("/taxii2/"), 401)
    assert body["description"]
    reader = private.get("/taxii2/", headers=curated.auth("read"))
    assert reader.status_code == 200 and reader.content_type == TAXII


@pytest.mark.parametrize("limit", [1, 4])
def test_next_pages_never_repeat_or_skip(client, limit):
    url = objects_url(client, f"Source {SOURCE}")
    whole = client.get(f"{url}/manifest/?limit=1000").json["objects"]
    seen, token = [], None
    while True:
        suffix = f"&next={token}" if token else ""
        page = client.get(f"{url}/manifest/?limit={limit}{suffix}").json
        seen += page.get("objects", [])
        if not page["more"]:
            break
        token = page["next"]
    assert seen == whole
    added = [m["date_added"] for m in whole]
    assert added == sorted(added)


def test_records_written_at_one_time_are_walked_once_each(curated):
    """A bulk load stamps every record with one `updated_at` (the synthetic corpus does): the
    walk then orders them by type and id within that time, and still sees each once."""
    from api.store.db import database
    from api.store.models import Actor, Event, Location, Relation, Source, Statement

    client = curated.app.test_client()
    stamp = dt.datetime(2025, 1, 1)
    with database.connection_context():
        for model in (Source, Actor, Location, Relation, Event, Statement):
            model.update(updated_at=stamp).execute()
    url = objects_url(client)
    whole = client.get(f"{url}/manifest/?limit=1000").json["objects"]
    assert len(whole) == record_count(client) + 2
    for limit in (1, 5):
        seen, token = [], None
        while True:
            suffix = f"&next={token}" if token else ""
            page = client.get(f"{url}/manifest/?limit={limit}{suffix}").json
            seen += [m["id"] for m in page.get("objects", [])]
            if not page["more"]:
                break
            token = page["next"]
        assert seen == [m["id"] for m in whole]
    after = client.get(f"{url}/objects/?added_after=2025-01-01T00:00:00Z").json
    assert [o["type"] for o in after["objects"]] == ["identity", "extension-definition"]
