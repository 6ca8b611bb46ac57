"""Releases as listed (always from the live database), and the diff between two releases (or a
release and now), derived from the change journal so that it is exact: the records whose
changes fall between the two releases' `seq`, each collapsed to its state before the first of
them and after the last (the journal's bundle form)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import peewee as pw

from api.queries.errors import Gone, NotFound
from api.records import RECORD_TYPES
from api.store.db import bound_to
from api.store.models import Change, Release

LATEST = "latest"


def _gone(release: Release) -> Gone:
    return Gone(
        f"The release {release.name!r} was deleted on "
        f"{release.deleted_at:%Y-%m-%d %H:%M} UTC by {release.deleted_by}."
    )


def find(name: str) -> Release:
    """The release named `name` (`latest`: the newest), read from the live database;
    NotFound, or Gone for a deleted one."""
    with bound_to(None):
        if name == LATEST:
            found = newest()
            if found is None:
                raise NotFound("No release has been made yet.")
            return found
        found = Release.get_or_none(Release.name == name)
    if found is None:
        raise NotFound(f"No release is named {name!r}.")
    if found.deleted_at is not None:
        raise _gone(found)
    return found


def newest() -> Release | None:
    """The newest release not deleted, if any."""
    return (
        Release.select()
        .where(Release.deleted_at.is_null())
        .order_by(Release.seq.desc(), Release.id.desc())
        .first()
    )


def every() -> list[Release]:
    """Every release not deleted, newest first."""
    with bound_to(None):
        query = Release.select().where(Release.deleted_at.is_null())
        return list(query.order_by(Release.seq.desc(), Release.id.desc()))


def current_seq() -> int:
    """The seq of the last change of the live journal (0 when there is none)."""
    with bound_to(None):
        return Change.select(pw.fn.MAX(Change.id)).scalar() or 0


def describe(release: Release) -> dict[str, Any]:
    """A release as the API shows it."""
    return {
        "name": release.name,
        "description": release.description,
        "created_at": release.created_at.replace(tzinfo=dt.UTC),  # stored naive, in UTC
        "created_by": release.created_by,
        "seq": release.seq,
        "counts": json.loads(release.counts),
        "schema_version": release.schema_version,
        "snapshot_bytes": release.snapshot_bytes,
        "downloads": json.loads(release.downloads),
    }


@dataclass(frozen=True)
class DiffEntry:
    """One record's change between two states: `op` added, changed or removed; `fields` that
    differ; `before` and `after` (the whole record when added or removed, else only the
    fields that differ)."""

    op: str
    record_type: str
    id: str
    seq: int
    version: int
    fields: list[str]
    before: dict | None
    after: dict | None


def diff_page(since: int, until: int, after: int, limit: int) -> tuple[list[DiffEntry], int | None]:
    """The records changed between seq `since` (excluded) and `until` (included), ordered by the
    seq of their last change, from the first whose last change is after `after`: up to `limit`
    records examined, and the cursor of the next page (None at the end). A record changed
    and changed back, or created and deleted in between, is not listed."""
    journaled = [t.name for t in RECORD_TYPES]
    last = pw.fn.MAX(Change.id)
    groups = (
        Change.select(pw.fn.MIN(Change.id), last)
        .where((Change.id > since) & (Change.id <= until) & Change.record_type.in_(journaled))
        .group_by(Change.record_type, Change.record)
        .having(last > after)
        .order_by(last)
        .limit(limit + 1)
    )
    with bound_to(None):
        found = list(groups.tuples())
        more = len(found) > limit
        found = found[:limit]
        ids = [seq for pair in found for seq in pair]
        rows = {row.id: row for row in Change.select().where(Change.id.in_(ids or [0]))}
    entries = [_entry(rows[first], rows[last_seq]) for first, last_seq in found]
    cursor = found[-1][1] if more and found else None
    return [entry for entry in entries if entry is not None], cursor


def _entry(first: Change, last: Change) -> DiffEntry | None:
    before = json.loads(first.before) if first.before else None
    after = json.loads(last.after) if last.after else None
    common = {"record_type": first.record_type, "id": first.record, "seq": last.id}
    if before is None and after is None:
        return None
    if before is None:
        assert after is not None
        return DiffEntry("added", **common, version=last.version, fields=sorted(after),
                         before=None, after=after)  # fmt: skip
    if after is None:
        return DiffEntry("removed", **common, version=last.version, fields=sorted(before),
                         before=before, after=None)  # fmt: skip
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    if not changed:
        return None
    return DiffEntry(
        "changed",
        **common,
        version=last.version,
        fields=changed,
        before={k: before[k] for k in changed if k in before},
        after={k: after[k] for k in changed if k in after},
    )
