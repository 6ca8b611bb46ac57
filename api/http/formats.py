"""List responses: paging headers (RFC 8288 `Link`, `X-Total-Count`) and the formats every
list speaks: JSON (default), CSV and, for places and events, GeoJSON."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import marshmallow as ma
from flask import Response, current_app, json, request
from werkzeug.urls import iri_to_uri

from api.http import exports, stix_export, tables
from api.http.errors import abort
from api.http.list_query import list_query
from api.queries.collection import Collection
from api.queries.listing import list_page
from api.queries.paging import Page
from api.records import named
from schemas import fastdump

MEDIA_TYPES = {
    "json": "application/json",
    "csv": "text/csv",
    "geojson": "application/geo+json",
    "ndjson": "application/x-ndjson",
    "graphml": "application/graphml+xml",
    "stix": stix_export.STIX_MEDIA_TYPE,
}

PAGE_HEADERS = {
    "X-Total-Count": {
        "description": "How many records match the filters, across all pages: present when "
        "they are at most 10,000 (`EXACT_COUNT_LIMIT`), or when the request says "
        "`Prefer: count=exact`.",
        "schema": {"type": "integer"},
    },
    "X-Total-Count-Estimate": {
        "description": "Instead of `X-Total-Count` when more than 10,000 records match: an "
        "estimate, never below 10,001 (PostgreSQL: the query planner's; SQLite: the "
        "collection's size, an upper bound; exact where the service holds the matches "
        "ranked already). Send `Prefer: count=exact` for the exact count.",
        "schema": {"type": "integer"},
    },
    "Preference-Applied": {
        "description": "`count=exact` when the request asked for it (RFC 7240).",
        "schema": {"type": "string"},
    },
    "Link": {
        "description": 'RFC 8288 links to the other pages: `<url>; rel="next"` and '
        '`<url>; rel="prev"`, when they exist.',
        "schema": {"type": "string"},
    },
}


FEATURE_COLLECTION = {
    "type": "object",
    "description": "RFC 7946 FeatureCollection; each feature's properties are the record's "
    "flat scalar columns (as in CSV: `location_id`, `location_name`, lists as JSON-array text). "
    "Paged as OGC API Features: `numberMatched`, `numberReturned` and `links` (`next`, "
    "`prev`).",
    "required": ["type", "numberMatched", "numberReturned", "links", "features"],
    "properties": {
        "type": {"type": "string", "enum": ["FeatureCollection"]},
        "numberMatched": {"type": "integer", "description": "Features matching the filters."},
        "numberReturned": {"type": "integer", "description": "Features in this page."},
        "links": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["rel", "type", "href"],
                "properties": {
                    "rel": {"type": "string", "enum": ["self", "next", "prev"]},
                    "type": {"type": "string"},
                    "href": {"type": "string", "format": "uri"},
                },
            },
        },
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
            "schema": {
                "type": "string",
                "description": "A header row, then one row per record (see the README's CSV "
                "notes: lists as JSON arrays, formulas defused with a leading `'`).",
            },
            "example": ",".join(tables.columns(schema)) + "\n",
        }
    if "geojson" in formats:
        content["application/geo+json"] = {"schema": FEATURE_COLLECTION}
    if "stix" in formats:
        content[stix_export.STIX_MEDIA_TYPE] = {"schema": stix_export.BUNDLE_SCHEMA}
    if "ndjson" in formats:
        content["application/x-ndjson"] = {
            "schema": {
                "type": "string",
                "description": "One JSON record per line (the `application/json` item schema), "
                "every matching record, streamed without paging.",
            }
        }
    page = {"description": "One page of records.", "headers": PAGE_HEADERS, "content": content}
    return {"responses": {"200": page}}


def negotiate(asked: str | None, formats: tuple[str, ...]) -> str:
    """The format asked for by `format=` (`asked`), else by `Accept`; 406 when none can be
    served."""
    if asked:
        return asked
    offered = [MEDIA_TYPES[name] for name in formats]
    best = request.accept_mimetypes.best_match(offered) if request.accept_mimetypes else offered[0]
    if best is None:
        abort(406, message="Acceptable formats: " + ", ".join(offered) + ".")
    return next(name for name, media in MEDIA_TYPES.items() if media == best)


def json_only() -> None:
    """406 unless the client accepts JSON: for the views that speak nothing else."""
    negotiate(None, ("json",))


PREFER_PARAMETER = {
    "in": "header",
    "name": "Prefer",
    "required": False,
    "description": "`count=exact`: always count the matches exactly for `X-Total-Count` "
    "(RFC 7240). Without it, a list counts exactly up to 10,000 matches and beyond that sends "
    "`X-Total-Count-Estimate`, so that a broad filter never pays for a full count. Other "
    "preferences are ignored.",
    "schema": {"type": "string", "example": "count=exact"},
}


def exact_count_asked() -> bool:
    """True when the request says `Prefer: count=exact` (RFC 7240; other preferences ignored)."""
    for value in request.headers.getlist("Prefer"):
        for preference in value.split(","):
            if preference.split(";")[0].strip().replace(" ", "").lower() == "count=exact":
                return True
    return False


def count_limit(chosen: str) -> int | None:
    """How far a list counts exactly: all the way for GeoJSON (`numberMatched`) and when the
    client prefers it, else `EXACT_COUNT_LIMIT`."""
    if chosen == "geojson" or exact_count_asked():
        return None
    return current_app.config["EXACT_COUNT_LIMIT"]


def page_headers(page: Page) -> dict[str, str]:
    links = []
    for rel, cursor in (("next", page.next_cursor), ("prev", page.prev_cursor)):
        if cursor:
            query = [(k, v) for k, v in request.args.items(multi=True) if k != "cursor"]
            query.append(("cursor", cursor))
            links.append(f'<{request.base_url}?{urlencode(query)}>; rel="{rel}"')
    if page.total is not None:
        headers = {"X-Total-Count": str(page.total)}
    else:
        headers = {"X-Total-Count-Estimate": str(page.total_estimate)}
    if exact_count_asked():
        headers["Preference-Applied"] = "count=exact"
    headers["Vary"] = "Prefer"  # the total's header depends on it (http_cache adds Accept)
    if links:
        headers["Link"] = ", ".join(links)
    return headers


def list_response(
    collection: Collection, args: dict, schema: ma.Schema, formats: tuple[str, ...]
) -> Any:
    """What a list view returns for its parsed `args`: records for flask-smorest to dump, or
    a CSV, GeoJSON or NDJSON body. `fields=` narrows every format, `ids=` filters like any
    filter."""
    asked = list_query(args)
    chosen = negotiate(asked.format, formats)
    chosen_fields = asked.fields
    if chosen_fields:
        located = ("coordinates", "latitude", "longitude") if chosen == "geojson" else ()
        kept = [name for name in located if name in schema.fields]  # the geometry's
        schema = type(schema)(only=tuple(dict.fromkeys(["id", *chosen_fields, *kept])))
    if chosen == "stix":
        return stix_export.list_bundle_response(collection, asked)
    if chosen == "ndjson":
        return exports.ndjson_response(
            collection, asked, schema, attachment(collection.name, chosen), not chosen_fields
        )
    as_json = chosen == "json" and not chosen_fields
    records, page = list_page(collection, asked, count_limit(chosen), as_json)
    headers = page_headers(page)
    if chosen == "json":
        if type(records) is fastdump.Written:  # kept rendered (api/queries/rendered.py)
            return records, 200, headers
        if chosen_fields:  # flask-smorest dumps the whole schema: what is not there, it skips
            records = [{k: r[k] for k in schema.fields if k in r} for r in records]
        elif collection.records_as_dumped and not asked.near:
            records = fastdump.Dumped(records)  # written as they are (no second dump)
        return records, 200, headers
    dumped = schema.dump(records, many=True)
    if chosen == "csv":
        body = tables.to_csv(dumped, schema, bom=asked.bom)
    else:
        body = json.dumps(to_geojson(dumped, schema, page), ensure_ascii=False)
    headers["Content-Disposition"] = attachment(collection.name, chosen)
    return Response(body, 200, headers, mimetype=MEDIA_TYPES[chosen])


def attachment(record_type: str, chosen: str) -> str:
    """`attachment; filename="events.csv"`: the name a browser saves the download as."""
    extension = {"csv": "csv", "geojson": "geojson", "ndjson": "ndjson"}[chosen]
    return f'attachment; filename="{named(record_type).collection}.{extension}"'


# ---------------------------------------------------------------- GeoJSON


def geometry(record: dict) -> dict | None:
    point = record.get("coordinates") or record
    if point.get("latitude") is None:
        return None
    return {"type": "Point", "coordinates": [point["longitude"], point["latitude"]]}


def ogc_links(page: Page) -> list[dict]:
    """OGC API Features paging links (`self`, `next`, `prev`) of a GeoJSON page."""
    # request.url is an IRI (decoded): a link's href must be a URI (`q=ø` -> `q=%C3%B8`)
    found = [{"rel": "self", "type": MEDIA_TYPES["geojson"], "href": iri_to_uri(request.url)}]
    for rel, cursor in (("next", page.next_cursor), ("prev", page.prev_cursor)):
        if cursor:
            query = [(k, v) for k, v in request.args.items(multi=True) if k != "cursor"]
            query.append(("cursor", cursor))
            href = f"{request.base_url}?{urlencode(query)}"
            found.append({"rel": rel, "type": MEDIA_TYPES["geojson"], "href": href})
    return found


def to_geojson(records: list[dict], schema: ma.Schema, page: Page) -> dict:
    """An RFC 7946 FeatureCollection with flat scalar properties (tables.py), records without
    coordinates as null geometries, and OGC API Features paging: `numberMatched`,
    `numberReturned` and `links`."""
    table = tables.columns(schema)
    return {
        "type": "FeatureCollection",
        "numberMatched": page.total,
        "numberReturned": len(records),
        "links": ogc_links(page),
        "features": [
            {
                "type": "Feature",
                "id": record["id"],
                "geometry": geometry(record),
                "properties": tables.flat_record(record, table),
            }
            for record in records
        ],
    }
