"""The bare-Flask ceiling of `bench.compare`: one view returning a pre-rendered body.

`BARE_BODY` names a file holding the exact bytes the service answered for the benchmarked page
(`BARE_TYPE` its Content-Type); the view returns them unchanged, so what is measured is
gunicorn + Flask + the socket, with no query, no loading and no serialisation.
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, Response


def create_app() -> Flask:
    app = Flask(__name__)
    body = Path(os.environ["BARE_BODY"]).read_bytes()
    media = os.environ.get("BARE_TYPE", "application/json")

    @app.get("/v1/events")
    def events() -> Response:
        return Response(body, 200, mimetype=media)

    @app.get("/healthz")
    def health() -> Response:
        return Response(b"{}", 200, mimetype="application/json")

    return app
