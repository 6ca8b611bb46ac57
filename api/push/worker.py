"""The delivery worker (`briefing deliver`): it claims subscriptions with pending deliveries
from the outbox (api/ingest/outbox.py), POSTs each change to its subscription's URL in feed
order, signed (api/push/signing.py), and records the outcome.

A claim is a lease on the subscription (`claimed_by` until `claimed_until`), taken in a short
transaction: on PostgreSQL with `FOR UPDATE SKIP LOCKED`, so several workers (on any host)
share the subscriptions without waiting on each other; on SQLite one worker is enough. The lease
is renewed with each outcome recorded, so a worker that dies (or hangs) loses it within
`lease_seconds` and another worker resumes from the first delivery not recorded: nothing is
lost, and only the deliveries in flight when a worker died are sent twice (at least once,
no more). One subscription is served by one worker at a time, so its deliveries keep feed
order; a failure holds the ones after it back until its retry (exponential back-off with
jitter) succeeds, or until `max_attempts` fail and the subscription is disabled, saying why.

Idle threads wait for work: on PostgreSQL the worker LISTENs (api/store/notify.py), and a
commit that adds changes wakes them at once; they also look every few seconds (retries that
fall due, a notification lost while reconnecting), and every `poll_seconds` where nothing
listens (SQLite). The same housekeeping thread prunes the outbox now and then: deliveries
done with (delivered, or of a disabled subscription) whose change is older than
`retention_seconds` are removed; a subscription enabled again resumes from the oldest
delivery still kept.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import random
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import orjson
import peewee as pw
import urllib3

from api.push import PushSettings
from api.push.signing import headers as signed_headers
from api.push.targets import Resolver, UnsafeTarget, check, resolve
from api.queries.changes import feed_entry
from api.queries.subscriptions import message_id
from api.store.db import database, is_postgres
from api.store.models import Change, Delivery, Subscription, utcnow
from api.store.notify import FALLBACK_SECONDS, Listener

log = logging.getLogger(__name__)
MAX_RESPONSE_BYTES = 1024  # of a receiver's answer, kept as the error (never read further)
USER_AGENT = "briefing-api-webhooks/1"
_PAST = {"create": "created", "update": "updated", "delete": "deleted"}
LISTEN_SECONDS = 1.0  # the housekeeping thread's longest wait (then it sees if it must stop)
PRUNE_EVERY_SECONDS = 300.0  # how often the outbox is pruned
PRUNE_BATCH = 5_000  # outbox rows removed per transaction


@dataclass
class Outcome:
    """One attempt's result: delivered (2xx), or the error to record."""

    delivered: bool
    status: int | None = None
    error: str | None = None


def payload(change: Any) -> bytes:
    """A change as its webhook's body (Standard Webhooks: `type`, `timestamp`, `data`):
    the feed's entry and `record`, the record after the change, or, for a deletion, its
    last state (bundle form, with citations)."""
    state = change.after if change.op != "delete" else change.before
    entry = feed_entry(change)
    data = entry | {"record": orjson.Fragment(state) if state else None}
    return orjson.dumps(
        {
            "type": f"{change.record_type}.{_PAST[change.op]}",
            "timestamp": entry["time"],
            "data": data,
        }
    )


def backoff(attempts: int, settings: PushSettings) -> float:
    """Seconds before retrying after `attempts` failed attempts: exponential, capped, with
    jitter in its upper half (so two retries never come closer than the delay before)."""
    delay = min(settings.backoff_max_seconds, settings.backoff_seconds * 2 ** (attempts - 1))
    return delay / 2 + random.uniform(0, delay / 2)


@contextmanager
def _write() -> Iterator[None]:
    """A short write transaction (SQLite: taking the write lock at BEGIN)."""
    with database.atomic() if is_postgres() else database.atomic("IMMEDIATE"):
        yield


class Worker:
    """Delivers pending changes until stopped; `concurrency` subscriptions at once."""

    def __init__(self, settings: PushSettings, resolver: Resolver = resolve) -> None:
        self.settings = settings
        self.resolver = resolver
        self.name = f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(3)}"
        self.stopping = threading.Event()
        self.wake = threading.Event()  # set when a commit announces changes
        self.listening = False  # whether notifications wake the idle threads
        timeout = urllib3.Timeout(connect=settings.timeout_seconds, read=settings.timeout_seconds)
        self.http = urllib3.PoolManager(num_pools=256, maxsize=4, retries=False, timeout=timeout)

    # -- the loop -------------------------------------------------------------------------

    def run(self) -> None:
        """Serve until stopped (`stop`, on SIGTERM): each thread finishes its delivery."""
        threads = [
            threading.Thread(target=self._serve, name=f"deliver-{n}", daemon=True)
            for n in range(self.settings.concurrency)
        ]
        threads.append(threading.Thread(target=self._housekeep, name="housekeep", daemon=True))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def stop(self) -> None:
        """Stop after the deliveries in flight."""
        self.stopping.set()
        self.wake.set()

    def _serve(self) -> None:
        while not self.stopping.is_set():
            self.wake.clear()  # before looking: a commit after this wakes the wait below
            try:
                if not self.run_once():
                    idle = FALLBACK_SECONDS if self.listening else self.settings.poll_seconds
                    self.wake.wait(idle)
            except (pw.DatabaseError, pw.InterfaceError) as error:
                log.error("delivery worker: database error (retrying): %s", error)
                self.stopping.wait(1.0)
            except Exception:  # a bug must not silence a thread for good: log, go on
                log.exception("delivery worker: unexpected error (retrying)")
                self.stopping.wait(1.0)

    def run_once(self) -> bool:
        """Claim one subscription and deliver a batch of it; False when none was due."""
        with database.connection_context():
            claimed = self.claim()
        if claimed is None:
            return False
        try:
            self.deliver(claimed)
        finally:
            with database.connection_context(), _write():
                Subscription.update(claimed_by=None, claimed_until=utcnow()).where(
                    (Subscription.id == claimed) & (Subscription.claimed_by == self.name)
                ).execute()
        return True

    def _housekeep(self) -> None:
        """Wake the idle threads when a commit announces changes (PostgreSQL), and prune the
        outbox every PRUNE_EVERY_SECONDS."""
        listener = Listener()
        prune_at = time.monotonic()
        try:
            while not self.stopping.is_set():
                if time.monotonic() >= prune_at:
                    prune_at = time.monotonic() + PRUNE_EVERY_SECONDS
                    try:
                        self.prune()
                    except (pw.DatabaseError, pw.InterfaceError) as error:
                        log.error("delivery worker: pruning failed (retrying later): %s", error)
                notified = listener.wait(LISTEN_SECONDS)
                self.listening = notified is not None
                if notified:
                    self.wake.set()
                elif notified is None:  # nothing listens: the threads poll
                    self.stopping.wait(LISTEN_SECONDS)
        finally:
            listener.close()

    def prune(self) -> int:
        """Remove the deliveries done with, delivered or of a disabled subscription, whose
        change is older than `retention_seconds`; how many (in short transactions)."""
        cutoff = utcnow() - dt.timedelta(seconds=self.settings.retention_seconds)
        removed = 0
        with database.connection_context():
            last_old = (
                Change.select(Change.id)
                .where(Change.time < cutoff)
                .order_by(Change.time.desc())
                .limit(1)
                .scalar()
            )
            if last_old is None:
                return 0
            disabled = Subscription.select(Subscription.id).where(~Subscription.enabled)
            done = (Delivery.change <= last_old) & (
                (Delivery.status == "delivered") | Delivery.subscription.in_(disabled)
            )
            while True:
                with _write():
                    batch = Delivery.select(Delivery.id).where(done).limit(PRUNE_BATCH)
                    count = Delivery.delete().where(Delivery.id.in_(batch)).execute()
                removed += count
                if count < PRUNE_BATCH:
                    return removed

    def drain(self, timeout: float = 10.0) -> None:
        """Deliver until nothing is due (tests and one-shot runs), at most `timeout` s."""
        deadline = time.monotonic() + timeout
        while self.run_once() and time.monotonic() < deadline:
            pass

    # -- claims ---------------------------------------------------------------------------

    def claim(self) -> int | None:
        """Lease the subscription with a due delivery that was served least recently."""
        now = utcnow()
        pending = Delivery.select(Delivery.id).where(
            (Delivery.subscription == Subscription.id) & (Delivery.status == "pending")
        )
        due = (
            Subscription.select(Subscription.id)
            .where(
                Subscription.enabled
                & (Subscription.retry_at.is_null() | (Subscription.retry_at <= now))
                & (Subscription.claimed_until.is_null() | (Subscription.claimed_until < now))
                & pw.fn.EXISTS(pending)
            )
            .order_by(Subscription.claimed_until.asc(nulls="first"), Subscription.id)
            .limit(1)
        )
        if is_postgres():
            # NO KEY UPDATE: a write that is adding this subscription's outbox rows holds a
            # KEY SHARE lock on it (their foreign key), which FOR UPDATE would conflict with
            # and SKIP LOCKED skip: under steady writes, the subscription would rarely be
            # claimed. Workers still exclude each other.
            due = due.for_update("FOR NO KEY UPDATE", skip_locked=True)
        with _write():
            found = due.scalar()
            if found is None:
                return None
            Subscription.update(claimed_by=self.name, claimed_until=self._lease()).where(
                Subscription.id == found
            ).execute()
        return found

    def _lease(self) -> dt.datetime:
        return utcnow() + dt.timedelta(seconds=self.settings.lease_seconds)

    # -- deliveries -----------------------------------------------------------------------

    def deliver(self, subscription_id: int) -> None:
        """Deliver the subscription's pending changes in order, until one fails, the batch
        ends, the lease is lost or the worker stops."""
        with database.connection_context():
            subscription = Subscription.get_or_none(Subscription.id == subscription_id)
            if subscription is None:
                return
            batch = list(
                Delivery.select(Delivery, Change)
                .join(Change, on=(Delivery.change == Change.id))
                .where((Delivery.subscription == subscription_id) & (Delivery.status == "pending"))
                .order_by(Delivery.id)
                .limit(self.settings.batch)
            )
        for delivery in batch:
            if self.stopping.is_set():
                return
            outcome = self.attempt(subscription, delivery.change)
            with database.connection_context():
                kept = self.record(subscription, delivery, outcome)
            if not (kept and outcome.delivered):
                return

    def attempt(self, subscription: Any, change: Any) -> Outcome:
        """POST one change to the subscription's URL, checked again now; never raises."""
        settings = self.settings
        try:
            target = check(
                subscription.url, settings.allow_http, settings.allow_loopback, self.resolver
            )
        except UnsafeTarget as refused:
            return Outcome(False, None, f"Refused target: {refused}")
        body = payload(change)
        keys = [subscription.secret]
        if (
            subscription.previous_secret
            and (subscription.previous_secret_until or utcnow()) > utcnow()
        ):
            keys.append(subscription.previous_secret)
        host = f"[{target.host}]" if ":" in target.host else target.host
        default_port = 443 if target.scheme == "https" else 80
        request_headers = signed_headers(
            keys, message_id(subscription.slug, change.id), int(time.time()), body
        ) | {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "Host": host if target.port == default_port else f"{host}:{target.port}",
        }
        # Connect to the address that was checked, never to a name resolved again.
        tls = {"server_hostname": target.host, "assert_hostname": target.host}
        parts = urlsplit(target.url)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            pool = self.http.connection_from_host(
                target.address,
                target.port,
                target.scheme,
                pool_kwargs=tls if target.scheme == "https" else None,
            )
            response = pool.urlopen(
                "POST",
                path,
                body=body,
                headers=request_headers,
                redirect=False,
                retries=False,
                preload_content=False,
                assert_same_host=False,
            )
        except (urllib3.exceptions.HTTPError, OSError) as error:
            return Outcome(False, None, f"{type(error).__name__}: {error}"[:500])
        try:
            head = response.read(MAX_RESPONSE_BYTES, decode_content=False)
        except (urllib3.exceptions.HTTPError, OSError):
            head = b""
        finally:
            if response.length_remaining == 0:
                response.release_conn()
            else:  # a body longer than we read: the connection is not reused
                response.close()
        if 200 <= response.status < 300:
            return Outcome(True, response.status)
        text = head.decode("utf-8", "replace").strip()
        return Outcome(False, response.status, f"HTTP {response.status}: {text}"[:500])

    def record(self, subscription: Any, delivery: Any, outcome: Outcome) -> bool:
        """Record an attempt and renew the lease; False when the lease is lost (or the
        subscription disabled or removed meanwhile): this worker stops serving it."""
        now = utcnow()
        attempts = delivery.attempts + 1
        row: dict[str, Any] = {
            "attempts": attempts,
            "last_attempt_at": now,
            "last_status": outcome.status,
            "last_error": outcome.error,
        }
        ours = (Subscription.id == subscription.id) & (Subscription.claimed_by == self.name)
        with _write():
            if outcome.delivered:
                Delivery.update(status="delivered", delivered_at=now, **row).where(
                    Delivery.id == delivery.id
                ).execute()
                renewed = Subscription.update(claimed_until=self._lease(), retry_at=None).where(
                    ours & Subscription.enabled
                )
                return bool(renewed.execute())
            if attempts < self.settings.max_attempts:
                Delivery.update(**row).where(Delivery.id == delivery.id).execute()
                wait = backoff(attempts, self.settings)
                retry = now + dt.timedelta(seconds=wait)
                Subscription.update(retry_at=retry).where(ours).execute()
                log.warning(
                    "delivery of change %s to %s failed (attempt %s, retry in %.1f s): %s",
                    delivery.change.id,
                    subscription.slug,
                    attempts,
                    wait,
                    outcome.error,
                )
                return False
            Delivery.update(status="failed", **row).where(Delivery.id == delivery.id).execute()
            reason = (
                f"Disabled after {attempts} failed attempts to deliver change "
                f"{delivery.change.id}; the last: {outcome.error}"
            )
            Subscription.update(enabled=False, disabled_reason=reason, updated_at=now).where(
                ours
            ).execute()
            log.error("subscription %s disabled: %s", subscription.slug, reason)
            return False
