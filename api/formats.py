"""List responses: paging headers (RFC 8288 `Link`, `X-Total-Count`) and the formats every
list speaks: JSON (default), CSV and, for places and events, GeoJSON."""

from __future__ import annotations

import csv
import io
from typing import Any
from urllib.parse import urlencode

import marshmallow as ma
from flask import Response, json, request
from flask_smorest import abort

from api.queries.collection import Collection, list_page
from api.queries.paging import Page

MEDIA_TYPES = {"json": "application/json", "csv": "text/csv", "geojson": "application/geo+json"}

PAGE_HEADERS = {
    "X-Total-Count": {
        "description": "How many records match the filters, across all pages.",
        "schema": {"type": "integer"},
    },
    "Link": {
        "description": 'RFC 8288 links to the other pages: `<url>; rel="next"` and '
        '`<url>; rel="prev"`, when they exist.',
        "schema": {"type": "string"},
    },
}


FEATURE_COLLECTION = {
    "type": "object",
    "description": "RFC 7946 FeatureCollection; each feature's properties carry the record.",
    "properties": {
        "type": {"type": "string", "enum": ["FeatureCollection"]},
        "features": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "type": {"type": "string", "enum": ["Feature"]},
                    "id": {"type": "string"},
                    "geometry": {
                        "type": "object",
                        "nullable": True,
                        "description": "A Point `[longitude, latitude]`, or null when the "
                        "record has no coordinates.",
                        "properties": {
                            "type": {"type": "string", "enum": ["Point"]},
                            "coordinates": {"type": "array", "items": {"type": "number"}},
                        },
                    },
                    "properties": {"type": "object"},
                },
            },
        },
    },
}


def list_docs(schema: ma.Schema, formats: tuple[str, ...]) -> dict:
    """OpenAPI for every representation of a list's 200 response."""
    content: dict[str, dict] = {"application/json": {"schema": schema}}
    if "csv" in formats:
        content["text/csv"] = {
            "schema": {"type": "string"},
            "example": "id,title,type\nexample-event,An event,battles\n",
        }
    if "geojson" in formats:
        content["application/geo+json"] = {"schema": FEATURE_COLLECTION}
    page = {"description": "One page of records.", "headers": PAGE_HEADERS, "content": content}
    return {"responses": {"200": page}}


def negotiate(args: dict, formats: tuple[str, ...]) -> str:
    """The format asked for by `format=`, else by `Accept`; 406 when none can be served."""
    if args.get("format"):
        return args["format"]
    offered = [MEDIA_TYPES[name] for name in formats]
    best = request.accept_mimetypes.best_match(offered) if request.accept_mimetypes else offered[0]
    if best is None:
        abort(406, message="Acceptable formats: " + ", ".join(offered) + ".")
    return next(name for name, media in MEDIA_TYPES.items() if media == best)


def page_headers(page: Page) -> dict[str, str]:
    links = []
    for rel, cursor in (("next", page.next_cursor), ("prev", page.prev_cursor)):
        if cursor:
            query = [(k, v) for k, v in request.args.items(multi=True) if k != "cursor"]
            query.append(("cursor", cursor))
            links.append(f'<{request.base_url}?{urlencode(query)}>; rel="{rel}"')
    headers = {"X-Total-Count": str(page.total)}
    if links:
        headers["Link"] = ", ".join(links)
    return headers


def list_response(
    collection: Collection, args: dict, schema: ma.Schema, formats: tuple[str, ...]
) -> Any:
    """What a list view returns: records for flask-smorest to dump, or a CSV/GeoJSON body."""
    chosen = negotiate(args, formats)
    records, page = list_page(collection, args)
    headers = page_headers(page)
    if chosen == "json":
        return records, 200, headers
    dumped = schema.dump(records, many=True)
    body = to_csv(dumped, schema) if chosen == "csv" else json.dumps(to_geojson(dumped))
    return Response(body, 200, headers, mimetype=MEDIA_TYPES[chosen])


# ---------------------------------------------------------------- CSV


def columns(schema: ma.Schema) -> list[str]:
    """CSV columns: each field, with plain nested objects (coordinates) spread out."""
    names = []
    for name, field in schema.fields.items():
        nested = getattr(field, "schema", None)
        if isinstance(field, ma.fields.Nested) and nested and "id" not in nested.fields:
            names.extend(f"{name}_{sub}" for sub in nested.fields)
        else:
            names.append(name)
    return names


def flat(value: Any) -> Any:
    """One cell: references become ids, lists are joined with `;`."""
    if isinstance(value, dict):
        if "id" in value:
            return value["id"]
        if "actor" in value and "role" in value:
            return f"{value['actor']['id']}:{value['role']}"
        if "predicate" in value:
            return f"{value['subject']['id']} {value['predicate']} {value['object']['id']}"
        if "excerpt" in value:
            return value["excerpt"]
        if "name" in value:
            return value["name"]
        return json.dumps(value)
    if isinstance(value, list):
        return "; ".join(str(flat(item)) for item in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else value


def flatten(record: dict) -> dict:
    row = {}
    for name, value in record.items():
        if isinstance(value, dict) and "id" not in value and not {"actor", "excerpt"} & set(value):
            row.update({f"{name}_{sub}": flat(v) for sub, v in value.items()})
        else:
            row[name] = flat(value)
    return row


def to_csv(records: list[dict], schema: ma.Schema) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(
        buffer, fieldnames=columns(schema), extrasaction="ignore", lineterminator="\n"
    )
    writer.writeheader()
    for record in records:
        writer.writerow(flatten(record))
    return buffer.getvalue()


# ---------------------------------------------------------------- GeoJSON


def geometry(record: dict) -> dict | None:
    point = record.get("coordinates") or record
    if point.get("latitude") is None:
        return None
    return {"type": "Point", "coordinates": [point["longitude"], point["latitude"]]}


def to_geojson(records: list[dict]) -> dict:
    """An RFC 7946 FeatureCollection; records without coordinates get a null geometry."""
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": record["id"],
                "geometry": geometry(record),
                "properties": record,
            }
            for record in records
        ],
    }
