"""`/v1/subscriptions`: webhooks. A write key makes subscriptions and manages its own (an admin
key, every one); `briefing deliver` POSTs each matching change to them, signed."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import current_app, request
from flask.views import MethodView

from api.http.auth import is_admin, principal, require, security
from api.http.base import NO_KEY_DOC, Blueprint, problem_doc
from api.http.errors import abort
from api.push import PushSettings, subscriptions
from api.push.targets import UnsafeTarget, resolve
from api.queries.subscriptions import deliveries_page, subscription
from api.queries.subscriptions import subscriptions as listed
from schemas.push import (
    DeliveryArgs,
    DeliverySchema,
    SubscriptionInputSchema,
    SubscriptionPatchSchema,
    SubscriptionSchema,
    SubscriptionSecretSchema,
)

blp = Blueprint(
    "subscriptions",
    __name__,
    url_prefix="/v1/subscriptions",
    description="Webhooks: the changes of the feed POSTed to your URL as they are committed, "
    "signed (Standard Webhooks), at least once and in feed order.",
)


@blp.after_request
def never_stored(response):
    """A key's subscriptions and deliveries are its own: no cache may keep them."""
    response.headers["Cache-Control"] = "no-store"
    return response


SUBSCRIPTION_ID = {
    "in": "path",
    "name": "subscription_id",
    "required": True,
    "schema": {"type": "string"},
    "description": "The subscription's id, as its creation returned it (`sub_` and 16 hex digits).",
}
KEYED = {
    401: NO_KEY_DOC,
    403: problem_doc("The key lacks the `write` scope."),
}
UNKNOWN = problem_doc("No subscription of this key has that id.")
REFUSED_TARGET = problem_doc(
    "The body is invalid, or its URL is refused (not https, or its host resolves to a "
    "loopback, private, link-local or metadata address): `errors` says why."
)


def owner() -> str | None:
    """Whose subscriptions this key manages: its own, or (admin) every one."""
    return None if is_admin() else principal().key


def push_settings() -> PushSettings:
    return PushSettings.from_config(current_app.config)


def resolver():
    """The target resolver: the system's, or the app's `WEBHOOK_RESOLVER` (tests)."""
    return current_app.config.get("WEBHOOK_RESOLVER") or resolve


def refused_target(error: UnsafeTarget):
    abort(422, message=str(error), errors=[{"path": "json.url", "message": str(error)}])


@blp.route("")
class Subscriptions(MethodView):
    @require("write")
    @blp.response(200, SubscriptionSchema(many=True))
    @blp.alt_response(401, **KEYED[401])
    @blp.alt_response(403, **KEYED[403])
    @blp.doc(
        summary="List subscriptions",
        operationId="listSubscriptions",
        description="This key's webhook subscriptions (an admin key's: every one).",
        **security("write"),
    )
    def get(self):
        return listed(owner())

    @require("write")
    @blp.arguments(SubscriptionInputSchema, location="json")
    @blp.response(
        201,
        SubscriptionSecretSchema,
        description="Created; `secret` is shown this once.",
        headers={"Location": {"description": "The subscription.", "schema": {"type": "string"}}},
    )
    @blp.alt_response(401, **KEYED[401])
    @blp.alt_response(403, **KEYED[403])
    @blp.alt_response(422, **REFUSED_TARGET)
    @blp.doc(
        summary="Create a subscription",
        description="Every change matching `filters` (the feed's: record types, sources) "
        "committed from now on is POSTed to `url` as JSON (`type`, `timestamp`, `data`: the "
        "feed's entry and `record`, the record after the change or, for a deletion, its last "
        "state), with the Standard Webhooks headers `webhook-id`, `webhook-timestamp` and "
        "`webhook-signature` (HMAC-SHA256 with the `secret` returned here, once). A 2xx "
        "answer within 5 s is a delivery; anything else is retried with exponential back-off, "
        "in order, and after 8 failed attempts the subscription is disabled. Needs a `write` "
        "key.",
        **security("write"),
    )
    def post(self, data: dict):
        try:
            made = subscriptions.create(principal().key, data, push_settings(), resolver())
        except UnsafeTarget as error:
            refused_target(error)
        shown = subscription(made.id, None) | {
            "secret": made.secret,
            "previous_secret_expires_at": None,
        }
        return shown, 201, {"Location": f"{request.base_url}/{made.id}"}


@blp.route("/<subscription_id>", parameters=[SUBSCRIPTION_ID])
class SubscriptionView(MethodView):
    @require("write")
    @blp.response(200, SubscriptionSchema)
    @blp.alt_response(401, **KEYED[401])
    @blp.alt_response(403, **KEYED[403])
    @blp.alt_response(404, **UNKNOWN)
    @blp.doc(
        summary="Get a subscription",
        description="A subscription: its filters, whether it is enabled (and if not, why), "
        "how many deliveries are pending.",
        **security("write"),
    )
    def get(self, subscription_id: str):
        return subscription(subscription_id, owner())

    @require("write")
    @blp.arguments(SubscriptionPatchSchema, location="json")
    @blp.response(200, SubscriptionSchema)
    @blp.alt_response(401, **KEYED[401])
    @blp.alt_response(403, **KEYED[403])
    @blp.alt_response(404, **UNKNOWN)
    @blp.alt_response(422, **REFUSED_TARGET)
    @blp.doc(
        summary="Change a subscription",
        description="Change its `url` (checked again), `filters` or `description`; "
        "`enabled: false` pauses it, `enabled: true` resumes it (after a failure too) from "
        "its first undelivered change. Changes committed meanwhile are kept for it.",
        **security("write"),
    )
    def patch(self, data: dict, subscription_id: str):
        try:
            subscriptions.update(subscription_id, owner(), data, push_settings(), resolver())
        except UnsafeTarget as error:
            refused_target(error)
        return subscription(subscription_id, owner())

    @require("write")
    @blp.response(204, description="Removed, with its pending deliveries.")
    @blp.alt_response(401, **KEYED[401])
    @blp.alt_response(403, **KEYED[403])
    @blp.alt_response(404, **UNKNOWN)
    @blp.doc(
        summary="Delete a subscription",
        description="Remove the subscription: nothing more is delivered to it, and its "
        "pending deliveries are dropped.",
        **security("write"),
    )
    def delete(self, subscription_id: str):
        subscriptions.delete(subscription_id, owner())
        return None


@blp.route("/<subscription_id>/secret", parameters=[SUBSCRIPTION_ID])
class SecretRotation(MethodView):
    @require("write")
    @blp.response(200, SubscriptionSecretSchema, description="The new secret, shown this once.")
    @blp.alt_response(401, **KEYED[401])
    @blp.alt_response(403, **KEYED[403])
    @blp.alt_response(404, **UNKNOWN)
    @blp.doc(
        summary="Rotate a subscription's secret",
        operationId="rotateSubscriptionSecret",
        description="A new signing secret, shown once. The previous one goes on signing "
        "beside it (`webhook-signature` then carries both) until "
        "`previous_secret_expires_at` (24 h), so receivers switch without refusing a "
        "delivery.",
        **security("write"),
    )
    def post(self, subscription_id: str):
        made = subscriptions.rotate(subscription_id, owner(), push_settings())
        return subscription(subscription_id, owner()) | {
            "secret": made.secret,
            "previous_secret_expires_at": made.previous_secret_expires_at,
        }


@blp.route("/<subscription_id>/deliveries", parameters=[SUBSCRIPTION_ID])
class Deliveries(MethodView):
    @require("write")
    @blp.arguments(DeliveryArgs(), location="query", as_kwargs=False)
    @blp.response(
        200,
        DeliverySchema(many=True),
        headers={
            "Link": {"description": 'The next page (rel="next").', "schema": {"type": "string"}},
            "X-Total-Count": {
                "description": "Deliveries after `since` that match.",
                "schema": {"type": "integer"},
            },
        },
    )
    @blp.alt_response(401, **KEYED[401])
    @blp.alt_response(403, **KEYED[403])
    @blp.alt_response(404, **UNKNOWN)
    @blp.doc(
        summary="List a subscription's deliveries",
        operationId="listSubscriptionDeliveries",
        description="Each change delivered or to deliver, in feed order: its status "
        "(`pending`, `delivered`, `failed`), attempts, the receiver's last HTTP status and "
        "the last error. `since=<seq>` pages on (follow `Link`).",
        **security("write"),
    )
    def get(self, args: dict, subscription_id: str):
        entries, more, total = deliveries_page(subscription_id, owner(), args)
        headers = {"X-Total-Count": str(total)}
        if more:
            query = {k: v for k, v in request.args.items() if k != "since"}
            query["since"] = str(entries[-1]["seq"])
            headers["Link"] = f'<{request.base_url}?{urlencode(query)}>; rel="next"'
        return entries, 200, headers
