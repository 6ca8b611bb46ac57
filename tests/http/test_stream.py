"""`GET /v1/changes/stream`: the change feed as Server-Sent Events, read with an SSE client
library (sseclient-py): the same entries as /v1/changes, resumable with Last-Event-ID or
`after` without a gap or a duplicate, filtered like the feed (tombstones included), new
changes as they are committed, and a bound on streams per client."""

from __future__ import annotations

import json
import threading
import time

import pytest
import sseclient

from api.http import streams
from tests.helpers import assert_problem

SOURCE = "al-monitor-2020-04-07-us-iran-showdown-iraq"
EXCERPT = (
    "Kataib Hezbollah spokesman Mohammad Mohyee warned against four possible moves by the "
    "United States."
)


def feed(client, query: str = "") -> list[dict]:
    """Every entry of /v1/changes with `query`'s filters."""
    entries, since = [], 0
    while True:
        page = client.get(f"/v1/changes?since={since}&limit=1000{query}").json
        if not page:
            return entries
        entries += page
        since = page[-1]["seq"]


def open_stream(client, path: str, headers: dict | None = None):
    response = client.get(path, headers=headers or {}, buffered=False)
    assert response.status_code == 200, response.get_data()
    assert response.mimetype == "text/event-stream"
    return response, sseclient.SSEClient(response.response).events()


def read(events, count: int | None = None) -> list:
    """`count` events (None: until the stream ends)."""
    found = []
    for event in events:
        found.append(event)
        if count is not None and len(found) == count:
            break
    return found


def test_the_stream_resumes_after_a_dropped_connection_without_gap_or_duplicate(client):
    expected = feed(client)
    assert len(expected) > 20
    response, events = open_stream(client, "/v1/changes/stream?after=0")
    first = read(events, 7)
    response.close()  # the connection drops
    response, events = open_stream(
        client, "/v1/changes/stream", headers={"Last-Event-ID": first[-1].id}
    )
    rest = read(events)  # a test app's stream ends after STREAM_MAX_SECONDS
    response.close()
    received = first + rest
    assert [int(e.id) for e in received] == [entry["seq"] for entry in expected]
    assert [json.loads(e.data) for e in received] == expected  # the feed's JSON, as is

    # `after=` resumes the same way; the header wins over it
    response, events = open_stream(
        client, "/v1/changes/stream?after=0", headers={"Last-Event-ID": str(expected[-3]["seq"])}
    )
    assert [json.loads(e.data) for e in read(events)] == expected[-2:]
    response.close()


def test_a_filtered_stream_has_the_feeds_filters(client):
    for query in ("&record_type=source", f"&source={SOURCE}&record_type=event"):
        expected = feed(client, query)
        assert expected and len(expected) < len(feed(client))
        response, events = open_stream(client, f"/v1/changes/stream?after=0{query}")
        assert [json.loads(e.data) for e in read(events)] == expected
        response.close()


def test_new_changes_arrive_and_a_source_filter_keeps_the_tombstones(make_app, curated):
    app = make_app(curated.url, STREAM_MAX_SECONDS=5)
    client = app.test_client()
    before = feed(client)[-1]["seq"]
    body = {
        "id": "streamed-actor",
        "name": "Streamed",
        "kind": "person",
        "citations": [{"source": SOURCE, "excerpt": EXCERPT}],
    }

    def write() -> None:
        writer = app.test_client()
        assert writer.post("/v1/actors", json=body, headers=curated.auth()).status_code == 201
        etag = writer.get("/v1/actors/streamed-actor").headers["ETag"]
        removed = writer.delete(
            "/v1/actors/streamed-actor", headers=curated.auth() | {"If-Match": etag}
        )
        assert removed.status_code == 204

    response, events = open_stream(client, f"/v1/changes/stream?source={SOURCE}")
    threading.Timer(0.2, write).start()  # after the stream has started waiting
    created, deleted = (json.loads(e.data) for e in read(events, 2))
    response.close()
    assert (created["op"], created["id"]) == ("create", "streamed-actor")
    assert (deleted["op"], deleted["id"]) == ("delete", "streamed-actor")  # its tombstone
    assert created["seq"] > before


def test_streams_are_bounded_per_client(make_app, database_url):
    client = make_app(database_url, STREAMS_PER_CLIENT=2).test_client()
    first, _ = open_stream(client, "/v1/changes/stream")
    second, _ = open_stream(client, "/v1/changes/stream")
    refused = client.get("/v1/changes/stream")
    assert "Retry-After" in refused.headers
    assert "2 open streams" in assert_problem(refused, 429)["detail"]
    first.close()
    third, _ = open_stream(client, "/v1/changes/stream")  # a place was given back
    second.close()
    third.close()


@pytest.mark.parametrize(
    ("path", "headers", "where"),
    [
        ("/v1/changes/stream", {"Last-Event-ID": "abc"}, "header.Last-Event-ID"),
        ("/v1/changes/stream?after=-1", {}, "query.after"),
        ("/v1/changes/stream?record_type=nonsense", {}, "query.record_type"),
        ("/v1/changes/stream?sice=3", {}, "query.sice"),
    ],
)
def test_bad_stream_arguments_are_422(client, path, headers, where):
    body = assert_problem(client.get(path, headers=headers), 422)
    assert where in [e["path"] for e in body["errors"]], body


def test_unfiltered_streams_take_new_changes_from_the_watcher_woken_by_the_commit(
    make_app, curated, monkeypatch
):
    """On PostgreSQL the watcher waits a minute between looks (poll and fallback), yet a new
    change arrives at once: the commit's notification woke it. On SQLite it polls. Streams
    without a `source` filter read what the watcher keeps; a type filter still applies."""
    postgres = curated.url.startswith("postgresql")
    monkeypatch.setattr(streams, "FALLBACK_SECONDS", 60.0)
    app = make_app(
        curated.url,
        STREAM_MAX_SECONDS=20,
        STREAM_HEARTBEAT_SECONDS=60,
        STREAM_POLL_SECONDS=60 if postgres else 0.05,
    )
    client = app.test_client()
    response, events = open_stream(client, "/v1/changes/stream")
    short = make_app(curated.url, STREAM_MAX_SECONDS=3, STREAM_HEARTBEAT_SECONDS=60)
    typed, typed_events = open_stream(short.test_client(), "/v1/changes/stream?record_type=event")
    body = {
        "id": "watched-actor",
        "name": "Watched",
        "kind": "person",
        "citations": [{"source": SOURCE, "excerpt": EXCERPT}],
    }
    written = []

    def write() -> None:
        written.append(time.monotonic())
        assert (
            app.test_client().post("/v1/actors", json=body, headers=curated.auth()).status_code
            == 201
        )

    threading.Timer(0.5, write).start()  # after the watcher has begun to wait
    (created,) = (json.loads(e.data) for e in read(events, 1))
    arrived = time.monotonic()
    response.close()
    assert (created["op"], created["id"]) == ("create", "watched-actor")
    assert arrived - written[0] < 10  # not the minute of a poll
    assert read(typed_events) == []  # until it ends: the actor was not for it
    typed.close()
