"""The change feed and the audit trail: the change journal (`Change`), in `seq` order."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import peewee as pw

from api.store.models import Change


def _naive_utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(tzinfo=None) if moment.tzinfo else moment


def journal_page(args: dict[str, Any]) -> tuple[list[Change], bool, int]:
    """Changes after `since` (a seq) matching the audit filters, at most `limit` of them:
    (rows, whether more follow, how many match after `since`)."""
    query = Change.select().where(Change.id > args["since"])
    if args.get("key"):
        query = query.where(Change.key == args["key"])
    if args.get("record_type"):
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
