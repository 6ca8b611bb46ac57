"""Push: webhook subscriptions, their deliveries and the live stream's arguments."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from schemas.bundle import StrictSchema
from schemas.grammar import NO_NUL, QueryArgs, meta
from schemas.writes import JOURNALED_TYPES, ChangeFilters, JournalArgs

DELIVERY_STATUSES = ("pending", "delivered", "failed")
MAX_FILTER_VALUES = 100
EXAMPLE_SOURCE = "al-monitor-2020-04-07-us-iran-showdown-iraq"


class StreamArgs(ChangeFilters, QueryArgs):
    after = fields.Integer(
        validate=validate.Range(0, 2**62),
        metadata=meta(
            "Start after this `seq` (as `Last-Event-ID` does; the header wins). Default: "
            "the changes committed from now on.",
            0,
        ),
    )


class SubscriptionFilters(StrictSchema):
    """Which changes a subscription receives: the feed's filters (empty: every change)."""

    record_type = fields.List(
        fields.String(validate=validate.OneOf(JOURNALED_TYPES)),
        load_default=list,
        validate=validate.Length(max=len(JOURNALED_TYPES)),
        metadata=meta("Changes of these record types (empty: every type).", ["event"]),
    )
    source = fields.List(
        fields.String(validate=[validate.Length(1, 200), NO_NUL]),
        load_default=list,
        validate=validate.Length(max=MAX_FILTER_VALUES),
        metadata=meta(
            "Changes of records citing one of these sources, before or after (a deletion: "
            "in its last state), and of the sources themselves (empty: every source).",
            [EXAMPLE_SOURCE],
        ),
    )


def _url_field(**kwargs) -> fields.String:
    return fields.String(
        validate=validate.Length(1, 2000),
        metadata=meta(
            "Where deliveries are POSTed: https (http only where the deployment allows it); "
            "its host may not resolve to a loopback, private, link-local or metadata address. "
            "Redirects are not followed.",
            "https://hooks.example.org/briefing",
        ),
        **kwargs,
    )


def _description_field(**kwargs) -> fields.String:
    return fields.String(
        validate=validate.Length(max=500),
        allow_none=True,
        metadata=meta("What the subscription is for (at most 500 characters).", "Mirror"),
        **kwargs,
    )


class SubscriptionInputSchema(StrictSchema):
    """A new webhook subscription."""

    url = _url_field(required=True)
    description = _description_field(load_default=None)
    filters = fields.Nested(SubscriptionFilters, load_default=dict)


class SubscriptionPatchSchema(StrictSchema):
    """Changes to a subscription: any of its fields; `enabled: true` resumes a disabled one
    from its first undelivered change."""

    url = _url_field()
    description = _description_field()
    filters = fields.Nested(SubscriptionFilters)
    enabled = fields.Boolean(
        metadata=meta("false: pause deliveries; true: resume (after a failure too).", True)
    )


class SubscriptionSchema(ma.Schema):
    """A webhook subscription (its secret is shown only when made or rotated)."""

    id = fields.String(metadata=meta("Public id.", "sub_5f1c2a9e0b7d4c3a"))
    url = fields.String(metadata=meta("Where deliveries are POSTed."))
    description = fields.String(allow_none=True)
    filters = fields.Nested(SubscriptionFilters)
    enabled = fields.Boolean(metadata=meta("Whether changes are being delivered."))
    disabled_reason = fields.String(
        allow_none=True, metadata=meta("Why it was disabled (repeated failure, or its owner).")
    )
    pending = fields.Integer(metadata=meta("Deliveries not made yet."))
    retry_at = fields.DateTime(
        allow_none=True, metadata=meta("After a failed attempt: when it is retried.")
    )
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class SubscriptionSecretSchema(SubscriptionSchema):
    """A subscription with its signing secret, shown this once."""

    secret = fields.String(
        metadata=meta(
            "The Standard Webhooks signing secret (`whsec_` + base64): store it now, it is "
            "not shown again.",
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        )
    )
    previous_secret_expires_at = fields.DateTime(
        allow_none=True,
        metadata=meta("After a rotation: until when the previous secret signs too."),
    )


class DeliveryArgs(JournalArgs):
    status = fields.String(
        validate=validate.OneOf(DELIVERY_STATUSES), metadata=meta("Only deliveries in it.")
    )


class DeliverySchema(ma.Schema):
    """One change's delivery to a subscription."""

    seq = fields.Integer(metadata=meta("The change's `seq` in the feed.", 1))
    webhook_id = fields.String(metadata=meta("Its `webhook-id` (the same on every attempt)."))
    op = fields.String(metadata={"enum": ["create", "update", "delete"]})
    record_type = fields.String(metadata={"enum": list(JOURNALED_TYPES)})
    record = fields.String(metadata=meta("Public id of the record.", "kataib-hezbollah"))
    status = fields.String(metadata={"enum": list(DELIVERY_STATUSES)})
    attempts = fields.Integer()
    last_attempt_at = fields.DateTime(allow_none=True)
    last_status = fields.Integer(
        allow_none=True, metadata=meta("The receiver's HTTP status at the last attempt.")
    )
    last_error = fields.String(
        allow_none=True,
        metadata=meta("What went wrong at the last attempt (its start, if the receiver said)."),
    )
    delivered_at = fields.DateTime(allow_none=True)
