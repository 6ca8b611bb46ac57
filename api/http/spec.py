"""The finishing touches of the OpenAPI document, derived from the code so that every endpoint
(those added later too) gets them: what typed client generators and linters need.

- `operationId` on every operation, from its method and path (`listEvents`, `getEvent`,
  `getActorNetwork`, `createBriefing`, `deleteSource`);
- `required`: every property of a response schema is always present, unless its field says
  `metadata={"x-optional": True}`;
- nullable enums list `null` among their values, and a nullable reference reads
  `anyOf: [$ref, {null only}]` (apispec writes a catch-all object first, which generators
  read as "any object", and validators of OpenAPI 3.0.3 reject `nullable` + `allOf`);
- parameter examples on the parameter, where Swagger UI pre-fills them;
- `servers`, and a root `security: []` (reads are public; write operations declare their own);
- a list that takes `fields=` answers `anyOf: [Record, PartialRecord]`: the partial record is
  the record with only `id` required, which is what a `fields=` page holds;
- `openapi write` keeps the keys in the order of the JSON (flask-smorest's sorts the YAML,
  which puts `application/geo+json` before `application/json`).
"""

from __future__ import annotations

import json
import re
from typing import Any

import click
import yaml
from flask import current_app
from flask.cli import AppGroup

from api.records import RECORD_TYPES

SERVERS = [
    {
        "url": "/",
        "description": "The server that serves this document (paths include the `/v1` prefix).",
    }
]
VERBS = {"post": "create", "put": "replace", "patch": "update", "delete": "delete"}
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
OPTIONAL = "x-optional"
VERB_WORDS = {"search"}
SINGULAR = {kind.collection: kind.name for kind in RECORD_TYPES}


def singular(word: str) -> str:
    """`events` -> `event`, `vocabularies` -> `vocabulary`."""
    if word in SINGULAR:
        return SINGULAR[word]
    if word.endswith("ies"):
        return word[:-3] + "y"
    return word[:-1] if word.endswith("s") else word


def operation_id(method: str, path: str) -> str:
    """A readable, stable operationId: `GET /v1/events` -> `listEvents`,
    `GET /v1/events/{record_id}` -> `getEvent`, `GET /v1/actors/{actor_id}/network` ->
    `getActorNetwork`, `DELETE /v1/sources/{id}` -> `deleteSource`."""
    segments = [s for s in path.strip("/").split("/") if s and not re.fullmatch(r"v\d+", s)]
    words: list[str] = []
    for segment in segments:
        if segment.startswith("{"):
            if words:
                words[-1] = singular(words[-1])
        else:
            words.extend(w for w in re.split(r"[^A-Za-z0-9]+", segment) if w)
    if method == "get":
        listed = bool(segments) and segments[-1] in SINGULAR
        verb = "list" if listed else "get"
    else:
        verb = VERBS.get(method, method)
        if method == "post" and words:
            words[-1] = singular(words[-1])
    if words and words[0] in VERB_WORDS:  # `/v1/search` -> `search`, not `getSearch`
        verb, words = words[0], words[1:]
    return verb + "".join(w[:1].upper() + w[1:] for w in words)


def lift_parameter_examples(spec: dict) -> None:
    """A parameter's example on the parameter itself, where Swagger UI pre-fills it."""
    for item in spec.get("paths", {}).values():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            for parameter in operation.get("parameters", []):
                example = parameter.get("schema", {}).get("example")
                if example is not None and "example" not in parameter:
                    parameter["example"] = example


def add_operation_ids(spec: dict) -> None:
    seen: set[str] = set()
    for path, item in spec.get("paths", {}).items():
        for method, operation in item.items():
            if method not in METHODS or "operationId" in operation:
                continue
            name = operation_id(method, path)
            if name in seen:  # never two alike: fall back on the method
                name = f"{name}{method.title()}"
            seen.add(name)
            operation["operationId"] = name


NULL_ONLY = {"type": "object", "nullable": True, "enum": [None]}


def nullable_reference(node: dict) -> dict:
    """apispec's `anyOf: [{type: object, nullable: true}, {$ref}]` (in either order) ->
    `anyOf: [{$ref}, {type: object, nullable: true, enum: [null]}]`: the reference first,
    and an alternative that only null matches (OpenAPI 3.0.3's way of writing "or null")."""
    options = node.get("anyOf")
    if not isinstance(options, list) or len(options) != 2:
        return node
    refs = [o for o in options if "$ref" in o]
    nulls = [o for o in options if o.get("nullable") and "$ref" not in o]
    if len(refs) != 1 or len(nulls) != 1:
        return node
    return {**node, "anyOf": [refs[0], dict(NULL_ONLY)]}


def fix_schemas(node: Any) -> Any:
    """Nullable enums and references, everywhere in the document."""
    if isinstance(node, list):
        return [fix_schemas(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = nullable_reference({k: fix_schemas(v) for k, v in node.items()})
    if node.get("nullable") and isinstance(node.get("enum"), list) and None not in node["enum"]:
        node["enum"] = [*node["enum"], None]
    return node


def references(node: Any) -> set[str]:
    """Names of the component schemas `node` refers to, directly."""
    found: set[str] = set()
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            found.add(ref.rsplit("/", 1)[1])
        for value in node.values():
            found |= references(value)
    elif isinstance(node, list):
        for value in node:
            found |= references(value)
    return found


def reachable(roots: set[str], schemas: dict) -> set[str]:
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in seen or name not in schemas:
            continue
        seen.add(name)
        todo.extend(references(schemas[name]))
    return seen


def add_required(spec: dict) -> None:
    """Response schemas: every property is required (always present) unless `x-optional`.
    Schemas that a request body uses are left as the code wrote them."""
    schemas = spec.get("components", {}).get("schemas", {})
    inputs: set[str] = set()
    outputs: set[str] = set()
    for item in spec.get("paths", {}).values():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            inputs |= references(operation.get("requestBody", {}))
            outputs |= references(operation.get("responses", {}))
    outputs |= references(spec.get("components", {}).get("responses", {}))
    inputs = reachable(inputs, schemas)
    for name in reachable(outputs, schemas) - inputs:
        add_required_to(schemas[name])


def add_required_to(schema: dict) -> None:
    properties = schema.get("properties")
    if not properties:
        return
    required = list(schema.get("required", []))
    for name, prop in properties.items():
        if prop.pop(OPTIONAL, False):
            continue
        if name not in required:
            required.append(name)
    if required:
        schema["required"] = required


def partial_name(name: str) -> str:
    return f"Partial{name}"


def unshared(node: Any) -> Any:
    """A copy sharing no list or dict, within itself either (no YAML anchors)."""
    return json.loads(json.dumps(node))


def add_partial_records(spec: dict) -> None:
    """Lists taking `fields=`: each item is the full record or, narrowed by `fields=`, a
    partial one (`PartialEvent`: the same properties, only `id` required). anyOf, not oneOf:
    a full record is a partial one too. Generators try the full record first."""
    schemas = spec.get("components", {}).get("schemas", {})
    for item in spec.get("paths", {}).values():
        for method, operation in item.items():
            if method != "get" or not any(
                p.get("name") == "fields" and p.get("in") == "query"
                for p in operation.get("parameters", [])
            ):
                continue
            content = operation["responses"]["200"]["content"]["application/json"]
            ref = content["schema"]["items"]["$ref"]
            name = ref.rsplit("/", 1)[1]
            partial = partial_name(name)
            if partial not in schemas:
                whole = schemas[name]
                schemas[partial] = {
                    **unshared(
                        {k: v for k, v in whole.items() if k not in ("required", "description")}
                    ),
                    "description": f"{name} narrowed by `fields=`: `id` and the fields asked "
                    "for, nothing else.",
                    "required": ["id"],
                }
            content["schema"]["items"] = {
                "anyOf": [{"$ref": ref}, {"$ref": f"#/components/schemas/{partial}"}]
            }


def drop_unused_schemas(spec: dict) -> None:
    """Component schemas nothing refers to (flask-smorest's `PaginationMetadata`)."""
    components = spec.get("components", {})
    schemas = components.get("schemas", {})
    roots = references({k: v for k, v in spec.items() if k != "components"})
    roots |= references({k: v for k, v in components.items() if k != "schemas"})
    for name in set(schemas) - reachable(roots, schemas):
        del schemas[name]


TOP_LEVEL = ("openapi", "info", "servers", "security", "tags", "paths", "components")


def finish(spec: dict) -> dict:
    """The document as generators and linters need it (see the module docstring)."""
    spec = fix_schemas(spec)
    spec.setdefault("servers", SERVERS)
    spec.setdefault("security", [])
    add_operation_ids(spec)
    lift_parameter_examples(spec)
    add_required(spec)
    add_partial_records(spec)
    drop_unused_schemas(spec)
    ordered = {key: spec.pop(key) for key in TOP_LEVEL if key in spec}
    return ordered | spec


def install(api: Any) -> None:
    """Finish every document the Api produces: the served `/openapi.json` and `openapi write`."""
    produce = api.spec.to_dict
    api.spec.to_dict = lambda: finish(produce())


def to_yaml(spec: dict) -> str:
    """YAML in the key order of the JSON, unicode as is."""
    return yaml.safe_dump(spec, sort_keys=False, allow_unicode=True, width=1_000_000)


openapi_command = AppGroup("openapi", help="The OpenAPI document.")


@openapi_command.command("write")
@click.option("-f", "--format", "form", type=click.Choice(["json", "yaml"]), default="json")
@click.argument("output_file", type=click.File(mode="w", encoding="utf-8"))
def write_command(form: str, output_file) -> None:
    """Write the OpenAPI document (as served at /openapi.json) to a file."""
    from flask import json

    spec = current_app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()
    output_file.write(to_yaml(spec) if form == "yaml" else json.dumps(spec, indent=2) + "\n")
