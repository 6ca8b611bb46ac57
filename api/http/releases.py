"""Reading a release: every read of the API under the path prefix `/releases/{name}`
(`/releases/2026-q1/v1/events?type=battles`, `/releases/latest/v1/events/x`) answers from the
release's snapshot, with the same routes, filters, formats, paging and caching as the live
data.

`ReleasePrefix`, WSGI middleware outside everything that reads the database (the response
cache's replay included), finds the release in the live database, moves the prefix into
`SCRIPT_NAME` (so that every absolute URL, `Link` and cursor of the answer stays in the release)
and runs the request, its streamed body too, in a context bound to the snapshot
(`db.bound_to`). The snapshot's own data version keys whatever is kept per version, so a release
shares nothing with the live caches, and its answers, ETags included, never change.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from flask import Flask

from api.http.errors import problem
from api.queries.errors import Gone, QueryError
from api.queries.releases import find
from api.store import snapshots
from api.store.db import database, rebind
from api.store.ddl import SCHEMA_VERSION

PREFIX = "/releases/"
READS = ("GET", "HEAD", "OPTIONS")
NOT_IN_A_RELEASE = ("/v1/releases", "/v1/audit")  # about the service now, not its data


def init_app(app: Flask) -> None:
    """Serve releases under `/releases/{name}/`; their downloads under `RELEASES_DIR`."""
    if app.config.get("RELEASES_DIR"):
        snapshots.files_root = Path(app.config["RELEASES_DIR"])
    app.wsgi_app = ReleasePrefix(app, app.wsgi_app)  # type: ignore[method-assign]


class ReleasePrefix:
    """Requests under `/releases/{name}/v1/` run bound to that release's snapshot; every
    other request goes on untouched (one string comparison)."""

    def __init__(self, app: Flask, wsgi_app: Callable) -> None:
        self.app = app
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if not path.startswith(PREFIX):
            return self.wsgi_app(environ, start_response)
        name, _, rest = path[len(PREFIX) :].partition("/")
        rest = "/" + rest
        refused = self.refusal(environ, rest)
        if refused is not None:
            return self.answer(environ, start_response, *refused)
        try:
            release = _found(name)
        except QueryError as error:
            status = 410 if isinstance(error, Gone) else 404
            return self.answer(environ, start_response, status, error.detail)
        if release.schema_version != SCHEMA_VERSION:
            detail = (
                f"The release {release.name!r} was made with schema version "
                f"{release.schema_version}; this service reads version {SCHEMA_VERSION}."
            )
            return self.answer(environ, start_response, 409, detail)
        environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + PREFIX + name
        environ["PATH_INFO"] = rest
        environ["briefing.release"] = release.name
        context = contextvars.copy_context()
        context.run(rebind, snapshots.opened(release.storage))
        return Bound(context, context.run(self.wsgi_app, environ, start_response))

    def refusal(self, environ: dict, rest: str) -> tuple[int, str, dict] | None:
        if not rest.startswith("/v1/") or rest.startswith(NOT_IN_A_RELEASE):
            return 404, "A release serves the reads of the API under /v1/ (not this path).", {}
        if environ.get("REQUEST_METHOD", "GET").upper() not in READS:
            return 405, "A release is read-only.", {"Allow": ", ".join(READS)}
        return None

    def answer(
        self,
        environ: dict,
        start_response: Callable,
        status: int,
        detail: str,
        headers: dict | None = None,
    ) -> Iterable[bytes]:
        with self.app.request_context(environ):
            return problem(status, detail, headers=headers)(environ, start_response)


def _found(name: str):
    """The release of this name, its row read on the live database."""
    database.connect(reuse_if_open=True)
    try:
        return find(name)
    finally:
        database.close()


class Bound:
    """A response body iterated, and closed, in the context bound to the release (a streamed
    body reads the database while it is sent)."""

    def __init__(self, context: contextvars.Context, body: Iterable[bytes]) -> None:
        self.context = context
        self.body = body
        self.iterator: Iterator[bytes] | None = None

    def __iter__(self) -> Iterator[bytes]:
        self.iterator = iter(self.body)
        return self

    def __next__(self) -> bytes:
        assert self.iterator is not None
        return self.context.run(next, self.iterator)

    def close(self) -> None:
        close = getattr(self.body, "close", None)
        if close is not None:
            self.context.run(close)
