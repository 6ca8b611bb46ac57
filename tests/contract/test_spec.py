"""The spec as typed clients, validators and linters read it: operationIds, `required`,
nullable enums and references, servers and security, YAML key order, a clean lint, and
examples that are real records valid against their own schemas."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from openapi_schema_validator import OAS30Validator

from api.records import RECORD_TYPES

COLLECTION_PATHS = {kind.name: kind.collection for kind in RECORD_TYPES}

ROOT = Path(__file__).parents[2]
SPEC_FILE = ROOT / "openapi.yaml"
REDOCLY = ROOT / ".tools" / "node_modules" / ".bin" / "redocly"
METHODS = ("get", "post", "put", "patch", "delete")
# component schema -> the collection its `id` belongs to
RECORD_SCHEMAS = {
    **{name.title(): path for name, path in COLLECTION_PATHS.items()},
    **{f"{name.title()}Ref": path for name, path in COLLECTION_PATHS.items()},
    "NetworkNode": "actors",
}


@pytest.fixture
def spec(client) -> dict:
    return client.get("/openapi.json").json


def operations(spec: dict):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation, item.get("parameters", [])


def resolve(node: Any, spec: dict) -> Any:
    """`node` with every `$ref` replaced by what it points to (the schemas have no cycles)."""
    if isinstance(node, list):
        return [resolve(item, spec) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target = spec
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        return resolve(target, spec)
    return {key: resolve(value, spec) for key, value in node.items()}


def test_every_operation_has_a_unique_readable_operation_id(spec):
    ids = [operation.get("operationId") for _, _, operation, _ in operations(spec)]
    assert all(ids) and len(ids) == len(set(ids))
    assert {"listEvents", "getEvent", "getActorNetwork", "search"} <= set(ids)


def test_servers_and_public_security_are_declared(spec):
    assert spec["servers"] and all(server["url"] for server in spec["servers"])
    assert spec["security"] == []


def test_response_fields_always_present_are_required(spec, client):
    schemas = spec["components"]["schemas"]
    optional = ["distance_km"]  # only with near
    assert schemas["Event"]["required"] == [
        name for name in schemas["Event"]["properties"] if name not in optional
    ]
    assert "errors" in schemas["Problem"]["required"]  # a list, empty when not located
    assert "instance" not in schemas["Problem"]["required"]  # gunicorn's own errors lack it
    # ... and they are present: a real record has every required field
    event = client.get("/v1/events?limit=1").json[0]
    assert set(schemas["Event"]["required"]) <= set(event)
    problem = client.get("/v1/events?limt=1").json
    assert set(schemas["Problem"]["required"]) <= set(problem)


def test_a_fields_page_is_described_by_the_spec(spec, client):
    """Every list taking `fields=` answers the full record or a partial one, and a page
    narrowed by `fields=` is valid against the spec, not against the full record."""
    listed = 0
    for path, method, operation, _ in operations(spec):
        names = [p["name"] for p in operation.get("parameters", [])]
        if method != "get" or "fields" not in names:
            continue
        items = operation["responses"]["200"]["content"]["application/json"]["schema"]["items"]
        whole, partial = (ref["$ref"].rsplit("/", 1)[1] for ref in items["anyOf"])
        assert partial == f"Partial{whole}"
        schemas = spec["components"]["schemas"]
        assert schemas[partial]["required"] == ["id"]
        assert schemas[partial]["properties"] == schemas[whole]["properties"]
        fields = next(p for p in operation["parameters"] if p["name"] == "fields")
        chosen = fields["schema"]["items"]["enum"][-1]
        page = client.get(f"{path}?fields=id,{chosen}&limit=3").json
        assert page and all(set(record) == {"id", chosen} for record in page), path
        items_schema = resolve(items, spec)
        assert not list(OAS30Validator(items_schema).iter_errors(page[0])), path
        assert list(OAS30Validator(resolve(schemas[whole], spec)).iter_errors(page[0]))
        listed += 1
    assert listed == 6


def test_conditional_writes_say_which_rfc_they_follow(spec):
    """428 and 412 are the HTTP answers for a conditional request (not validation errors):
    every write that may send them says so, and why."""
    conditional = 0
    for path, method, operation, _ in operations(spec):
        responses = operation["responses"]
        if "428" not in responses:
            continue
        assert "RFC 6585" in responses["428"]["description"], (method, path)
        assert "RFC 9110" in responses["412"]["description"], (method, path)
        assert "before the body is read" in responses["412"]["description"]
        if_match = next(p for p in operation["parameters"] if p["name"] == "If-Match")
        assert "428" in if_match["description"] and "412" in if_match["description"]
        conditional += 1
    assert conditional == 11  # PATCH and DELETE of five collections, DELETE of a source


def test_every_error_response_is_the_one_problem_schema(spec):
    """4xx and 5xx: `application/problem+json` with the one `Problem` schema, wherever."""
    assert not [name for name in spec["components"]["schemas"] if "Problem" in name[1:]]
    components = spec["components"]["responses"]
    found = 0
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for status, response in operation["responses"].items():
                if status[0] not in "45":
                    continue
                if "$ref" in response:
                    response = components[response["$ref"].rsplit("/", 1)[1]]
                content = response["content"]
                assert list(content) == ["application/problem+json"], (method, path, status)
                schema = content["application/problem+json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Problem"}, (method, path)
                found += 1
    assert found > 50


def test_nullable_enums_and_references_read_as_generators_need(spec):
    def walk(node: Any, where: str):
        if isinstance(node, dict):
            if node.get("nullable") and "enum" in node:
                assert None in node["enum"], where
            if "anyOf" in node:
                assert "$ref" in node["anyOf"][0], f"{where}: the reference comes first"
            for key, value in node.items():
                walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{where}/{i}")

    walk(spec, "#")
    edge = spec["components"]["schemas"]["NetworkEdge"]["properties"]["predicate"]
    assert edge["nullable"] and edge["enum"][-1] is None
    location = spec["components"]["schemas"]["Event"]["properties"]["location"]
    assert location["anyOf"][0] == {"$ref": "#/components/schemas/LocationRef"}


def test_yaml_keeps_the_key_order_of_the_json(spec):
    written = yaml.safe_load(SPEC_FILE.read_text(encoding="utf-8"))

    def keys(node: Any) -> Any:
        if isinstance(node, dict):
            return [(key, keys(value)) for key, value in node.items()]
        if isinstance(node, list):
            return [keys(value) for value in node]
        return None

    assert keys(written) == keys(spec)
    content = written["paths"]["/v1/events"]["get"]["responses"]["200"]["content"]
    assert next(iter(content)) == "application/json"


def test_every_example_validates_against_its_schema(spec):
    """Media-type examples against their schema; property and parameter examples against
    their own schema."""
    checked = 0

    def check(example: Any, schema: dict, where: str) -> None:
        nonlocal checked
        schema = resolve(schema, spec)
        schema = {k: v for k, v in schema.items() if k != "example"}
        errors = [e.message for e in OAS30Validator(schema).iter_errors(example)]
        assert not errors, (where, errors[:3])
        checked += 1

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            if "example" in node and "schema" in node:
                check(node["example"], node["schema"], where)
            elif "example" in node and ("type" in node or "$ref" in node or "anyOf" in node):
                check(node["example"], node, where)
            for key, value in node.items():
                if key != "example":
                    walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{where}/{i}")

    walk(spec, "#")
    assert checked > 100


def test_every_example_is_a_real_record(spec, client):
    """Every example id names a record, and what the example says of it is what the API says:
    property examples of record schemas, whole response examples, path parameters."""
    checked = set()

    def compare(example: dict, collection: str, where: str, keys: Any = None) -> None:
        """`keys`: what to compare (default: every scalar the record has too)."""
        record_id = example.get("id")
        if not isinstance(record_id, str):
            return
        response = client.get(f"/v1/{collection}/{record_id}")
        assert response.status_code == 200, (where, record_id)
        for key, value in example.items():
            if keys is not None and key not in keys:
                continue
            if key in response.json and not isinstance(value, dict | list):
                assert response.json[key] == value, (where, record_id, key)
        checked.add((collection, record_id))

    for name, collection in RECORD_SCHEMAS.items():
        schema = spec["components"]["schemas"].get(name)
        if schema:
            examples = {k: p["example"] for k, p in schema["properties"].items() if "example" in p}
            compare(examples, collection, name)

    def walk(example: Any, schema: dict, where: str) -> None:
        name = schema.get("$ref", "").rsplit("/", 1)[-1]
        schema = resolve(schema, spec)
        for option in schema.get("anyOf", []):
            if option.get("$ref") and example is not None:
                walk(example, option, where)
        if isinstance(example, list) and "items" in schema:
            for i, item in enumerate(example):
                walk(item, schema["items"], f"{where}/{i}")
        elif isinstance(example, dict):
            if name in RECORD_SCHEMAS:
                compare(example, RECORD_SCHEMAS[name], where)
            elif example.get("record_type") in COLLECTION_PATHS:  # a search hit, a timeline item
                compare(example, COLLECTION_PATHS[example["record_type"]], where, {"date"})
            for key, value in example.items():
                if key in schema.get("properties", {}):
                    walk(value, schema["properties"][key], f"{where}/{key}")

    for path, method, operation, shared in operations(spec):
        for status, response in operation["responses"].items():
            for media, content in response.get("content", {}).items():
                if "example" in content:
                    walk(content["example"], content.get("schema", {}), f"{path} {status} {media}")
        examples = {
            p["name"]: p.get("example", p.get("schema", {}).get("example"))
            for p in shared + operation.get("parameters", [])
            if p["in"] == "path"
        }
        if method == "get" and examples and None not in examples.values():
            if operation.get("security"):  # keys: per deployment
                continue
            url = path.format(**examples)
            assert client.get(url).status_code == 200, url
    assert len(checked) >= 8


def test_redocly_lint_has_no_errors():
    """`redocly lint` with the recommended rules: 0 errors (kept warnings: redocly.yaml)."""
    if shutil.which("node") is None:
        pytest.skip("node is not installed: the spec lint (redocly) needs it")
    assert REDOCLY.exists(), "run `make test` once: it installs redocly into .tools/"
    result = subprocess.run(
        [REDOCLY, "lint", SPEC_FILE, "--format", "json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    report = json.loads(result.stdout)
    errors = [p for p in report["problems"] if p["severity"] == "error"]
    assert not errors, [(p["ruleId"], p["message"]) for p in errors]
    assert result.returncode == 0


def test_swagger_ui_gets_prefilled_examples_comma_coordinates_and_a_favicon(spec, client):
    parameters = {p["name"]: p for p in spec["paths"]["/v1/locations"]["get"]["parameters"]}
    assert parameters["bbox"]["schema"]["type"] == "string"  # one box, not one per number
    assert parameters["bbox"]["example"] == "38.7,29.0,48.6,37.4"
    assert parameters["near"]["example"] == "33.3,44.4"
    assert client.get("/v1/locations?bbox=" + parameters["bbox"]["example"]).status_code == 200
    search = {p["name"]: p for p in spec["paths"]["/v1/search"]["get"]["parameters"]}
    assert search["q"]["example"] == "Ghaani"
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.mimetype == "image/png"
