"""`/v1/events/aggregate` and `/v1/statements/aggregate`: counts and casualty sums by date,
place, grid, type, actor, source, speaker or channel, under the lists' filters."""

from __future__ import annotations

import csv
import io
from typing import Any
from urllib.parse import urlencode

import orjson
from flask import Response, request
from flask.views import MethodView

from api.http import tables
from api.http.base import Blueprint
from api.http.formats import MEDIA_TYPES, negotiate
from api.http.list_query import list_query
from api.queries.aggregates import Aggregation, Shape, aggregate
from api.records import named
from schemas.arguments import (
    DATE_DIMENSIONS,
    DEFAULT_CELL,
    PLACE_DIMENSIONS,
    EventAggregateArgs,
    StatementAggregateArgs,
)
from schemas.examples import EVENT_AGGREGATE_EXAMPLE, STATEMENT_AGGREGATE_EXAMPLE
from schemas.views import AggregateSchema

# Static segments (`/aggregate`) win over the collections' `/<record_id>` routes in Flask.
blp = Blueprint(
    "aggregates",
    __name__,
    url_prefix="/v1",
    description="Counts and casualty sums of events and statements by date, place, type, "
    "actor and more, honest about the precision of each record.",
)

# the parameters of the grouping; every other one is a filter of the list
_GROUPING = ("group_by", "metrics", "fill", "spread", "sort", "limit", "cell", "format")
_LOCATED = ("grid", *PLACE_DIMENSIONS)

SEMANTICS = """The filters are the list's, `q` included, and combine the same way: `total` is
the list's `X-Total-Count` for the same filters. Each group is `{key, label, imprecise, count,
killed, wounded}`.

**Precision, by default.** A record is put in a date bucket only when every day it may mean lies
in it. Otherwise it is counted in its group's *imprecise* row, whose `key` is null in that
dimension and whose `imprecise` says why: `date_precision` (a month-precision date counted by
week), `window` (it happened at some point of a window covering several buckets), `span` (it
lasted over several) or `open_start` (`on_or_before`). With `spread=even` such a record is
spread over the buckets its days cover instead (each gets the share of its days; counts become
fractional); an open start is never spread. A place grouping counts a record at the place of
that level it lies in; one known only above that level (an event in Iraq, by province) is
`not_located_at_level`, one without a place `no_location`. A grid cell holds the records whose
place has coordinates of its own that are not an area's centre (`no_coordinates`,
`area_centroid` otherwise).

**Overlaps.** An event with two actors counts once in each actor's group (likewise sources,
speakers, addressees, dyads): `overlapping` is then true and `total` counts each record once.
A record with no actor in the asked role is in the group whose key is null.

**Casualties** (`metrics=casualties`): per group, killed and wounded apart: `stated` sums the
figures given (an 'at least 12' counts as 12), `low`/`high` are certain bounds of that sum
(`exact` and `at_least` figures bound it from below, only `exact` ones from above; a bound a
figure leaves open is null, never a guess), `with_figure` and `no_figure` count the records that
give a figure and those that do not: an unknown toll is never counted as 0.

`limit` keeps the most frequent groups and sums the others in a last row (`rest`: how many);
`X-Total-Count` is the number of groups in all; `Link` (`rel="related"`) is the list of the
records counted. Counted once per data version and request."""

TOTAL = {
    "X-Total-Count": {
        "description": "How many groups there are in all (before `limit`).",
        "schema": {"type": "integer"},
    },
    "Link": {
        "description": 'The list of the records counted: `<url>; rel="related"`.',
        "schema": {"type": "string"},
    },
}


def _docs(example: dict, located: bool) -> dict:
    content: dict[str, Any] = {
        "application/json": {"schema": AggregateSchema, "example": example},
        "text/csv": {
            "schema": {
                "type": "string",
                "description": "A header row, then one row per group: a column per dimension "
                "(with `{dimension}_label` and `{dimension}_imprecise` where they apply), "
                "`count`, the casualty columns (`killed_stated`, `killed_low`, `killed_high`, "
                "`killed_with_figure`, `killed_no_figure`, the same for `wounded`) and `rest`.",
            }
        },
    }
    if located:
        content["application/geo+json"] = {
            "schema": {
                "type": "object",
                "description": "An RFC 7946 FeatureCollection, one feature per group (a grid "
                "cell's polygon, a place's point, null for imprecise rows), its properties "
                "the CSV row's columns; `total` and `overlapping` as in JSON.",
            }
        }
    return {
        "responses": {"200": {"description": "The groups.", "headers": TOTAL, "content": content}}
    }


def shape_of(args: dict) -> Shape:
    """The grouping parameters of `args` (removed from it) as a Shape."""
    grouping = {name: args.pop(name) for name in _GROUPING if name in args}
    return Shape(
        group_by=tuple(grouping["group_by"]),
        casualties="casualties" in (grouping.get("metrics") or ()),
        fill=grouping.get("fill") == "zero",
        spread=grouping.get("spread") == "even",
        sort=grouping.get("sort"),
        limit=grouping["limit"],
        cell=grouping.get("cell", DEFAULT_CELL),
    )


def respond(kind: str, args: dict) -> Response:
    """The aggregate of `kind` for the parsed `args`, in the negotiated format."""
    asked_format = args.get("format")
    shape = shape_of(args)
    located = any(name in _LOCATED for name in shape.group_by)
    chosen = negotiate(asked_format, ("json", "csv", "geojson") if located else ("json", "csv"))
    asked = list_query(args)
    answer = aggregate(kind, shape, asked)
    headers = {"X-Total-Count": str(answer.groups_total), "Link": _related(kind)}
    if chosen == "json":
        return Response(orjson.dumps(answer.body), 200, headers, mimetype=MEDIA_TYPES["json"])
    name = named(kind).collection
    extension = "csv" if chosen == "csv" else "geojson"
    headers["Content-Disposition"] = f'attachment; filename="{name}-aggregate.{extension}"'
    body: str | bytes
    if chosen == "csv":
        body = to_csv(answer, shape, bom=asked.bom)
    else:
        body = orjson.dumps(to_geojson(answer, shape))
    return Response(body, 200, headers, mimetype=MEDIA_TYPES[chosen])


def _related(kind: str) -> str:
    """`Link` to the list of the records counted: this request's filters, on the list."""
    query = [(k, v) for k, v in request.args.items(multi=True) if k not in _GROUPING]
    url = f"{request.url_root.rstrip('/')}{named(kind).path}"
    return f'<{url}{"?" + urlencode(query) if query else ""}>; rel="related"'


# ---------------------------------------------------------------- flat rows


def columns(answer: Aggregation, shape: Shape) -> list[str]:
    """The CSV columns (GeoJSON properties) of an aggregate's rows."""
    groups = answer.body["groups"]
    labelled = {name for row in groups for name in row.get("label", {})}
    names = []
    for name in shape.group_by:
        names.append(name)
        if name in labelled:
            names.append(f"{name}_label")
        if name in DATE_DIMENSIONS or name in _LOCATED:
            names.append(f"{name}_imprecise")
    names.append("count")
    if "killed" in answer.body["total"]:
        for what in ("killed", "wounded"):
            names += [
                f"{what}_{part}" for part in ("stated", "low", "high", "with_figure", "no_figure")
            ]
    names.append("rest")
    return names


def flat(row: dict, names: list[str]) -> dict[str, Any]:
    """One group as {column: scalar}."""
    result: dict[str, Any] = {}
    for name in names:
        if name in row["key"]:
            result[name] = row["key"][name]
        elif name.endswith("_label"):
            result[name] = row.get("label", {}).get(name[: -len("_label")])
        elif name.endswith("_imprecise"):
            result[name] = (row.get("imprecise") or {}).get(name[: -len("_imprecise")])
        elif name.startswith(("killed_", "wounded_")):
            what, part = name.split("_", 1)
            result[name] = row[what][part]
        else:
            result[name] = row.get(name)
    return result


def to_csv(answer: Aggregation, shape: Shape, bom: bool = False) -> str:
    """One CSV row per group (cells as the lists write them)."""
    names = columns(answer, shape)
    buffer = io.StringIO()
    if bom:
        buffer.write(tables.BOM)
    writer = csv.writer(buffer, lineterminator="\r\n")  # RFC 4180, as the lists write it
    writer.writerow(names)
    for row in answer.body["groups"]:
        writer.writerow(tables.text_cell(v) for v in flat(row, names).values())
    return buffer.getvalue()


def to_geojson(answer: Aggregation, shape: Shape) -> dict:
    """A FeatureCollection of the groups: a grid cell's polygon, a place's point (null for a
    group without one)."""
    names = columns(answer, shape)
    located = next(name for name in shape.group_by if name in _LOCATED)
    features = []
    for row in answer.body["groups"]:
        key = row["key"][located]
        features.append(
            {
                "type": "Feature",
                "geometry": _cell(key, answer.cell) if answer.cell else _point(key, answer),
                "properties": flat(row, names),
            }
        )
    return {
        "type": "FeatureCollection",
        "total": answer.body["total"],
        "overlapping": answer.body["overlapping"],
        "features": features,
    }


def _point(slug: str | None, answer: Aggregation) -> dict | None:
    point = answer.points.get(slug) if slug else None
    return None if point is None else {"type": "Point", "coordinates": list(point)}


def _cell(key: str | None, size: float) -> dict | None:
    if key is None:
        return None
    lat, lon = (float(n) for n in key.split(","))
    ring = [
        [lon, lat],
        [round(lon + size, 6), lat],
        [round(lon + size, 6), round(lat + size, 6)],
        [lon, round(lat + size, 6)],
        [lon, lat],
    ]
    return {"type": "Polygon", "coordinates": [ring]}


@blp.route("/events/aggregate")
class EventAggregate(MethodView):
    @blp.arguments(EventAggregateArgs(), location="query", as_kwargs=False)
    @blp.response(200, AggregateSchema)
    @blp.doc(
        description="Counts and casualty sums of the events matching the filters, by up to "
        f"three dimensions.\n\n{SEMANTICS}",
        **_docs(EVENT_AGGREGATE_EXAMPLE, True),
    )
    def get(self, args: dict):
        """Aggregate events"""
        return respond("event", args)


@blp.route("/statements/aggregate")
class StatementAggregate(MethodView):
    @blp.arguments(StatementAggregateArgs(), location="query", as_kwargs=False)
    @blp.response(200, AggregateSchema)
    @blp.doc(
        description="Counts of the statements matching the filters, by up to three "
        f"dimensions.\n\n{SEMANTICS}",
        **_docs(STATEMENT_AGGREGATE_EXAMPLE, False),
    )
    def get(self, args: dict):
        """Aggregate statements"""
        return respond("statement", args)
