"""Response schemas: what each collection's records look like on the wire, with examples.
One module (over 400 lines) holding every record type's schema, as the spec's components list
them, so that their shared pieces (references, citations, dates) are defined once."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields

from schemas import vocabularies as vocab
from schemas.urls import Url


def enum_field(vocabulary: dict, description: str, **kwargs) -> fields.String:
    return fields.String(metadata={"description": description, "enum": list(vocabulary)}, **kwargs)


def string_field(description: str, example: object = None, **kwargs) -> fields.Field:
    metadata: dict[str, object] = {"description": description}
    if example is not None:
        metadata["example"] = example
    return fields.String(metadata=metadata, **kwargs)


def date_field(description: str, example: str | None = None, **kwargs) -> fields.Date:
    metadata = {"description": description}
    if example:
        metadata["example"] = example
    return fields.Date(metadata=metadata, **kwargs)


class ActorRefSchema(ma.Schema):
    id = string_field("Public id of the actor.", "kataib-hezbollah")
    name = string_field("Name of the actor.", "Kataib Hezbollah")
    kind = enum_field(vocab.ACTOR_KINDS, "Kind of actor.")


class LocationRefSchema(ma.Schema):
    id = string_field("Public id of the location.", "ain-al-asad-air-base")
    name = string_field("Name of the location.", "Ain al-Asad air base")
    kind = enum_field(vocab.LOCATION_KINDS, "Kind of location.")


class EventRefSchema(ma.Schema):
    id = string_field("Public id of the event.", "rocket-strike-near-halliburton-2020-04-06")
    title = string_field(
        "Title of the event.", "Katyusha rockets strike near Halliburton facility in southern Iraq"
    )
    date = date_field("Best date of the event.", "2020-04-06")


class SourceRefSchema(ma.Schema):
    id = string_field("Public id of the source.", "al-monitor-2020-04-07-us-iran-showdown-iraq")
    title = string_field(
        "Title of the source.", "US, Iran-backed forces in Iraq may be edging toward showdown"
    )


class PublicRecordSchema(ma.Schema):
    """A public record that supports fields of a record from outside its source."""

    name = string_field(
        "What the record is.", "US Department of Defense statement of 2 January 2020"
    )
    where = string_field(
        "Where it can be checked (a URL, an archive reference).", "https://www.defense.gov/"
    )
    supports = fields.List(
        fields.String(),
        metadata={
            "description": "The fields of the record it supports: leave them out to keep only "
            "what the source says.",
            "example": ["date", "location"],
        },
    )
    fact = string_field("What the record establishes.", "The strike was on 3 January 2020.")


def citation_cell(citation: dict) -> str:
    """One citation in a flat format (a CSV cell, a GraphML attribute): `source: excerpt`, or
    `source: public record: name (where) supports fields: fact`."""
    record = citation.get("public_record")
    if not record:
        return f"{citation['source']['id']}: {citation['excerpt']}"
    return (
        f"{citation['source']['id']}: public record: {record['name']} ({record['where']}) "
        f"supports {', '.join(record['supports'])}: {record['fact']}"
    )


class CitationSchema(ma.Schema):
    CSV_CELL = staticmethod(citation_cell)  # how a flat format (CSV) writes one citation

    source = fields.Nested(
        SourceRefSchema,
        metadata={"description": "The citing source (for a public record: whose bundle names it)."},
    )
    excerpt = string_field(
        "The verbatim sentence (or clause) of the source that supports the record; null for a "
        "public record.",
        allow_none=True,
    )
    public_record = fields.Nested(
        PublicRecordSchema,
        allow_none=True,
        metadata={
            "description": "Null for an excerpt of the source. Otherwise the public record that "
            "supports the fields it lists from outside the source: a client that wants only "
            "what the sources say drops those fields."
        },
    )


class AliasSchema(ma.Schema):
    CSV_CELL = "{name}"

    name = string_field(
        "Alternate name, transliteration or native-script name.", "Kata'ib Hizballah"
    )
    language = string_field("ISO 639-1 language of the alias, when known.", "ar", allow_none=True)


class IdentifierSchema(ma.Schema):
    CSV_CELL = "{scheme}:{value}"

    scheme = enum_field(vocab.IDENTIFIER_SCHEMES, "The scheme of the identifier.")
    value = string_field("The identifier in its scheme.", "Q796")
    url = string_field(
        "The identifier's page (the scheme's URL template filled), when it has one.",
        "https://www.wikidata.org/wiki/Q796",
        allow_none=True,
    )
    reason = string_field("Why the curator gives the record this identifier.", allow_none=True)


class CoordinatesSchema(ma.Schema):
    # flat formats (CSV, GeoJSON properties) name them as locations do
    CSV_COLUMNS = {
        "latitude": "latitude",
        "longitude": "longitude",
        "precision": "coordinate_precision",
        "source": "coordinate_source",
        "location": "coordinate_location",
    }

    latitude = fields.Float(metadata={"description": "WGS84 latitude.", "example": 33.7856})
    longitude = fields.Float(metadata={"description": "WGS84 longitude.", "example": 42.4412})
    precision = enum_field(vocab.COORDINATE_PRECISIONS, "How precise the coordinates are.")
    source = enum_field(
        vocab.COORDINATE_SOURCES,
        "`location`: the event's own place; `ancestor`: its place has no coordinates, these "
        "are the nearest enclosing place's.",
    )
    location = string_field(
        "Public id of the place the coordinates belong to.", "ain-al-asad-air-base"
    )


def version_field() -> fields.Integer:
    return fields.Integer(
        metadata={
            "description": "Grows by one on each change of the record; its `ETag` derives from "
            "it, and `If-Match` on PATCH and DELETE names it.",
            "example": 1,
        }
    )


def _updated_at_field() -> fields.DateTime:
    return fields.DateTime(metadata={"description": "When the record last changed (UTC)."})


_DATE_PRECISION = "How precise `date` is; the record covers that whole day, week, month or year."
_DATE_KIND = (
    "`point`: on `date`; `span`: lasted from `date` to `end_date`; `window`: at some point "
    "between `date` and `end_date`; `on_or_before`: at some time up to `date` (open start)."
)


class CasualtySchema(ma.Schema):
    """One casualty figure: killed and wounded of one side, with its qualifier."""

    side = fields.Nested(
        ActorRefSchema,
        allow_none=True,
        metadata={"description": "The side the figure counts; null when not split by side."},
    )
    killed = fields.Integer(
        allow_none=True, metadata={"description": "Killed; null when not given.", "example": 12}
    )
    wounded = fields.Integer(
        allow_none=True, metadata={"description": "Wounded; null when not given.", "example": 3}
    )
    qualifier = enum_field(vocab.CASUALTY_QUALIFIERS, "Whether the numbers are exact.")


class RelationSchema(ma.Schema):
    """A stated relation between two actors: subject, predicate, object."""

    id = string_field(
        "Stable public id: subject, predicate and object.", "esmail-ghaani--commands--quds-force"
    )
    subject = fields.Nested(ActorRefSchema)
    predicate = enum_field(vocab.RELATION_PREDICATES, "What the subject is to the object.")
    object = fields.Nested(ActorRefSchema)
    start_date = date_field("Since when the relation holds, when known.", allow_none=True)
    end_date = date_field("Until when the relation held, when known.", allow_none=True)
    date_precision = enum_field(vocab.DATE_PRECISIONS, _DATE_PRECISION)
    description = string_field("Notes on the relation.", allow_none=True)
    citations = fields.List(fields.Nested(CitationSchema))
    version = version_field()
    updated_at = _updated_at_field()


class ActorSchema(ma.Schema):
    """A person, group, state, body, unit, company or outlet that a briefing names."""

    id = string_field("Stable public id (a slug).", "kataib-hezbollah")
    name = string_field("Name as the briefing gives it.", "Kataib Hezbollah")
    kind = enum_field(vocab.ACTOR_KINDS, "Kind of actor.")
    title = string_field("Title or role, when given.", allow_none=True)
    description = string_field("One-line description.", allow_none=True)
    country = string_field(
        "ISO 3166-1 alpha-2 country the actor belongs to.", "IQ", allow_none=True
    )
    aliases = fields.List(fields.Nested(AliasSchema))
    identifiers = fields.List(
        fields.Nested(IdentifierSchema),
        metadata={"description": "External identifiers: Wikidata, ISO 3166, crosswalk names."},
    )
    same_as = fields.List(
        fields.Nested(ActorRefSchema),
        metadata={
            "description": "The actors a curated same-as link joins this one to (they denote "
            "the same thing: `/v1/same-as`); both records stay."
        },
    )
    relations = fields.List(
        fields.Nested(RelationSchema),
        metadata={"description": "Relations in which the actor is subject or object."},
    )
    citations = fields.List(fields.Nested(CitationSchema))
    version = version_field()
    updated_at = _updated_at_field()


class LocationSchema(ma.Schema):
    """A place: country, province, region, city, military base or facility."""

    id = string_field("Stable public id (a slug).", "ain-al-asad-air-base")
    name = string_field("Name of the place.", "Ain al-Asad air base")
    kind = enum_field(vocab.LOCATION_KINDS, "Kind of place.")
    parent = fields.Nested(
        LocationRefSchema, allow_none=True, metadata={"description": "The place this one lies in."}
    )
    ancestors = fields.List(
        fields.Nested(LocationRefSchema),
        metadata={"description": "Every enclosing place, outermost first."},
    )
    latitude = fields.Float(allow_none=True, metadata={"description": "WGS84 latitude."})
    longitude = fields.Float(allow_none=True, metadata={"description": "WGS84 longitude."})
    coordinate_precision = enum_field(
        vocab.COORDINATE_PRECISIONS, "How precise the coordinates are.", allow_none=True
    )
    country = string_field("ISO 3166-1 alpha-2 country.", "IQ", allow_none=True)
    description = string_field("One-line description.", allow_none=True)
    aliases = fields.List(fields.Nested(AliasSchema))
    identifiers = fields.List(
        fields.Nested(IdentifierSchema),
        metadata={"description": "External identifiers: Wikidata, GeoNames, ISO 3166 codes."},
    )
    same_as = fields.List(
        fields.Nested(LocationRefSchema),
        metadata={
            "description": "The places a curated same-as link joins this one to (they denote "
            "the same place: `/v1/same-as`); both records stay."
        },
    )
    regions = fields.List(
        fields.Nested(LocationRefSchema),
        metadata={
            "description": "Regions the place also lies in, beside its parent (`within=` a "
            "region finds the place and what it encloses)."
        },
    )
    citations = fields.List(fields.Nested(CitationSchema))
    distance_km = fields.Float(
        metadata={
            "description": "Only with `near`: great-circle km from that point.",
            "example": 12.5,
            "x-optional": True,
        }
    )
    version = version_field()
    updated_at = _updated_at_field()


class ParticipantSchema(ma.Schema):
    CSV_CELL = "{actor[id]}:{role}"
    CSV_IDS = ("actor", "actor_ids")  # flat formats also list the distinct actors' ids

    actor = fields.Nested(ActorRefSchema)
    role = enum_field(vocab.PARTICIPANT_ROLES, "The actor's role in the event.")


class EventSchema(ma.Schema):
    """Something that happened, typed with ACLED's event types."""

    id = string_field("Stable public id (a slug).", "rocket-strike-near-halliburton-2020-04-06")
    title = string_field(
        "Short title.", "Katyusha rockets strike near Halliburton facility in southern Iraq"
    )
    summary = string_field("What happened, in a sentence or two.", allow_none=True)
    type = enum_field(vocab.EVENT_TYPES, "ACLED event type.")
    sub_type = enum_field(
        {k: v for k, (_, v) in vocab.EVENT_SUB_TYPES.items()}, "ACLED sub-event type."
    )
    date = date_field("Best date (ISO 8601).", "2020-04-06")
    end_date = date_field("Last day of a span or of a window (see `date_kind`).", allow_none=True)
    date_precision = enum_field(vocab.DATE_PRECISIONS, _DATE_PRECISION)
    date_kind = enum_field(vocab.DATE_KINDS, _DATE_KIND)
    location = fields.Nested(LocationRefSchema, allow_none=True)
    coordinates = fields.Nested(
        CoordinatesSchema,
        allow_none=True,
        metadata={
            "description": "Coordinates of the event's location, or of its nearest enclosing "
            "place that has some (`source: ancestor`); null when none has."
        },
    )
    fatalities = fields.Integer(
        allow_none=True,
        metadata={
            "description": "Deaths reported (the headline figure, the total killed of "
            "`casualties`; an 'at least' or 'about' figure counts as its number): 0 when "
            "none were, null when the source does not say.",
            "example": 0,
        },
    )
    casualties = fields.List(
        fields.Nested(CasualtySchema),
        metadata={"description": "Killed and wounded as the source gives them, per side."},
    )
    participants = fields.List(fields.Nested(ParticipantSchema))
    citations = fields.List(fields.Nested(CitationSchema))
    distance_km = fields.Float(
        metadata={
            "description": "Only with `near`: great-circle km from that point to the "
            "event's location.",
            "example": 12.5,
            "x-optional": True,
        }
    )
    version = version_field()
    updated_at = _updated_at_field()


class StatementSchema(ma.Schema):
    """Something said: a quote (verbatim) or reported speech, with who said it to whom."""

    id = string_field("Stable public id (a slug).", "kataib-hezbollah-2020-04-02-leave-iraq")
    text = string_field(
        "The words: exact when verbatim, else the source's paraphrase.",
        "We will not kill you, if you leave Iraq.",
    )
    verbatim = fields.Boolean(metadata={"description": "True for a direct quote."})
    summary = string_field("Context for the statement.", allow_none=True)
    speakers = fields.List(
        fields.Nested(ActorRefSchema),
        metadata={"description": "Who said it (every named signatory)."},
    )
    on_behalf_of = fields.List(
        fields.Nested(ActorRefSchema),
        metadata={"description": "Whom the speakers spoke for (a spokesman's group)."},
    )
    anonymous = fields.Boolean(
        metadata={
            "description": "True when the words come from an unnamed source; `speakers` "
            "then names the body the source is affiliated with."
        }
    )
    attribution = string_field(
        "How the source attributes the words when not to a named speaker (for instance "
        "`a source affiliated with the Pentagon, speaking on condition of anonymity`).",
        allow_none=True,
    )
    signatory_count = fields.Integer(
        allow_none=True,
        metadata={"description": "How many signed in all, when more than the named speakers."},
    )
    addressees = fields.List(
        fields.Nested(ActorRefSchema), metadata={"description": "To whom it was said."}
    )
    mentions = fields.List(
        fields.Nested(ActorRefSchema),
        metadata={"description": "Actors the statement is about, other than its addressees."},
    )
    channel = enum_field(vocab.STATEMENT_CHANNELS, "Through what it was said.")
    outlet = fields.Nested(
        ActorRefSchema,
        allow_none=True,
        metadata={"description": "The media outlet, for interviews and news reports."},
    )
    date = date_field("When it was said.", "2020-04-02")
    end_date = date_field("Last day of a span or of a window (see `date_kind`).", allow_none=True)
    date_precision = enum_field(vocab.DATE_PRECISIONS, _DATE_PRECISION)
    date_kind = enum_field(vocab.DATE_KINDS, _DATE_KIND)
    events = fields.List(
        fields.Nested(EventRefSchema), metadata={"description": "Events the statement is about."}
    )
    citations = fields.List(fields.Nested(CitationSchema))
    version = version_field()
    updated_at = _updated_at_field()


def _count_field(collection: str, example: int) -> fields.Integer:
    return fields.Integer(
        metadata={"description": f"{collection} extracted from the source.", "example": example}
    )


class ExtractedCountsSchema(ma.Schema):
    actors = _count_field("Actors", 29)
    relations = _count_field("Relations between actors", 21)
    locations = _count_field("Locations", 11)
    events = _count_field("Events", 12)
    statements = _count_field("Statements", 16)


def _link_field(collection: str) -> Url:
    return Url(
        f"The {collection} list filtered to this source.",
        f"/v1/{collection}?source=al-monitor-2020-04-07-us-iran-showdown-iraq",
    )


class ExtractedLinksSchema(ma.Schema):
    actors = _link_field("actors")
    relations = _link_field("relations")
    locations = _link_field("locations")
    events = _link_field("events")
    statements = _link_field("statements")


class SourceSchema(ma.Schema):
    """A briefing document that records are extracted from."""

    id = string_field("Stable public id (a slug).", "al-monitor-2020-04-07-us-iran-showdown-iraq")
    title = string_field(
        "Title of the document.", "US, Iran-backed forces in Iraq may be edging toward showdown"
    )
    publisher = string_field("Who published it.", "Al-Monitor")
    published = date_field("Publication date.", "2020-04-07")
    published_precision = enum_field(vocab.DATE_PRECISIONS, "How precise `published` is.")
    url = string_field("Where it was published.", allow_none=True)
    author = string_field("Author, when known.", allow_none=True)
    language = string_field("ISO 639-1 language.", "en")
    version = version_field()
    updated_at = _updated_at_field()
    counts = fields.Nested(
        ExtractedCountsSchema,
        metadata={"description": "How many records of each collection cite this source."},
    )
    links = fields.Nested(
        ExtractedLinksSchema,
        metadata={"description": "The lists of those records."},
    )


class HealthSchema(ma.Schema):
    status = string_field("`ok`: the service and its database answer.", "ok")
    database = string_field("`ok`: the database answered a query.", "ok")
    backend = string_field("`sqlite` or `postgresql`.", "sqlite")


class ReadinessChecksSchema(ma.Schema):
    """Each readiness check and its outcome: `ok`, or what is wrong (never an internal)."""

    database = string_field("The database answers.", "ok")
    schema = string_field("The schema is at this release's version.", "ok")
    tables = string_field("Every table can be read.", "ok")
    fulltext = string_field("The full-text index holds every search document.", "ok")


class ReadinessSchema(ma.Schema):
    status = string_field("`ok`: every check passed.", "ok")
    backend = string_field("`sqlite` or `postgresql`.", "sqlite")
    schema_version = fields.Integer(
        allow_none=True,
        metadata={"description": "Version of the database schema.", "example": 2},
    )
    checks = fields.Nested(ReadinessChecksSchema)
