"""The live stream of the change feed: Server-Sent Events (`GET /v1/changes/stream`).

A stream holds no database connection while it waits. One watcher per worker process polls
the last `seq` (a pooled connection taken and given back, every `STREAM_POLL_SECONDS`) while
any stream is open, and wakes the streams when it moves; each then reads what is new for its
filters with a connection taken and given back. Under gunicorn's gevent workers a stream is a
greenlet and a socket, so open streams never starve the worker's other requests. A client
holds at most `STREAMS_PER_CLIENT` streams per worker process (429 beyond), and a stream ends
after `STREAM_MAX_SECONDS`, or when its worker stops (the client reconnects with
`Last-Event-ID`, losing nothing).

Changes are committed in `seq` order (under the write lock), so a stream that has read up to a
`seq` has seen every change before it: resuming after it gives no gap and no duplicate.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import orjson
import peewee as pw

from api.queries.changes import changes_after, feed_entry, latest_seq
from api.store.db import database
from schemas.writes import ChangeSchema

log = logging.getLogger(__name__)
BATCH = 200  # changes read per query
_ENTRY = ChangeSchema()


class ChangeWatcher:
    """Polls the last `seq` while streams wait, and wakes them when it moves."""

    def __init__(self) -> None:
        self._moved = threading.Condition()
        self._generation = 0  # bumped each time the last seq is seen to change
        self._latest: int | None = None
        self._waiting = 0
        self._poller: threading.Thread | None = None
        self.closing = False

    @property
    def generation(self) -> int:
        return self._generation

    def wait(self, generation: int, timeout: float, poll_seconds: float) -> bool:
        """Wait until the last seq moves after `generation` was read, at most `timeout` s;
        True when it moved."""
        with self._moved:
            self._waiting += 1
            if self._poller is None:
                self._poller = threading.Thread(
                    target=self._poll, args=(poll_seconds,), name="stream-watcher", daemon=True
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

    def _poll(self, poll_seconds: float) -> None:
        while True:
            with self._moved:
                if self._waiting == 0:
                    self._poller = None
                    return
            latest: int | None
            try:
                with database.connection_context():
                    latest = latest_seq()
            except (pw.DatabaseError, pw.InterfaceError) as error:
                log.warning("stream watcher: %s", error)
                latest = self._latest
            with self._moved:
                if latest != self._latest:
                    self._latest = latest
                    self._generation += 1
                    self._moved.notify_all()
            time.sleep(poll_seconds)


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


def event(row: Any) -> bytes:
    """One change as an SSE event: `id` its seq, `data` its entry as /v1/changes lists it."""
    data = orjson.dumps(_ENTRY.dump(feed_entry(row)))
    return b"id: %d\ndata: %s\n\n" % (row.id, data)


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
        while time.monotonic() < self.ends_at and not WATCHER.closing:
            generation = WATCHER.generation
            with database.connection_context():
                last = latest_seq()
                position = last if position is None else position
                rows = changes_after(position, self.filters | {"until": last}, BATCH)
            for row in rows:
                yield event(row)
            # everything up to `last` has been read (the filters skipped the rest)
            position = rows[-1].id if len(rows) == BATCH else max(position, last)
            if len(rows) == BATCH:
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
