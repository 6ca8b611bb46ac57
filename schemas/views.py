"""Query-argument and response schemas of the analyst views: timeline, network, search,
facets and vocabularies. Like every query schema here, these refuse unknown parameters."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from schemas import vocabularies as vocab
from schemas.queries import (
    DATE_FROM,
    DATE_TO,
    NO_NUL,
    EventListArgs,
    ListArgs,
    QueryArgs,
    StatementListArgs,
    date_field,
    ids,
    meta,
)
from schemas.resources import (
    ActorRefSchema,
    CitationSchema,
    LocationRefSchema,
    enum_field,
    string_field,
)
from schemas.resources import (
    date_field as response_date,
)

RECORD_TYPES: dict[str, str] = {
    "actor": "An actor (`/v1/actors`).",
    "event": "An event (`/v1/events`).",
    "statement": "A statement (`/v1/statements`).",
    "location": "A location (`/v1/locations`).",
    "source": "A source document (`/v1/sources`).",
}
TIMELINE_TYPES = {"event": RECORD_TYPES["event"], "statement": RECORD_TYPES["statement"]}
EDGE_KINDS: dict[str, str] = {
    "relation": "A stated relation between the two actors (`predicate` says which).",
    "co_participation": "Both actors took part in the same event(s) (`events`).",
    "co_signatory": "Both actors spoke in the same statement(s) (`statements`).",
}
SEARCH_DEFAULT_LIMIT = 20
SEARCH_MAX_LIMIT = 100
NETWORK_DEFAULT_LIMIT = 100
NETWORK_MAX_LIMIT = 500
EVENT_FACETS: dict[str, str] = {
    "type": "ACLED event type.",
    "sub_type": "ACLED sub-event type.",
    "month": "Month of the event's `date`, as `YYYY-MM` (buckets in calendar order).",
    "actor": "Participating actor (in any role, or in `role` when given); an event counts "
    "once per actor.",
    "location": "Location, rolled up: a place counts every event at it or inside it, as the "
    "`location` filter does; `null` counts events with no location.",
}
STATEMENT_FACETS: dict[str, str] = {
    "speaker": "Speaker; a joint statement counts once for each of its named speakers.",
    "channel": "How the statement was made.",
    "month": "Month of the statement's `date`, as `YYYY-MM` (buckets in calendar order).",
}


def full_text(effect: str) -> fields.String:
    return fields.String(
        validate=[validate.Length(min=1, max=500), NO_NUL],
        metadata=meta(f"Full-text search: {effect} every word (as a prefix)."),
    )


def field_param(choices: dict[str, str]) -> fields.String:
    return fields.String(
        required=True,
        validate=validate.OneOf(list(choices)),
        metadata=meta(
            "What to count by. " + " ".join(f"`{name}`: {text}" for name, text in choices.items())
        ),
    )


# ---------------------------------------------------------------- timeline


class TimelineArgs(ListArgs):
    """Filters of `GET /v1/timeline`."""

    SORTS = ("date", "-date")

    q = full_text("only the events and statements that match")
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
    date_from = date_field(DATE_FROM)
    date_to = date_field(DATE_TO)


class TimelineItemSchema(ma.Schema):
    """One event or statement on the timeline."""

    record_type = enum_field(TIMELINE_TYPES, "What the item is.")
    id = string_field(
        "Public id of the event or statement.", "rocket-strike-near-halliburton-2020-04-06"
    )
    date = response_date("Best date (ISO 8601).", "2020-04-06")
    end_date = response_date("Last day, for records that span days.", allow_none=True)
    date_precision = enum_field(vocab.DATE_PRECISIONS, "How precise `date` is.")
    title = string_field(
        "The event's title, or the statement's text.",
        "Katyusha rockets strike near Halliburton facility in southern Iraq",
    )
    actors = fields.List(
        fields.Nested(ActorRefSchema),
        metadata={"description": "The event's participants, or the statement's speakers."},
    )
    location = fields.Nested(
        LocationRefSchema,
        allow_none=True,
        metadata={"description": "Where the event happened (always null for statements)."},
    )
    url = string_field(
        "Path of the full record.", "/v1/events/rocket-strike-near-halliburton-2020-04-06"
    )


# ---------------------------------------------------------------- network


class NetworkArgs(QueryArgs):
    """Parameters of `GET /v1/actors/{actor_id}/network`."""

    depth = fields.Integer(
        load_default=1,
        validate=validate.Range(1, 2),
        metadata=meta(
            "1: the actor's own connections; 2: also the connections of its neighbours.", 1
        ),
    )
    limit = fields.Integer(
        load_default=NETWORK_DEFAULT_LIMIT,
        validate=validate.Range(1, NETWORK_MAX_LIMIT),
        metadata=meta(
            f"Most nodes to return, the actor included (1 to {NETWORK_MAX_LIMIT}); nearest and "
            "best-connected first. `truncated` says when some were left out.",
            NETWORK_DEFAULT_LIMIT,
        ),
    )


class NetworkNodeSchema(ActorRefSchema):
    depth = fields.Integer(
        metadata={
            "description": "Hops from the requested actor (0 for the actor itself).",
            "example": 1,
        }
    )


class NetworkEdgeSchema(ma.Schema):
    kind = enum_field(EDGE_KINDS, "Why the edge exists.")
    source = string_field(
        "Actor id: the subject of a relation; for the other kinds, the endpoint nearer to the "
        "requested actor.",
        "mohammad-mohyee",
    )
    target = string_field(
        "Actor id: the object of a relation, or the other endpoint.", "kataib-hezbollah"
    )
    predicate = enum_field(
        vocab.RELATION_PREDICATES,
        "What the source is to the target (relations only).",
        allow_none=True,
    )
    citations = fields.List(
        fields.Nested(CitationSchema),
        metadata={"description": "The sentences that state the relation (relations only)."},
    )
    events = fields.List(
        fields.String(),
        metadata={
            "description": "Ids of the events both actors took part in (co_participation).",
            "example": ["soleimani-muhandis-killing-2020-01-03"],
        },
    )
    statements = fields.List(
        fields.String(),
        metadata={
            "description": "Ids of the statements both actors spoke in (co_signatory).",
            "example": ["joint-statement-eight-militias-2020-04-04"],
        },
    )


class NetworkSchema(ma.Schema):
    """The graph around one actor."""

    actor = fields.Nested(ActorRefSchema, metadata={"description": "The requested actor."})
    depth = fields.Integer(metadata={"description": "The depth explored.", "example": 1})
    nodes = fields.List(
        fields.Nested(NetworkNodeSchema),
        metadata={"description": "Actors in the graph: the requested one first, then by depth."},
    )
    edges = fields.List(
        fields.Nested(NetworkEdgeSchema),
        metadata={"description": "Connections between the returned nodes, each with its evidence."},
    )
    truncated = fields.Boolean(
        metadata={"description": "True when `limit` left some reachable actors out."}
    )


# ---------------------------------------------------------------- search


class SearchArgs(QueryArgs):
    """Parameters of `GET /v1/search`."""

    q = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=500), NO_NUL],
        metadata=meta(
            "Words to find; every word must match (as a prefix), in any order. Punctuation "
            "and operators are ignored: any text is a valid query.",
            "Ghaani",
        ),
    )
    type = fields.List(
        fields.String(validate=validate.OneOf(list(RECORD_TYPES))),
        metadata=meta("Only hits of this record type (repeatable; default: all)."),
    )
    limit = fields.Integer(
        load_default=SEARCH_DEFAULT_LIMIT,
        validate=validate.Range(1, SEARCH_MAX_LIMIT),
        metadata=meta(f"Most hits to return (1 to {SEARCH_MAX_LIMIT}).", SEARCH_DEFAULT_LIMIT),
    )


class SearchHitSchema(ma.Schema):
    """One record that matches the query."""

    record_type = enum_field(RECORD_TYPES, "What the record is.")
    id = string_field("Public id of the record.", "esmail-ghaani")
    title = string_field(
        "The record's name (actors, locations), title (events, sources) or text (statements, "
        "first 200 characters).",
        "Esmail Ghaani",
    )
    snippet = string_field(
        "A short passage of the record's text around the first match (`…` marks cuts).",
        "… who succeeded Qasem Soleimani as head of the Quds Force …",
    )
    score = fields.Float(
        metadata={
            "description": "Relevance, higher is better; hits come in this order. The scale "
            "depends on the database engine: compare scores within one response only.",
            "example": 4.2,
        }
    )
    url = string_field("Path of the full record.", "/v1/actors/esmail-ghaani")


# ---------------------------------------------------------------- facets


NOT_FILTERS = ("limit", "cursor", "sort", "format")
MAX_BUCKETS = 1000


def buckets_param() -> fields.Integer:
    return fields.Integer(
        load_default=100,
        validate=validate.Range(1, MAX_BUCKETS),
        metadata=meta(
            f"At most this many buckets (1 to {MAX_BUCKETS}): the most frequent values; "
            "`X-Total-Count` says how many values there are in all."
        ),
    )


class EventFacetArgs(EventListArgs):
    """Parameters of `GET /v1/events/facets`: the filters of `GET /v1/events` and `field`."""

    class Meta(ListArgs.Meta):
        exclude = NOT_FILTERS

    q = full_text("count only the events that match")
    field = field_param(EVENT_FACETS)
    buckets = buckets_param()


class StatementFacetArgs(StatementListArgs):
    """Parameters of `GET /v1/statements/facets`: the filters of `GET /v1/statements` and
    `field`."""

    class Meta(ListArgs.Meta):
        exclude = NOT_FILTERS

    q = full_text("count only the statements that match")
    field = field_param(STATEMENT_FACETS)
    buckets = buckets_param()


class FacetBucketSchema(ma.Schema):
    """How many of the filtered records have one value of the field."""

    value = string_field(
        "The value: a code, a public id or a `YYYY-MM` month (null: records without one).",
        "shelling_artillery_missile_attack",
        allow_none=True,
    )
    label = string_field(
        "The name of the actor or location the value identifies; null for codes and months.",
        allow_none=True,
    )
    count = fields.Integer(metadata={"description": "How many records.", "example": 3})


# ---------------------------------------------------------------- vocabularies


class NoArgs(QueryArgs):
    """No query parameters: any is refused, like every unknown parameter."""


class VocabularyEntrySchema(ma.Schema):
    code = string_field("The value used in the API.", "armed_group")
    meaning = string_field(
        "What it means.", "A non-state armed group, militia or paramilitary faction."
    )


class EventSubTypeEntrySchema(VocabularyEntrySchema):
    type = enum_field(vocab.EVENT_TYPES, "The event type this sub-type belongs to.")


VocabulariesSchema = ma.Schema.from_dict(
    {
        name: fields.List(
            fields.Nested(
                EventSubTypeEntrySchema if name == "event_sub_types" else VocabularyEntrySchema
            ),
            metadata={"description": f"Every code of `{name}`, with its meaning."},
        )
        for name in vocab.all_vocabularies()
    },
    name="Vocabularies",
)


# ---------------------------------------------------------------- response examples

KH = {"id": "kataib-hezbollah", "name": "Kataib Hezbollah", "kind": "armed_group"}
AL_MONITOR = {
    "id": "al-monitor-2020-04-07-us-iran-showdown-iraq",
    "title": "US, Iran-backed forces in Iraq may be edging toward showdown",
}

TIMELINE_EXAMPLE = [
    {
        "record_type": "statement",
        "id": "kataib-hezbollah-2020-04-02-leave-iraq",
        "date": "2020-04-02",
        "end_date": None,
        "date_precision": "day",
        "title": "We will not kill you, if you leave Iraq.",
        "actors": [KH],
        "location": None,
        "url": "/v1/statements/kataib-hezbollah-2020-04-02-leave-iraq",
    },
    {
        "record_type": "event",
        "id": "rocket-strike-near-halliburton-2020-04-06",
        "date": "2020-04-06",
        "end_date": None,
        "date_precision": "day",
        "title": "Katyusha rockets strike near Halliburton facility in southern Iraq",
        "actors": [{"id": "halliburton", "name": "Halliburton", "kind": "company"}],
        "location": {
            "id": "halliburton-facility-southern-iraq",
            "name": "Halliburton facility in southern Iraq",
            "kind": "facility",
        },
        "url": "/v1/events/rocket-strike-near-halliburton-2020-04-06",
    },
]

NETWORK_EXAMPLE = {
    "actor": KH,
    "depth": 1,
    "nodes": [
        {**KH, "depth": 0},
        {
            "id": "abu-fadak-al-mohammadawi",
            "name": "Abu Fadak al-Mohammadawi",
            "kind": "person",
            "depth": 1,
        },
        {"id": "mohammad-mohyee", "name": "Mohammad Mohyee", "kind": "person", "depth": 1},
    ],
    "edges": [
        {
            "kind": "relation",
            "source": "mohammad-mohyee",
            "target": "kataib-hezbollah",
            "predicate": "spokesperson_for",
            "citations": [
                {
                    "source": AL_MONITOR,
                    "excerpt": "Kataib Hezbollah spokesman Mohammad Mohyee warned against four "
                    "possible moves by the United States.",
                }
            ],
            "events": [],
            "statements": [],
        },
        {
            "kind": "co_participation",
            "source": "kataib-hezbollah",
            "target": "abu-fadak-al-mohammadawi",
            "predicate": None,
            "citations": [],
            "events": ["kataib-hezbollah-push-for-abu-fadak-2020-03"],
            "statements": [],
        },
    ],
    "truncated": False,
}

SEARCH_EXAMPLE = [
    {
        "record_type": "actor",
        "id": "esmail-ghaani",
        "title": "Esmail Ghaani",
        "snippet": "…Iranian brigadier general who succeeded Qasem Soleimani as head of the "
        "Quds Force…",
        "score": 5.2,
        "url": "/v1/actors/esmail-ghaani",
    },
    {
        "record_type": "event",
        "id": "ghaani-first-visit-to-iraq-2020-03",
        "title": "Esmail Ghaani's first visit to Iraq as Quds Force head; talks with Iraqi "
        "factions",
        "snippet": "Ghaani's first visit to Iraq since he succeeded Soleimani. In Baghdad he "
        "held talks with various Iraqi factions…",
        "score": 4.9,
        "url": "/v1/events/ghaani-first-visit-to-iraq-2020-03",
    },
]

EVENT_FACETS_EXAMPLE = [
    {"value": "iraq", "label": "Iraq", "count": 12},
    {"value": "anbar-province", "label": "Anbar province", "count": 4},
    {"value": "ain-al-asad-air-base", "label": "Ain al-Asad air base", "count": 3},
]

STATEMENT_FACETS_EXAMPLE = [
    {"value": "adel-abdul-mahdi", "label": "Adel Abdul Mahdi", "count": 3},
    {"value": "kataib-hezbollah", "label": "Kataib Hezbollah", "count": 2},
]

VOCABULARIES_EXAMPLE = {
    name: [
        {"code": code, "meaning": meaning}
        | ({"type": vocab.EVENT_SUB_TYPES[code][0]} if name == "event_sub_types" else {})
        for code, meaning in list(codes.items())[:2]
    ]
    for name, codes in vocab.all_vocabularies().items()
}
