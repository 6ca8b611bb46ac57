"""The live stream of the change feed: Server-Sent Events (`GET /v1/changes/stream`).

A stream holds no database connection while it waits. One watcher per worker process follows
the feed while any stream is open: woken by PostgreSQL's notification of each commit
(api/store/notify.py), or polling every `STREAM_POLL_SECONDS` on SQLite (and every few seconds
beside a listener, as a fallback), it reads what is new with one query for all its streams and
keeps the last RECENT changes rendered as events. A stream without a `source` filter takes its
events from there, without a query of its own; one with a `source` filter, or that is behind
what the watcher keeps (a resumption from long ago), reads the journal with a connection taken
and given back. Under gunicorn's gevent workers a stream is a greenlet and a socket, so open
streams never starve the worker's other requests. A client holds at most `STREAMS_PER_CLIENT`
streams per worker process (429 beyond), and a stream ends after `STREAM_MAX_SECONDS`, or when
its worker stops (the client reconnects with `Last-Event-ID`, losing nothing).

Changes are committed in `seq` order (under the write lock), so a stream that has read up to a
`seq` has seen every change before it: resuming after it gives no gap and no duplicate, and the
watcher's reads, each of what came after the last `seq` it saw, miss nothing.
"""

from __future__ import annotations

import bisect
import logging
import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import orjson
import peewee as pw

from api.queries.changes import changes_after, feed_entry, latest_seq
from api.store.db import database, live
from api.store.notify import FALLBACK_SECONDS, Listener
from schemas.writes import ChangeSchema

log = logging.getLogger(__name__)
BATCH = 200  # changes a stream reads per query
RECENT = 10_000  # changes the watcher keeps rendered (between RECENT and twice as many)
COALESCE_SECONDS = 0.05  # woken by notifications, the watcher reads at most this often
LISTEN_SECONDS = 0.5  # a listening watcher's longest wait (then it sees if streams still wait)
_ENTRY = ChangeSchema()


def event(row: Any) -> bytes:
    """One change as an SSE event: `id` its seq, `data` its entry as /v1/changes lists it."""
    data = orjson.dumps(_ENTRY.dump(feed_entry(row)))
    return b"id: %d\ndata: %s\n\n" % (row.id, data)


class ChangeWatcher:
    """Follows the feed while streams wait, keeps its last changes as events, and wakes the
    streams when it moves."""

    def __init__(self) -> None:
        self._moved = threading.Condition()
        self._generation = 0  # bumped each time new changes are read
        self._seqs: list[int] = []  # the changes kept: every change in (floor, latest]
        self._events: list[tuple[str, bytes]] = []  # (record type, event) of each
        self._floor: int | None = None
        self._latest: int | None = None
        self._waiting = 0
        self._poller: threading.Thread | None = None
        self.closing = False

    @property
    def generation(self) -> int:
        return self._generation

    def since(self, position: int, record_types: list[str] | None) -> tuple[bytes, int] | None:
        """The events after the seq `position` (of these record types; None: all) joined, and
        the seq they reach; None when the changes kept do not cover `position`."""
        with self._moved:
            if self._floor is None or self._latest is None:
                return None
            if not self._floor <= position <= self._latest:
                return None
            start = bisect.bisect_right(self._seqs, position)
            chosen = self._events[start:]
            if record_types:
                chosen = [(kind, event) for kind, event in chosen if kind in record_types]
            return b"".join(event for _, event in chosen), self._latest

    def wait(self, generation: int, timeout: float, poll_seconds: float) -> bool:
        """Wait until new changes are read after `generation` was, at most `timeout` s;
        True when they were."""
        with self._moved:
            self._waiting += 1
            if self._poller is None:
                self._poller = threading.Thread(
                    target=self._follow, args=(poll_seconds,), name="stream-watcher", daemon=True
                )
                self._poller.start()
            try:
                return self._moved.wait_for(
                    lambda: self._generation != generation or self.closing, timeout
                )
            finally:
                self._waiting -= 1

    def close(self) -> None:
        """The worker is stopping: every stream ends now (its client resumes elsewhere)."""
        with self._moved:
            self.closing = True
            self._moved.notify_all()

    def _follow(self, poll_seconds: float) -> None:
        listener = Listener()
        bound = live()  # a test process binds other databases: what is kept is this one's
        read_at, due = 0.0, True
        try:
            while True:
                with self._moved:
                    if self._waiting == 0 or self.closing or live() is not bound:
                        self._poller = None
                        self._forget()
                        return
                if due or time.monotonic() >= read_at + FALLBACK_SECONDS:
                    time.sleep(max(0.0, read_at + COALESCE_SECONDS - time.monotonic()))
                    read_at, due = time.monotonic(), False
                    try:
                        self._read()
                    except (pw.DatabaseError, pw.InterfaceError) as error:
                        log.warning("stream watcher: %s", error)
                notified = listener.wait(LISTEN_SECONDS)
                if notified is None:  # nothing listens: poll
                    time.sleep(poll_seconds)
                due = notified is not False
        finally:
            listener.close()

    def _read(self) -> None:
        """Read (and keep) what was committed after the last change read."""
        while True:
            with database.connection_context():
                if self._latest is None:
                    latest, rows = latest_seq(), []
                else:
                    latest, rows = self._latest, changes_after(self._latest, {}, RECENT)
            events = [(row.record_type, event(row)) for row in rows]
            with self._moved:
                first = self._latest is None
                if first:  # streams wake, to read what came before it began, if anything
                    self._floor = self._latest = latest
                if rows:
                    self._seqs += [row.id for row in rows]
                    self._events += events
                    self._latest = rows[-1].id
                    if len(self._seqs) > 2 * RECENT:  # forget the oldest half
                        drop = len(self._seqs) - RECENT
                        self._floor = self._seqs[drop - 1]
                        del self._seqs[:drop], self._events[:drop]
                if rows or first:
                    self._generation += 1
                    self._moved.notify_all()
            if len(rows) < RECENT:
                return

    def _forget(self) -> None:
        """No stream waits: what was kept is dropped (kept again from the next read)."""
        self._seqs, self._events = [], []
        self._floor = self._latest = None


WATCHER = ChangeWatcher()


class StreamLimit:
    """Open streams per client in this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: Counter[str] = Counter()

    def take(self, client: str, limit: int) -> bool:
        with self._lock:
            if self._open[client] >= limit:
                return False
            self._open[client] += 1
            return True

    def give_back(self, client: str) -> None:
        with self._lock:
            self._open[client] -= 1
            if self._open[client] <= 0:
                del self._open[client]


LIMIT = StreamLimit()
# Settings and their defaults (README's Configuration); a test app's streams end sooner, so
# that a client reading one to its end (the contract tests) is not kept waiting.
DEFAULTS = {
    "STREAMS_PER_CLIENT": 10,
    "STREAM_HEARTBEAT_SECONDS": 15.0,
    "STREAM_POLL_SECONDS": 0.25,
    "STREAM_MAX_SECONDS": 900.0,
    "STREAM_RETRY_MS": 2000,
}
TESTING_DEFAULTS = {
    "STREAM_MAX_SECONDS": 0.25,
    "STREAM_HEARTBEAT_SECONDS": 0.1,
    "STREAM_POLL_SECONDS": 0.05,
}


def settings(config: dict[str, Any], testing: bool) -> dict[str, Any]:
    """The stream settings of an app's `config` (TESTING_DEFAULTS under tests)."""
    defaults = DEFAULTS | (TESTING_DEFAULTS if testing else {})
    return {
        name: config.get(name) if config.get(name) is not None else value
        for name, value in defaults.items()
    }


class ChangeStream:
    """The body of one stream: an iterable whose `close()` (called by the server when the
    client goes, or at the end) gives its place back to the client's bound."""

    def __init__(
        self,
        after: int | None,
        filters: dict[str, Any],
        client: str,
        settings: dict[str, Any],
    ) -> None:
        self.after = after
        self.filters = filters
        self.client = client
        self.heartbeat = settings["STREAM_HEARTBEAT_SECONDS"]
        self.poll = settings["STREAM_POLL_SECONDS"]
        self.ends_at = time.monotonic() + settings["STREAM_MAX_SECONDS"]
        self.retry_ms = int(settings["STREAM_RETRY_MS"])
        self._closed = False

    def __iter__(self) -> Iterator[bytes]:
        yield b": the change feed, live (/v1/changes)\nretry: %d\n\n" % self.retry_ms
        position = self.after
        record_types = self.filters.get("record_type") or None
        kept = not self.filters.get("source")  # the watcher's changes serve this stream
        while time.monotonic() < self.ends_at and not WATCHER.closing:
            generation = WATCHER.generation
            found = WATCHER.since(position, record_types) if kept and position is not None else None
            full = False
            if found is not None:
                events, position = found
            else:
                with database.connection_context():
                    last = latest_seq()
                    position = last if position is None else position
                    rows = changes_after(position, self.filters | {"until": last}, BATCH)
                events = b"".join(event(row) for row in rows)
                full = len(rows) == BATCH
                # everything up to `last` has been read (the filters skipped the rest)
                position = rows[-1].id if full else max(position, last)
            if events:
                yield events
            if full:
                continue
            remaining = self.ends_at - time.monotonic()
            if remaining <= 0:
                break
            if not WATCHER.wait(generation, min(self.heartbeat, remaining), self.poll):
                yield b": heartbeat\n\n"
            elif WATCHER.closing:
                break

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            LIMIT.give_back(self.client)
