"""Webhook deliveries end to end, on both backends: changes written over HTTP, delivered by
the worker (api/push/worker.py) to loopback receivers that verify every signature with the
`standardwebhooks` reference library; back-off, disabling, resuming, a worker killed
mid-batch, targets refused at delivery without a request."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import threading
import time

import pytest

import api.push.worker as worker_module
from api.push import PushSettings
from api.push.worker import Worker
from api.store.db import database
from api.store.models import Change, utcnow
from tests.helpers import BRIEFING
from tests.push_helpers import DNS, Receiver

SOURCE = "al-monitor-2020-04-07-us-iran-showdown-iraq"
EXCERPT = (
    "Kataib Hezbollah spokesman Mohammad Mohyee warned against four possible moves by the "
    "United States."
)
FAST = PushSettings(
    allow_http=True, allow_loopback=True, backoff_seconds=0.05, max_attempts=4, timeout_seconds=2
)


@pytest.fixture
def client(curated):
    return curated.app.test_client()


def subscribe(client, curated, url: str, scope: str = "write", **body) -> dict:
    response = client.post(
        "/v1/subscriptions", json={"url": url, **body}, headers=curated.auth(scope)
    )
    assert response.status_code == 201, response.json
    return response.json


def write_actor(client, curated, slug: str) -> None:
    body = {
        "id": slug,
        "name": f"Actor {slug}",
        "kind": "person",
        "citations": [{"source": SOURCE, "excerpt": EXCERPT}],
    }
    assert client.post("/v1/actors", json=body, headers=curated.auth()).status_code == 201


def rename(client, curated, slug: str, name: str) -> None:
    etag = client.get(f"/v1/actors/{slug}").headers["ETag"]
    headers = curated.auth() | {"If-Match": etag, "Content-Type": "application/merge-patch+json"}
    response = client.patch(f"/v1/actors/{slug}", data=json.dumps({"name": name}), headers=headers)
    assert response.status_code == 200, response.json


def remove(client, curated, slug: str) -> None:
    etag = client.get(f"/v1/actors/{slug}").headers["ETag"]
    response = client.delete(f"/v1/actors/{slug}", headers=curated.auth() | {"If-Match": etag})
    assert response.status_code == 204, response.json


def feed_after(client, seq: int) -> list[dict]:
    return client.get(f"/v1/changes?since={seq}&limit=1000").json


def last_seq(client) -> int:
    entries = client.get("/v1/changes?limit=1000").json
    return entries[-1]["seq"] if entries else 0


def moment(text: str) -> float:
    """An ISO 8601 time of the API as a Unix time."""
    return dt.datetime.fromisoformat(text).timestamp()


def deliveries(client, curated, subscription: str) -> list[dict]:
    response = client.get(f"/v1/subscriptions/{subscription}/deliveries", headers=curated.auth())
    assert response.status_code == 200, response.json
    return response.json


def test_every_change_is_delivered_signed_in_order_with_filters_and_tombstones(client, curated):
    start = last_seq(client)
    with Receiver() as everything, Receiver() as events, Receiver() as by_source:
        subscriptions = {
            "all": subscribe(client, curated, everything.url, description="mirror"),
            "events": subscribe(client, curated, events.url, filters={"record_type": ["event"]}),
            "source": subscribe(client, curated, by_source.url, filters={"source": [SOURCE]}),
        }
        everything.secrets.append(subscriptions["all"]["secret"])
        events.secrets.append(subscriptions["events"]["secret"])
        by_source.secrets.append(subscriptions["source"]["secret"])
        write_actor(client, curated, "push-one")
        write_actor(client, curated, "push-two")
        rename(client, curated, "push-one", "Renamed")
        remove(client, curated, "push-two")
        Worker(FAST, DNS).drain()

        changes = feed_after(client, start)
        assert [c["op"] for c in changes] == ["create", "create", "update", "delete"]
        assert everything.seqs() == [c["seq"] for c in changes]  # feed order, each once
        assert all(r["verified"] for r in everything.received), everything.received
        assert by_source.seqs() == everything.seqs()  # each cites SOURCE, the tombstone too
        assert all(r["verified"] for r in by_source.received)
        assert events.received == []
        bodies = [r["body"] for r in everything.received]
        assert [b["data"] | {"record": None} for b in bodies] == [
            c | {"record": None} for c in changes
        ]
        assert [b["type"] for b in bodies] == [
            "actor.created", "actor.created", "actor.updated", "actor.deleted"
        ]  # fmt: skip
        assert bodies[2]["data"]["record"]["name"] == "Renamed"
        tombstone = bodies[3]["data"]["record"]  # the record's last state
        assert tombstone["id"] == "push-two" and tombstone["name"] == "Actor push-two"
        assert tombstone["citations"] == [{"source": SOURCE, "excerpt": EXCERPT}]
        ids = [r["headers"]["webhook-id"] for r in everything.received]
        assert len(set(ids)) == 4

    listed = deliveries(client, curated, subscriptions["all"]["id"])
    assert [d["seq"] for d in listed] == [c["seq"] for c in changes]
    assert {(d["status"], d["attempts"], d["last_status"]) for d in listed} == {
        ("delivered", 1, 204)
    }
    assert [d["webhook_id"] for d in listed] == ids
    assert deliveries(client, curated, subscriptions["events"]["id"]) == []


def test_a_failing_receiver_sees_the_back_off_then_the_subscription_is_disabled(client, curated):
    with Receiver(status=500) as receiver:
        made = subscribe(client, curated, receiver.url)
        receiver.secrets.append(made["secret"])
        write_actor(client, curated, "push-failing")
        write_actor(client, curated, "push-after")
        worker = Worker(FAST, DNS)
        schedule = []  # after each attempt: (attempts, when it was made, when it may retry)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if not worker.run_once():
                time.sleep(0.005)
                continue
            state = client.get(f"/v1/subscriptions/{made['id']}", headers=curated.auth()).json
            first = deliveries(client, curated, made["id"])[0]
            schedule.append((first["attempts"], moment(first["last_attempt_at"]), state))
            if not state["enabled"]:
                break
        assert state["enabled"] is False
        assert "4 failed attempts" in state["disabled_reason"]
        assert "HTTP 500" in state["disabled_reason"]
        assert state["pending"] == 1  # the change after the failed one is kept for later

        # four attempts of the first change only (order holds the second back), all signed
        assert len(receiver.received) == 4
        assert len({r["headers"]["webhook-id"] for r in receiver.received}) == 1
        assert all(r["verified"] for r in receiver.received)
        # the back-off: after attempt n, no retry before base * 2^(n-1) / 2 to base * 2^(n-1)
        # (the schedule the worker recorded, and the next attempt's arrival after it)
        assert [attempts for attempts, _, _ in schedule] == [1, 2, 3, 4]
        for (n, attempted, state), arrival in zip(schedule[:3], receiver.received[1:], strict=True):
            delay = FAST.backoff_seconds * 2 ** (n - 1)
            waited = moment(state["retry_at"]) - attempted
            assert delay / 2 - 1e-5 <= waited <= delay + 1e-5, (n, waited)  # stored in µs
            assert arrival["wall"] >= moment(state["retry_at"]) - 0.001

        listed = deliveries(client, curated, made["id"])
        assert [(d["status"], d["attempts"], d["last_status"]) for d in listed] == [
            ("failed", 4, 500),
            ("pending", 0, None),
        ]
        assert listed[0]["last_error"].startswith("HTTP 500")

        # resumed: the failed change first, then the next, in order
        receiver.status = 204
        response = client.patch(
            f"/v1/subscriptions/{made['id']}", json={"enabled": True}, headers=curated.auth()
        )
        assert response.status_code == 200 and response.json["disabled_reason"] is None
        worker.drain()
        seqs = receiver.seqs()
        assert seqs[4:] == sorted(set(seqs))
        assert [d["status"] for d in deliveries(client, curated, made["id"])] == ["delivered"] * 2


def test_a_target_refused_at_delivery_gets_no_request(client, curated):
    DNS.names["hooks.test"] = ["127.0.0.1"]
    try:
        with Receiver() as receiver:
            port = receiver.server.server_address[1]
            made = subscribe(client, curated, f"http://hooks.test:{port}/hook")
            receiver.secrets.append(made["secret"])
            DNS.names["hooks.test"] = ["10.20.30.40"]  # DNS changed since the subscription
            write_actor(client, curated, "push-rebound")
            Worker(FAST, DNS).run_once()
            assert receiver.received == []
            (delivery,) = deliveries(client, curated, made["id"])
            assert delivery["status"] == "pending" and delivery["attempts"] == 1
            assert "10.20.30.40, a private address" in delivery["last_error"]

            DNS.names["hooks.test"] = ["127.0.0.1"]  # and back: delivered on the retry
            time.sleep(FAST.backoff_seconds)
            Worker(FAST, DNS).drain()
            assert len(receiver.received) == 1 and receiver.received[0]["verified"]

            # a deployment that does not allow loopback targets never dials one
            write_actor(client, curated, "push-loopback")
            strict = PushSettings(allow_http=True, backoff_seconds=0.05)
            Worker(strict, DNS).run_once()
            assert len(receiver.received) == 1
            assert "loopback" in deliveries(client, curated, made["id"])[-1]["last_error"]
    finally:
        DNS.names.pop("hooks.test", None)


def test_a_rotated_secret_signs_beside_the_previous_one(client, curated):
    with Receiver() as old_only, Receiver() as new_only:
        made = subscribe(client, curated, old_only.url)
        old_only.secrets.append(made["secret"])
        rotated = client.post(f"/v1/subscriptions/{made['id']}/secret", headers=curated.auth())
        assert rotated.status_code == 200
        assert rotated.json["secret"] != made["secret"]
        assert rotated.json["previous_secret_expires_at"]
        new_only.secrets.append(rotated.json["secret"])
        write_actor(client, curated, "push-rotated")
        Worker(FAST, DNS).drain()
        (received,) = old_only.received
        assert received["verified"]  # a receiver that has not switched yet
        assert len(received["headers"]["webhook-signature"].split(" ")) == 2
        new_only.record(received["headers"], received["raw"])  # one that has switched
        assert new_only.received[0]["verified"]
        stranger = Receiver()
        stranger.secrets.append(subscribe(client, curated, old_only.url)["secret"])
        stranger.record(received["headers"], received["raw"])  # another subscription's secret
        assert not stranger.received[0]["verified"]
        stranger.server.server_close()


def test_a_worker_killed_mid_batch_loses_nothing(client, curated):
    """`briefing deliver` killed (SIGKILL) while it delivers: another worker takes over when
    its lease lapses; every change arrives, at most the one in flight twice."""
    with Receiver() as receiver:
        receiver.delay = 0.1  # slow enough to be killed in the middle
        made = subscribe(client, curated, receiver.url)
        receiver.secrets.append(made["secret"])
        start = last_seq(client)
        for n in range(8):
            write_actor(client, curated, f"push-killed-{n}")
        env = {
            **os.environ,
            "DATABASE_URL": curated.url,
            "WEBHOOK_ALLOW_HTTP": "1",
            "WEBHOOK_ALLOW_LOOPBACK": "1",
            "DELIVERY_LEASE_SECONDS": "1",
            "DELIVERY_POLL_SECONDS": "0.05",
        }
        worker = subprocess.Popen([BRIEFING, "deliver"], env=env, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 30
            while len(receiver.received) < 3 and time.monotonic() < deadline:
                time.sleep(0.02)
            assert len(receiver.received) >= 3, (
                worker.stderr.read1().decode() if worker.stderr else ""
            )
        finally:
            worker.send_signal(signal.SIGKILL)
            worker.wait(10)
        killed_at = len(receiver.received)
        assert killed_at < 8  # killed mid-batch
        receiver.delay = 0
        time.sleep(1.1)  # the dead worker's lease lapses
        Worker(FAST, DNS).drain()
        expected = [c["seq"] for c in feed_after(client, start)]
        seqs = receiver.seqs()
        assert sorted(set(seqs)) == expected  # nothing lost
        assert len(seqs) - len(expected) <= 1  # at most the delivery in flight, twice
        assert seqs == sorted(seqs)  # in order, a repeat only of the one in flight
        assert all(r["verified"] for r in receiver.received)


def test_the_worker_prunes_deliveries_done_with_past_the_retention(client, curated):
    """Delivered ones, and those of a disabled subscription, go once their change is older
    than the retention; what an enabled subscription still has to receive stays."""
    with Receiver() as kept, Receiver(status=500) as failing, Receiver() as late:
        a = subscribe(client, curated, kept.url)
        b = subscribe(client, curated, failing.url)
        kept.secrets.append(a["secret"])
        start = last_seq(client)
        write_actor(client, curated, "push-old")
        once = PushSettings(allow_http=True, allow_loopback=True, max_attempts=1)
        Worker(once, DNS).drain()  # a: delivered; b: failed, disabled
        c = subscribe(client, curated, late.url)
        late.secrets.append(c["secret"])
        write_actor(client, curated, "push-new")  # pending for a, b (disabled) and c
        with database.connection_context():  # both changes two days old
            two_days_ago = utcnow() - dt.timedelta(days=2)
            Change.update(time=two_days_ago).where(Change.id > start).execute()
        day = PushSettings(allow_http=True, allow_loopback=True, retention_seconds=86400)
        assert Worker(day, DNS).prune() == 3
        assert [d["status"] for d in deliveries(client, curated, a["id"])] == ["pending"]
        assert deliveries(client, curated, b["id"]) == []
        assert [d["status"] for d in deliveries(client, curated, c["id"])] == ["pending"]
        assert Worker(day, DNS).prune() == 0
        Worker(FAST, DNS).drain()  # nothing an enabled subscription awaited was lost
        new = feed_after(client, start)[-1]["seq"]
        assert kept.seqs()[-1] == new and late.seqs() == [new]


def test_on_postgresql_a_commit_wakes_the_idle_worker(client, curated, monkeypatch):
    """Its threads wait a minute between looks (poll and fallback), yet the change arrives
    at once: the commit's notification woke them."""
    if not curated.url.startswith("postgresql"):
        pytest.skip("LISTEN/NOTIFY: PostgreSQL only")
    monkeypatch.setattr(worker_module, "FALLBACK_SECONDS", 60.0)
    slow = PushSettings(allow_http=True, allow_loopback=True, poll_seconds=60.0)
    with Receiver() as receiver:
        receiver.secrets.append(subscribe(client, curated, receiver.url)["secret"])
        worker = Worker(slow, DNS)
        thread = threading.Thread(target=worker.run)
        thread.start()
        try:
            deadline = time.monotonic() + 10
            while not worker.listening and time.monotonic() < deadline:
                time.sleep(0.05)
            assert worker.listening
            time.sleep(0.3)  # every thread has looked once and waits
            write_actor(client, curated, "push-notified")
            deadline = time.monotonic() + 15
            while not receiver.received and time.monotonic() < deadline:
                time.sleep(0.05)
            assert len(receiver.received) == 1 and receiver.received[0]["verified"]
        finally:
            worker.stop()
            thread.join(15)
