"""List responses: paging headers (RFC 8288 `Link`, `X-Total-Count`) and the formats every
list speaks: JSON (default), CSV and, for places and events, GeoJSON."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
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
#
# The response schema decides how a record flattens, field by field: a reference (a nested
# schema with an `id`) becomes its id; a nested schema may say how it is written with a
# `CSV_CELL` format string (participants as `actor:role`, citations as their excerpt); a plain
# nested object without an id (coordinates, counts) spreads into `field_sub` columns; a list
# joins its items' cells with `; `.

Cell = Callable[[Any], Any]


def cell(field: ma.fields.Field) -> Cell:
    """How one field's dumped value becomes a CSV cell."""
    if isinstance(field, ma.fields.List):
        item = cell(field.inner)
        return lambda values: "; ".join(str(item(v)) for v in values or [])
    if isinstance(field, ma.fields.Nested):
        nested = field.schema
        template = getattr(nested, "CSV_CELL", None)
        if template:
            return lambda value: "" if value is None else template.format_map(value)
        if "id" in nested.fields:
            return lambda value: "" if value is None else value["id"]
        return lambda value: "" if value is None else json.dumps(value)
    if isinstance(field, ma.fields.Boolean):
        return lambda value: "" if value is None else ("true" if value else "false")
    return lambda value: "" if value is None else value


def spread(field: ma.fields.Field) -> bool:
    """True for a nested object without an id or a cell format: it gets a column per field."""
    nested = getattr(field, "schema", None)
    return (
        isinstance(field, ma.fields.Nested)
        and "id" not in nested.fields
        and not getattr(nested, "CSV_CELL", None)
    )


def csv_columns(schema: ma.Schema) -> dict[str, tuple[list[str], Cell]]:
    """{column: (path into the dumped record, cell writer)}, in the schema's field order."""
    result: dict[str, tuple[list[str], Cell]] = {}
    for name, field in schema.fields.items():
        if spread(field):
            for sub, subfield in field.schema.fields.items():
                result[f"{name}_{sub}"] = ([name, sub], cell(subfield))
        else:
            result[name] = ([name], cell(field))
    return result


def to_csv(records: list[dict], schema: ma.Schema) -> str:
    """A CSV document of dumped records: a header row, then one row per record."""
    columns = csv_columns(schema)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for record in records:
        row = []
        for path, write in columns.values():
            value = record.get(path[0])
            if len(path) > 1:
                value = None if value is None else value.get(path[1])
            row.append(write(value))
        writer.writerow(row)
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
