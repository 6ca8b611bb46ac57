"""briefing-api: structured briefing data over a REST API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import peewee as pw
import swagger_ui_bundle
from flask import Flask, send_from_directory
from flask_cors import CORS
from flask_smorest import abort

from api import auth, db, http_cache, migrations, spec
from api.base import Api
from api.config import STATIC_SETTINGS, settings_from_env

API_DESCRIPTION = """Structured briefing data: the actors, events, statements and locations
that news briefings report, each record cited to the verbatim sentence that supports it.

Lists are JSON arrays paged with `limit` and an opaque `cursor` (next page in the RFC 8288
`Link` header, total in `X-Total-Count`), and also speak CSV and GeoJSON. Errors are RFC 9457
`application/problem+json`. Unknown query parameters are refused."""


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the Flask app: settings, database binding, blueprints, docs and error handlers."""
    from api.resources import MODULES

    app = Flask(__name__)
    app.config.update(STATIC_SETTINGS)
    app.config.update(settings_from_env())
    app.config.update(config or {})
    app.json.sort_keys = False
    init_database(app)

    api = Api(app, spec_kwargs={"info": {"description": API_DESCRIPTION}})
    api.spec.components.security_scheme(auth.SECURITY_SCHEME_NAME, auth.SECURITY_SCHEME)
    spec.install(api)
    for module in MODULES:
        api.register_blueprint(module.blp)
    http_cache.init_app(app)
    # A public, read-only API: any web page may call it (no credentials are involved).
    CORS(
        app,
        resources={r"/v1/*": {}, r"/openapi.json": {}, r"/healthz": {}},
        expose_headers=["Link", "X-Total-Count"],
        send_wildcard=True,
    )

    assets = Path(swagger_ui_bundle.swagger_ui_path)

    @app.get("/docs/assets/<path:filename>")
    def swagger_assets(filename: str):
        """Swagger UI's own files, served locally so the docs work offline."""
        return send_from_directory(assets, filename)

    @app.get("/favicon.ico")
    def favicon():
        """The docs' tab icon (Swagger UI's)."""
        return send_from_directory(assets, "favicon-32x32.png", mimetype="image/png")

    return app


def init_database(app: Flask) -> None:
    """Bind the database, create what is missing, and hold a connection around each request."""
    db.bind(app.config["DATABASE_URL"], app.config["DB_POOL_SIZE"])
    if app.config.get("SCHEMA_UPGRADE", True):  # the CLI upgrades only when told to
        migrations.upgrade()  # create the schema, or bring an older one up to date

    @app.before_request
    def _connect() -> None:
        try:
            db.database.connect(reuse_if_open=True)
        except pw.DatabaseError as error:
            abort(503, message=f"The database is unavailable: {error}")

    @app.teardown_request
    def _close(exc: BaseException | None) -> None:
        if not db.database.is_closed():
            db.database.close()
