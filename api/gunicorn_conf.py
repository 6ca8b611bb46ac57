"""gunicorn settings of `briefing serve` / `make run` (`gunicorn -c python:api.gunicorn_conf`).

Threaded workers (gthread): a worker's main loop keeps accepting, answering heartbeats and
parking idle keep-alive connections while its threads serve requests, so a few slow or idle
clients hold a thread each, not a whole worker, and the arbiter never kills a busy worker for
them. What a worker cannot do is bound a client that trickles a request forever: put a
buffering reverse proxy (nginx, a cloud load balancer) in front in production (README).
"""

from __future__ import annotations

import json
import os

from gunicorn import util

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WORKERS", "2"))
worker_class = "gthread"
threads = int(os.environ.get("THREADS", "8"))  # keep DB_POOL_SIZE >= THREADS
# A worker takes no more connections than it has threads: one whose threads are all held (by
# slow clients) stops accepting, and the kernel hands new connections to another worker
# instead of queueing them behind the held threads. (No kept-alive idle connections then.)
worker_connections = threads
timeout = 30  # a worker whose main loop is silent this long is restarted
graceful_timeout = 20
keepalive = 5  # seconds an idle connection stays open (parked, holding no thread)
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
    problem+json, like every other error of the service; `mesg` is not echoed."""
    body = json.dumps(
        {
            "type": "about:blank",
            "title": reason,
            "status": status_int,
            "detail": PROBLEM_DETAILS.get(status_int, reason + "."),
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
    util.write_error = write_problem  # gunicorn's workers call util.write_error(...)
