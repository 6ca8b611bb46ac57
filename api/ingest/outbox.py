"""The outbox of push (api/push/): each journaled change is written with the sources it
concerns (`change_source`) and one pending `delivery` per subscription whose filters it
matches, in the change's own transaction, so a change committed is a change delivered and a
change rolled back was never announced.

Disabled subscriptions still get their deliveries: enabled again, they resume where they
stopped, in order, without a gap.
"""

from __future__ import annotations

from collections.abc import Iterable

from api.store.models import Change, ChangeSource, Delivery, Subscription, sources_of_change


def matches(record_types: str | None, sources: str | None, change_type: str, cited: set) -> bool:
    """Whether a change of `change_type` concerning the sources `cited` passes a
    subscription's filters (space-separated values; None lets everything through)."""
    if record_types and change_type not in record_types.split():
        return False
    return not sources or not cited.isdisjoint(sources.split())


def enqueue(change: Change, before: dict | None, after: dict | None) -> None:
    """Write the sources `change` concerns and its deliveries (the caller's transaction)."""
    cited = sources_of_change(change.record_type, change.record, before, after)
    if cited:
        ChangeSource.insert_many(
            [{"change": change.id, "source": source} for source in sorted(cited)]
        ).execute()
    subscribers: Iterable[tuple[int, str | None, str | None]] = Subscription.select(
        Subscription.id, Subscription.record_types, Subscription.sources
    ).tuples()
    rows = [
        {"subscription": subscription, "change": change.id}
        for subscription, record_types, sources in subscribers
        if matches(record_types, sources, change.record_type, cited)
    ]
    if rows:
        Delivery.insert_many(rows).execute()
