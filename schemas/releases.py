"""Releases: the body that makes one, a release as listed, its downloads, and its diffs."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from schemas.grammar import NO_NUL, QueryArgs, meta
from schemas.registry import RECORD_TYPES

DIFF_OPS = ("added", "changed", "removed")
MAX_DIFF_LIMIT = 1000
_DEFAULT_DIFF_LIMIT = 100


class ReleaseCreateSchema(ma.Schema):
    """What names a release: the data as it stands when it is made."""

    class Meta:
        unknown = ma.RAISE

    name = fields.String(
        required=True,
        validate=validate.Length(1, 64),
        metadata=meta(
            "The release's name: lowercase letters, digits, `.`, `-`, `_`, starting and "
            "ending with a letter or digit; never reused, even after deletion; `latest` is "
            "reserved.",
            "2026-q1",
        ),
    )
    description = fields.String(
        load_default=None,
        allow_none=True,
        validate=[validate.Length(max=2000), NO_NUL],
        metadata=meta("What the release is for.", "Data cited in the Q1 2026 report."),
    )


class DownloadSchema(ma.Schema):
    """One file of a release's download."""

    file = fields.String(required=True, metadata=meta("The file's name.", "release.sqlite"))
    url = fields.String(required=True, metadata={"format": "uri", "description": "Its URL."})
    bytes = fields.Integer(
        required=True,
        allow_none=True,
        metadata=meta("Its size; null until first downloaded (written then).", 1048576),
    )
    sha256 = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "SHA-256 of its bytes (its ETag); null until written."},
    )


class ReleaseSchema(ma.Schema):
    """A named, immutable version of the data."""

    name = fields.String(required=True, metadata=meta("The release's name.", "2026-q1"))
    description = fields.String(required=True, allow_none=True)
    created_at = fields.DateTime(required=True, metadata={"description": "When it was made."})
    created_by = fields.String(
        required=True, metadata={"description": "The API key that made it, or `cli`."}
    )
    seq = fields.Integer(
        required=True,
        metadata={
            "description": "The change feed's `seq` the release stands at: it holds every "
            "change up to this one and none after."
        },
    )
    counts = fields.Nested(
        ma.Schema.from_dict(
            {t.collection: fields.Integer(required=True) for t in RECORD_TYPES},
            name="ReleaseCounts",
        ),
        required=True,
        metadata={"description": "Records per collection."},
    )
    schema_version = fields.Integer(
        required=True, metadata={"description": "The database schema it was made with."}
    )
    snapshot_bytes = fields.Integer(
        required=True,
        metadata={"description": "Disk the snapshot takes (SQLite file; 0 on PostgreSQL)."},
    )
    url = fields.String(
        required=True,
        metadata={
            "format": "uri",
            "description": "The root of the release's API: append any read path (`.../v1/events`).",
        },
    )
    downloads = fields.List(fields.Nested(DownloadSchema), required=True)


class DiffArgs(QueryArgs):
    format = fields.String(
        load_default="json",
        validate=validate.OneOf(["json", "ndjson"]),
        metadata=meta("`json` (a page) or `ndjson` (every entry, streamed).", "json"),
    )
    cursor = fields.Integer(
        load_default=0,
        validate=validate.Range(0, 2**62),
        metadata=meta("From the `Link` of the previous page (the `seq` it ended at).", 0),
    )
    limit = fields.Integer(
        load_default=_DEFAULT_DIFF_LIMIT,
        validate=validate.Range(1, MAX_DIFF_LIMIT),
        metadata=meta(f"Records per page (1 to {MAX_DIFF_LIMIT}).", _DEFAULT_DIFF_LIMIT),
    )


class DiffEntrySchema(ma.Schema):
    """One record that differs between two releases, its changes collapsed."""

    op = fields.String(required=True, metadata={"enum": list(DIFF_OPS)})
    record_type = fields.String(required=True, metadata={"enum": [t.name for t in RECORD_TYPES]})
    id = fields.String(required=True, metadata=meta("Public id.", "kataib-hezbollah"))
    seq = fields.Integer(required=True, metadata={"description": "Its last change's seq."})
    version = fields.Integer(
        required=True,
        metadata={"description": "Its version in the newer state (a tombstone's if removed)."},
    )
    fields_ = fields.List(
        fields.String(),
        data_key="fields",
        attribute="fields",
        required=True,
        metadata={"description": "The fields that differ (every field if added or removed)."},
    )
    before = fields.Dict(
        required=True,
        allow_none=True,
        metadata={
            "description": "In the older state (bundle format): the whole record if removed, "
            "the fields that differ if changed, null if added."
        },
    )
    after = fields.Dict(
        required=True,
        allow_none=True,
        metadata={
            "description": "In the newer state: the whole record if added, the fields that "
            "differ if changed (a field removed is absent), null if removed."
        },
    )
