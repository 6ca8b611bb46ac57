"""A response cache keyed by the data version (issue #14): a public read computed once is
served again, byte for byte, until the next write changes the data version
(api/data_version.py). `RESPONSE_CACHE=off` turns it off; `RESPONSE_CACHE_MB` bounds it, per
worker process (least recently used entries go first).

What is cached: 200 answers to GET and HEAD under `/v1/`, finished (compressed, ETag set), less
the headers that belong to one request (`X-Request-Id`, rate-limit headers, CORS). Never: any
other status, a write, a streamed body (NDJSON exports), the audit trail, the probes (not under
`/v1/`), a request carrying `Authorization` (unless `READS_REQUIRE_KEY=1`, where every read
carries a key and the key's name is part of the cache key).

The key: the data version read at the start of the request (one query, before anything else
is read, so a body is never stored under a version older than its data), the method, the full
URL (host and query string: links are absolute), and what the representation depends on:
`Accept`, `Accept-Encoding`, `Prefer`. A hit still passes through the rate limit before it and
the response hooks after it: a fresh request id, `If-None-Match` answered with a 304.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from cachetools import LRUCache
from flask import Flask, Response, current_app, g, request
from werkzeug.datastructures import Headers

from api import data_version

EXTENSION = "response_cache"
NEVER_CACHED = ("/v1/audit",)
# Headers of one request, not of the representation: set again on every hit.
PER_REQUEST = ("x-request-id", "ratelimit-", "retry-after", "access-control-", "set-cookie", "date")
URL_PARTS = ("wsgi.url_scheme", "HTTP_HOST", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING")
VARIANT_HEADERS = ("HTTP_ACCEPT", "HTTP_ACCEPT_ENCODING", "HTTP_PREFER")
ENTRY_OVERHEAD = 512  # bytes counted per entry beyond its body and headers


@dataclass(frozen=True, slots=True)
class Entry:
    """One finished response, as replayed."""

    status: int
    headers: Headers  # copied for each replay (hooks add to it)
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
    """Install the cache when `RESPONSE_CACHE` is on. Call it last in `create_app`: its lookup
    runs after every other `before_request` hook (the rate limit, private reads), and its store
    runs after every other `after_request` hook (compression, ETag)."""
    app.config.setdefault("RESPONSE_CACHE", not app.testing)  # tests opt in
    if not app.config["RESPONSE_CACHE"]:
        return
    max_bytes = int(float(app.config.get("RESPONSE_CACHE_MB", 64)) * 1024 * 1024)
    app.extensions[EXTENSION] = ResponseCache(max_bytes)
    app.before_request(lookup)
    app.after_request_funcs.setdefault(None, []).insert(0, store)  # run last


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
    version = data_version.current_or_none()
    if version is None:
        return None
    environ = request.environ  # the URL's parts as received: cheaper than `request.url`
    url = tuple(environ.get(name, "") for name in URL_PARTS)
    variant = tuple(environ.get(name, "") for name in VARIANT_HEADERS)
    return (version, request.method, url, variant, identity)


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
    response.headers = entry.headers.copy()
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
    headers = Headers(
        [
            (name, value)
            for name, value in response.headers.items()
            if not name.lower().startswith(PER_REQUEST)
        ]
    )
    current_app.extensions[EXTENSION].put(key, Entry(200, headers, response.get_data()))
    return response
