"""Answers shared by the workers (api/store/shared_answers.py): a worker that has not computed a
facet or an aggregate reads the one another computed at the same data version, and after a
write none is served again."""

import json
import sqlite3
import threading

import pytest
from playhouse.test_utils import count_queries

from api.store import shared_answers
from api.store.data_version import PerVersion
from api.store.models import SharedAnswer

EVENT = "/v1/events/rocket-strike-near-halliburton-2020-04-06"
ASKED = [
    "/v1/events/facets?field=type",
    "/v1/events/facets?field=location&buckets=3",
    "/v1/events/aggregate?group_by=grid&cell=1&format=geojson",
    "/v1/events/aggregate?group_by=week,type&fill=zero&metrics=casualties",
]


@pytest.fixture
def client(curated, make_app):
    yield make_app(curated.url, SHARED_ANSWERS=True).test_client()
    shared_answers.enable(False)  # as the other apps of the session, under tests


def test_a_worker_reads_what_another_computed(client):
    first = {path: client.get(path).get_data() for path in ASKED}
    PerVersion.forget_all()  # another worker: nothing of its own yet
    for path in ASKED:
        with count_queries() as counted:
            again = client.get(path)
        assert again.status_code == 200 and again.get_data() == first[path], path
        assert counted.count == 2, path  # the data version and the shared answer, no count


def test_a_write_is_never_answered_from_an_older_version(client, curated):
    path = "/v1/events/facets?field=type"
    before = {b["value"]: b["count"] for b in client.get(path).json}
    etag = client.get(EVENT).headers["ETag"]
    headers = {**curated.auth(), "Content-Type": "application/merge-patch+json", "If-Match": etag}
    body = json.dumps({"type": "protests", "sub_type": "peaceful_protest"})
    assert client.patch(EVENT, data=body, headers=headers).status_code == 200
    PerVersion.forget_all()
    after = {b["value"]: b["count"] for b in client.get(path).json}
    assert after.get("protests", 0) == before.get("protests", 0) + 1
    assert SharedAnswer.select().count() == 1  # the older version's answers are gone


def test_an_answer_is_not_held_behind_an_import_to_be_kept(curated, make_app, monkeypatch):
    """SQLite: while a writer holds the database's write lock, an aggregate asked for the first
    time answers at once and keeps nothing (it would otherwise wait for the lock, up to the
    busy timeout, in the loop that serves every request of its worker); asked again after the
    write, it is kept."""
    if not curated.url.startswith("sqlite"):
        pytest.skip("SQLite's one write lock")
    from api.store import db

    monkeypatch.setitem(db.SQLITE_PRAGMAS, "busy_timeout", 120_000)  # a wait would be seen
    client = make_app(curated.url, SHARED_ANSWERS=True).test_client()
    try:
        path = ASKED[2]
        client.get("/v1/events?limit=1")  # the app's connection opened, its pragmas set
        PerVersion.forget_all()
        writer = sqlite3.connect(curated.url.split(":///", 1)[1], isolation_level=None)
        writer.execute("BEGIN IMMEDIATE")  # an import's write lock
        answers: list = []
        asking = threading.Thread(target=lambda: answers.append(client.get(path)), daemon=True)
        asking.start()
        asking.join(60)
        held = asking.is_alive()
        writer.execute("ROLLBACK")
        writer.close()
        asking.join(120)
        assert not held, "the answer waited for the write lock"
        assert answers[0].status_code == 200
        assert SharedAnswer.select().count() == 0
        PerVersion.forget_all()
        assert client.get(path).status_code == 200
        assert SharedAnswer.select().count() == 1
    finally:
        shared_answers.enable(False)
