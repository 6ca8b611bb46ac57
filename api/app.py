"""briefing-api: structured briefing data over a REST API."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import peewee as pw
import swagger_ui_bundle
from flask import Flask, Request, Response, request, send_from_directory
from flask.sessions import SessionInterface
from playhouse.pool import MaxConnectionsExceeded
from werkzeug.sansio.utils import get_current_url

from api.config import DEV_SECRET_KEY, STATIC_SETTINGS, settings_from_env
from api.http import auth, explorer, http_cache, limits, offload, releases, response_cache, spec
from api.http.base import Api
from api.http.errors import unavailable
from api.http.json_provider import JSONProvider
from api.http.security import init_security, trust_hosts
from api.queries import stix_kept
from api.queries.paging import CursorSigner
from api.store import db, migrations, shared_answers

API_DESCRIPTION = """Structured briefing data: the actors, events, statements and locations
that news briefings report, each record cited to the verbatim sentence that supports it.

Lists are JSON arrays paged with `limit` and an opaque `cursor` (next page in the RFC 8288
`Link` header, total in `X-Total-Count`), and also speak CSV and GeoJSON. Errors are RFC 9457
`application/problem+json`. Unknown query parameters are refused, and so is a repeated
parameter that takes one value.

Every read is also served from a release, a named version of the data that never changes:
the same path under `/releases/{name}` (`/releases/latest/v1/events`; see `/v1/releases`).

Each client has a request budget (`RateLimit-*` headers; 429 with `Retry-After` beyond it), and
each request a database time budget (503 with `Retry-After` beyond it)."""

log = logging.getLogger(__name__)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the Flask app: its settings, then each of SETUP_STEPS in order."""
    app = Flask(__name__, template_folder="http/templates")
    configure(app, config)
    for step in SETUP_STEPS:
        step(app)
    return app


def configure(app: Flask, config: dict[str, Any] | None) -> None:
    """Settings (defaults, then the environment, then `config`), the request and JSON
    classes, no sessions, and the cursor signer built from SECRET_KEY."""
    app.request_class = UrlRequest
    app.session_interface = NoSessions()  # no cookies: skip a signer built per request
    app.json = JSONProvider(app)
    app.config.update(STATIC_SETTINGS)
    app.config.update(settings_from_env())
    app.config.update(config or {})
    if app.config["SECRET_KEY"] == DEV_SECRET_KEY and not app.testing:
        log.warning("SECRET_KEY is not set: cursors are signed with the public development key")
    app.extensions["cursors"] = CursorSigner(app.config["SECRET_KEY"])  # http.list_query
    stix_kept.use_namespace(app.config["STIX_NAMESPACE"])  # writers render STIX under it


def register_api(app: Flask) -> None:
    """flask-smorest's Api with every resource's blueprint, the security scheme and the
    spec's finishing touches."""
    from api.http.resources import MODULES, PROTOCOLS
    from api.http.resources.writes import register_converter

    api = Api(app, spec_kwargs={"info": {"description": API_DESCRIPTION}})
    api.spec.components.security_scheme(auth.SECURITY_SCHEME_NAME, auth.SECURITY_SCHEME)
    spec.install(api)
    register_converter(app, api)
    for module in MODULES:
        api.register_blueprint(module.blp)
    for protocol in PROTOCOLS:
        app.register_blueprint(protocol.blp)


def remember_base_url(app: Flask) -> None:
    """Each request notes its base URL for absolute links (http_cache.remember_base_url), the
    STIX namespace its writes render objects under, and whether answers are shared by the
    workers (`SHARED_ANSWERS`; one process may serve several apps)."""
    app.before_request(http_cache.remember_base_url)
    namespace = app.config["STIX_NAMESPACE"]
    app.before_request(lambda: stix_kept.use_namespace(namespace))
    shared = app.config.get("SHARED_ANSWERS", not app.testing)
    app.before_request(lambda: shared_answers.enable(shared))


WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def settle_after_writes(app: Flask) -> None:
    """After a write's answer is sent, render the STIX objects that copy from the records it
    changed (stix_kept.settle: maybe 100,000s for a hub actor; readers render them on the spot
    until then), off the worker's loop."""

    def settle() -> None:
        try:
            offload.run_blocking(_settle)
        except Exception:  # the answer is sent: readers render on the spot meanwhile
            log.exception("Rendering the STIX objects a write left stale failed")

    @app.after_request
    def _after_write(response: Response) -> Response:
        if request.method in WRITE_METHODS and response.status_code < 400:
            response.call_on_close(settle)
        return response


def _settle() -> None:
    with db.database.connection_context():
        stix_kept.settle()


def serve_docs_assets(app: Flask) -> None:
    """Swagger UI's files and the tab icon, served locally so the docs work offline."""
    assets = Path(swagger_ui_bundle.swagger_ui_path)

    @app.get("/docs/assets/<path:filename>")
    def swagger_assets(filename: str):
        """Swagger UI's own files, served locally so the docs work offline."""
        return send_from_directory(assets, filename)

    @app.get("/favicon.ico")
    def favicon():
        """The docs' tab icon (Swagger UI's)."""
        return send_from_directory(assets, "favicon-32x32.png", mimetype="image/png")


class UrlRequest(Request):
    """Flask's request, its root and base URLs built once per distinct URL in this process
    (werkzeug quotes, splits and unquotes them on every request, and a page's links and
    record URLs need both), its body limited whatever its framing."""

    @cached_property
    def root_url(self) -> str:
        return current_url(self.scheme, self.host, self.root_path)

    @cached_property
    def base_url(self) -> str:
        return current_url(self.scheme, self.host, self.root_path, self.path)

    @cached_property
    def stream(self):
        """The body, limited to MAX_BUNDLE_BYTES whatever its framing (limits.body_stream)."""
        return limits.body_stream(self.environ, self.max_content_length)


current_url = lru_cache(maxsize=1024)(get_current_url)  # bounded: paths are the client's


class NoSessions(SessionInterface):
    """The API keeps no session: every request gets Flask's null session, and no cookie."""

    def open_session(self, app: Flask, request: Request) -> None:
        return None  # Flask then uses make_null_session()

    def save_session(self, app: Flask, session: Any, response: Response) -> None:
        return None


HEALTH_ENDPOINTS = {"health.Health", "health.Readiness"}


def init_database(app: Flask) -> None:
    """Bind the database, create what is missing, and hold a connection around each request,
    within the request's time budget (`QUERY_TIMEOUT_MS`)."""
    if app.config["DATABASE_READONLY"]:
        db.database.initialize(readonly_sqlite(app.config["DATABASE_URL"]))
    else:
        db.bind(app.config["DATABASE_URL"], app.config["DB_POOL_SIZE"])
        if app.config.get("SCHEMA_UPGRADE", True):  # the CLI upgrades only when told to
            migrations.upgrade()  # create the schema, or bring an older one up to date

    @app.before_request
    def _connect() -> Response | None:
        if request.endpoint in HEALTH_ENDPOINTS:
            return None  # the probes connect themselves and report failures their own way
        try:
            db.database.connect(reuse_if_open=True)
            limits.start_query_budget(app.config["QUERY_TIMEOUT_MS"])
        except (pw.DatabaseError, pw.InterfaceError, MaxConnectionsExceeded) as error:
            log.error("Database unavailable: %s", error)  # or every pooled connection busy
            return unavailable()
        return None

    @app.teardown_request
    def _close(exc: BaseException | None) -> None:
        limits.end_query_budget()
        if not db.database.is_closed():
            db.database.close()


def readonly_sqlite(url: str) -> pw.SqliteDatabase:
    """A prebuilt SQLite file served read-only (`DATABASE_READONLY=1`): opened `immutable`, so
    SQLite writes nothing beside it (no -wal/-shm, no locks) and it may live on a read-only
    filesystem; no DDL runs. The file must not change while served."""
    if not url.startswith("sqlite:///"):
        raise ValueError("DATABASE_READONLY applies to SQLite files (sqlite:///path) only")
    path = Path(url.split(":///", 1)[1]).resolve()
    if not path.is_file():
        raise ValueError(f"DATABASE_READONLY: no database file at {path}")
    return pw.SqliteDatabase(
        f"file:{path.as_posix()}?immutable=1",
        uri=True,
        pragmas={"query_only": 1, "foreign_keys": 1, "cache_size": -32_000},
    )


# The set-up steps in the order they must run. Flask runs `before_request` hooks in the order
# they were registered and each WSGI middleware wraps the ones set before it, so the order is
# part of the behaviour.
SETUP_STEPS: tuple[Callable[[Flask], object], ...] = (
    init_database,  # first: the later hooks run with a connection and a query budget
    register_api,  # blueprints, the spec and the error handlers
    auth.init_private_reads,  # READS_REQUIRE_KEY: a read without a key stops here
    http_cache.init_app,  # compression, ETags and conditional requests
    init_security,  # security headers and CORS
    limits.init_rate_limits,  # the rate limit, before any answer is replayed
    response_cache.init_app,  # its lookup follows the rate limit, its store every other hook
    releases.init_app,  # outside the cache's replay: a release's request reads its snapshot
    remember_base_url,  # after the cache's lookup: a replay needs no root
    settle_after_writes,
    trust_hosts,  # the outermost middleware: the cache's replays see the URL it leaves
    serve_docs_assets,
    explorer.init_app,  # the analysts' pages (/explore), on the public API
)
