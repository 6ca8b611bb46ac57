"""Query-argument schemas of every endpoint: one small grammar shared by the collections' lists
and the analyst views.

Unknown parameters are refused (a typo must never return unfiltered data), and so are repeated
single-value ones (schemas/grammar.py: QueryArgs, the bounded full-text `q`). Repeatable
parameters (`actor=a&actor=b`) match any of their values.

It is one module (about 680 lines) on purpose: the views' arguments extend the lists'
(a facet and an aggregate take their list's filters, the timeline the events' and
statements'), so the whole grammar reads in one place.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from schemas import registry
from schemas import vocabularies as vocab
from schemas.bundle import SLUG, identifier_problem
from schemas.exports import CommaList, CommaNumbers, export_args
from schemas.grammar import (  # noqa: F401 (MAX_QUERY_TERMS: documented here too)
    MAX_QUERY_TERMS,
    NO_NUL,
    QueryArgs,
    full_text_field,
    meta,
)
from schemas.records import (
    ActorSchema,
    EventSchema,
    LocationSchema,
    RelationSchema,
    SourceSchema,
    StatementSchema,
)
from schemas.writes import UpdatedSinceArgs

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
_MAX_INT = 2**31 - 1
DEFAULT_RADIUS_KM = 50.0
FORMATS = {
    "json": "A JSON array of records (the default).",
    "csv": "CSV with a header row, one row per record, references flattened.",
    "geojson": "An RFC 7946 FeatureCollection (events and locations).",
    "ndjson": "Newline-delimited JSON: every matching record, one per line, streamed "
    "without paging (`limit` and `cursor` do not apply): for full exports.",
    "stix": "A STIX 2.1 bundle of every matching record, streamed without paging (README: "
    "the mapping).",
}


def ids(description: str, example: str | None = None) -> fields.List:
    """A repeatable public-id parameter."""
    return fields.List(
        fields.String(validate=SLUG),
        metadata=meta(description, [example] if example else None),
    )


def codes(vocabulary: dict, description: str) -> fields.List:
    """A repeatable controlled-vocabulary parameter."""
    return fields.List(
        fields.String(validate=validate.OneOf(list(vocabulary))),
        metadata=meta(description),
    )


def identifier_param(record_type: str, example: str) -> fields.List:
    """`identifier=scheme:value`, repeatable: records holding any of these identifiers."""

    def check(text: str) -> None:
        scheme, _, value = text.partition(":")
        problem = identifier_problem(scheme, value, record_type) if value else None
        if not value:
            problem = "Write it as scheme:value, e.g. wikidata:Q796."
        if problem:
            raise ma.ValidationError(problem)

    return fields.List(
        fields.String(validate=[validate.Length(max=220), check]),
        metadata=meta(
            f"{record_type.capitalize()}s holding this external identifier, `scheme:value` "
            "(schemes: `GET /v1/vocabularies`, identifier_schemes).",
            [example],
        ),
    )


def resolve_param(effect: str) -> fields.String:
    """`resolve=same_as`: treat each group of records joined by same-as links as one."""
    return fields.String(
        validate=validate.OneOf(["same_as"]),
        metadata=meta(
            "`same_as`: treat each group of records joined by curated same-as links "
            f"(`/v1/same-as`) as one: {effect}. A group's id is the smallest id among its "
            "members (code-point order)."
        ),
    )


class ListArgs(QueryArgs):
    """Paging, format and full text: the parameters every list takes."""

    limit = fields.Integer(
        load_default=DEFAULT_LIMIT,
        validate=validate.Range(1, MAX_LIMIT),
        metadata=meta(f"Records per page (1 to {MAX_LIMIT}).", DEFAULT_LIMIT),
    )
    cursor = fields.String(
        validate=[validate.Length(max=2000), NO_NUL],
        metadata=meta("Opaque cursor from the `Link` header of a previous page."),
    )
    q = full_text_field(
        "Full-text search; every word must match (as a prefix). Ranked: "
        "without `sort`, results come most relevant first."
    )

    @ma.validates_schema
    def check_dates(self, data: dict, **kwargs: Any) -> None:
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            raise ma.ValidationError("Must not be after date_to.", "date_from")

    @ma.validates_schema(pass_original=True)
    def check_near(self, data: dict, original: dict, **kwargs: Any) -> None:
        if "radius_km" in original and "near" not in data:
            raise ma.ValidationError("Only meaningful together with near.", "radius_km")


def _format_field(*names: str) -> fields.String:
    return fields.String(
        validate=validate.OneOf(names),
        metadata=meta(
            "Response format (also negotiable with `Accept`): "
            + "; ".join(f"`{name}`: {FORMATS[name]}" for name in names)
        ),
    )


def _sort_field(names: tuple[str, ...], default: str) -> fields.String:
    return fields.String(
        validate=validate.OneOf(names),
        metadata=meta(
            f"Sort order, `-` for descending, ties broken by id. Default `{default}` "
            "(`relevance` when `q` is given)."
            + (" `distance`: nearest to `near` first." if "distance" in names else ""),
        ),
    )


def _date_param(description: str) -> fields.Date:
    return fields.Date(metadata=meta(description, "2020-04-01"))


_DATE_FROM = (
    "Records that may fall on or after this day: whose days end on or after it (a record "
    "dated to a month overlaps every day of it; a `span` or `window` overlaps when any of its "
    "days does; see `date_kind`)."
)
_DATE_TO = (
    "Records that may fall on or before this day: whose days start on or before it (an "
    "`on_or_before` record has an open start, so it matches every `date_to`)."
)


class GeoArgs(ma.Schema):
    bbox = CommaNumbers(
        4,
        metadata=meta(
            "Bounding box `minLon,minLat,maxLon,maxLat` (GeoJSON order, WGS84).",
            "38.7,29.0,48.6,37.4",
        ),
    )
    near = CommaNumbers(
        2,
        metadata=meta(
            "A point `lat,lon`: records within `radius_km` of it (default "
            f"{DEFAULT_RADIUS_KM:g} km).",
            "33.3,44.4",
        ),
    )
    # A callable default stays out of the spec: generated clients send every documented
    # default, and radius_km without near is refused.
    radius_km = fields.Float(
        load_default=lambda: DEFAULT_RADIUS_KM,
        validate=validate.Range(min=0, max=20_038, min_inclusive=False),
        metadata=meta(
            f"Great-circle radius around `near`, in kilometres (default {DEFAULT_RADIUS_KM:g}).", 50
        ),
    )

    @ma.validates("bbox")
    def check_bbox(self, value: list[float], **kwargs: Any) -> None:
        if len(value) != 4:
            return  # the Length validator reports it
        min_lon, min_lat, max_lon, max_lat = value
        if not (-180 <= min_lon <= 180 and -180 <= max_lon <= 180):
            raise ma.ValidationError("Longitudes must lie in [-180, 180].")
        if not (-90 <= min_lat <= max_lat <= 90):
            raise ma.ValidationError("Latitudes must lie in [-90, 90], min before max.")

    @ma.validates("near")
    def check_near_point(self, value: list[float], **kwargs: Any) -> None:
        if len(value) != 2:
            return  # the Length validator reports it
        lat, lon = value
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise ma.ValidationError("Must be lat,lon with lat in [-90, 90], lon in [-180, 180].")


class EventListArgs(
    UpdatedSinceArgs,
    GeoArgs,
    ListArgs,
    export_args(EventSchema, "rocket-strike-near-halliburton-2020-04-06"),  # type: ignore[misc]
):
    """Filters of `GET /v1/events`."""

    SORTS = ("date", "-date", "title", "-title", "relevance", "distance", "-distance")
    sort = _sort_field(SORTS, "date")
    format = _format_field("json", "csv", "geojson", "ndjson", "stix")
    actor = ids("Events with this actor in any role (or in `role`).", "kataib-hezbollah")
    role = fields.String(
        validate=validate.OneOf(list(vocab.PARTICIPANT_ROLES)),
        metadata=meta("Restrict `actor` (or, alone, any participant) to this role."),
    )
    location = ids(
        "Events at this place or anywhere inside it (a province includes its bases; a region "
        "includes the places that list it among their `regions`).",
        "anbar-province",
    )
    type = codes(vocab.EVENT_TYPES, "ACLED event type.")
    sub_type = codes({k: v for k, (_, v) in vocab.EVENT_SUB_TYPES.items()}, "ACLED sub-event type.")
    date_from = _date_param(_DATE_FROM)
    date_to = _date_param(_DATE_TO)
    fatalities_min = fields.Integer(
        validate=validate.Range(0, _MAX_INT),
        metadata=meta(
            "At least this many reported deaths, by the headline `fatalities` (unknown counts "
            "never match): an 'at least N' figure counts as N, a lower bound, so a match is "
            "certain; an 'about N' figure counts as N."
        ),
    )
    source = ids("Events cited by this source.")
    resolve = resolve_param(
        "`actor` and `location` match every member of the named records' groups (facets and "
        "aggregates count a group once)"
    )


class StatementListArgs(
    UpdatedSinceArgs,
    ListArgs,
    export_args(StatementSchema, "kataib-hezbollah-2020-04-02-leave-iraq"),  # type: ignore[misc]
):
    """Filters of `GET /v1/statements`."""

    SORTS = ("date", "-date", "relevance")

    sort = _sort_field(SORTS, "date")
    format = _format_field("json", "csv", "ndjson", "stix")
    speaker = ids(
        "Statements this actor made (alone or jointly), or that were made on its behalf "
        "(`on_behalf_of`: a spokesman's words are found under his group).",
        "kataib-hezbollah",
    )
    addressed_to = ids("Statements addressed to this actor.")
    mentions = ids("Statements about this actor (other than addressed to it).")
    anonymous = fields.Boolean(
        metadata=meta("`true`: only words from unnamed sources; `false`: only attributed ones.")
    )
    actor = ids("Statements this actor made or that were addressed to it.")
    event = ids("Statements about this event.")
    channel = codes(vocab.STATEMENT_CHANNELS, "How the statement was made.")
    verbatim = fields.Boolean(
        metadata=meta("`true`: direct quotes only; `false`: reported speech only.")
    )
    date_from = _date_param(_DATE_FROM)
    date_to = _date_param(_DATE_TO)
    source = ids("Statements cited by this source.")
    resolve = resolve_param(
        "`speaker`, `actor`, `addressed_to` and `mentions` match every member of the named "
        "actors' groups (facets and aggregates count a group once)"
    )


class ActorListArgs(
    UpdatedSinceArgs,
    ListArgs,
    export_args(ActorSchema, "kataib-hezbollah"),  # type: ignore[misc]
):
    """Filters of `GET /v1/actors`."""

    SORTS = ("name", "-name", "relevance")

    sort = _sort_field(SORTS, "name")
    format = _format_field("json", "csv", "ndjson", "stix")
    kind = codes(vocab.ACTOR_KINDS, "Kind of actor.")
    country = fields.List(
        fields.String(validate=validate.Regexp(r"^[A-Z]{2}$", error="An ISO alpha-2 code.")),
        metadata=meta("ISO 3166-1 alpha-2 country.", ["IQ"]),
    )
    related_to = ids("Actors with a stated relation to this actor (either direction).")
    source = ids("Actors cited by this source.")
    identifier = identifier_param("actor", "wikidata:Q796")
    resolve = resolve_param("one record per group, the group's, counted once")


class RelationListArgs(
    UpdatedSinceArgs,
    ListArgs,
    export_args(RelationSchema, "esmail-ghaani--commands--quds-force"),  # type: ignore[misc]
):
    """Filters of `GET /v1/relations`."""

    class Meta(ListArgs.Meta):
        exclude = ("q",)  # relations have no text of their own to search

    SORTS = ("id", "-id")

    sort = _sort_field(SORTS, "id")
    format = _format_field("json", "csv", "ndjson", "stix")
    subject = ids("Relations whose subject is this actor.", "esmail-ghaani")
    object = ids("Relations whose object is this actor.", "kataib-hezbollah")
    actor = ids("Relations with this actor on either side.")
    predicate = codes(vocab.RELATION_PREDICATES, "What the subject is to the object.")
    source = ids("Relations cited by this source.")


class LocationListArgs(
    UpdatedSinceArgs,
    GeoArgs,
    ListArgs,
    export_args(LocationSchema, "ain-al-asad-air-base"),  # type: ignore[misc]
):
    """Filters of `GET /v1/locations`."""

    SORTS = ("name", "-name", "relevance", "distance", "-distance")
    sort = _sort_field(SORTS, "name")
    format = _format_field("json", "csv", "geojson", "ndjson", "stix")
    kind = codes(vocab.LOCATION_KINDS, "Kind of place.")
    country = fields.List(
        fields.String(validate=validate.Regexp(r"^[A-Z]{2}$", error="An ISO alpha-2 code.")),
        metadata=meta("ISO 3166-1 alpha-2 country.", ["IQ"]),
    )
    within = ids(
        "Places inside this place, at any depth (not the place itself): below it in the "
        "parent tree, or listing it among their `regions`, with everything below them.",
        "iraq",
    )
    source = ids("Places cited by this source.")
    identifier = identifier_param("location", "iso3166-2:IQ-AN")
    resolve = resolve_param("one record per group, the group's, counted once")


class SourceListArgs(
    ListArgs,
    export_args(SourceSchema, "al-monitor-2020-04-07-us-iran-showdown-iraq"),  # type: ignore[misc]
):
    """Filters of `GET /v1/sources`."""

    SORTS = ("published", "-published", "title", "-title", "relevance")

    sort = _sort_field(SORTS, "-published")
    format = _format_field("json", "csv", "ndjson", "stix")
    publisher = fields.List(
        fields.String(validate=[validate.Length(max=200), NO_NUL]),
        metadata=meta("Publisher name, exactly.", ["Al-Monitor"]),
    )


# ---------------------------------------------------------------- analyst views

_SEARCH_DEFAULT_LIMIT = 20
SEARCH_MAX_LIMIT = 100
_NETWORK_DEFAULT_LIMIT = 100
NETWORK_MAX_LIMIT = 500
_EVENT_FACETS: dict[str, str] = {
    "type": "ACLED event type.",
    "sub_type": "ACLED sub-event type.",
    "month": "Month of the event's `date`, as `YYYY-MM` (buckets in calendar order).",
    "actor": "Participating actor (in any role, or in `role` when given); an event counts "
    "once per actor.",
    "location": "Location, rolled up: a place counts every event at it or inside it, as the "
    "`location` filter does; `null` counts events with no location.",
}
_STATEMENT_FACETS: dict[str, str] = {
    "speaker": "Speaker, or actor spoken for (`on_behalf_of`), as `speaker=` matches: a "
    "statement counts once for each of them.",
    "channel": "How the statement was made.",
    "month": "Month of the statement's `date`, as `YYYY-MM` (buckets in calendar order).",
}


def _full_text(effect: str) -> fields.String:
    return full_text_field(f"Full-text search: {effect} every word (as a prefix).")


def _field_param(choices: dict[str, str]) -> fields.String:
    return fields.String(
        required=True,
        validate=validate.OneOf(list(choices)),
        metadata=meta(
            "What to count by. " + " ".join(f"`{name}`: {text}" for name, text in choices.items()),
            next(iter(choices)),
        ),
    )


class TimelineArgs(ListArgs):
    """Filters of `GET /v1/timeline`."""

    SORTS = ("date", "-date")

    q = _full_text("only the events and statements that match")
    sort = fields.String(
        validate=validate.OneOf(SORTS),
        metadata=meta("`date`: oldest first (the default); `-date`: newest first."),
    )
    actor = ids(
        "Events with this actor in any role, and statements it made or that were addressed to it.",
        "kataib-hezbollah",
    )
    location = ids(
        "Events at this place or anywhere inside it, and statements about such events.",
        "iraq",
    )
    date_from = _date_param(_DATE_FROM)
    date_to = _date_param(_DATE_TO)


class NetworkArgs(QueryArgs):
    """Parameters of `GET /v1/actors/{actor_id}/network`."""

    format = fields.String(
        validate=validate.OneOf(["json", "graphml"]),
        metadata=meta(
            "Response format (also negotiable with `Accept`): `json`: node-link JSON (the "
            "default); `graphml`: GraphML (`application/graphml+xml`) for Gephi, yEd, "
            "Cytoscape or `networkx.read_graphml`, list attributes as JSON-array text."
        ),
    )

    depth = fields.Integer(
        load_default=1,
        validate=validate.Range(1, 2),
        metadata=meta(
            "1: the actor's own connections; 2: also the connections of its neighbours.", 1
        ),
    )
    limit = fields.Integer(
        load_default=_NETWORK_DEFAULT_LIMIT,
        validate=validate.Range(1, NETWORK_MAX_LIMIT),
        metadata=meta(
            f"Most nodes to return, the actor included (1 to {NETWORK_MAX_LIMIT}); nearest and "
            "best-connected first. `truncated` says when some were left out.",
            _NETWORK_DEFAULT_LIMIT,
        ),
    )
    resolve = resolve_param(
        "each group is one node under the group's id, reached from every member (edges "
        "inside a group are left out, ties between two groups joined)"
    )


class SearchArgs(QueryArgs):
    """Parameters of `GET /v1/search`."""

    q = full_text_field(
        "Words to find; every word must match (as a prefix), in any order. Punctuation "
        "and operators are ignored: any text is a valid query.",
        example="Ghaani",
        required=True,
    )
    type = fields.List(
        fields.String(validate=validate.OneOf(list(registry.SEARCH_TYPES))),
        metadata=meta("Only hits of this record type (repeatable; default: all)."),
    )
    limit = fields.Integer(
        load_default=_SEARCH_DEFAULT_LIMIT,
        validate=validate.Range(1, SEARCH_MAX_LIMIT),
        metadata=meta(f"Most hits to return (1 to {SEARCH_MAX_LIMIT}).", _SEARCH_DEFAULT_LIMIT),
    )
    cursor = fields.String(
        validate=[validate.Length(max=2000), NO_NUL],
        metadata=meta("Opaque cursor from the `Link` header of a previous page."),
    )


_NOT_FILTERS = ("limit", "cursor", "sort", "format", "fields_", "ids_", "bom")


MAX_BUCKETS = 1000
DEFAULT_BUCKETS = 100


def _buckets_param() -> fields.Integer:
    return fields.Integer(
        load_default=DEFAULT_BUCKETS,
        validate=validate.Range(1, MAX_BUCKETS),
        metadata=meta(
            f"At most this many buckets (1 to {MAX_BUCKETS}): the most frequent values; "
            "`X-Total-Count` says how many values there are in all."
        ),
    )


class EventFacetArgs(EventListArgs):
    """Parameters of `GET /v1/events/facets`: the filters of `GET /v1/events` and `field`."""

    class Meta(ListArgs.Meta):
        exclude = _NOT_FILTERS

    q = _full_text("count only the events that match")
    field = _field_param(_EVENT_FACETS)
    buckets = _buckets_param()


class StatementFacetArgs(StatementListArgs):
    """Parameters of `GET /v1/statements/facets`: the filters of `GET /v1/statements` and
    `field`."""

    class Meta(ListArgs.Meta):
        exclude = _NOT_FILTERS

    q = _full_text("count only the statements that match")
    field = _field_param(_STATEMENT_FACETS)
    buckets = _buckets_param()


class NoArgs(QueryArgs):
    """No query parameters: any is refused, like every unknown parameter."""


# ---------------------------------------------------------------- aggregates

DATE_DIMENSIONS: dict[str, str] = {
    "day": "The day, `2020-04-06`.",
    "week": "The ISO 8601 week, `2020-W15` (Monday to Sunday; week 1 holds the year's first "
    "Thursday).",
    "month": "The month, `2020-04`.",
    "quarter": "The quarter, `2020-Q2`.",
    "year": "The year, `2020`.",
}
PLACE_DIMENSIONS: dict[str, str] = {
    "country": "The country the event's place is or lies in (a place of kind `country`).",
    "province": "The first-level division the place is or lies in (kind `province` or "
    "`administrative_region`, the outermost).",
    "district": "The district the place is or lies in (kind `district`).",
    "city": "The city, town or village the place is or lies in (kind `city`).",
}
ROLE_DIMENSIONS: dict[str, str] = {
    role: f"The actors in the role `{role}` ({meaning[0].lower()}{meaning[1:-1]}): an event "
    "counts once for each."
    for role, meaning in vocab.PARTICIPANT_ROLES.items()
}
EVENT_DIMENSIONS: dict[str, str] = {
    **DATE_DIMENSIONS,
    **PLACE_DIMENSIONS,
    "grid": "A cell of `cell` degrees, keyed `lat,lon` by its south-west corner.",
    "type": "The ACLED event type.",
    "sub_type": "The ACLED sub-event type.",
    "actor": "The participating actors, in any role: an event counts once for each.",
    **ROLE_DIMENSIONS,
    "dyad": "Perpetrator x target, keyed `perpetrator--target`: an event counts once for each "
    "pair.",
    "source": "The sources that cite the record: it counts once for each.",
}
STATEMENT_DIMENSIONS: dict[str, str] = {
    **DATE_DIMENSIONS,
    "speaker": "The speakers and the actors spoken for, as `speaker=` matches them: a "
    "statement counts once for each.",
    "channel": "How the statement was made.",
    "addressee": "The actors addressed: a statement counts once for each.",
    "source": "The sources that cite the record: it counts once for each.",
}
EVENT_METRICS: dict[str, str] = {
    "count": "How many records are in the group (always given).",
    "casualties": "Killed and wounded: the figures stated, their low and high bounds, how many "
    "records give a figure and how many do not.",
}
STATEMENT_METRICS: dict[str, str] = {"count": EVENT_METRICS["count"]}
AGGREGATE_SORTS = ("key", "-key", "count", "-count")
DEFAULT_GROUPS = 1000
MAX_GROUPS = 10_000
MAX_DIMENSIONS = 3
DEFAULT_CELL = 1.0
_AGGREGATE_FORMATS = {
    "json": "One object: `total` (each record once), `overlapping`, and `groups`, one object "
    "per group (the default).",
    "csv": "One row per group: a column per dimension (`{dimension}_label`, "
    "`{dimension}_imprecise` where they apply), then the metrics (`killed_stated`, ...).",
    "geojson": "A FeatureCollection, one feature per group, for a `grid` or place grouping: "
    "the cell's polygon or the place's point.",
}
_LOCATED = ("grid", *PLACE_DIMENSIONS)


def _aggregate_args(
    name: str, dimensions: dict[str, str], metrics: dict[str, str], example: list[str]
) -> type[ma.Schema]:
    """The parameters an aggregate adds to its list's filters (a base class listed first,
    so that its `limit`, `sort` and `format` replace the list's)."""
    return type(
        name,
        (ma.Schema,),
        {
            "group_by": CommaList(
                fields.String(validate=validate.OneOf(list(dimensions))),
                required=True,
                validate=validate.Length(1, MAX_DIMENSIONS),
                metadata=meta(
                    f"What to group by: one to {MAX_DIMENSIONS} dimensions, comma-separated (or "
                    "repeated), at most one date and one place or grid. "
                    + " ".join(f"`{name}`: {text}" for name, text in dimensions.items()),
                    example,
                ),
            ),
            "metrics": CommaList(
                fields.String(validate=validate.OneOf(list(metrics))),
                metadata=meta(
                    "What to sum besides the count (comma-separated). "
                    + " ".join(f"`{name}`: {text}" for name, text in metrics.items())
                ),
            ),
            "fill": fields.String(
                validate=validate.OneOf(["none", "zero"]),
                metadata=meta(
                    "`zero`: every bucket of the date dimension between the ends (`date_from` and "
                    "`date_to`, else the first and last found) is given, with a count of 0 when "
                    "no record falls in it: what a chart needs. Default `none`."
                ),
            ),
            "spread": fields.String(
                validate=validate.OneOf(["none", "even"]),
                metadata=meta(
                    "What to do with a record whose date may fall in several buckets. `none` (the "
                    "default): it is counted in its group's imprecise row (`imprecise` says why). "
                    "`even`: it is spread over the buckets its days cover, each getting the share "
                    "of its days (counts become fractional); an `on_or_before` date, whose start "
                    "is open, stays imprecise."
                ),
            ),
            "sort": fields.String(
                validate=validate.OneOf(AGGREGATE_SORTS),
                metadata=meta(
                    "`key` (dates in calendar order, null keys last) or `count` (ties by key); "
                    "`-` for descending. Default: `key` when the first dimension is a date, else "
                    "`-count`."
                ),
            ),
            "limit": fields.Integer(
                load_default=DEFAULT_GROUPS,
                validate=validate.Range(1, MAX_GROUPS),
                metadata=meta(
                    f"At most this many groups (1 to {MAX_GROUPS}): the most frequent; the others "
                    "are summed in one last row whose `rest` says how many groups it holds. "
                    "`X-Total-Count` says how many groups there are in all.",
                    DEFAULT_GROUPS,
                ),
            ),
            "format": fields.String(
                validate=validate.OneOf(list(_AGGREGATE_FORMATS)),
                metadata=meta(
                    "Response format (also negotiable with `Accept`): "
                    + "; ".join(f"`{name}`: {text}" for name, text in _AGGREGATE_FORMATS.items())
                ),
            ),
        },
    )


class _AggregateChecks(ma.Schema):
    @ma.validates_schema
    def check_grouping(self, data: dict, **kwargs: Any) -> None:
        dims = data.get("group_by") or []
        if len(set(dims)) != len(dims):
            raise ma.ValidationError("A dimension is given twice.", "group_by")
        if sum(d in DATE_DIMENSIONS for d in dims) > 1:
            raise ma.ValidationError("At most one date dimension.", "group_by")
        if sum(d in _LOCATED for d in dims) > 1:
            raise ma.ValidationError("At most one place or grid dimension.", "group_by")
        if data.get("fill") == "zero" and not any(d in DATE_DIMENSIONS for d in dims):
            raise ma.ValidationError("fill=zero needs a date dimension in group_by.", "fill")
        if data.get("spread") == "even" and not any(d in DATE_DIMENSIONS for d in dims):
            raise ma.ValidationError("spread=even needs a date dimension in group_by.", "spread")
        if "cell" in data and "grid" not in dims:
            raise ma.ValidationError("Only meaningful with group_by=grid.", "cell")
        if data.get("format") == "geojson" and not any(d in _LOCATED for d in dims):
            raise ma.ValidationError("GeoJSON needs a grid or place dimension.", "format")


class EventAggregateArgs(
    _aggregate_args(  # type: ignore[misc]
        "EventGrouping", EVENT_DIMENSIONS, EVENT_METRICS, ["week", "type"]
    ),
    _AggregateChecks,
    EventListArgs,
):
    """Parameters of `GET /v1/events/aggregate`: the filters of `GET /v1/events` and the
    grouping."""

    class Meta(ListArgs.Meta):
        exclude = ("cursor", "fields_")

    q = _full_text("count only the events that match")
    cell = fields.Float(
        validate=validate.Range(0.01, 90),
        metadata=meta(
            f"Grid cell size in degrees, with `group_by=grid` (default {DEFAULT_CELL:g}).", 0.5
        ),
    )


class StatementAggregateArgs(
    _aggregate_args(  # type: ignore[misc]
        "StatementGrouping", STATEMENT_DIMENSIONS, STATEMENT_METRICS, ["month", "speaker"]
    ),
    _AggregateChecks,
    StatementListArgs,
):
    """Parameters of `GET /v1/statements/aggregate`: the filters of `GET /v1/statements` and
    the grouping."""

    class Meta(ListArgs.Meta):
        exclude = ("cursor", "fields_")

    q = _full_text("count only the statements that match")
