"""Change notifications: on PostgreSQL, LISTEN/NOTIFY wakes those who follow the change feed
(the streams' watcher, api/http/streams.py; the delivery worker, api/push/worker.py) when a
write commits, instead of their polling for it.

A write announces its changes in its own transaction (`announce`): PostgreSQL delivers the
notification when, and only if, the transaction commits, and once per transaction however many
changes it made (identical notifications of one transaction are folded into one). A `Listener`
holds a connection of its own, outside the pool, LISTENing. A notification carries nothing a
follower relies on: it only says "look now", and what is new is read from the journal. So
followers keep polling as the fallback: at their own interval on SQLite and while no listener is
connected, and every `FALLBACK_SECONDS` beside one (a notification sent while a listener
reconnects is lost; a retry that falls due is announced by nobody).
"""

from __future__ import annotations

import contextlib
import logging
import select
import time
from typing import Any

import psycopg2

from api.store.db import database, is_postgres, live

log = logging.getLogger(__name__)
CHANNEL = "briefing_changes"
FALLBACK_SECONDS = 5.0  # beside a listener, followers still look this often
RECONNECT_SECONDS = 5.0  # after a listener's connection failed, before trying again


def announce() -> None:
    """Announce a change in the current transaction (PostgreSQL; nothing on SQLite)."""
    if is_postgres():
        database.execute_sql(f"NOTIFY {CHANNEL}")


class Listener:
    """A connection LISTENing on the changes' channel (PostgreSQL only), connected on first
    use and again after a failure."""

    def __init__(self) -> None:
        self._connection: Any = None
        self._retry_at = 0.0

    def _connect(self) -> Any:
        if self._connection is None and time.monotonic() >= self._retry_at:
            target = live()
            if not is_postgres(target):
                return None
            try:
                connection = psycopg2.connect(dbname=target.database, **target.connect_params)
                connection.autocommit = True
                connection.cursor().execute(f"LISTEN {CHANNEL}")
                self._connection = connection
            except psycopg2.Error as error:
                log.warning("change listener: cannot listen (polling meanwhile): %s", error)
                self._retry_at = time.monotonic() + RECONNECT_SECONDS
        return self._connection

    def wait(self, timeout: float) -> bool | None:
        """Wait up to `timeout` s for a notification: True when one came (every pending one is
        consumed), False when none did, None when nothing listens (SQLite, or no connection:
        the caller polls instead)."""
        connection = self._connect()
        if connection is None:
            return None
        try:
            if not connection.notifies:
                ready, _, _ = select.select([connection], [], [], timeout)
                if ready:
                    connection.poll()
            came = bool(connection.notifies)
            connection.notifies.clear()
            return came
        except (psycopg2.Error, OSError, ValueError) as error:
            log.warning("change listener: connection lost (polling meanwhile): %s", error)
            self.close()
            self._retry_at = time.monotonic() + RECONNECT_SECONDS
            return None

    def close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(psycopg2.Error):
                self._connection.close()
            self._connection = None
