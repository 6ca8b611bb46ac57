"""API keys over HTTP (`/v1/keys`, admin scope): what creating and rotating one takes, and a
key as it is shown (never its secret or a hash, but once, when it is made or rotated)."""

from __future__ import annotations

import datetime as dt

import marshmallow as ma
from marshmallow import fields, validate

from schemas.grammar import meta

SCOPES = ("read", "write", "admin")  # each implies the ones before it
KEY_STATES = ("active", "expired", "revoked")
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$"
MAX_GRACE_SECONDS = 30 * 24 * 3600
DEFAULT_GRACE_SECONDS = 24 * 3600
EXAMPLE_KEY = "bk_3f9a1c2b7d4e.Xq8Zr0m4dJw2nV6tL1sYp9cH3kE7uB5aG0fR2iO8yT4"


class KeyCreateSchema(ma.Schema):
    """A new key: its name, the owner it acts for, its scope and an optional expiry."""

    class Meta:
        unknown = ma.RAISE

    name = fields.String(
        required=True,
        validate=validate.Regexp(NAME_PATTERN),
        metadata=meta("Unique name of the key (the audit trail shows it).", "partner-a-ci"),
    )
    owner = fields.String(
        required=True,
        validate=validate.Regexp(NAME_PATTERN),
        metadata=meta(
            "The team or organisation the key acts for: a `write` key may change only the "
            "sources this owner imported and the records they support.",
            "partner-a",
        ),
    )
    scope = fields.String(
        load_default="write",
        validate=validate.OneOf(SCOPES),
        metadata=meta("`admin` implies `write` implies `read`.", "write"),
    )
    expires_at = fields.AwareDateTime(
        load_default=None,
        allow_none=True,
        default_timezone=dt.UTC,
        metadata=meta(
            "When the key stops working (ISO 8601, UTC unless it has an offset); null: never.",
            "2027-01-01T00:00:00Z",
        ),
    )


class KeyRotateSchema(ma.Schema):
    """How long the previous secret keeps working after a rotation."""

    class Meta:
        unknown = ma.RAISE

    grace_seconds = fields.Integer(
        load_default=DEFAULT_GRACE_SECONDS,
        validate=validate.Range(0, MAX_GRACE_SECONDS),
        metadata=meta(
            "Seconds the previous secret still opens the key, so that its clients can move "
            "to the new one (0: it stops at once; at most 30 days).",
            3600,
        ),
    )


class KeySchema(ma.Schema):
    """An API key as it is shown: never its secret or a hash."""

    name = fields.String(required=True, metadata=meta("Name of the key.", "partner-a-ci"))
    prefix = fields.String(
        required=True,
        metadata=meta("The key's public prefix (its part before the dot).", "bk_3f9a1c2b7d4e"),
    )
    owner = fields.String(required=True, metadata=meta("The owner it acts for.", "partner-a"))
    scope = fields.String(required=True, metadata={"enum": list(SCOPES)})
    state = fields.String(
        required=True,
        metadata={"enum": list(KEY_STATES), "description": "Whether it opens anything now."},
    )
    created_at = fields.DateTime(required=True, metadata=meta("When it was made (UTC)."))
    expires_at = fields.DateTime(
        required=True, allow_none=True, metadata=meta("When it stops working; null: never.")
    )
    last_used_at = fields.DateTime(
        required=True,
        allow_none=True,
        metadata=meta(
            "When it last opened a request (UTC; written at most once per "
            "API_KEY_LAST_USED_SECONDS); null: never."
        ),
    )
    revoked_at = fields.DateTime(
        required=True, allow_none=True, metadata=meta("When it was revoked; null: it was not.")
    )
    previous_secret_until = fields.DateTime(
        required=True,
        allow_none=True,
        metadata=meta("After a rotation, until when the previous secret still opens it."),
    )


class IssuedKeySchema(KeySchema):
    """A key just created or rotated, with its secret: shown this once, stored nowhere."""

    key = fields.String(
        required=True,
        metadata=meta(
            "The key to send as `Authorization: Bearer KEY`. Store it now: it is not shown "
            "again (only an argon2 hash is kept).",
            EXAMPLE_KEY,
        ),
    )
