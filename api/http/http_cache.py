"""HTTP for integrators: a request id on every response, strong ETags with 304 on
`If-None-Match`, `Cache-Control`, `Vary: Accept`, compression (flask-compress) of bodies over
1 KB, and absolute record URLs.

`init_app` is called once by `create_app`, after the blueprints are registered.
"""

from __future__ import annotations

import hashlib
import re
import uuid

from flask import Flask, Response, g, request
from flask_compress import Compress
from werkzeug.http import http_date

from schemas.urls import base_url

REQUEST_ID = "X-Request-Id"
# A client's own id is echoed when it looks like one (no header injection, bounded length).
CLIENT_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")
CACHE_SECONDS = 60  # the data changes only when a briefing is loaded
CACHEABLE = f"public, max-age={CACHE_SECONDS}"
# An answer to a request with a key: a shared cache must not serve it to others (RFC 9111 3.5)
CACHEABLE_PRIVATE = f"private, max-age={CACHE_SECONDS}"
NOT_CACHEABLE = "no-store"
COMPRESSED_TYPES = [
    "application/json",
    "application/problem+json",
    "application/geo+json",
    "application/x-ndjson",
    "application/graphml+xml",
    "text/csv",
    "text/html",
    "text/css",
    "application/javascript",
]
compress = Compress()
PROBES = ("/healthz", "/readyz")  # a probe must see the service now, never a cached answer


def init_app(app: Flask) -> None:
    """Register the hooks; compression first, so that ETags are computed before it runs
    (Flask runs `after_request` hooks last registered first)."""
    app.config.setdefault("COMPRESS_MIMETYPES", COMPRESSED_TYPES)
    app.config.setdefault("COMPRESS_MIN_SIZE", 1024)
    app.config.setdefault("COMPRESS_ALGORITHM", ["gzip", "br", "deflate"])
    compress.init_app(app)
    app.after_request(cache_headers)
    app.after_request(request_id)


def remember_base_url() -> None:
    """Record URLs in responses are absolute: this request's root (see schemas/urls.py).
    A `before_request` hook that `create_app` registers after the response cache's lookup:
    a replayed response needs no root."""
    base_url.set(request.url_root.rstrip("/"))


def request_id(response: Response) -> Response:
    """`X-Request-Id` on every response: the client's own, or a new one."""
    response.headers[REQUEST_ID] = request_id_for(request.headers.get(REQUEST_ID, ""))
    return response


def request_id_for(given: str) -> str:
    """The id of a request whose `X-Request-Id` header is `given` ("" when absent)."""
    return given if CLIENT_REQUEST_ID.match(given) else uuid.uuid4().hex


# A record's ETag: its version, and a digest of the body (which also embeds the names of the
# records it refers to). `If-Match` is compared by the version (api/http/resources/writes.py).
# flask-compress appends the coding to a compressed response's tag (`"v2-…:gzip"`).
RECORD_ETAG = re.compile(r'^(?:W/)?"v(\d+)(?:-[0-9a-f]{0,40})?(?::[a-z]+)?"$')


def record_etag(version: int, body: bytes) -> str:
    """`v<version>-<digest>`: strong, the same on every worker and host."""
    return f"v{version}-{hashlib.sha1(body).hexdigest()[:16]}"


def version_of(tag: str) -> int | None:
    """The version an ETag of a record names; None when it is not one."""
    match = RECORD_ETAG.match(tag.strip())
    return int(match.group(1)) if match else None


def cache_headers(response: Response) -> Response:
    """A strong ETag on every successful GET (304 when `If-None-Match` matches it),
    `Cache-Control`, and `Vary: Accept` (lists negotiate their format by `Accept`). A single
    record's ETag derives from its version (`g.record_version`), on writes too."""
    if g.get("response_cache_hit"):  # replayed whole (api/http/response_cache.py): only the 304
        return replayed(response)
    response.vary.add("Accept")
    version = g.get("record_version")
    if version is not None and response.status_code in (200, 201) and not response.is_streamed:
        response.set_etag(record_etag(version, response.get_data()))
    if request.method not in ("GET", "HEAD") or response.status_code not in (200, 304):
        response.headers.setdefault("Cache-Control", NOT_CACHEABLE)
        return response
    if request.path in PROBES or response.is_streamed:
        response.headers.setdefault("Cache-Control", "no-cache")
        return response
    response.headers.setdefault("Cache-Control", _cacheable())
    if response.status_code == 200 and not response.get_etag()[0]:
        response.add_etag()  # sha1 of the body: strong, the same on every worker and host
    response.make_conditional(request)  # in place
    return response


def _cacheable() -> str:
    """`private` for a request that carried a key (the audit trail, reads that need a key),
    `public` otherwise."""
    return CACHEABLE_PRIVATE if "Authorization" in request.headers else CACHEABLE


def replayed(response: Response) -> Response:
    """A response replayed by the response cache, headers and ETag included: answered with a
    304 when `If-None-Match` matches, and dated now; `private` when this request has a key."""
    if response.headers.get("Cache-Control") in (CACHEABLE, CACHEABLE_PRIVATE):
        response.headers["Cache-Control"] = _cacheable()
    if "If-None-Match" in request.headers or "If-Modified-Since" in request.headers:
        response.make_conditional(request)  # in place
        return response
    response.headers["Date"] = http_date()
    return response
