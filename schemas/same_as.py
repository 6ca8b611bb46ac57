"""Same-as links: what a curator sends to link two records, and the link as it is served."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from schemas.bundle import SLUG, StrictSchema
from schemas.grammar import QueryArgs, meta
from schemas.records import SourceRefSchema, string_field
from schemas.urls import Url

RECORD_TYPES = ("actor", "location")


class _CitationIn(StrictSchema):
    source = fields.String(required=True, validate=SLUG, metadata=meta("The source's id."))
    excerpt = fields.String(
        required=True,
        validate=validate.Length(min=8, max=2000),
        metadata=meta("The verbatim sentence of the source that says the two are one."),
    )


class SameAsInSchema(StrictSchema):
    """A curated statement that two records of one type denote the same thing."""

    record_type = fields.String(required=True, validate=validate.OneOf(RECORD_TYPES))
    records = fields.List(
        fields.String(validate=SLUG),
        required=True,
        validate=validate.Length(equal=2),
        metadata=meta("The ids of the two records.", ["kataib-hezbollah", "kh-brigades"]),
    )
    confidence = fields.Float(
        required=True,
        validate=validate.Range(0, 1, min_inclusive=False),
        metadata=meta("How sure the curator is, in (0, 1].", 0.9),
    )
    reason = fields.String(
        load_default=None,
        validate=validate.Length(min=8, max=2000),
        metadata=meta("Why the two are one, in the curator's words."),
    )
    citation = fields.Nested(_CitationIn, load_default=None)

    @ma.validates_schema
    def check(self, data: dict, **kwargs: Any) -> None:
        records = data.get("records") or []
        if len(records) == 2 and records[0] == records[1]:
            raise ma.ValidationError("Two different records.", "records")
        if data.get("reason") is None and data.get("citation") is None:
            raise ma.ValidationError("Give a reason, a citation or both.", "reason")


class _RefSchema(ma.Schema):
    id = string_field("Public id.", "kataib-hezbollah")
    name = string_field("Name.", "Kataib Hezbollah")
    kind = string_field("Kind.", "armed_group")


class _CitationOut(ma.Schema):
    source = fields.Nested(SourceRefSchema)
    excerpt = string_field("The verbatim sentence.")


class SameAsSchema(ma.Schema):
    """A same-as link: never a merge; both records stay, and deleting the link undoes it."""

    id = string_field("The link's id: its two records' ids in order.", "a--same-as--b")
    record_type = fields.String(metadata={"enum": list(RECORD_TYPES)})
    records = fields.List(fields.Nested(_RefSchema))
    confidence = fields.Float(metadata=meta("How sure the curator is, in (0, 1].", 0.9))
    reason = string_field("Why the two are one.", allow_none=True)
    citation = fields.Nested(_CitationOut, allow_none=True)
    asserted_by = string_field("The API key that made the link (`cli`: the command line).")
    created_at = fields.DateTime(metadata=meta("When the link was made (UTC)."))
    group = string_field(
        "The id of the group the link is in: the smallest id among its members (the records "
        "joined by links, transitively), which `resolve=same_as` answers with.",
        "kataib-hezbollah",
    )
    url = Url("URL of the link.", "/v1/same-as/a--same-as--b")


class SameAsListArgs(QueryArgs):
    record_type = fields.String(
        validate=validate.OneOf(RECORD_TYPES), metadata=meta("Links of this record type.")
    )
    record = fields.String(validate=SLUG, metadata=meta("Links of the record with this id."))
