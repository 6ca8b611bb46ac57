"""gunicorn settings of `briefing serve` / `make run` (`gunicorn -c python:api.gunicorn_conf`).

Asynchronous workers (gevent): each connection is a greenlet, not a thread, so slow, idle or
long-lived clients (a trickled request, a kept-alive connection, a stream) each cost a few KB
and a socket, never a worker's capacity to serve the others. What must not stop a worker's loop
is made cooperative: the PostgreSQL driver waits in the loop (psycogreen), argon2 and imports
run in gevent's thread pool (api/http/offload.py). A SQLite query still runs in the loop: it
is bounded by the request's time budget (QUERY_TIMEOUT_MS).
"""

from __future__ import annotations

import json
import os

from gunicorn import util

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WORKERS", "2"))
worker_class = "gevent"
# Connections one worker holds at once (slow, idle and streaming clients included); beyond,
# it stops accepting and the kernel queues new connections for the other workers. Requests
# that reach the database share its DB_POOL_SIZE connections (waiting for one, up to 10 s).
worker_connections = int(os.environ.get("WORKER_CONNECTIONS", "1000"))
timeout = 30  # a worker whose main loop is silent this long is restarted
graceful_timeout = 20
keepalive = 5  # seconds an idle connection stays open (a greenlet waiting, nothing more)
limit_request_line = 4094  # longer request lines: 414
limit_request_fields = 100  # more header fields, or larger ones: 431
limit_request_field_size = 8190
control_socket_disable = True  # gunicorn 27's control socket is a fixed per-user path
# gunicorn trusts no forwarded header (by default it believes X-Forwarded-Proto from
# 127.0.0.1): the app alone applies them, from as many proxies as PROXY_COUNT says (ProxyFix)
forwarded_allow_ips = ""
secure_scheme_headers: dict[str, str] = {}
accesslog = "-"

PROBLEM_DETAILS = {
    400: "The request could not be parsed as HTTP.",
    414: f"The request line is longer than {limit_request_line} bytes; shorten the query.",
    431: "The request's header fields are too many or too large.",
}


def write_problem(sock, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn's own error responses (400, 414, 431, ... before the app runs) as RFC 9457
    problem+json, like every other error of the service (without `instance`: the request could
    not be read); `mesg` is not echoed."""
    body = json.dumps(
        {
            "type": "about:blank",
            "title": reason,
            "status": status_int,
            "detail": PROBLEM_DETAILS.get(status_int, reason + "."),
            "errors": [],
        }
    )
    response = (
        f"HTTP/1.1 {status_int} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/problem+json\r\n"
        f"Content-Length: {len(body)}\r\n"
        "X-Content-Type-Options: nosniff\r\n"
        "Content-Security-Policy: default-src 'none'; frame-ancestors 'none'\r\n"
        "\r\n" + body
    )
    util.write_nonblock(sock, response.encode("latin-1"))


def post_worker_init(worker) -> None:
    """In each worker, once gevent has patched the standard library: psycopg2 waits for
    PostgreSQL in the event loop instead of blocking it, gunicorn's own errors are
    problem+json, and open streams end when the worker stops."""
    from psycogreen.gevent import patch_psycopg

    patch_psycopg()
    util.write_error = write_problem  # gunicorn's workers call util.write_error(...)
    import gevent

    from api.http.streams import WATCHER

    def end_streams_when_stopping() -> None:
        # A stopping worker waits for its open connections (graceful_timeout): streams
        # would hold it that long, so they end at once and their clients resume elsewhere.
        while worker.alive:
            gevent.sleep(0.5)
        WATCHER.close()

    gevent.spawn(end_streams_when_stopping)
