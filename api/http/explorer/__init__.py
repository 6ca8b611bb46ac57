"""The explorer (`/explore`): pages where an analyst sees the data on a map, a timeline and a
network and reads each fact in its source. One HTML page (templates/explorer.html) and its
scripts, built on the public
API only (anything it shows, a client can fetch); every file it loads is served from `static/`
(the libraries vendored by `make vendor`), under a CSP that allows only this origin."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask, Response, render_template, request, send_from_directory

STATIC = Path(__file__).parent / "static"
# The page's own policy: scripts, styles, images and data from this origin only; no inline
# script or style attribute (the scripts set styles through the CSSOM, which CSP allows).
EXPLORER_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'"
)
PAGE_PREFIX = "/explore"
STATIC_PREFIX = "/explore/static/"

blp = Blueprint("explorer", __name__)


@blp.get(PAGE_PREFIX)
@blp.get(f"{PAGE_PREFIX}/")
@blp.get(f"{PAGE_PREFIX}/<path:view>")
def page(view: str = "") -> Response:
    """The explorer's one page: its script draws the view that the URL names (the overview,
    a record, a source's text, an actor's network)."""
    response = Response(render_template("explorer.html", root=request.root_path))
    response.headers["Cache-Control"] = "no-cache"
    return response


@blp.get(f"{STATIC_PREFIX}<path:filename>")
def asset(filename: str) -> Response:
    """A script, style, image or map layer of the explorer: revalidated on each use (a 304
    when unchanged), so that the modules of a page always come from one release."""
    response = send_from_directory(STATIC, filename, max_age=0)
    response.headers["Cache-Control"] = "no-cache"
    return response


@blp.after_request
def explorer_policy(response: Response) -> Response:
    """The explorer's CSP (security.add_security_headers adds the other headers)."""
    response.headers["Content-Security-Policy"] = EXPLORER_CSP
    return response


def init_app(app: Flask) -> None:
    """Serve the explorer's page and files."""
    app.register_blueprint(blp)
