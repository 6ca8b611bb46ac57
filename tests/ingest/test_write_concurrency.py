"""Record PATCHes side by side over HTTP (issue #27: on PostgreSQL they run beside each other,
the journal's tail one at a time, api/store/ddl.py `record_write`): of distinct records, of
one record from several clients, of an actor renamed (which marks the events that show it)
beside a PATCH of one of those events, while a client follows the change feed. No 500 (no
deadlock; a 503 only for a wait over the request's database budget, which writes nothing), no
lost update, no gap or reordering in the feed, and rendered records current."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import defaultdict
from collections.abc import Callable

from api.store import notify
from api.store.db import bind

MERGE = "application/merge-patch+json"
OWN = ("qasem-soleimani", "donald-trump", "frank-mckenzie", "mohammad-mohyee")
HOT = "kataib-hezbollah"
RENAMED = "us-forces"  # a participant of EVENT
EVENT = "irgc-missile-attack-ain-al-asad-2020-01-08"


def test_parallel_patches_keep_the_feed_whole_and_in_commit_order(curated, monkeypatch):
    announce = notify.announce

    def announce_slowly() -> None:  # widens the window between a seq drawn and its commit
        announce()
        time.sleep(0.01)

    if curated.url.startswith("postgresql"):  # SQLite has one writer at a time anyway
        monkeypatch.setattr(notify, "announce", announce_slowly)
    client = curated.app.test_client()
    first_seq = max([e["seq"] for e in client.get("/v1/changes?limit=1000").json] or [0])
    headers = {**curated.auth(), "Content-Type": MERGE}
    statuses: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(OWN) + 3 + 2 + 1)
    writing_done = threading.Event()
    polled: list[dict] = []

    def patch(local, path: str, body: dict, etag: str):
        response = local.patch(path, data=json.dumps(body), headers=headers | {"If-Match": etag})
        with lock:
            statuses.append(response.status_code)
        return response

    def in_turn(path: str, body: Callable[[int], dict]) -> None:
        """Four PATCHes of one record, each at the version the last one answered."""
        local = curated.app.test_client()
        etag = local.get(path).headers["ETag"]
        barrier.wait()
        for n in range(4):
            response = patch(local, path, body(n), etag)
            assert response.status_code == 200, response.json
            etag = response.headers["ETag"]

    def own(slug: str) -> None:
        in_turn(f"/v1/actors/{slug}", lambda n: {"description": f"{slug} {n}."})

    def hot(writer: int) -> None:
        local = curated.app.test_client()
        path = f"/v1/actors/{HOT}"
        barrier.wait()
        for n in range(5):
            etag = local.get(path).headers["ETag"]
            response = patch(local, path, {"description": f"Hot {writer}.{n}."}, etag)
            # 503: the wait for the record's row lock outlasted the request's database budget
            # (a loaded machine), with Retry-After; it wrote nothing (checked below)
            assert response.status_code in (200, 412, 503), response.json

    def rename() -> None:
        in_turn(f"/v1/actors/{RENAMED}", lambda n: {"name": f"US forces {n}"})

    def event() -> None:
        in_turn(f"/v1/events/{EVENT}", lambda n: {"summary": f"Summary {n}."})

    def follow() -> None:
        """Polls the feed with `since=<last seq seen>`, as a mirror would."""
        local = curated.app.test_client()
        since = first_seq
        barrier.wait()
        while True:
            done = writing_done.is_set()
            page = local.get(f"/v1/changes?since={since}&limit=50").json
            polled.extend(page)
            if page:
                since = page[-1]["seq"]
            elif done:
                return

    writers = [threading.Thread(target=own, args=(slug,)) for slug in OWN]
    writers += [threading.Thread(target=hot, args=(n,)) for n in range(3)]
    writers += [threading.Thread(target=rename), threading.Thread(target=event)]
    follower = threading.Thread(target=follow)
    for thread in [*writers, follower]:
        thread.start()
    for thread in writers:
        thread.join()
    writing_done.set()
    follower.join()
    bind(curated.url)

    assert [s for s in statuses if s not in (200, 412, 503)] == []
    url = f"/v1/audit?since={first_seq}&limit=500"
    audit = client.get(url, headers=curated.auth("admin")).json
    seqs = [entry["seq"] for entry in audit]
    # one change per write that succeeded, numbered without a gap
    assert len(audit) == statuses.count(200)
    assert seqs == list(range(first_seq + 1, first_seq + 1 + len(audit)))
    # the follower saw every change once, in seq order: nothing committed behind its cursor
    assert [entry["seq"] for entry in polled] == seqs
    # per record: versions one by one, each change made on the state the previous one left
    by_record: dict[str, list[dict]] = defaultdict(list)
    for entry in audit:
        by_record[entry["id"]].append(entry)
    for record, entries in by_record.items():
        versions = [entry["version"] for entry in entries]
        assert versions == list(range(versions[0], versions[0] + len(versions))), record
        for previous, entry in itertools.pairwise(entries):
            assert entry["before"] == previous["after"], record
    assert len(by_record[HOT]) >= 1
    for slug in (*OWN, HOT, RENAMED):
        assert (
            client.get(f"/v1/actors/{slug}").json["description"]
            == (by_record[slug][-1]["after"]["description"])
        )
    # what the rename marked stale was rendered again with the last name, beside the event's
    # own PATCHes
    shown = client.get(f"/v1/events/{EVENT}").json
    assert shown["summary"] == "Summary 3."
    names = {p["actor"]["id"]: p["actor"]["name"] for p in shown["participants"]}
    assert names[RENAMED] == "US forces 3"
