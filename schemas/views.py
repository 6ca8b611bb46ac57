"""Response schemas of the analyst views: timeline, network, search, facets and vocabularies."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields

from schemas import vocabularies as vocab
from schemas.arguments import (
    DATE_DIMENSIONS,
    EVENT_DIMENSIONS,
    PLACE_DIMENSIONS,
    STATEMENT_DIMENSIONS,
)
from schemas.records import (
    ActorRefSchema,
    CitationSchema,
    LocationRefSchema,
    date_field,
    enum_field,
    string_field,
)
from schemas.registry import SEARCH_TYPES
from schemas.urls import Url

_TIMELINE_TYPES = {
    "event": SEARCH_TYPES["event"],
    "statement": SEARCH_TYPES["statement"],
}


class TimelineItemSchema(ma.Schema):
    """One event or statement on the timeline."""

    record_type = enum_field(_TIMELINE_TYPES, "What the item is.")
    id = string_field(
        "Public id of the event or statement.", "rocket-strike-near-halliburton-2020-04-06"
    )
    date = date_field("Best date (ISO 8601).", "2020-04-06")
    end_date = date_field("Last day of a span or of a window (see `date_kind`).", allow_none=True)
    date_precision = enum_field(vocab.DATE_PRECISIONS, "How precise `date` is.")
    date_kind = enum_field(
        vocab.DATE_KINDS,
        "`point`, `span` (lasted from `date` to `end_date`), `window` (at some point between "
        "them) or `on_or_before` (at some time up to `date`).",
    )
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
    url = Url("URL of the full record.", "/v1/events/rocket-strike-near-halliburton-2020-04-06")


class NetworkNodeSchema(ActorRefSchema):
    depth = fields.Integer(
        metadata={
            "description": "Hops from the requested actor (0 for the actor itself).",
            "example": 1,
        }
    )


class NetworkEdgeSchema(ma.Schema):
    kind = enum_field(vocab.EDGE_KINDS, "Why the edge exists.")
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
            "description": "Ids of the events both actors took part in (co_participation), "
            "among the latest 100 of each actor explored, oldest first: at most 20 (the "
            "first 20 when there are more).",
            "example": ["soleimani-muhandis-killing-2020-01-03"],
        },
    )
    statements = fields.List(
        fields.String(),
        metadata={
            "description": "Ids of the statements both actors spoke in (co_signatory), among "
            "the latest 100 of each actor explored, oldest first: at most 20 (the first 20 "
            "when there are more).",
            "example": ["joint-statement-eight-militias-2020-04-04"],
        },
    )


class GraphSchema(ma.Schema):
    actor = string_field("Id of the requested actor.", "kataib-hezbollah")
    depth = fields.Integer(metadata={"description": "The depth explored.", "example": 1})


class NetworkSchema(ma.Schema):
    """The graph around one actor, in node-link form: `nx.node_link_graph(data,
    edges="edges")` (networkx) reads it as a directed multigraph."""

    directed = fields.Boolean(
        metadata={"description": "Always true: edges go from `source` to `target`."}
    )
    multigraph = fields.Boolean(
        metadata={"description": "Always true: two actors may share several edges."}
    )
    graph = fields.Nested(GraphSchema, metadata={"description": "Graph attributes."})

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


class SearchHitSchema(ma.Schema):
    """One record that matches the query."""

    record_type = enum_field(SEARCH_TYPES, "What the record is.")
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
    url = Url("URL of the full record.", "/v1/actors/esmail-ghaani")


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


class VocabularyEntrySchema(ma.Schema):
    code = string_field("The value used in the API.", "armed_group")
    meaning = string_field(
        "What it means.", "A non-state armed group, militia or paramilitary faction."
    )


class EventSubTypeEntrySchema(VocabularyEntrySchema):
    type = enum_field(vocab.EVENT_TYPES, "The event type this sub-type belongs to.")


class IdentifierSchemeEntrySchema(VocabularyEntrySchema):
    record_types = fields.List(
        fields.String(metadata={"enum": ["actor", "location"]}),
        metadata={"description": "The records that take identifiers of this scheme."},
    )
    pattern = string_field("The format of a value (a regular expression).", "^Q[1-9][0-9]{0,11}$")
    example = string_field("A value.", "Q796")
    url_template = string_field(
        "The page of a value, `{value}` standing for it; null when the scheme has no pages.",
        "https://www.wikidata.org/wiki/{value}",
        allow_none=True,
    )


_ENTRY_SCHEMAS = {
    "event_sub_types": EventSubTypeEntrySchema,
    "identifier_schemes": IdentifierSchemeEntrySchema,
}

VocabulariesSchema = ma.Schema.from_dict(
    {
        name: fields.List(
            fields.Nested(_ENTRY_SCHEMAS.get(name, VocabularyEntrySchema)),
            metadata={"description": f"Every code of `{name}`, with its meaning."},
        )
        for name in vocab.all_vocabularies()
    },
    name="Vocabularies",
)


class CasualtySumSchema(ma.Schema):
    """Killed (or wounded) summed over a group's records."""

    stated = fields.Float(
        allow_none=True,
        metadata={
            "description": "The sum of the figures the records give (an 'at least 12' or an "
            "'about 12' counts as 12); null when none gives one.",
            "example": 12,
        },
    )
    low = fields.Float(
        allow_none=True,
        metadata={
            "description": "A certain lower bound of that sum: `stated` when every figure is "
            "`exact` or `at_least`; null when one is `about` (its low bound is open).",
            "example": 12,
        },
    )
    high = fields.Float(
        allow_none=True,
        metadata={
            "description": "A certain upper bound: `stated` when every figure is `exact`; "
            "null when one is `at_least` or `about` (its high bound is open).",
            "example": None,
        },
    )
    with_figure = fields.Float(
        metadata={"description": "How many records give a figure.", "example": 2}
    )
    no_figure = fields.Float(
        metadata={
            "description": "How many records give none: unknown, not counted as 0 anywhere.",
            "example": 1,
        }
    )


class AggregateMetricsSchema(ma.Schema):
    count = fields.Float(
        metadata={
            "description": "How many records (fractional with `spread=even`).",
            "example": 3,
        }
    )
    killed = fields.Nested(
        CasualtySumSchema,
        metadata={"description": "Events, with `metrics=casualties`.", "x-optional": True},
    )
    wounded = fields.Nested(
        CasualtySumSchema,
        metadata={"description": "Events, with `metrics=casualties`.", "x-optional": True},
    )


_ALL_DIMENSIONS = {**EVENT_DIMENSIONS, **STATEMENT_DIMENSIONS}
_LABELLED = [
    d
    for d in _ALL_DIMENSIONS
    if d not in DATE_DIMENSIONS and d not in ("grid", "type", "sub_type", "channel")
]
_IMPRECISE = [d for d in _ALL_DIMENSIONS if d in DATE_DIMENSIONS or d in PLACE_DIMENSIONS]


def _per_dimension(name: str, dimensions: list[str], description: str, **kwargs) -> type:
    """A schema with one optional, nullable property per dimension (only those of
    `group_by` are present)."""
    return ma.Schema.from_dict(
        {
            d: fields.String(
                allow_none=True,
                metadata={"description": description.format(d=d), "x-optional": True},
                **kwargs,
            )
            for d in dimensions
        },
        name=name,
    )


AggregateKeySchema = _per_dimension(
    "AggregateKeySchema",
    list(_ALL_DIMENSIONS),
    "The group's `{d}`: a bucket, a code or a public id; null where its records have none, "
    "are imprecise in it, or in the `rest` row.",
)
AggregateLabelSchema = _per_dimension(
    "AggregateLabelSchema", _LABELLED, "The name of the `{d}` the key identifies."
)
AggregateImpreciseSchema = _per_dimension(
    "AggregateImpreciseSchema",
    [*_IMPRECISE, "grid"],
    "Why the records are in no one `{d}` (`imprecise_reasons` of `/v1/vocabularies`).",
    validate=ma.validate.OneOf(list(vocab.IMPRECISE_REASONS)),
)


class AggregateGroupSchema(AggregateMetricsSchema):
    """One group: its key in each dimension, and its metrics."""

    key = fields.Nested(
        AggregateKeySchema,
        metadata={
            "description": "The group's key in each dimension of `group_by` (only those).",
            "example": {"month": "2020-04", "type": "strategic_developments"},
        },
    )
    label = fields.Nested(
        AggregateLabelSchema,
        metadata={
            "description": "For dimensions keyed by a record (place, actor, source): its name.",
            "example": {"province": "Anbar province"},
            "x-optional": True,
        },
    )
    imprecise = fields.Nested(
        AggregateImpreciseSchema,
        metadata={
            "description": "Only in an imprecise row: for each dimension in which its records "
            "fall in no one group, why.",
            "example": {"month": "window"},
            "x-optional": True,
        },
    )
    rest = fields.Integer(
        metadata={
            "description": "Only in the last row, when there are more groups than `limit`: "
            "how many groups it sums.",
            "example": 12,
            "x-optional": True,
        }
    )


class AggregateSchema(ma.Schema):
    """Counts (and casualty sums) of the filtered records, by group."""

    group_by = fields.List(fields.String(), metadata={"example": ["month", "type"]})
    spread = fields.String(
        metadata={"description": "`none` or `even`, as asked.", "example": "none"}
    )
    overlapping = fields.Boolean(
        metadata={
            "description": "True when some record counts in several groups (an event with two "
            "actors in an actor grouping): the groups then sum to more than `total`.",
            "example": False,
        }
    )
    total = fields.Nested(
        AggregateMetricsSchema,
        metadata={"description": "The matching records, each counted once."},
    )
    groups = fields.List(fields.Nested(AggregateGroupSchema))


# ---------------------------------------------------------------- identity


class IdentifiedRecordSchema(ma.Schema):
    type = fields.String(
        metadata={"enum": ["actor", "location"], "description": "The record's type."}
    )
    id = string_field("Public id of the record.", "iraq")
    name = string_field("Its name.", "Iraq")
    kind = string_field("Its kind (actor kind or location kind).", "state")
    url = Url("URL of the full record.", "/v1/actors/iraq")


class IdentifierLookupSchema(ma.Schema):
    """The records that hold one external identifier."""

    scheme = enum_field(vocab.IDENTIFIER_SCHEMES, "The identifier's scheme.")
    value = string_field("The identifier.", "Q796")
    url = string_field(
        "The identifier's page, when its scheme has pages.",
        "https://www.wikidata.org/wiki/Q796",
        allow_none=True,
    )
    records = fields.List(
        fields.Nested(IdentifiedRecordSchema),
        metadata={"description": "Every actor and place holding it, actors first, by id."},
    )
