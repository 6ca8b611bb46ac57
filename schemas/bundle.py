"""The briefing bundle: the format of seed files and imports (see seed/README.md).

A bundle holds one source and the records extracted from it. This schema checks the shape and
the vocabularies of each record; the seed loader resolves references between records.
One module (over 400 lines) because the bundle is one document, read top to bottom.
"""

from __future__ import annotations

import re
from typing import Any

import marshmallow as ma
import pycountry
from marshmallow import fields, validate

from schemas import vocabularies as vocab
from schemas.text import refusals

SLUG = validate.Regexp(
    r"^[a-z0-9]+(?:-[a-z0-9]+)*$",
    error="Must be a slug: lowercase letters, digits and single hyphens.",
)
_ISO_COUNTRIES = frozenset(country.alpha_2 for country in pycountry.countries)


def _iso_country(code: str) -> None:
    """An ISO 3166-1 alpha-2 code assigned to a country (the list maintained by pycountry)."""
    if code not in _ISO_COUNTRIES:
        raise ma.ValidationError(f"{code!r} is not an ISO 3166-1 alpha-2 country code, e.g. IQ.")


_ISO_SUBDIVISIONS = frozenset(division.code for division in pycountry.subdivisions)
_ASSIGNED = {"iso3166-1": _ISO_COUNTRIES, "iso3166-2": _ISO_SUBDIVISIONS}


def identifier_problem(scheme: str, value: str, record_type: str | None = None) -> str | None:
    """Why `value` is not an identifier of `scheme` (for a record of `record_type`), or None:
    the scheme must exist and take such records, the value have its format and, for ISO codes,
    be assigned (pycountry's lists)."""
    found = vocab.IDENTIFIER_SCHEMES.get(scheme)
    if found is None:
        return f"Unknown scheme {scheme!r}: one of {', '.join(vocab.IDENTIFIER_SCHEMES)}."
    if record_type is not None and record_type not in found.record_types:
        return f"The scheme {scheme!r} is not for {record_type}s."
    if not re.fullmatch(found.pattern, value):
        return f"{value!r} is not a {scheme} identifier (e.g. {found.example})."
    if scheme in _ASSIGNED and value not in _ASSIGNED[scheme]:
        return f"{value!r} is not an assigned {scheme.upper()} code."
    return None


def date_field(**kwargs: Any) -> fields.Date:
    """An ISO date, YYYY-MM-DD; an impossible one (2021-02-30) is named as such."""
    return fields.Date(
        error_messages={"invalid": "Not a real date (YYYY-MM-DD).", "format": "Not a date."},
        **kwargs,
    )


def _one_of(vocabulary: dict) -> validate.OneOf:
    return validate.OneOf(list(vocabulary))


class StrictSchema(ma.Schema):
    """Base: unknown keys are errors, so a typo in a seed file never passes silently; text
    follows schemas/text.py (no control characters), named field by field."""

    class Meta:
        unknown = ma.RAISE

    @ma.pre_load
    def plain_text(self, data: Any, **kwargs: Any) -> Any:
        found = refusals(data) if isinstance(data, dict) else None
        if found:
            raise ma.ValidationError(found)
        return data


class BundleCitationSchema(StrictSchema):
    """What supports a record: the verbatim sentence (or clause) of a source, or a public
    record named for the facts of the record that come from outside the source."""

    excerpt = fields.String(
        load_default=None,
        validate=validate.Length(min=8),
        metadata={"description": "The verbatim sentence or clause of the source."},
    )
    source = fields.String(validate=SLUG, load_default=None)
    public_record = fields.String(
        load_default=None,
        validate=validate.Length(min=8, max=500),
        metadata={
            "description": "Instead of an excerpt: the public record that supports fields of "
            "the record from outside the source (what it is: a document, a reference work)."
        },
    )
    where = fields.String(
        load_default=None,
        validate=validate.Length(min=4, max=500),
        metadata={"description": "Where the public record can be checked (a URL, an archive)."},
    )
    supports = fields.List(
        fields.String(validate=validate.Length(min=1, max=40)),
        load_default=None,
        validate=validate.Length(min=1),
        metadata={"description": "The fields of the record that the public record supports."},
    )
    fact = fields.String(
        load_default=None,
        validate=validate.Length(min=8, max=1000),
        metadata={"description": "What the public record establishes, in the bundle's words."},
    )

    _PUBLIC_RECORD = {
        "where": "where the record can be checked",
        "supports": "the fields of this record it supports",
        "fact": "what it establishes",
    }

    @ma.pre_load
    def from_string(self, data: Any, **kwargs: Any) -> Any:
        return {"excerpt": data} if isinstance(data, str) else data

    @ma.validates_schema
    def check_kind(self, data: dict, **kwargs: Any) -> None:
        errors: dict[str, list[str]] = {}
        if data.get("public_record") is None:
            if data.get("excerpt") is None:
                errors["excerpt"] = ["Missing data for required field."]
            for name in self._PUBLIC_RECORD:
                if data.get(name) is not None:
                    errors[name] = ["Only with public_record."]
        else:
            if data.get("excerpt") is not None:
                errors["excerpt"] = [
                    "A public-record citation quotes no excerpt: `fact` says what the record "
                    "establishes."
                ]
            for name, meaning in self._PUBLIC_RECORD.items():
                if data.get(name) is None:
                    errors[name] = [f"Required with public_record: {meaning}."]
        if errors:
            raise ma.ValidationError(errors)

    @ma.post_dump
    def drop_unused(self, data: dict, **kwargs: Any) -> dict:
        """An excerpt is written as `{excerpt, source}`, a public record without `excerpt`."""
        unused = (
            ("excerpt",) if data.get("public_record") else ("public_record", *self._PUBLIC_RECORD)
        )
        for name in unused:
            data.pop(name, None)
        return data


class BundleAliasSchema(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    language = fields.String(load_default=None, validate=validate.Length(min=2, max=8))

    @ma.pre_load
    def from_string(self, data: Any, **kwargs: Any) -> Any:
        return {"name": data} if isinstance(data, str) else data


class BundleIdentifierSchema(StrictSchema):
    """An external identifier of the record (schemas/vocabularies.py IDENTIFIER_SCHEMES)."""

    RECORD_TYPE: str | None = None

    scheme = fields.String(
        required=True,
        validate=_one_of(vocab.IDENTIFIER_SCHEMES),
        metadata={"description": "The scheme (`GET /v1/vocabularies`: identifier_schemes)."},
    )
    value = fields.String(
        required=True,
        validate=validate.Length(min=1, max=200),
        metadata={"description": "The identifier, in its scheme's format: `Q796`, `IQ-AN`."},
    )
    reason = fields.String(
        load_default=None,
        validate=validate.Length(min=8, max=1000),
        metadata={"description": "Why the curator gives the record this identifier."},
    )

    @ma.validates_schema
    def check_format(self, data: dict, **kwargs: Any) -> None:
        if data.get("scheme") in vocab.IDENTIFIER_SCHEMES and data.get("value"):
            problem = identifier_problem(data["scheme"], data["value"], self.RECORD_TYPE)
            if problem:
                raise ma.ValidationError(problem, "value")


class BundleActorIdentifierSchema(BundleIdentifierSchema):
    RECORD_TYPE = "actor"


class BundleLocationIdentifierSchema(BundleIdentifierSchema):
    RECORD_TYPE = "location"


def _identifiers_field(schema: type[BundleIdentifierSchema]) -> fields.List:
    return fields.List(
        fields.Nested(schema),
        load_default=list,
        metadata={
            "description": "External identifiers (Wikidata, GeoNames, ISO 3166, crosswalk "
            "names), each with the curator's reason; cite them like any field "
            "(a public record that `supports: [identifiers]`)."
        },
    )


def _unique_identifiers(data: dict) -> None:
    seen: set[tuple[str, str]] = set()
    for item in data.get("identifiers") or []:
        pair = (item["scheme"], item["value"])
        if pair in seen:
            raise ma.ValidationError(f"Duplicate identifier {':'.join(pair)!r}.", "identifiers")
        seen.add(pair)


def _citations_field() -> fields.List:
    return fields.List(
        fields.Nested(BundleCitationSchema), required=True, validate=validate.Length(min=1)
    )


class BundleSourceSchema(StrictSchema):
    id = fields.String(required=True, validate=SLUG)
    title = fields.String(required=True, validate=validate.Length(min=1))
    publisher = fields.String(required=True)
    published = date_field(required=True)
    published_precision = fields.String(load_default="day", validate=_one_of(vocab.DATE_PRECISIONS))
    url = fields.Url(load_default=None)
    author = fields.String(load_default=None)
    language = fields.String(load_default="en")
    document = fields.String(
        load_default=None,
        metadata={"description": "File name of the source text, beside the seed file."},
    )
    text = fields.String(
        load_default=None,
        validate=validate.Length(min=1),
        metadata={
            "description": "The source's full text (or `document` beside a seed file): every "
            "citation excerpt and verbatim quote must occur in it."
        },
    )


class BundleActorSchema(StrictSchema):
    id = fields.String(required=True, validate=SLUG)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    kind = fields.String(required=True, validate=_one_of(vocab.ACTOR_KINDS))
    title = fields.String(load_default=None)
    description = fields.String(load_default=None)
    country = fields.String(load_default=None, validate=_iso_country)
    aliases = fields.List(fields.Nested(BundleAliasSchema), load_default=list)
    identifiers = _identifiers_field(BundleActorIdentifierSchema)
    citations = _citations_field()

    @ma.validates_schema
    def check_identifiers(self, data: dict, **kwargs: Any) -> None:
        _unique_identifiers(data)


class BundleRelationSchema(StrictSchema):
    subject = fields.String(required=True, validate=SLUG)
    predicate = fields.String(required=True, validate=_one_of(vocab.RELATION_PREDICATES))
    object = fields.String(required=True, validate=SLUG)
    start_date = date_field(load_default=None)
    end_date = date_field(load_default=None)
    date_precision = fields.String(load_default="day", validate=_one_of(vocab.DATE_PRECISIONS))
    description = fields.String(load_default=None)
    citations = _citations_field()

    @ma.validates_schema
    def check(self, data: dict, **kwargs: Any) -> None:
        if data["subject"] == data["object"]:
            raise ma.ValidationError("An actor cannot relate to itself.", "object")
        if data["start_date"] and data["end_date"] and data["end_date"] < data["start_date"]:
            raise ma.ValidationError("Must not be before start_date.", "end_date")


class BundleLocationSchema(StrictSchema):
    id = fields.String(required=True, validate=SLUG)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    kind = fields.String(required=True, validate=_one_of(vocab.LOCATION_KINDS))
    parent = fields.String(load_default=None, validate=SLUG)
    latitude = fields.Float(load_default=None, validate=validate.Range(-90, 90))
    longitude = fields.Float(load_default=None, validate=validate.Range(-180, 180))
    coordinate_precision = fields.String(
        load_default=None, validate=_one_of(vocab.COORDINATE_PRECISIONS)
    )
    country = fields.String(load_default=None, validate=_iso_country)
    description = fields.String(load_default=None)
    aliases = fields.List(fields.Nested(BundleAliasSchema), load_default=list)
    regions = fields.List(
        fields.String(validate=SLUG),
        load_default=list,
        metadata={
            "description": "Ids of regions the place also lies in, beside its one "
            "administrative `parent` (a country in the Sahel: `regions: [sahel]`)."
        },
    )
    identifiers = _identifiers_field(BundleLocationIdentifierSchema)
    citations = _citations_field()

    @ma.validates_schema
    def check(self, data: dict, **kwargs: Any) -> None:
        if data["id"] in data["regions"]:
            raise ma.ValidationError("A location cannot be its own region.", "regions")
        if (data["latitude"] is None) != (data["longitude"] is None):
            raise ma.ValidationError("latitude and longitude go together.", "longitude")
        if data["latitude"] is not None and data["coordinate_precision"] is None:
            raise ma.ValidationError("Required with coordinates.", "coordinate_precision")
        if data["parent"] == data["id"]:
            raise ma.ValidationError("A location cannot be its own parent.", "parent")
        _unique_identifiers(data)


class BundleParticipantSchema(StrictSchema):
    actor = fields.String(required=True, validate=SLUG)
    role = fields.String(required=True, validate=_one_of(vocab.PARTICIPANT_ROLES))


class BundleCasualtySchema(StrictSchema):
    """One casualty figure: killed and wounded of one side (or of all, `side` null)."""

    side = fields.String(
        load_default=None,
        validate=SLUG,
        metadata={"description": "Actor id of the side; null when the source gives no side."},
    )
    killed = fields.Integer(load_default=None, validate=validate.Range(min=0))
    wounded = fields.Integer(load_default=None, validate=validate.Range(min=0))
    qualifier = fields.String(load_default="exact", validate=_one_of(vocab.CASUALTY_QUALIFIERS))

    @ma.validates_schema
    def check(self, data: dict, **kwargs: Any) -> None:
        if data["killed"] is None and data["wounded"] is None:
            raise ma.ValidationError("Give killed, wounded or both.", "killed")


class BundleDatedSchema(StrictSchema):
    date = date_field(required=True)
    end_date = date_field(load_default=None)
    date_precision = fields.String(required=True, validate=_one_of(vocab.DATE_PRECISIONS))
    date_kind = fields.String(
        load_default=None,
        validate=_one_of(vocab.DATE_KINDS),
        metadata={
            "description": "point, span, window or on_or_before; default: span with an "
            "end_date, point without."
        },
    )

    @ma.validates_schema
    def check_dates(self, data: dict, **kwargs: Any) -> None:
        end, kind = data.get("end_date"), data.get("date_kind")
        if end and data.get("date") and end < data["date"]:
            raise ma.ValidationError("Must not be before date.", "end_date")
        if kind in ("span", "window") and not end:
            raise ma.ValidationError(f"Required when date_kind is {kind}.", "end_date")
        if kind in ("point", "on_or_before") and end:
            raise ma.ValidationError(f"Not allowed when date_kind is {kind}.", "end_date")

    @ma.post_load
    def default_kind(self, data: dict, **kwargs: Any) -> dict:
        if data.get("date_kind") is None:
            data["date_kind"] = "span" if data.get("end_date") else "point"
        return data


class BundleEventSchema(BundleDatedSchema):
    id = fields.String(required=True, validate=SLUG)
    title = fields.String(required=True, validate=validate.Length(min=1, max=300))
    summary = fields.String(load_default=None)
    type = fields.String(required=True, validate=_one_of(vocab.EVENT_TYPES))
    sub_type = fields.String(required=True, validate=_one_of(vocab.EVENT_SUB_TYPES))
    location = fields.String(load_default=None, validate=SLUG)
    fatalities = fields.Integer(
        required=True,
        allow_none=True,
        validate=validate.Range(min=0),
        metadata={"description": "0 when the source says none; null when it does not say."},
    )
    casualties = fields.List(
        fields.Nested(BundleCasualtySchema),
        load_default=list,
        metadata={"description": "Killed and wounded, per side when the source splits them."},
    )
    participants = fields.List(fields.Nested(BundleParticipantSchema), load_default=list)
    citations = _citations_field()

    @ma.validates_schema
    def check_casualties(self, data: dict, **kwargs: Any) -> None:
        killed = [c["killed"] for c in data.get("casualties") or [] if c["killed"] is not None]
        if killed and data.get("fatalities") is None:
            raise ma.ValidationError(
                f"Null (unknown) while `casualties` give {sum(killed)} killed: the headline is "
                "their total (a lower bound or an approximate number counts as its number).",
                "fatalities",
            )
        if killed and data.get("fatalities") != sum(killed):
            raise ma.ValidationError(
                f"Must be the total killed of `casualties` ({sum(killed)}; a lower bound or an "
                "approximate number counts as its number).",
                "fatalities",
            )

    @ma.validates_schema
    def check_sub_type(self, data: dict, **kwargs: Any) -> None:
        sub_type, type_ = data.get("sub_type"), data.get("type")
        if sub_type and type_ and vocab.EVENT_SUB_TYPES[sub_type][0] != type_:
            raise ma.ValidationError(f"{sub_type!r} is not a sub-type of {type_!r}.", "sub_type")


class BundleStatementSchema(BundleDatedSchema):
    id = fields.String(required=True, validate=SLUG)
    speakers = fields.List(
        fields.String(validate=SLUG),
        required=True,
        metadata={"description": "Who said it; empty only for an `unattributed_report`."},
    )
    signatory_count = fields.Integer(
        load_default=None,
        validate=validate.Range(min=1),
        metadata={"description": "How many signed in all, when more than the named speakers."},
    )
    on_behalf_of = fields.List(
        fields.String(validate=SLUG),
        load_default=list,
        metadata={
            "description": "Actors the speakers spoke for (a spokesman's group); "
            "`speaker=` matches them too."
        },
    )
    addressees = fields.List(fields.String(validate=SLUG), load_default=list)
    mentions = fields.List(
        fields.String(validate=SLUG),
        load_default=list,
        metadata={"description": "Actors the statement is about, other than its addressees."},
    )
    anonymous = fields.Boolean(
        load_default=False,
        metadata={
            "description": "True when the words come from an unnamed source; `speakers` "
            "then names the body the source is affiliated with."
        },
    )
    attribution = fields.String(
        load_default=None,
        metadata={
            "description": "How the source attributes the words, when not to a named "
            "speaker, e.g. 'a source affiliated with the Pentagon'."
        },
    )
    channel = fields.String(required=True, validate=_one_of(vocab.STATEMENT_CHANNELS))
    outlet = fields.String(load_default=None, validate=SLUG)
    text = fields.String(required=True, validate=validate.Length(min=1))
    verbatim = fields.Boolean(required=True)
    summary = fields.String(load_default=None)
    events = fields.List(fields.String(validate=SLUG), load_default=list)
    citations = _citations_field()

    @ma.validates_schema
    def check_attribution(self, data: dict, **kwargs: Any) -> None:
        if data.get("anonymous") and not data.get("attribution"):
            raise ma.ValidationError("Required when anonymous is true.", "attribution")

    @ma.validates_schema
    def check_speakers(self, data: dict, **kwargs: Any) -> None:
        if not data.get("speakers") and data.get("channel") != "unattributed_report":
            raise ma.ValidationError(
                "At least one speaker; only an unattributed_report has none.", "speakers"
            )
        if data.get("channel") == "unattributed_report" and not data.get("attribution"):
            raise ma.ValidationError(
                "Required for an unattributed_report: the source's words ('reportedly').",
                "attribution",
            )

    @ma.validates_schema
    def check_signatories(self, data: dict, **kwargs: Any) -> None:
        count, speakers = data.get("signatory_count"), data.get("speakers") or []
        if count is not None and count < len(speakers):
            raise ma.ValidationError("Fewer than the named speakers.", "signatory_count")


class BriefingBundleSchema(StrictSchema):
    """One briefing: its source and every record extracted from it."""

    source = fields.Nested(BundleSourceSchema, required=True)
    actors = fields.List(fields.Nested(BundleActorSchema), load_default=list)
    relations = fields.List(fields.Nested(BundleRelationSchema), load_default=list)
    locations = fields.List(fields.Nested(BundleLocationSchema), load_default=list)
    events = fields.List(fields.Nested(BundleEventSchema), load_default=list)
    statements = fields.List(fields.Nested(BundleStatementSchema), load_default=list)

    @ma.validates_schema
    def check_unique_ids(self, data: dict, **kwargs: Any) -> None:
        for collection in ("actors", "locations", "events", "statements"):
            seen: set[str] = set()
            for index, record in enumerate(data.get(collection) or []):
                if record["id"] in seen:
                    raise ma.ValidationError(
                        {collection: {index: {"id": [f"Duplicate id {record['id']!r}."]}}}
                    )
                seen.add(record["id"])
