"""Webhook subscriptions: made, changed, rotated and removed by the key that made them (or an
admin key). A target is checked when the subscription is made or its URL changed
(api/push/targets.py), and again at each delivery."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

from api.push import PushSettings
from api.push.signing import new_secret
from api.push.targets import Resolver, UnsafeTarget, check, resolve
from api.queries.subscriptions import UnknownSubscription, owned
from api.store.db import database
from api.store.models import Delivery, Subscription, utcnow

__all__ = ["Created", "UnknownSubscription", "UnsafeTarget", "create", "delete", "rotate", "update"]


@dataclass
class Created:
    """A subscription made or its secret rotated: its public id and the secret (shown once)."""

    id: str
    secret: str
    previous_secret_expires_at: dt.datetime | None = None


def _filters(data: dict[str, Any]) -> dict[str, str | None]:
    filters = data.get("filters") or {}
    return {
        "record_types": " ".join(sorted(set(filters.get("record_type") or []))) or None,
        "sources": " ".join(sorted(set(filters.get("source") or []))) or None,
    }


def create(
    key: str, data: dict[str, Any], settings: PushSettings, resolver: Resolver = resolve
) -> Created:
    """A new subscription of `key` (validated `data`: url, filters, description); its target
    checked first (UnsafeTarget)."""
    check(data["url"], settings.allow_http, settings.allow_loopback, resolver)
    secret = new_secret()
    slug = "sub_" + secrets.token_hex(8)
    with database.atomic():
        Subscription.create(
            slug=slug,
            key=key,
            url=data["url"],
            description=data.get("description"),
            secret=secret,
            **_filters(data),
        )
    return Created(slug, secret)


def update(
    slug: str,
    owner: str | None,
    data: dict[str, Any],
    settings: PushSettings,
    resolver: Resolver = resolve,
) -> None:
    """Change a subscription's URL, filters, description, or enable it again (its failed
    delivery is then retried first, in order) or disable it. `owner` None: any (admin)."""
    changes: dict[str, Any] = {}
    if "url" in data:
        check(data["url"], settings.allow_http, settings.allow_loopback, resolver)
        changes["url"] = data["url"]
    if "description" in data:
        changes["description"] = data["description"]
    if "filters" in data:
        changes |= _filters(data)
    with database.atomic():
        row = owned(slug, owner)
        if "enabled" in data and data["enabled"] != row.enabled:
            changes["enabled"] = data["enabled"]
            if data["enabled"]:
                changes |= {"disabled_reason": None, "retry_at": None}
                Delivery.update(status="pending", attempts=0).where(
                    (Delivery.subscription == row.id) & (Delivery.status == "failed")
                ).execute()
            else:
                changes["disabled_reason"] = "Disabled by its owner."
        if changes:
            changes["updated_at"] = utcnow()
            Subscription.update(**changes).where(Subscription.id == row.id).execute()


def rotate(slug: str, owner: str | None, settings: PushSettings) -> Created:
    """A new secret for a subscription; the current one goes on signing beside it for
    `secret_grace_seconds`, so receivers can switch without refusing a delivery."""
    secret = new_secret()
    until = utcnow() + dt.timedelta(seconds=settings.secret_grace_seconds)
    with database.atomic():
        row = owned(slug, owner)
        Subscription.update(
            secret=secret,
            previous_secret=row.secret,
            previous_secret_until=until,
            updated_at=utcnow(),
        ).where(Subscription.id == row.id).execute()
    return Created(slug, secret, until.replace(tzinfo=dt.UTC))


def delete(slug: str, owner: str | None) -> None:
    """Remove a subscription and its deliveries."""
    with database.atomic():
        row = owned(slug, owner)
        Subscription.delete().where(Subscription.id == row.id).execute()
