"""The change journal: every change of a record (by an import or a record write) bumps its
`version` and `updated_at` and adds one `Change` row, the record before and after it as the
bundle format has it. The change feed and the audit trail read these rows.

Callers hold the write lock (api/store/ddl.py `exclusive`), so versions and `Change.id` (the feed's
`seq`) grow in commit order on both backends.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import peewee as pw

from api.ingest import outbox
from api.ingest.bundle_form import (
    CITATION_COLUMNS,
    SOURCE_FIELDS,
    citation_item,
    contributed_by,
    definition,
)
from api.ingest.principal import Principal
from api.ingest.resolve import Plan
from api.ingest.write import Writer
from api.records import WRITABLE, named, of_collection
from api.store import notify
from api.store.models import Change, Citation, Source, relation_slug, utcnow

OPS = ("create", "update", "delete")


class StaleVersion(Exception):
    """The record's version is not the one the write was based on (HTTP 412)."""


def snapshot(collection: str, row: pw.Model) -> dict[str, Any]:
    """A record as a bundle would define it, with every citation (source id and excerpt, or
    the public record)."""
    cited = (
        Citation.select(Source.slug, *CITATION_COLUMNS)
        .join(Source, on=(Citation.source == Source.id))
        .where(
            (Citation.record_type == of_collection(collection).name)
            & (Citation.record_id == row.id)
        )
        .order_by(Citation.position, Citation.id)
    )
    record = definition(collection, row)
    if collection == "relations":
        record = {"id": row.slug, **record}
    return record | {"citations": [citation_item(*columns) for columns in cited.tuples()]}


def source_snapshot(row: Source) -> dict[str, Any]:
    """A source as the journal keeps it: its fields, its owner, and a digest of its text (the
    text itself is in the source, and up to MAX_BUNDLE_BYTES)."""
    digest = None if row.text is None else hashlib.sha256(row.text.encode()).hexdigest()
    fields = {name: getattr(row, name) for name in (*SOURCE_FIELDS, "language", "owner")}
    return {"id": row.slug, **fields, "text_sha256": digest}


def _snapshot_by_id(collection: str, row_id: int) -> dict[str, Any] | None:
    row = of_collection(collection).model.get_or_none(of_collection(collection).model.id == row_id)
    return None if row is None else snapshot(collection, row)


def encode(record: dict | None) -> str | None:
    return None if record is None else json.dumps(record, default=str, ensure_ascii=False)


def bump(collection: str, row_id: int, expected: int | None = None) -> int:
    """Version + 1 and `updated_at` now; with `expected`, only if the version is still that
    (a conditional UPDATE: StaleVersion otherwise). The new version."""
    model = of_collection(collection).model
    where = model.id == row_id
    if expected is not None:
        where &= model.version == expected
    changed = model.update(version=model.version + 1, updated_at=utcnow()).where(where).execute()
    if not changed:
        raise StaleVersion(f"{of_collection(collection).name} changed since version {expected}.")
    if expected is not None:  # it was `expected`, under the write lock
        return expected + 1
    return model.select(model.version).where(model.id == row_id).scalar()


def log(
    op: str,
    collection: str,
    slug: str,
    version: int,
    by: Principal,
    before: dict | None,
    after: dict | None,
) -> Change:
    """One journal entry by a key and its owner (the caller has bumped the version, or
    created the record), its outbox rows (api/ingest/outbox.py) and its announcement to
    those who follow the feed (api/store/notify.py), sent when the transaction commits."""
    change = Change.create(
        key=by.key,
        owner=by.owner,
        op=op,
        record_type=of_collection(collection).name,
        record=slug,
        version=version,
        before=encode(before),
        after=encode(after),
    )
    outbox.enqueue(change, before, after)
    notify.announce()
    return change


def log_created(collection: str, row_id: int, by: Principal) -> None:
    """Journal a record just created (version 1)."""
    row = of_collection(collection).model.get_by_id(row_id)
    log("create", collection, row.slug, row.version, by, None, snapshot(collection, row))


def log_updated(collection: str, row_id: int, by: Principal, before: dict | None) -> None:
    """Bump and journal a record just changed; `before` is its snapshot before the change."""
    version = bump(collection, row_id)
    row = of_collection(collection).model.get_by_id(row_id)
    log("update", collection, row.slug, version, by, before, snapshot(collection, row))


def log_deleted(
    collection: str, slug: str, version: int, by: Principal, before: dict | None
) -> None:
    """Journal a record just deleted: its tombstone, one version after its last."""
    log("delete", collection, slug, version + 1, by, before, None)


class JournaledWriter(Writer):
    """The importer's Writer, journaling each record it creates, changes or deletes as one
    change by `by` (an API key and its owner, or the command line)."""

    def __init__(self, by: Principal) -> None:
        super().__init__(by)
        self.by = by
        self.before: dict | None = None

    def begin(self, collection: str, slug: str) -> None:
        model = of_collection(collection).model
        row = model.get_or_none(model.slug == slug)
        self.before = None if row is None else snapshot(collection, row)

    def source(self, data: dict) -> None:
        row = Source.get_or_none(Source.slug == data["id"])
        before = None if row is None else source_snapshot(row)
        super().source(data)
        row = Source.get(Source.slug == data["id"])
        after = source_snapshot(row)
        if before is None:
            log("create", "sources", row.slug, row.version, self.by, None, after)
        elif after != before:
            version = bump("sources", row.id)
            log("update", "sources", row.slug, version, self.by, before, after)

    def source_deleted(self, row: Source) -> None:
        """Journal a source about to be deleted: its tombstone."""
        log("delete", "sources", row.slug, row.version + 1, self.by, source_snapshot(row), None)

    def actor(self, data: dict, bundle: str) -> None:
        self.begin("actors", data["id"])
        super().actor(data, bundle)

    def relation(self, data: dict, bundle: str) -> None:
        self.begin("relations", relation_slug(data["subject"], data["predicate"], data["object"]))
        super().relation(data, bundle)

    def location(self, data: dict, bundle: str) -> None:
        self.begin("locations", data["id"])
        super().location(data, bundle)

    def event(self, data: dict, bundle: str) -> None:
        self.begin("events", data["id"])
        super().event(data, bundle)

    def statement(self, data: dict, bundle: str) -> None:
        self.begin("statements", data["id"])
        super().statement(data, bundle)

    def finish(self, collection: str, row_id: int, created: bool, bundle: str = "") -> None:
        changed = self.changed
        super().finish(collection, row_id, created, bundle)
        if of_collection(collection) not in WRITABLE:  # sources are not journaled
            return
        if created:
            log_created(collection, row_id, self.by)
        elif changed:
            log_updated(collection, row_id, self.by, self.before)

    def remove(self, plan: Plan) -> None:
        """Journal the records the import deletes, and those that lose a citation."""
        before: dict[tuple[str, int], tuple[dict, int]] = {}
        for kind in WRITABLE:
            collection, record_type, model = kind.collection, kind.name, kind.model
            candidates = set(plan.stale.get(collection, ()))
            for slug, source_id in plan.sources.items():
                kept = self.touched[(slug, collection)]
                withdrawn = Citation.select(Citation.record_id).where(
                    (Citation.record_type == record_type)
                    & contributed_by([source_id])
                    & Citation.record_id.not_in(list(kept) or [0])
                )
                candidates |= {row_id for (row_id,) in withdrawn.tuples()}
            for row in model.select().where(model.id.in_(list(candidates) or [0])):
                before[(collection, row.id)] = (snapshot(collection, row), row.version)
        super().remove(plan)
        for (collection, row_id), (old, version) in before.items():
            if row_id in plan.stale.get(collection, ()):
                log_deleted(collection, old["id"], version, self.by, old)
            elif _snapshot_by_id(collection, row_id) != old:
                log_updated(collection, row_id, self.by, old)

    def citing(self, source_id: int) -> dict[tuple[str, int], dict]:
        """Snapshots of the records that cite a source about to be deleted (its citations
        go with it, other bundles' excerpts of it too)."""
        found = {}
        query = Citation.select(Citation.record_type, Citation.record_id).where(
            (Citation.source == source_id) | (Citation.bundle == source_id)
        )
        for record_type, row_id in query.distinct().tuples():
            snapshot_now = _snapshot_by_id(named(record_type).collection, row_id)
            if snapshot_now is not None:
                found[(named(record_type).collection, row_id)] = snapshot_now
        return found

    def changed_since(self, snapshots: dict[tuple[str, int], dict]) -> None:
        """Journal each record whose snapshot changed (and that still exists)."""
        for (collection, row_id), old in snapshots.items():
            new = _snapshot_by_id(collection, row_id)
            if new is not None and new != old:
                log_updated(collection, row_id, self.by, old)
