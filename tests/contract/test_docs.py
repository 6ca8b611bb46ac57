"""The docs match the code: openapi.yaml is the served spec, every operation and parameter is
described, and the Swagger UI is served from local files (it works offline)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

SPEC_FILE = Path(__file__).parents[2] / "openapi.yaml"


def operations(spec: dict):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                yield path, method, operation, item.get("parameters", [])


def test_openapi_yaml_is_the_served_spec(client):
    """Regenerate with `make openapi` when this fails."""
    served = client.get("/openapi.json").json
    assert yaml.safe_load(SPEC_FILE.read_text(encoding="utf-8")) == served


def test_every_operation_and_parameter_is_described(client):
    spec = client.get("/openapi.json").json
    assert spec["openapi"].startswith("3.0.")
    for path, method, operation, shared in operations(spec):
        where = f"{method.upper()} {path}"
        assert operation.get("summary"), where
        assert operation.get("description"), where
        for parameter in operation.get("parameters", []) + shared:
            assert parameter.get("description"), (where, parameter["name"])
        assert "default" in operation["responses"], where


def test_every_resource_schema_has_examples(client):
    schemas = client.get("/openapi.json").json["components"]["schemas"]
    for name in ("Event", "Statement", "Actor", "Location", "Source", "Problem"):
        properties = schemas[name]["properties"]
        assert any("example" in p for p in properties.values()), name


def test_list_parameters_use_the_vocabularies(client):
    from schemas import vocabularies as vocab

    spec = client.get("/openapi.json").json
    parameters = {p["name"]: p for p in spec["paths"]["/v1/events"]["get"]["parameters"]}
    assert parameters["type"]["schema"]["items"]["enum"] == list(vocab.EVENT_TYPES)
    assert parameters["role"]["schema"]["enum"] == list(vocab.PARTICIPANT_ROLES)


def test_swagger_ui_is_served_from_local_assets(client):
    page = client.get("/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets, html
    for asset in assets:
        assert asset.startswith("/docs/assets/"), f"{asset} would need the network"
        response = client.get(asset)
        assert response.status_code == 200, asset
        assert len(response.data) > 1000
    assert "/openapi.json" in html


def test_healthz_reports_the_database(client, database_url):
    body = client.get("/healthz").json
    assert body == {
        "status": "ok",
        "database": "ok",
        "backend": "postgresql" if database_url.startswith("postgres") else "sqlite",
    }


def make_unopenable(path: Path, how: str) -> None:
    """Break a SQLite database file for real: a directory in its place, or bytes that are not
    a database."""
    for leftover in path.parent.glob(path.name + "*"):  # the file and its -wal / -shm files
        leftover.unlink()
    if how == "directory":
        path.mkdir()
    else:
        path.write_bytes(b"this is not a SQLite database\n" * 512)


@pytest.mark.parametrize("how", ["directory", "garbage"])
def test_healthz_is_503_when_the_database_is_gone(make_app, tmp_path, how):
    path = tmp_path / "own.db"
    app = make_app(f"sqlite:///{path}")
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    make_unopenable(path, how)
    response = client.get("/healthz")
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.json
    assert body["status"] == 503 and body["title"]
    assert "database" in body["detail"]
    assert "Traceback" not in response.get_data(as_text=True)


def test_cors_lets_web_apps_read_lists_and_paging_headers(client):
    response = client.get("/v1/events?limit=1", headers={"Origin": "https://example.org"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    exposed = response.headers["Access-Control-Expose-Headers"]
    assert "Link" in exposed and "X-Total-Count" in exposed


def test_every_environment_variable_is_documented_in_both_tables():
    """Every variable the code reads appears in api/config.py's table and in README's."""
    import re
    from pathlib import Path

    import api.config

    root = Path(__file__).parents[2]
    read = set()
    for path in (root / "api").rglob("*.py"):
        read |= set(
            re.findall(r"""(?:\benv|os\.environ)\.get\(\s*["']([A-Z_]+)["']""", path.read_text())
        )
    assert {"DATABASE_URL", "SECRET_KEY", "WORKER_CONNECTIONS"} <= read  # the scan finds them
    readme = (root / "README.md").read_text(encoding="utf-8")
    for name in sorted(read):
        assert f"| `{name}`" in api.config.__doc__, f"{name} missing from api/config.py's table"
        assert f"| `{name}`" in readme, f"{name} missing from README's Configuration table"
