"""What one client or one request may cost: a per-client rate limit (Flask-Limiter), a budget
of failed authentications per client and per key prefix, and a database time budget per
request (PostgreSQL `statement_timeout`, SQLite progress handler).

Both end in problem+json, never in a killed worker: a 429 with `Retry-After` (api/http/errors.py
formats Flask-Limiter's exception), and a 503 with `Retry-After` for a query over its budget
(a valid request the service could not afford now; see `errors.database_problem`).
"""

from __future__ import annotations

import contextlib
import math
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable

import peewee as pw
from flask import Flask, Response, current_app, request
from flask_limiter import Limiter, RateLimitExceeded
from limits import parse_many
from werkzeug.datastructures import Headers
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wsgi import LimitedStream

from api.store.db import database, is_postgres

# Probes and the documentation are never throttled: a load balancer's health checks must not
# be refused because a client is busy, and the docs page and the explorer load many assets
# at once.
UNLIMITED_PATHS = ("/healthz", "/readyz", "/openapi.json")
UNLIMITED_PREFIXES = ("/docs", "/explore/static/")
LIMITER = "rate_limiter"  # app.extensions: the app's Limiter
AUTH_FAILURES = "auth_failure_limits"  # app.extensions: the budgets of failed authentications
SQLITE_CHECK_EVERY = 1000  # SQLite virtual-machine instructions between deadline checks

_budget = threading.local()
_pg_timeouts: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def client_address() -> str:
    """The default rate-limit key: the client's address (behind `PROXY_COUNT` trusted proxies,
    the address they forwarded)."""
    return request.remote_addr or "unknown"


def init_rate_limits(app: Flask) -> Limiter:
    """A Flask-Limiter for `app`: `RATELIMIT_DEFAULT` per key, shared through
    `RATELIMIT_STORAGE_URI`. The key function is pluggable: pass `RATELIMIT_KEY_FUNC` (a
    callable returning a string, e.g. the id of an authenticated API key) in the config."""
    app.config.setdefault("RATELIMIT_ENABLED", not app.testing)  # tests opt in
    key_func: Callable[[], str] = app.config.get("RATELIMIT_KEY_FUNC") or client_address
    limiter = Limiter(key_func=key_func, key_prefix="briefing")
    limiter.request_filter(is_unlimited)
    app.after_request(ietf_fields)  # registered first, so it runs after the limiter's
    limiter.init_app(app)
    app.extensions[LIMITER] = limiter
    app.extensions[AUTH_FAILURES] = parse_many(app.config.get("AUTH_FAILURE_LIMIT", "10/minute"))
    return limiter


def is_enabled(app: Flask) -> bool:
    """True when `app` limits requests (`RATELIMIT_ENABLED`)."""
    limiter = app.extensions.get(LIMITER)
    return limiter is not None and limiter.enabled


def check_in_context(app: Flask) -> tuple[Response | None, list[tuple[str, str]]]:
    """The rate limit of the request whose context is pushed, for a response made outside
    Flask's request cycle (a replay of the response cache): Flask's 429 when it is over its
    budget, else the rate-limit headers its response carries. Runs Flask-Limiter's own hooks,
    so the budget, the exemptions and the headers are those of the Flask path."""
    limiter: Limiter = app.extensions[LIMITER]
    try:
        limiter._check_request_limit()  # Flask-Limiter's before_request hook
    except RateLimitExceeded as error:  # answered as Flask answers it: error handler, hooks
        return app.finalize_request(app.handle_user_exception(error)), []
    carrier = app.response_class()
    carrier.headers = Headers()
    limiter._Limiter__inject_headers(carrier)  # type: ignore[attr-defined]  # its after_request hook
    ietf_fields(carrier)
    return None, list(carrier.headers)


def ietf_fields(response: Response) -> Response:
    """The rate-limit headers as the IETF RateLimit fields define them: `RateLimit-Reset` in
    seconds until the window resets (Flask-Limiter writes its Unix time), and `Retry-After`
    only on a refusal, a 429 or a 503 (Flask-Limiter adds it to every response, where a client
    could read a 200 as "retry in a second")."""
    reset = response.headers.get("RateLimit-Reset")
    if reset and reset.isdigit():
        response.headers["RateLimit-Reset"] = str(max(0, int(reset) - int(time.time())))
    if response.status_code not in (429, 503) and "RateLimit-Limit" in response.headers:
        del response.headers["Retry-After"]
    return response


# ---------------------------------------------------------------- failed authentication


def failures_refused(*subjects: str) -> int | None:
    """Seconds to wait when any of `subjects` (a client address, a key prefix) has used up its
    budget of failed authentications (`AUTH_FAILURE_LIMIT`, in the rate limiter's storage, so
    `RATELIMIT_STORAGE_URI` shares it between workers), else None. Checked before a key is
    hashed: a refused attempt costs no hashing."""
    limiter, budgets = _failure_budgets()
    if limiter is None:
        return None
    waits = []
    for subject in subjects:
        for budget in budgets:
            if not limiter.test(budget, "auth-failure", subject):
                reset = limiter.get_window_stats(budget, "auth-failure", subject).reset_time
                waits.append(max(1, math.ceil(reset - time.time())))
    return max(waits) if waits else None


def count_failure(*subjects: str) -> None:
    """One failed authentication, charged to each of `subjects`."""
    limiter, budgets = _failure_budgets()
    if limiter is not None:
        for subject in subjects:
            for budget in budgets:
                limiter.hit(budget, "auth-failure", subject)


def _failure_budgets():
    limiter = current_app.extensions.get(LIMITER)
    if limiter is None or not limiter.enabled:
        return None, []
    return limiter.limiter, current_app.extensions.get(AUTH_FAILURES, [])


def is_unlimited() -> bool:
    return request.path in UNLIMITED_PATHS or request.path.startswith(UNLIMITED_PREFIXES)


# ---------------------------------------------------------------- query budget


def start_query_budget(budget_ms: int) -> None:
    """Bound the database time of the current request (call once connected). PostgreSQL stops
    any statement after `budget_ms`; SQLite stops the request's statements once `budget_ms`
    have passed since this call. Either raises an OperationalError (api/http/errors.py: 503)."""
    if budget_ms <= 0:
        return
    connection = database.connection()
    if is_postgres():
        if _pg_timeouts.get(connection) != budget_ms:  # once per pooled connection
            with connection.cursor() as cursor:
                cursor.execute("SET statement_timeout = %s", (budget_ms,))
            _pg_timeouts[connection] = budget_ms
        return
    _budget.deadline = time.monotonic() + budget_ms / 1000
    connection.set_progress_handler(_over_budget, SQLITE_CHECK_EVERY)


def end_query_budget() -> None:
    """Lift the SQLite budget of the request (the connection may outlive it)."""
    _budget.deadline = None
    if database.obj is None or database.is_closed() or is_postgres():
        return
    with contextlib.suppress(pw.InterfaceError, sqlite3.ProgrammingError):
        database.connection().set_progress_handler(None, 0)


def _over_budget() -> int:
    """SQLite progress handler: non-zero interrupts the running statement."""
    deadline = getattr(_budget, "deadline", None)
    return int(deadline is not None and time.monotonic() > deadline)


# ---------------------------------------------------------------- request bodies


class BodyLimit(LimitedStream):
    """A body of unknown length (`Transfer-Encoding: chunked`) read up to `limit` bytes: one
    byte more is a 413. (Werkzeug's own stream stops at the limit and returns what it read, so
    a body over it arrived cut, and a cut bundle could import with records missing.)"""

    def on_exhausted(self) -> None:
        if self._stream.read(1):
            raise RequestEntityTooLarge()

    def readall(self) -> bytes:
        data = super().readall()
        if self.is_exhausted:
            self.on_exhausted()
        return data


def body_stream(environ: dict, limit: int | None):
    """The request body as the app may read it: a declared `Content-Length` over `limit` is a
    413 before anything is read, and a body without one is a 413 at its `limit + 1`th byte."""
    from werkzeug.wsgi import get_content_length, get_input_stream

    if limit is None or get_content_length(environ) is not None:
        return get_input_stream(environ, max_content_length=limit)
    if "wsgi.input_terminated" not in environ:
        return get_input_stream(environ, max_content_length=limit)  # no body (WSGI's rule)
    return BodyLimit(environ["wsgi.input"], limit, is_max=True)


@contextlib.contextmanager
def without_query_budget():
    """Lift the request's database time budget for what runs inside (an import: one locked
    transaction whose time grows with its bundle, bounded by MAX_BUNDLE_BYTES instead; a
    budget stopping it half-way only wasted the work). The next request sets it again."""
    deadline = getattr(_budget, "deadline", None)
    _budget.deadline = None
    if is_postgres() and not database.is_closed():
        connection = database.connection()
        with connection.cursor() as cursor:
            cursor.execute("SET statement_timeout = 0")
        _pg_timeouts[connection] = 0  # start_query_budget sets it again
    try:
        yield
    finally:
        _budget.deadline = deadline
