"""HTTP for integrators: a request id on every response, strong ETags with 304 on
`If-None-Match`, `Cache-Control`, `Vary: Accept`, compression (flask-compress) of bodies over
1 KB, and absolute record URLs.

`init_app` is called once by `create_app`, after the blueprints are registered.
"""

from __future__ import annotations

import re
import uuid

from flask import Flask, Response, request
from flask_compress import Compress

from schemas.urls import base_url

REQUEST_ID = "X-Request-Id"
# A client's own id is echoed when it looks like one (no header injection, bounded length).
CLIENT_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")
CACHE_SECONDS = 60  # the data changes only when a briefing is loaded
CACHEABLE = f"public, max-age={CACHE_SECONDS}"
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


def init_app(app: Flask) -> None:
    """Register the hooks; compression first, so that ETags are computed before it runs
    (Flask runs `after_request` hooks last registered first)."""
    app.config.setdefault("COMPRESS_MIMETYPES", COMPRESSED_TYPES)
    app.config.setdefault("COMPRESS_MIN_SIZE", 1024)
    app.config.setdefault("COMPRESS_ALGORITHM", ["gzip", "br", "deflate"])
    compress.init_app(app)
    app.before_request(remember_base_url)
    app.after_request(cache_headers)
    app.after_request(request_id)


def remember_base_url() -> None:
    """Record URLs in responses are absolute: this request's root (see schemas/urls.py)."""
    base_url.set(request.url_root.rstrip("/"))


def request_id(response: Response) -> Response:
    """`X-Request-Id` on every response: the client's own, or a new one."""
    given = request.headers.get(REQUEST_ID, "")
    response.headers[REQUEST_ID] = given if CLIENT_REQUEST_ID.match(given) else uuid.uuid4().hex
    return response


def cache_headers(response: Response) -> Response:
    """A strong ETag on every successful GET (304 when `If-None-Match` matches it),
    `Cache-Control`, and `Vary: Accept` (lists negotiate their format by `Accept`)."""
    response.vary.add("Accept")
    if request.method not in ("GET", "HEAD") or response.status_code not in (200, 304):
        response.headers.setdefault("Cache-Control", NOT_CACHEABLE)
        return response
    if request.path == "/healthz" or response.is_streamed:
        response.headers.setdefault("Cache-Control", "no-cache")
        return response
    response.headers.setdefault("Cache-Control", CACHEABLE)
    if response.status_code == 200 and not response.get_etag()[0]:
        response.add_etag()  # sha1 of the body: strong, the same on every worker and host
    return response.make_conditional(request)
