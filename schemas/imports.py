"""Imports over HTTP: the query of `POST /v1/briefings`, its summary, and its 422 problem."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields

from schemas.registry import RECORD_TYPES

_SUMMARY_COLLECTIONS = tuple(t.collection for t in RECORD_TYPES)


class ImportArgs(ma.Schema):
    """Query parameters of an import; an unknown one is an error."""

    class Meta:
        unknown = ma.RAISE

    dry_run = fields.Boolean(
        load_default=False,
        metadata={
            "description": "Validate and count what would change (200), writing nothing.",
            "example": True,
        },
    )


class OutcomeCountsSchema(ma.Schema):
    """Records of one collection by what the import did to them."""

    created = fields.Integer(required=True, metadata={"example": 3})
    updated = fields.Integer(required=True, metadata={"example": 1})
    deleted = fields.Integer(required=True, metadata={"example": 0})
    unchanged = fields.Integer(required=True, metadata={"example": 12})


class ImportSummarySchema(ma.Schema):
    """What an import did (or, with `dry_run`, would do), per collection."""

    source = fields.String(
        required=True,
        metadata={"description": "Public id of the source.", "example": "example-2020-04-07"},
    )
    dry_run = fields.Boolean(required=True, metadata={"description": "Nothing was written."})
    changed = fields.Integer(
        required=True, metadata={"description": "Records created, updated or deleted."}
    )
    collections = fields.Dict(
        attribute="summary",
        keys=fields.String(validate=ma.validate.OneOf(_SUMMARY_COLLECTIONS)),
        values=fields.Nested(OutcomeCountsSchema),
        required=True,
        metadata={"description": "Per collection: created, updated, deleted, unchanged."},
    )
