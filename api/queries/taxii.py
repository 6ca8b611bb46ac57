"""What a TAXII collection holds, in `date_added` order, paged by keyset; and STIX ids read back.

A collection is every record (and every tombstone of a deleted one), or those one source
cites. Its objects are ordered by (date added, record type, row id): date added is the
record's `updated_at` (the time its current version was written) or a tombstone's deletion
time. A page reads each record type's next rows through the collection's own filters
(collection.filtered) by keyset over `(updated_at, id)` (`_bounded`), merges them and keeps the
first `limit`: the position of its last object is the next page's cursor, so a walk sees each
object once and a later poll with `added_after` sees what changed since, once. STIX ids are
read back to records by `resolve`. One module, over 400 lines: the streams, their bounds and
the merge share one notion of position and are read together.
"""

from __future__ import annotations

import bisect
import datetime as dt
import json
import threading
import uuid
from array import array
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

import peewee as pw

from api.queries import stix, stix_kept
from api.queries.actors import ACTORS
from api.queries.collection import Collection, filtered
from api.queries.errors import InvalidParameter
from api.queries.events import EVENTS
from api.queries.filters import PROBE_ABOVE, read_in_sort_order
from api.queries.list_query import ListQuery
from api.queries.loading import prepared
from api.queries.locations import LOCATIONS
from api.queries.paging import CursorSigner, Sort, count_rows
from api.queries.relations import RELATIONS
from api.queries.sources import SOURCES
from api.queries.statements import STATEMENTS
from api.store.models import Change, Source, StixAdded, StixJson

# the record types in the order a collection lists those added at the same time; tombstones
# (deleted records) come after them
STREAMS: tuple[Collection, ...] = (SOURCES, ACTORS, LOCATIONS, RELATIONS, EVENTS, STATEMENTS)
_BY_TYPE = {collection.name: collection for collection in STREAMS}
TOMBSTONES = len(STREAMS)
SHARED = -1  # the producer and the extension-definition, added before everything
DEFAULT_LIMIT = 100
_SHARED_IDS = {"producer": stix.PRODUCER_ID, "extension": stix.EXTENSION_ID}
_SHARED_TYPES = {"producer": "identity", "extension": "extension-definition"}
_SHARED_ADDED = dt.datetime.fromisoformat(stix.EXTENSION_PUBLISHED[:-1])
_ORDER = Sort("taxii", Change.time, key_type="text")  # the cursor's sort (its key: text)


@dataclass(frozen=True)
class Selection:
    """Which objects a request selects: of one source's collection (None: everything),
    added after a time, of some STIX types, of some STIX ids (None: any), of some versions
    (`modified` times; empty: any) and spec versions (empty: any)."""

    source: str | None = None
    added_after: dt.datetime | None = None  # naive UTC
    types: frozenset[str] = frozenset()  # STIX types; empty: all
    ids: tuple[str, ...] | None = None
    versions: tuple[dt.datetime, ...] = ()  # naive UTC
    spec_versions: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Resolved:
    """A Selection with its STIX ids read back as public ids, by record type."""

    selection: Selection
    slugs: Mapping[str, tuple[str, ...]] | None  # None: any

    def wants(self, record_type: str) -> bool:
        if self.slugs is not None and record_type not in self.slugs:
            return False
        if not self.selection.types:
            return True
        return any(stix.RECORD_TYPE_OF.get(t) == record_type for t in self.selection.types)


@dataclass(frozen=True)
class Entry:
    """One object of a collection, before it is loaded: where it sorts and what it is."""

    added: dt.datetime  # naive UTC
    rank: int
    row_id: int
    record_type: str
    slug: str
    kind: str | None = None  # an actor's

    @property
    def revoked(self) -> bool:
        return self.rank == TOMBSTONES

    def stix_id(self, namespace: uuid.UUID) -> str:
        if self.rank == SHARED:
            return _SHARED_IDS[self.slug]
        return stix.stix_id(namespace, self.record_type, self.slug, self.kind)


Position = tuple[dt.datetime, int, int]  # (added, rank, row id) of the last object seen


def encode_position(cursors: CursorSigner, entry: Entry) -> str:
    """The signed `next` of a page ending at `entry`."""
    key = f"{entry.added.isoformat()}|{entry.rank}"
    return cursors.encode(_ORDER, key, entry.row_id, "next")


def decode_position(cursors: CursorSigner, token: str) -> Position:
    """The position a `next` pins; InvalidParameter naming `next` when it is not one."""
    try:
        key, row_id, _direction = cursors.decode(token, _ORDER)
        added, rank = key.split("|")
        return dt.datetime.fromisoformat(added), int(rank), row_id
    except (InvalidParameter, ValueError):
        raise InvalidParameter(
            "next", "Invalid next: pass back the `next` of an envelope unchanged."
        ) from None


@dataclass
class Page:
    """A page's objects, whether more follow, and the object the next page starts after
    (the last read: `match[version]` may leave it out)."""

    entries: list[Entry]
    more: bool
    last: Entry | None = None


def _bounded(
    query: pw.SelectQuery,
    column: pw.Field,
    id_column: pw.Field,
    rank: int,
    after: Position | None,
    cutoff: Position | None,
    limit: int,
) -> list[tuple]:
    """The first `limit + 1` rows of stream `rank` (ordered by time, then id) after `after`
    and before `cutoff` (streams ordered by rank within a time: a later one starts at the
    time itself, an earlier one after it; the cutoff is always an earlier stream's).

    The stream the position is in reads its remaining rows of that time (`time = t AND id >
    i`) before the later times: as one row-value comparison `(time, id) > (t, i)`, SQLite
    3.40 seeks on the time only and walked a million index entries of one time to the id."""
    if cutoff is not None:
        query = query.where(column < cutoff[0] if rank > cutoff[1] else column <= cutoff[0])
    if after is None:
        return list(query.order_by(column, id_column).limit(limit + 1).tuples())
    added, after_rank, after_id = after
    if after_rank != rank:
        later = column > added if rank < after_rank else column >= added
        return list(query.where(later).order_by(column, id_column).limit(limit + 1).tuples())
    if cutoff is not None and (added, rank) > cutoff[:2]:
        return []
    same = query.where((column == added) & (id_column > after_id))
    rows = list(same.order_by(id_column).limit(limit + 1).tuples())
    if len(rows) <= limit:
        later = query.where(column > added).order_by(column, id_column)
        rows += list(later.limit(limit + 1 - len(rows)).tuples())
    return rows


def _record_rows(
    collection: Collection,
    resolved: _Resolved,
    after: Position | None,
    limit: int,
    rank: int,
    cutoff: Position | None,
) -> list[Entry]:
    """The next `limit + 1` objects of one record type, through its collection's filters, up
    to `cutoff`; their slugs are read later (`_named`), for the page's objects only.

    An object is added at its record's `updated_at`, or when it was rendered again after a
    record it copies from changed (`stix_added`), whichever is later: two streams of the
    same rank, each object in one of them."""
    selection = resolved.selection
    model = collection.model
    readded = collection.name in stix_kept.KEPT and _has_readded(collection.name)
    again = (StixAdded.record_type == collection.name) & (StixAdded.record_id == model.id)
    if collection.name == "source":
        asked = ListQuery(cursors=None, ids=(selection.source,) if selection.source else ())  # type: ignore[arg-type]
    else:
        filters = {"source": (selection.source,)} if selection.source else {}
        asked = ListQuery(cursors=None, filters=MappingProxyType(filters))  # type: ignore[arg-type]
    found = filtered(collection, model.select(model.id, model.updated_at), asked)
    if found.narrowed:  # one source's records: probed when it cites many (as lists do)
        matches = count_rows(found.query(), PROBE_ABOVE + 1)
        found = read_in_sort_order(found, model.updated_at, matches, asked)
    query = _selected(collection, resolved, found.query())
    if readded:  # not those listed at a later re-rendering
        later = StixAdded.select(pw.SQL("1")).where(again & (StixAdded.added > model.updated_at))
        query = query.where(~pw.fn.EXISTS(later))
    if selection.added_after is not None:
        query = query.where(model.updated_at > selection.added_after)
    rows = _bounded(query, model.updated_at, model.id, rank, after, cutoff, limit)
    if readded:
        select = model.select(StixAdded.record_id, StixAdded.added).join(StixAdded, on=again)
        query = filtered(collection, select, asked).query()
        query = _selected(collection, resolved, query.where(StixAdded.added > model.updated_at))
        if selection.added_after is not None:
            query = query.where(StixAdded.added > selection.added_after)
        rows += _bounded(query, StixAdded.added, StixAdded.record_id, rank, after, cutoff, limit)
        rows.sort(key=lambda row: (row[1], row[0]))
    return [Entry(added, rank, row_id, collection.name, "") for row_id, added in rows]


def _has_readded(record_type: str) -> bool:
    """Whether any object of this type was rendered again after its record was written."""
    return StixAdded.select().where(StixAdded.record_type == record_type).exists()


def _selected(collection: Collection, resolved: _Resolved, query: pw.SelectQuery) -> Any:
    """`query` of a record type's rows with the selection's versions, ids and STIX types."""
    selection = resolved.selection
    model = collection.model
    if selection.versions:  # a version is its updated_at, or a journal time (stix.version_times)
        stamps = list(selection.versions)
        journaled = Change.select(Change.record).where(
            (Change.record_type == collection.name) & Change.time.in_(stamps)
        )
        kept = StixJson.select(StixJson.record_id).where(
            (StixJson.record_type == collection.name)
            & StixJson.modified.in_([stix.timestamp(v) for v in stamps])
        )  # its modified may follow a record it copies from (stix.to_stix)
        query = query.where(
            model.updated_at.in_(stamps) | model.slug.in_(journaled) | model.id.in_(kept)
        )
    if resolved.slugs is not None:
        query = query.where(model.slug.in_(list(resolved.slugs[collection.name])))
    if collection.name == "actor" and selection.types:
        kinds = [t for t in selection.types if t in stix.ACTOR_STIX_TYPES]
        if kinds == ["threat-actor"]:
            query = query.where(model.kind.in_(list(stix.THREAT_ACTOR_KINDS)))
        elif kinds == ["identity"]:
            query = query.where(model.kind.not_in(list(stix.THREAT_ACTOR_KINDS)))
    return query


def _named(entries: list[Entry]) -> list[Entry]:
    """The entries with their public ids (and actors' kinds), read for these rows only."""
    wanted = stix.grouped((e.record_type, e.row_id) for e in entries if not e.slug)
    names: dict[tuple[str, int], tuple[str, str | None]] = {}
    for record_type, row_ids in wanted.items():
        model = _BY_TYPE[record_type].model
        columns = [model.id, model.slug] + ([model.kind] if record_type == "actor" else [])

        def build(ids: list[int], model: Any = model, columns: list = columns) -> Any:
            return model.select(*columns).where(model.id.in_(ids)).tuples()

        cursor = prepared(f"taxii-names:{record_type}", build, row_ids)
        for row in cursor:
            names[(record_type, row[0])] = (row[1], row[2] if len(row) > 2 else None)
    named = []
    for entry in entries:
        if entry.slug:
            named.append(entry)
        elif (entry.record_type, entry.row_id) in names:  # gone since: left out
            slug, kind = names[(entry.record_type, entry.row_id)]
            named.append(replace(entry, slug=slug, kind=kind))
    return named


def _cited_source(record_type: str, slug: str, before: dict) -> set[str]:
    """The sources a deleted record's citations named (from the record as it was)."""
    if record_type == "source":
        return {slug}
    return {str(c.get("source")) for c in before.get("citations", ()) if isinstance(c, dict)}


def _tombstone_rows(
    resolved: _Resolved, after: Position | None, limit: int, cutoff: Position | None
) -> list[Entry]:
    """The next `limit + 1` deletions whose record has not come back since, up to `cutoff`."""
    selection = resolved.selection
    later = Change.alias("later")
    newer = later.select(pw.SQL("1")).where(
        (later.record_type == Change.record_type)
        & (later.record == Change.record)
        & (later.id > Change.id)
    )
    columns = (Change.id, Change.time, Change.record_type, Change.record, Change.before)
    query = Change.select(*columns).where((Change.op == "delete") & ~pw.fn.EXISTS(newer))
    if selection.added_after is not None:
        query = query.where(Change.time > selection.added_after)
    if selection.versions:
        query = query.where(Change.time.in_(list(selection.versions)))
    wanted = [name for name in _BY_TYPE if resolved.wants(name)]
    if not wanted:
        return []
    query = query.where(Change.record_type.in_(wanted))
    if resolved.slugs is not None:
        slugs = [s for name in wanted for s in resolved.slugs.get(name, ())]
        query = query.where(Change.record.in_(slugs))
    found: list[Entry] = []
    position = after
    while len(found) <= limit:
        rows = _bounded(query, Change.time, Change.id, TOMBSTONES, position, cutoff, limit)
        for change_id, time, record_type, slug, before in rows:
            was = json.loads(before or "{}")
            entry = Entry(time, TOMBSTONES, change_id, record_type, slug, was.get("kind"))
            if selection.source and selection.source not in _cited_source(record_type, slug, was):
                continue
            wrong_type = stix.actor_type(entry.kind) not in selection.types
            if selection.types and record_type == "actor" and wrong_type:
                continue
            found.append(entry)
        if len(rows) <= limit:
            break
        position = (rows[-1][1], TOMBSTONES, rows[-1][0])
    return found


def _shared_rows(resolved: _Resolved, after: Position | None) -> list[Entry]:
    """The producer and the extension-definition, when selected and not yet seen."""
    selection = resolved.selection
    found = []
    for row_id, name in enumerate(_SHARED_IDS, start=1):
        if selection.types and _SHARED_TYPES[name] not in selection.types:
            continue
        if selection.ids is not None and _SHARED_IDS[name] not in selection.ids:
            continue
        if selection.added_after is not None and selection.added_after >= _SHARED_ADDED:
            continue
        if selection.versions and _SHARED_ADDED not in selection.versions:
            continue
        if after is not None and (_SHARED_ADDED, SHARED, row_id) <= after:
            continue
        found.append(Entry(_SHARED_ADDED, SHARED, row_id, "shared", name))
    return found


def page(selection: Selection, after: Position | None, limit: int, namespace: uuid.UUID) -> Page:
    """The objects of `selection` after `after`, at most `limit`, in collection order."""
    if selection.spec_versions and stix.SPEC_VERSION not in selection.spec_versions:
        return Page([], False)
    if (
        selection.source is not None
        and not Source.select().where(Source.slug == selection.source).exists()
    ):
        return Page([], False)
    slugs = None if selection.ids is None else resolve(namespace, selection.ids)
    resolved = _Resolved(selection, slugs)
    merged = _shared_rows(resolved, after)

    def cutoff() -> Position | None:
        """The position of the `limit + 1`th object so far: no later one can be on the page."""
        merged.sort(key=lambda e: (e.added, e.rank, e.row_id))
        del merged[limit + 1 :]
        if len(merged) <= limit:
            return None
        last = merged[limit]
        return last.added, last.rank, last.row_id

    for rank, collection in enumerate(STREAMS):
        if resolved.wants(collection.name):
            merged += _record_rows(collection, resolved, after, limit, rank, cutoff())
    merged += _tombstone_rows(resolved, after, limit, cutoff())
    cutoff()
    read, more = merged[:limit], len(merged) > limit
    last = read[-1] if read else None
    entries = _named(read)
    if selection.versions:  # exactly: a record's version may come from its journal
        wanted = {stix.timestamp(v) for v in selection.versions}
        found = versions(entries, namespace)
        entries = [e for e, version in zip(entries, found, strict=True) if version in wanted]
    return Page(entries, more, last)


def versions(entries: list[Entry], namespace: uuid.UUID) -> list[str]:
    """The version (`modified`) of each entry's object, as its STIX object has it."""
    records = [e for e in entries if e.rank not in (SHARED, TOMBSTONES)]
    kept = stix_kept.versions(records, namespace)
    pairs = ((e.record_type, e.slug) for e in records if e.record_type == "source")
    journal: dict[tuple[str, str], tuple[dt.datetime, dt.datetime]] = {}
    for record_type, slugs in stix.grouped(pairs).items():
        journal.update(stix.journal_times(record_type, slugs))
    found = []
    for entry in entries:
        if entry.rank == SHARED:
            found.append(stix.EXTENSION_PUBLISHED)
        elif entry.revoked:
            found.append(stix.timestamp(entry.added))
        elif (entry.record_type, entry.row_id) in kept:
            found.append(kept[(entry.record_type, entry.row_id)])
        else:
            key = (entry.record_type, entry.slug)
            found.append(stix.version_times(journal.get(key), entry.added)[1])
    return found


# ---------------------------------------------------------------- loading


def load(entries: list[Entry], namespace: uuid.UUID, base_url: str) -> list[str]:
    """The STIX objects of `entries` as JSON, in order: records as kept (api/queries/
    stix_kept.py), sources' reports built now, tombstones revoked."""
    records = [e for e in entries if e.rank not in (SHARED, TOMBSTONES)]
    kept = stix_kept.objects(records, namespace, base_url)
    built: dict[tuple[str, Any], dict] = {}
    sources = [e.row_id for e in records if e.record_type == "source"]
    if sources:
        reports = {"source": stix_kept.records_of("source", sources)}
        ctx = stix.context_for(namespace, base_url, reports)
        for record in reports["source"]:
            built[("source", record["id"])] = stix.to_stix("source", record, ctx)
    revoked = [e.row_id for e in entries if e.revoked]
    changes = {c.id: c for c in Change.select().where(Change.id.in_(revoked))} if revoked else {}
    if changes:
        ctx = stix.Context(namespace, base_url)
        tombstones = list(changes.values())
        for record_type, group in stix.grouped(
            (c.record_type, c.record) for c in tombstones
        ).items():
            ctx.journal.update(stix.journal_times(record_type, group))
        ends = [
            json.loads(c.before or "{}").get(end, "")
            for c in tombstones
            if c.record_type == "relation"
            for end in ("subject", "object")
        ]
        kinds = stix.actor_kinds(ends)
        for change_id, change in changes.items():
            built[("tombstone", change_id)] = stix.revoked(change, ctx, kinds)
    shared = {"producer": stix.producer(), "extension": stix.extension_definition()}
    result = []
    for entry in entries:
        if entry.rank == SHARED:
            result.append(json.dumps(shared[entry.slug]))
        elif entry.revoked:
            result.append(json.dumps(built[("tombstone", entry.row_id)]))
        elif (entry.record_type, entry.row_id) in kept:
            result.append(kept[(entry.record_type, entry.row_id)])
        elif (entry.record_type, entry.slug) in built:
            result.append(json.dumps(built[(entry.record_type, entry.slug)]))
    return result


def manifests(entries: list[Entry], namespace: uuid.UUID) -> list[dict[str, Any]]:
    """The manifest records of objects: id, when it was added, its version (`modified`)."""
    return [
        {
            "id": entry.stix_id(namespace),
            "date_added": stix.timestamp(entry.added),
            "version": version,
            "media_type": stix.STIX_MEDIA_TYPE,
        }
        for entry, version in zip(entries, versions(entries, namespace), strict=True)
    ]


# ---------------------------------------------------------------- STIX ids read back


@dataclass
class _Index:
    """The UUIDs of one record type's rows under one namespace, as sorted 64-bit prefixes
    beside their row ids (16 bytes a record); rows added since are read when asked."""

    prefixes: array = field(default_factory=lambda: array("Q"))
    row_ids: array = field(default_factory=lambda: array("q"))
    last_row: int = 0


_indexes: dict[tuple[Any, ...], _Index] = {}
_indexes_lock = threading.Lock()
_REBUILD_AFTER = 10_000  # rows added since the index was built that are read each time


def _prefix(value: uuid.UUID) -> int:
    return value.int >> 64


def _build(model: type[pw.Model], namespace: uuid.UUID, record_type: str) -> _Index:
    pairs = sorted(
        (_prefix(stix.object_uuid(namespace, record_type, slug)), row_id)
        for row_id, slug in model.select(model.id, model.slug).tuples().iterator()
    )
    index = _Index(array("Q", (p for p, _ in pairs)), array("q", (r for _, r in pairs)))
    index.last_row = max((r for _, r in pairs), default=0)
    return index


def resolve(namespace: uuid.UUID, stix_ids: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """{record type: public ids} of the STIX ids that name a record or a tombstone of this
    deployment (ids of other types or namespaces are left out)."""
    wanted: dict[str, dict[uuid.UUID, str]] = {}
    for stix_id in stix_ids:
        kind, _, text = stix_id.partition("--")
        record_type = stix.RECORD_TYPE_OF.get(kind)
        try:
            value = uuid.UUID(text)
        except ValueError:
            continue
        if record_type is not None:
            wanted.setdefault(record_type, {})[value] = stix_id
    found: dict[str, tuple[str, ...]] = {}
    for record_type, values in wanted.items():
        model = _BY_TYPE[record_type].model
        with _indexes_lock:
            key = (
                type(model._meta.database.obj),
                namespace,
                record_type,
                id(model._meta.database.obj),
            )
            index = _indexes.get(key)
        newer = 0 if index is None else model.select().where(model.id > index.last_row).count()
        if index is None or newer > _REBUILD_AFTER:
            index = _build(model, namespace, record_type)
            with _indexes_lock:
                _indexes[key] = index
        candidates: set[int] = set()
        for value in values:
            at = bisect.bisect_left(index.prefixes, _prefix(value))
            while at < len(index.prefixes) and index.prefixes[at] == _prefix(value):
                candidates.add(index.row_ids[at])
                at += 1
        rows = model.select(model.slug).where(
            model.id.in_(list(candidates)) | (model.id > index.last_row)
        )
        slugs = {
            slug
            for (slug,) in rows.tuples()
            if stix.object_uuid(namespace, record_type, slug) in values
        }
        gone = (
            Change.select(Change.record)
            .where((Change.record_type == record_type) & (Change.op == "delete"))
            .distinct()
        )
        slugs |= {
            slug
            for (slug,) in gone.tuples()
            if stix.object_uuid(namespace, record_type, slug) in values
        }
        found[record_type] = tuple(sorted(slugs))
    return found
