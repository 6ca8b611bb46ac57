"""Response headers and request trust: security headers on every response, a CORS policy that
offers only what is served publicly, and links that never echo a client's `Host` header.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, request
from flask_cors import CORS
from flask_cors.core import get_cors_headers, get_cors_options
from werkzeug.datastructures import EnvironHeaders
from werkzeug.middleware.proxy_fix import ProxyFix

from api.http.errors import abort
from schemas.text import FORBIDDEN, refusal

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}
# Data responses load nothing and may be framed by no one.
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
DOCS_TEMPLATE = Path(__file__).parent / "templates" / "swagger_ui.html"


def inline_script_hashes(html: str) -> str:
    """CSP sources allowing exactly the inline scripts of `html` (no template code inside)."""
    scripts = re.findall(r"<script>(.*?)</script>", html, re.DOTALL)
    digests = [hashlib.sha256(script.encode()).digest() for script in scripts]
    return " ".join(f"'sha256-{base64.b64encode(d).decode()}'" for d in digests)


# Swagger UI (/docs): its files are local; the page's one inline script is allowed by its
# hash; Swagger UI styles elements inline and draws icons as data: URIs.
DOCS_CSP = (
    f"default-src 'none'; script-src 'self' {inline_script_hashes(DOCS_TEMPLATE.read_text())}; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
# What browsers may do cross-origin: read the public API, nothing else.
CORS_METHODS = ["GET", "HEAD", "OPTIONS"]
CORS_HEADERS = ["Accept", "Accept-Language", "Content-Language", "If-None-Match", "X-Request-Id"]
CORS_EXPOSED = [
    "Link",
    "X-Total-Count",
    "ETag",
    "X-Request-Id",
    "Retry-After",
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
]


CORS_RESOURCES: dict[str | re.Pattern[str], dict[str, Any]] = {
    r"/v1/*": {},
    r"/openapi.json": {},
    r"/healthz": {},
    r"/readyz": {},
}
CORS_OPTIONS: dict[str, Any] = {
    "methods": CORS_METHODS,
    "allow_headers": CORS_HEADERS,
    "expose_headers": CORS_EXPOSED,
    "send_wildcard": True,
    "max_age": 600,
}
API_CORS = "api_cors"  # app.extensions: the options flask-cors resolved for /v1/*


def init_security(app: Flask) -> None:
    """Install the headers and the CORS policy on `app`."""
    CORS(app, resources=CORS_RESOURCES, **CORS_OPTIONS)
    # What flask-cors resolves for /v1/* (defaults, app config, these options), for the
    # response cache's replays, which answer before Flask (api/http/response_cache.py).
    app.extensions[API_CORS] = get_cors_options(app, CORS_OPTIONS, {})
    app.after_request(add_security_headers)
    app.before_request(plain_text_only)


def plain_text_only() -> None:
    """schemas/text.py's rule before anything reads the request: a path holding a control
    character names no resource (404), a query parameter holding one is a 422 naming it."""
    if FORBIDDEN.search(request.path):
        abort(404, message="No resource has this path: it holds a control character.")
    for name, value in request.args.items(multi=True):
        message = refusal(name) or refusal(value)
        if message:
            abort(
                422,
                message=f"Invalid request. query parameter {name!r}: {message}",
                errors={"query": {name: [message]}},
            )


def trust_hosts(app: Flask) -> None:
    """The trusted-host rules, outermost on `app.wsgi_app`: every other middleware (and the
    response cache's key) sees the URL they leave."""
    proxies = int(app.config.get("PROXY_COUNT") or 0)
    pinned = PinnedHost(app.wsgi_app, app.config.get("PUBLIC_URL") or "", proxies == 0)
    app.wsgi_app = pinned  # type: ignore[method-assign]  # middleware, as Flask's docs do
    if proxies > 0:  # outermost: the trusted proxies' X-Forwarded-* are applied first
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_port=proxies
        )


def api_cors_headers(app: Flask, environ: dict, method: str) -> list[tuple[str, str]]:
    """The CORS headers flask-cors adds to a response under /v1/ (it adds the first value of
    each), for a request given by its WSGI environ."""
    headers = get_cors_headers(app.extensions[API_CORS], EnvironHeaders(environ), method)
    return [(name, str(value)) for name, value in headers.items()]


def add_security_headers(response: Response) -> Response:
    """The security headers a response does not set itself (one pass over its headers)."""
    present = {name.lower() for name, _ in response.headers}
    docs = request.path == "/docs" or request.path.startswith("/docs/")
    added = [*SECURITY_HEADERS.items(), ("Content-Security-Policy", DOCS_CSP if docs else API_CSP)]
    for name, value in added:
        if name.lower() not in present:
            response.headers.add(name, value)
    return response


class PinnedHost:
    """WSGI middleware: links are never built from a client's `Host` header. With
    `public_url`, they are built on it; else, with `pin_to_server`, on the address the server
    listens on (gunicorn's SERVER_NAME/SERVER_PORT); else (behind trusted proxies, see
    `PROXY_COUNT`) on the host the proxies forwarded."""

    def __init__(self, wsgi_app: Any, public_url: str, pin_to_server: bool) -> None:
        self.wsgi_app = wsgi_app
        self.pin_to_server = pin_to_server
        parts = urlsplit(public_url) if public_url else None
        self.scheme = parts.scheme if parts else None
        self.netloc = parts.netloc if parts else None
        self.prefix = parts.path.rstrip("/") if parts else ""

    def __call__(self, environ: dict, start_response: Any) -> Any:
        if self.netloc:
            environ["wsgi.url_scheme"] = self.scheme
            environ["HTTP_HOST"] = self.netloc
            environ["SCRIPT_NAME"] = self.prefix
        elif self.pin_to_server:
            environ["HTTP_HOST"] = server_address(environ)
        return self.wsgi_app(environ, start_response)


def server_address(environ: dict) -> str:
    """`name:port` of the listening socket, without the scheme's default port."""
    name, port = environ.get("SERVER_NAME", "localhost"), str(environ.get("SERVER_PORT", ""))
    default = "443" if environ.get("wsgi.url_scheme") == "https" else "80"
    if ":" in name and not name.startswith("["):
        name = f"[{name}]"  # an IPv6 literal
    return name if port in ("", default) else f"{name}:{port}"
