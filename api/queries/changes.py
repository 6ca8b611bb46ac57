"""The change feed and the audit trail: the change journal (`Change`), in `seq` order."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import peewee as pw

from api.store.models import Change, ChangeSource


def _naive_utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(tzinfo=None) if moment.tzinfo else moment


def filtered(query: pw.SelectQuery, args: dict[str, Any]) -> pw.SelectQuery:
    """`query` of changes narrowed by the feed's filters (schemas/writes.py ChangeFilters):
    record types, and sources cited before or after the change."""
    if isinstance(args.get("record_type"), list) and args["record_type"]:
        query = query.where(Change.record_type.in_(args["record_type"]))
    if args.get("source"):
        concerned = ChangeSource.select(ChangeSource.change).where(
            ChangeSource.source.in_(args["source"])
        )
        query = query.where(Change.id.in_(concerned))
    return query


# What the feed shows of a change (`feed_entry`): not the records before and after it.
FEED_COLUMNS = (
    Change.id,
    Change.time,
    Change.op,
    Change.record_type,
    Change.record,
    Change.version,
)


def changes_after(after: int, args: dict[str, Any], limit: int) -> list[Change]:
    """At most `limit` changes after the seq `after` (up to the seq `until`, when given) that
    pass the feed's filters, in order; only their FEED_COLUMNS."""
    query = Change.select(*FEED_COLUMNS).where(Change.id > after)
    if args.get("until") is not None:
        query = query.where(Change.id <= args["until"])
    return list(filtered(query, args).order_by(Change.id).limit(limit))


def latest_seq() -> int:
    """The seq of the last change committed (0 before any)."""
    return Change.select(pw.fn.MAX(Change.id)).scalar() or 0


def journal_page(args: dict[str, Any]) -> tuple[list[Change], bool, int]:
    """Changes after `since` (a seq) matching the feed's or the audit's filters, at most
    `limit` of them: (rows, whether more follow, how many match after `since`)."""
    query = filtered(Change.select().where(Change.id > args["since"]), args)
    if args.get("key"):
        query = query.where(Change.key == args["key"])
    if isinstance(args.get("record_type"), str):  # the audit's: one type
        query = query.where(Change.record_type == args["record_type"])
    if args.get("record"):
        query = query.where(Change.record == args["record"])
    if args.get("time_from"):
        query = query.where(Change.time >= _naive_utc(args["time_from"]))
    if args.get("time_to"):
        query = query.where(Change.time <= _naive_utc(args["time_to"]))
    rows = list(query.order_by(Change.id).limit(args["limit"] + 1))
    total = query.select(pw.fn.COUNT(Change.id)).scalar()
    return rows[: args["limit"]], len(rows) > args["limit"], total


def feed_entry(row: Change) -> dict[str, Any]:
    """A change as the public feed lists it."""
    return {
        "seq": row.id,
        "time": row.time.replace(tzinfo=dt.UTC),
        "op": row.op,
        "record_type": row.record_type,
        "id": row.record,
        "version": row.version,
    }


def audit_entry(row: Change) -> dict[str, Any]:
    """A change as the audit trail lists it: who, and the record before and after."""
    return feed_entry(row) | {
        "key": row.key,
        "owner": row.owner,
        "before": json.loads(row.before) if row.before else None,
        "after": json.loads(row.after) if row.after else None,
    }
