"""The explorer's page and files over HTTP (api/http/explorer): served by the app under its
own CSP, every file it loads present in the package with its licence, and its scripts calling
only operations of the public API (what the browser does is tests/live/test_explorer_browser.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from api.http.explorer import EXPLORER_CSP, STATIC
from tests.helpers import PROBLEM

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = sorted((STATIC / "js").glob("*.js"))
IMPORT = re.compile(
    r"""^import\s.*?from\s+"([^"]+)";|\bimport\("([^"]+)"\)""", re.MULTILINE | re.DOTALL
)
API_PATH = re.compile(r"""[`"](/v1/[^`"?]*)""")


@pytest.mark.parametrize(
    "path",
    ["/explore", "/explore/", "/explore/events/anything", "/explore/actors/iran/network"],
)
def test_every_view_is_the_one_page_under_the_explorer_csp(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert response.headers["Content-Security-Policy"] == EXPLORER_CSP
    assert response.headers["X-Frame-Options"] == "DENY"
    html = response.get_data(as_text=True)
    assert 'src="/explore/static/js/main.js"' in html


def test_the_policy_allows_this_origin_only():
    directives = dict(d.strip().split(" ", 1) for d in EXPLORER_CSP.split(";"))
    assert directives["default-src"] == "'none'"
    for name in ("script-src", "style-src", "connect-src", "font-src"):
        assert directives[name] == "'self'", name
    assert directives["img-src"] == "'self' data:"  # Leaflet's CSS draws icons as data: URIs
    assert "unsafe" not in EXPLORER_CSP


def test_the_page_has_no_inline_script_or_style(client):
    html = client.get("/explore").get_data(as_text=True)
    assert not re.search(r"<script(?![^>]*\ssrc=)[^>]*>", html), "an inline script"
    assert "<style" not in html and " style=" not in html


def test_every_file_the_page_links_is_served(client):
    html = client.get("/explore").get_data(as_text=True)
    linked = re.findall(r'(?:src|href)="(/explore/static/[^"]+)"', html)
    assert len(linked) >= 4
    for path in linked:
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["Content-Security-Policy"] == EXPLORER_CSP


def test_module_imports_resolve_to_files_of_the_package(client):
    """Every `import ... from "..."` and `import("...")` of the scripts names a file that is
    served (the page has no build step: the browser loads these paths as they are written)."""
    found = 0
    for script in SCRIPTS:
        for static, dynamic in IMPORT.findall(script.read_text()):
            target = static or dynamic
            found += 1
            assert target.startswith("."), (script.name, target)
            resolved = (script.parent / target).resolve()
            assert resolved.is_file(), (script.name, target)
            path = "/explore/static/" + resolved.relative_to(STATIC.resolve()).as_posix()
            response = client.get(path)
            assert response.status_code == 200, path
            assert response.mimetype == "text/javascript", path
    assert found >= 10


def test_the_scripts_call_only_operations_of_the_public_spec(client):
    """Anything the explorer shows, a client can fetch: each `/v1/...` path its scripts call
    is an operation of /openapi.json (path parameters written `${...}` in the scripts)."""
    spec_paths = client.get("/openapi.json").json["paths"]
    called = {path for script in SCRIPTS for path in API_PATH.findall(script.read_text())}
    assert {"/v1/events", "/v1/events/aggregate", "/v1/events/facets"} <= called
    for path in called:
        pattern = re.compile("^" + re.sub(r"\\\$\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$")
        assert any(pattern.match(p) for p in spec_paths), f"{path} is not a public operation"
    assert not any(path.startswith("/v1/audit") for path in called)  # the one admin read


def test_each_vendored_library_is_pinned_with_its_licence():
    """`make vendor` fetched each pinned package: every library folder holds its licence, and
    VERSIONS lists exactly the pins of the Makefile."""
    vendor = STATIC / "vendor"
    for folder in (p for p in vendor.iterdir() if p.is_dir()):
        assert (folder / "LICENSE").is_file(), folder.name
    makefile = (REPO / "Makefile").read_text()
    pins = re.search(r"^VENDOR_PACKAGES := (.+)$", makefile, re.MULTILINE)
    assert pins, "the Makefile pins the vendored packages"
    assert (vendor / "VERSIONS").read_text().split() == pins.group(1).split()
    assert all(re.fullmatch(r"[a-z@/-]+@\d+\.\d+\.\d+", pin) for pin in pins.group(1).split())


def test_an_unknown_file_is_a_404_problem(client):
    response = client.get("/explore/static/js/nothing-here.js")
    assert response.status_code == 404
    assert response.mimetype == PROBLEM


def test_a_path_out_of_the_static_folder_is_refused(client):
    response = client.get("/explore/static/../__init__.py")
    assert response.status_code == 404
    response = client.get("/explore/static/%2e%2e/__init__.py")
    assert response.status_code == 404


def test_files_are_revalidated_so_a_page_never_mixes_two_releases(client):
    response = client.get("/explore/static/js/main.js")
    assert response.headers["Cache-Control"] == "no-cache"
    etag = response.headers["ETag"]
    again = client.get("/explore/static/js/main.js", headers={"If-None-Match": etag})
    assert again.status_code == 304
