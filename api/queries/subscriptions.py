"""Webhook subscriptions and their deliveries, as their owners read them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import peewee as pw

from api.queries.errors import NotFound
from api.store.models import Change, Delivery, Subscription


class UnknownSubscription(NotFound):
    """No subscription of this key has that id (HTTP 404)."""


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    return None if moment is None else moment.replace(tzinfo=dt.UTC)


def owned(slug: str, owner: str | None) -> Any:
    """The subscription `slug` of `owner` (None: of anyone); UnknownSubscription else."""
    query = Subscription.select().where(Subscription.slug == slug)
    if owner is not None:
        query = query.where(Subscription.key == owner)
    row = query.first()
    if row is None:
        raise UnknownSubscription(f"No subscription {slug!r} of this key.")
    return row


def describe(row: Any) -> dict[str, Any]:
    """A subscription as the API shows it (never its secret)."""
    pending = (
        Delivery.select(pw.fn.COUNT(Delivery.id))
        .where((Delivery.subscription == row.id) & (Delivery.status == "pending"))
        .scalar()
    )
    return {
        "id": row.slug,
        "url": row.url,
        "description": row.description,
        "filters": {
            "record_type": (row.record_types or "").split(),
            "source": (row.sources or "").split(),
        },
        "enabled": row.enabled,
        "disabled_reason": row.disabled_reason,
        "pending": pending,
        "retry_at": _aware(row.retry_at),
        "created_at": _aware(row.created_at),
        "updated_at": _aware(row.updated_at),
    }


def subscription(slug: str, owner: str | None) -> dict[str, Any]:
    """One subscription of `owner` (None: of anyone)."""
    return describe(owned(slug, owner))


def subscriptions(owner: str | None) -> list[dict[str, Any]]:
    """The subscriptions of `owner` (None: every one), oldest first."""
    query = Subscription.select().order_by(Subscription.id)
    if owner is not None:
        query = query.where(Subscription.key == owner)
    return [describe(row) for row in query]


def deliveries_page(
    slug: str, owner: str | None, args: dict[str, Any]
) -> tuple[list[dict[str, Any]], bool, int]:
    """A subscription's deliveries after the seq `since`, in feed order, optionally of one
    `status`: (entries, whether more follow, how many match after `since`)."""
    row = owned(slug, owner)
    query = (
        Delivery.select(Delivery, Change.id, Change.op, Change.record_type, Change.record)
        .join(Change, on=(Delivery.change == Change.id))
        .where((Delivery.subscription == row.id) & (Delivery.change > args["since"]))
    )
    if args.get("status"):
        query = query.where(Delivery.status == args["status"])
    found = list(query.order_by(Delivery.id).limit(args["limit"] + 1))
    total = query.select(pw.fn.COUNT(Delivery.id)).scalar()
    entries = [
        {
            "seq": d.change.id,
            "webhook_id": message_id(row.slug, d.change.id),
            "op": d.change.op,
            "record_type": d.change.record_type,
            "record": d.change.record,
            "status": d.status,
            "attempts": d.attempts,
            "last_attempt_at": _aware(d.last_attempt_at),
            "last_status": d.last_status,
            "last_error": d.last_error,
            "delivered_at": _aware(d.delivered_at),
        }
        for d in found[: args["limit"]]
    ]
    return entries, len(found) > args["limit"], total


def message_id(subscription_slug: str, seq: int) -> str:
    """The `webhook-id` of a change's delivery to a subscription: the same on every attempt,
    so receivers can drop a duplicate."""
    return f"msg_{seq}_{subscription_slug.removeprefix('sub_')}"
