"""A response cache keyed by the data version: a public read computed once is
served again, byte for byte, until the next write changes the data version
(api/store/data_version.py). `RESPONSE_CACHE=off` turns it off; `RESPONSE_CACHE_MB` bounds it, per
worker process (least recently used entries go first).

What is cached: 200 answers to GET and HEAD under `/v1/`, finished (compressed, ETag set), less
the headers that belong to one request (`X-Request-Id`, rate-limit headers, CORS). Never: any
other status, a write, a streamed body (NDJSON exports, the change stream), the audit trail,
webhook subscriptions, the probes (not under
`/v1/`), a request carrying `Authorization` (unless `READS_REQUIRE_KEY=1`, where every read
carries a key and the key's name is part of the cache key).

The key: the data version read at the start of the request (one query, before anything else
is read, so a body is never stored under a version older than its data), the method, the full
URL (host and query string: links are absolute), and what the representation depends on:
`Accept`, `Accept-Encoding`, `Prefer`. A hit still passes through the rate limit before it and
the response hooks after it: a fresh request id, `If-None-Match` answered with a 304.

A hit is answered before Flask (`Replay`, WSGI middleware inside the trusted-host rules): the
stored headers, then the ones of this request as Flask's hooks would write them (rate limit,
CORS, request id, date). What Replay does not answer (a miss, an authorised read, anything
not a cacheable read) goes on to Flask, with the data version Replay read.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import peewee as pw
from cachetools import LRUCache
from flask import Flask, Response, current_app, g, request
from werkzeug.datastructures import Headers
from werkzeug.http import HTTP_STATUS_CODES, http_date

from api.http import limits
from api.http.http_cache import REQUEST_ID, request_id_for
from api.http.security import api_cors_headers
from api.store import data_version
from api.store.db import database

EXTENSION = "response_cache"
NEVER_CACHED = ("/v1/audit", "/v1/keys", "/v1/subscriptions")
# Headers of one request, not of the representation: set again on every hit.
PER_REQUEST = ("x-request-id", "ratelimit-", "retry-after", "access-control-", "set-cookie", "date")
URL_PARTS = ("wsgi.url_scheme", "HTTP_HOST", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING")
VARIANT_HEADERS = ("HTTP_ACCEPT", "HTTP_ACCEPT_ENCODING", "HTTP_PREFER")
ENTRY_OVERHEAD = 512  # bytes counted per entry beyond its body and headers
VERSION_READ = "briefing.data_version"  # environ: the version Replay read before a miss


@dataclass(frozen=True, slots=True)
class Entry:
    """One finished response, as replayed."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def size(self) -> int:
        return len(self.body) + sum(len(k) + len(v) for k, v in self.headers) + ENTRY_OVERHEAD


class ResponseCache:
    """A byte-bounded LRU map of cache keys to entries, safe across a worker's threads."""

    def __init__(self, max_bytes: int) -> None:
        self.entries: LRUCache = LRUCache(maxsize=max_bytes, getsizeof=Entry.size)
        self.lock = threading.Lock()
        self.max_bytes = max_bytes

    def get(self, key: tuple) -> Entry | None:
        with self.lock:
            return self.entries.get(key)

    def put(self, key: tuple, entry: Entry) -> None:
        if entry.size() > self.max_bytes:
            return  # larger than the whole cache: cachetools would refuse it anyway
        with self.lock:
            self.entries[key] = entry

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()


def init_app(app: Flask) -> None:
    """Install the cache when `RESPONSE_CACHE` is on. Call it last in `create_app`, before
    `security.trust_hosts`: its lookup runs after every other `before_request` hook (the rate
    limit, private reads), its store after every other `after_request` hook (compression,
    ETag), and Replay sees the URL the trusted-host rules leave."""
    app.config.setdefault("RESPONSE_CACHE", not app.testing)  # tests opt in
    if not app.config["RESPONSE_CACHE"]:
        return
    max_bytes = int(float(app.config.get("RESPONSE_CACHE_MB", 64)) * 1024 * 1024)
    app.extensions[EXTENSION] = ResponseCache(max_bytes)
    app.before_request(lookup)
    app.after_request_funcs.setdefault(None, []).insert(0, store)  # run last
    app.wsgi_app = Replay(app, app.wsgi_app)  # type: ignore[method-assign]  # as Flask's docs do


def key_of(environ: dict, method: str, version: str, identity: str | None) -> tuple:
    """The key of a cacheable request: its URL's parts as received (cheaper than
    `request.url`) and the headers its representation depends on."""
    url = tuple(environ.get(name, "") for name in URL_PARTS)
    variant = tuple(environ.get(name, "") for name in VARIANT_HEADERS)
    return (version, method, url, variant, identity)


def cache_key() -> tuple | None:
    """This request's key, or None when it must not be cached."""
    if request.method not in ("GET", "HEAD") or not request.path.startswith("/v1/"):
        return None
    if request.path.startswith(NEVER_CACHED):
        return None
    identity = None
    if current_app.config.get("READS_REQUIRE_KEY"):
        identity = g.get("api_key_name")  # set by the private-reads check before this hook
        if identity is None:
            return None
    elif "Authorization" in request.headers:
        return None  # an authorised request may see what the public does not
    version = request.environ.get(VERSION_READ) or data_version.current_or_none()
    if version is None:
        return None
    return key_of(request.environ, request.method, version, identity)


def lookup() -> Response | None:
    """`before_request`: the cached response when there is one; else remember the key."""
    key = cache_key()
    if key is None:
        return None
    entry = current_app.extensions[EXTENSION].get(key)
    if entry is None:
        g.response_cache_key = key
        return None
    g.response_cache_hit = True
    response = Response(entry.body, entry.status)
    response.headers = Headers(entry.headers)
    return response


def store(response: Response) -> Response:
    """`after_request`, last: keep a finished 200 of a cacheable request."""
    key = g.get("response_cache_key")
    if (
        key is None
        or response.status_code != 200
        or response.is_streamed
        or response.direct_passthrough
        or "no-store" in (response.headers.get("Cache-Control") or "")
    ):
        return response
    headers = tuple(
        (name, value)
        for name, value in response.headers.items()
        if not name.lower().startswith(PER_REQUEST)
    )
    current_app.extensions[EXTENSION].put(key, Entry(200, headers, response.get_data()))
    return response


class Replay:
    """WSGI middleware in front of Flask: a public read found in the cache is answered here,
    without Flask's request cycle and its dozen hooks (most of the cost of a hit). Its answer
    is the one Flask's path gives (tests/test_response_cache.py compares them): the stored
    headers, the rate limit's (checked in a request context, as
    Flask-Limiter needs one), CORS, the request id, and a 304 or the date.

    The data version is read on a pooled connection, given back at once; on a miss it goes
    on to Flask in the environ, so a miss still reads it once."""

    def __init__(self, app: Flask, wsgi_app: Callable) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        self.cache: ResponseCache = app.extensions[EXTENSION]

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET").upper()
        path = environ.get("PATH_INFO", "")
        if (
            method not in ("GET", "HEAD")
            or not path.startswith("/v1/")
            or path.startswith(NEVER_CACHED)
            or "HTTP_AUTHORIZATION" in environ  # Flask decides what a key may see
            or self.app.config.get("READS_REQUIRE_KEY")
        ):
            return self.wsgi_app(environ, start_response)
        version = read_version()
        if version is None:
            return self.wsgi_app(environ, start_response)
        entry = self.cache.get(key_of(environ, method, version, None))
        if entry is None:
            environ[VERSION_READ] = version
            return self.wsgi_app(environ, start_response)
        if not limits.is_enabled(self.app):
            return self.replay(entry, environ, method, start_response, [])
        with self.app.request_context(environ):  # the limiter reads the request and its route
            refused, rate_headers = limits.check_in_context(self.app)
            if refused is not None:
                return refused(environ, start_response)
            return self.replay(entry, environ, method, start_response, rate_headers)

    def replay(
        self,
        entry: Entry,
        environ: dict,
        method: str,
        start_response: Callable,
        rate_headers: list[tuple[str, str]],
    ) -> Iterable[bytes]:
        """The entry with this request's headers, in the order Flask's hooks add them."""
        headers = [
            *entry.headers,
            *rate_headers,
            *api_cors_headers(self.app, environ, method),
            (REQUEST_ID, request_id_for(environ.get("HTTP_X_REQUEST_ID", ""))),
        ]
        if "HTTP_IF_NONE_MATCH" in environ or "HTTP_IF_MODIFIED_SINCE" in environ:
            response = self.app.response_class(entry.body, entry.status, headers)
            return response.make_conditional(environ)(environ, start_response)
        headers.append(("Date", http_date()))
        start_response(f"{entry.status} {HTTP_STATUS_CODES[entry.status]}", headers)
        return [] if method == "HEAD" else [entry.body]


def read_version() -> str | None:
    """The data version, on a pooled connection given back at once; None when it cannot be
    read (Flask's path then answers, its own way)."""
    try:
        database.connect(reuse_if_open=True)
    except (pw.DatabaseError, pw.InterfaceError):
        return None
    try:
        return data_version.current_or_none()
    finally:
        database.close()
