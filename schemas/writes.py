"""Record writes, the change feed and the audit trail: their arguments and responses."""

from __future__ import annotations

import datetime as dt

import marshmallow as ma
from marshmallow import fields, validate

from schemas.grammar import NO_NUL, QueryArgs, meta
from schemas.registry import WRITABLE

OPS = ("create", "update", "delete")
_WRITABLE_TYPES = tuple(t.name for t in WRITABLE)
JOURNALED_TYPES = ("source", *_WRITABLE_TYPES)  # sources are journaled, written by imports
MAX_FEED_LIMIT = 1000
_DEFAULT_FEED_LIMIT = 100


class UpdatedSinceArgs(ma.Schema):
    """`updated_since`: the filter every writable collection's list takes."""

    updated_since = fields.AwareDateTime(
        default_timezone=dt.UTC,
        metadata=meta(
            "Only records changed at or after this time (ISO 8601; UTC unless it has an "
            "offset). Deletions are in `/v1/changes`.",
            "2020-04-01T00:00:00Z",
        ),
    )


class DeleteArgs(QueryArgs):
    cascade = fields.Boolean(
        load_default=False,
        metadata=meta(
            "`true`: also remove what refers to the record (the relations of an actor are "
            "deleted; other records lose the reference). Default: refuse with 409, naming them."
        ),
    )


class JournalArgs(QueryArgs):
    since = fields.Integer(
        load_default=0,
        validate=validate.Range(0, 2**62),
        metadata=meta("The `seq` of the last change already seen (0: from the start).", 0),
    )
    limit = fields.Integer(
        load_default=_DEFAULT_FEED_LIMIT,
        validate=validate.Range(1, MAX_FEED_LIMIT),
        metadata=meta(f"Changes per page (1 to {MAX_FEED_LIMIT}).", _DEFAULT_FEED_LIMIT),
    )


class ChangeFilters(ma.Schema):
    """The filters of the change feed, its stream and webhook subscriptions."""

    record_type = fields.List(
        fields.String(validate=validate.OneOf(JOURNALED_TYPES)),
        metadata=meta("Changes of these record types (repeat for several).", ["event"]),
    )
    source = fields.List(
        fields.String(validate=[validate.Length(1, 200), NO_NUL]),
        metadata=meta(
            "Changes of records that cite one of these sources, before or after the change "
            "(a deletion: in their last state), and of those sources themselves (repeat for "
            "several).",
            ["al-monitor-2020-04-07-us-iran-showdown-iraq"],
        ),
    )


class FeedArgs(ChangeFilters, JournalArgs):
    pass


class AuditArgs(JournalArgs):
    key = fields.String(
        validate=validate.Length(1, 100), metadata=meta("Changes made with this key (name).")
    )
    record_type = fields.String(
        validate=validate.OneOf(JOURNALED_TYPES), metadata=meta("Changes of this record type.")
    )
    record = fields.String(
        validate=validate.Length(1, 420), metadata=meta("Changes of the record with this id.")
    )
    time_from = fields.AwareDateTime(
        default_timezone=dt.UTC, metadata=meta("Changes at or after this time (ISO 8601).")
    )
    time_to = fields.AwareDateTime(
        default_timezone=dt.UTC, metadata=meta("Changes at or before this time (ISO 8601).")
    )


class ChangeSchema(ma.Schema):
    """One entry of the change feed: a record created, updated or deleted (a tombstone)."""

    seq = fields.Integer(metadata=meta("Position in the feed; pass it as `since`.", 1))
    time = fields.DateTime(metadata=meta("When the change was committed (UTC)."))
    op = fields.String(metadata={"enum": list(OPS), "description": "What happened."})
    record_type = fields.String(metadata={"enum": list(JOURNALED_TYPES)})
    id = fields.String(metadata=meta("Public id of the record.", "kataib-hezbollah"))
    version = fields.Integer(metadata=meta("The record's version after the change.", 1))


class AuditEntrySchema(ChangeSchema):
    """One audited change: who made it and the record before and after."""

    key = fields.String(metadata=meta("Name of the API key, or `cli` for the command line."))
    owner = fields.String(
        allow_none=True,
        metadata=meta(
            "The owner the key acted for (the command line: `default`, or its --owner); null "
            "for changes made before owners existed."
        ),
    )
    before = fields.Dict(
        allow_none=True,
        metadata=meta("The record before (bundle format, with citations); null on create."),
    )
    after = fields.Dict(
        allow_none=True,
        metadata=meta("The record after (bundle format, with citations); null on delete."),
    )
