"""Record writes: create, merge-patch and delete one actor, relation, location, event or
statement, validated like an import and written by the importer's Writer under the same write
lock (api/store/ddl.py `exclusive`), with the version checked and bumped in the same transaction
(a conditional UPDATE), and journaled (api/ingest/journal.py).

A record's writable form is its bundle form (seed/README.md) with citations naming their
source: what `POST` takes, and what a `PATCH` (RFC 7396) is applied to. Each citation is
attributed to the bundle of the source it cites, so a later re-import of that briefing wins:
it rewrites the record as its bundle has it (or removes it, when the bundle no longer has it
and nothing else supports it), and the audit trail shows the curation and the re-import.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import marshmallow as ma
import peewee as pw

from api.ingest import journal
from api.ingest.excerpts import normalize
from api.ingest.owners import check, refused_records, refused_sources
from api.ingest.places import outside_country, parent_problem
from api.ingest.principal import Principal
from api.ingest.problems import Problem, Reporter, SeedError, flatten
from api.ingest.public_records import public_record_problems
from api.ingest.references import REFERRERS, references, suggestion
from api.ingest.write import Writer, render_stale
from api.records import WRITABLE, named, of_collection
from api.store.db import database, is_postgres
from api.store.ddl import exclusive, record_write
from api.store.models import (
    Citation,
    Location,
    Relation,
    SearchDocument,
    Source,
    date_span,
    relation_slug,
)
from api.store.places import lift_out, refresh_levels

_IDENTITY = {"relations": ("subject", "predicate", "object")}  # fields that make the id


class UnknownRecord(LookupError):
    """No record has that id."""


class Exists(Exception):
    """A record with that id exists already (HTTP 409)."""


class Referenced(Exception):
    """Other records refer to the one to delete (HTTP 409): `referrers` names them
    (`event rocket-attack`), `paths` are their paths (`/v1/events/rocket-attack`)."""

    def __init__(self, message: str, referrers: list[str], paths: list[str]):
        super().__init__(message)
        self.referrers = referrers
        self.paths = paths


StaleVersion = journal.StaleVersion


@dataclass
class WriteOutcome:
    """What a write did: the record's public id and its version now."""

    id: str
    version: int


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 JSON Merge Patch: objects merge recursively, null removes, all else replaces.
    (Fifteen lines of the RFC's own pseudo-code; the json-merge-patch packages on PyPI are
    unmaintained.)"""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def jsonable(record: dict) -> dict:
    """A record with dates as ISO strings, as a client would send it."""
    return json.loads(json.dumps(record, default=str))


def writable(collection: str, row: pw.Model, snapshot: dict | None = None) -> dict:
    """The record in the form `POST` takes and `PATCH` is applied to (from its `snapshot`,
    when the caller has it)."""
    snapshot = dict(snapshot or journal.snapshot(collection, row))
    if collection == "relations":
        snapshot.pop("id")
    return jsonable(snapshot)


def validate(collection: str, raw: Any, slug: str | None = None) -> dict:
    """The record loaded by the bundle schema, then checked as the importer checks it:
    references resolve, each excerpt occurs in the stored text of the source it names, a
    verbatim quote in a cited source's text, no date after the cited sources' publication, no
    parent cycle. SeedError lists every problem."""
    report = Reporter("request body")
    if not isinstance(raw, dict):
        raise SeedError([Problem("request body", "", "(body)", "A record is a JSON object.")])
    try:
        schema = of_collection(collection).write_schema
        assert schema is not None, f"{collection} are not written one by one"
        record = schema().load(raw)
    except ma.ValidationError as error:
        for path, message in flatten(error.messages):
            report.add(message, field=path)
        raise SeedError(report.problems) from None
    for n, citation in enumerate(record["citations"]):
        if citation["source"] is None:
            report.add("Name the source the excerpt is from.", field=f"citations[{n}].source")
    for kind, ref, where in references(collection, record):
        if not isinstance(ref, str):
            continue
        model = named(kind).model
        if not model.select().where(model.slug == ref).exists():
            empty: dict[str, dict] = {kind.collection: {} for kind in WRITABLE}
            report.add(f"unknown {kind} {ref!r}{suggestion(kind, ref, empty, {})}", field=where)
    cited = {c["source"] for c in record["citations"] if c["source"]}
    sources = {s.slug: s for s in Source.select().where(Source.slug.in_(list(cited) or [""]))}
    _check_texts(record, sources, report, collection)
    check_dates(record, sources, report, collection)
    for field_name, message in public_record_problems(collection, record):
        report.add(message, field=field_name)
    if collection == "locations":
        _check_place(record, slug or record["id"], report)
    if report.problems:
        raise SeedError(report.problems)
    return record


def _check_place(record: dict, own: str, report: Reporter) -> None:
    """No parent cycle; the parent is an administrative place of a higher level; the point
    lies within the country."""
    if record["parent"]:
        parent = Location.get_or_none(Location.slug == record["parent"])
        if record["parent"] == own or (parent and f"/{own}/" in parent.path):
            report.add(
                f"A cycle of parents: {record['parent']!r} lies within {own!r}.", field="parent"
            )
        problem = parent and parent_problem(record["kind"], record["parent"], parent.kind)
        if problem:
            report.add(problem, field="parent")
    if record["latitude"] is not None and record["country"]:
        problem = outside_country(record["latitude"], record["longitude"], record["country"])
        if problem:
            report.add(problem, field="latitude")


def _check_texts(record: dict, sources: dict, report: Reporter, collection: str) -> None:
    texts = {slug: normalize(s.text or "") for slug, s in sources.items()}
    for n, citation in enumerate(record["citations"]):
        text = texts.get(citation["source"])
        if citation["excerpt"] is None:
            continue  # a public record: its fact is not quoted from the source
        if text is not None and normalize(citation["excerpt"]) not in text:
            reason = "does not contain it" if text else "has no stored text"
            report.add(
                f"Source {citation['source']!r} {reason}: {citation['excerpt'][:80]!r}.",
                field=f"citations[{n}]",
            )
    quoted = collection == "statements" and record["verbatim"] and texts
    if quoted and not any(normalize(record["text"]) in text for text in texts.values()):
        report.add(
            "A verbatim quote must be the source's exact words; not found in the text of "
            "any source it cites (use verbatim: false for a paraphrase).",
            field="text",
        )


def check_dates(record: dict, sources: dict, report: Reporter, collection: str) -> None:
    """Nothing dated after the latest publication among the sources it cites."""
    if not sources:
        return
    latest = max(date_span(s.published, None, s.published_precision)[1] for s in sources.values())
    names = ("start_date", "end_date") if collection == "relations" else ("date", "end_date")
    for name in names:
        if record.get(name) and record[name] > latest:
            report.add(
                f"{record[name].isoformat()} is after the cited sources' publication.", field=name
            )


def write(collection: str, record: dict) -> int:
    """Write a validated record with the importer's Writer; its citations become exactly the
    ones given, each attributed to the bundle of the source it cites. The row id."""
    first = record["citations"][0]["source"]
    writer = Writer()
    getattr(writer, collection[:-1])(record, first)
    model = of_collection(collection).model
    slug = (
        relation_slug(record["subject"], record["predicate"], record["object"])
        if collection == "relations"
        else record["id"]
    )
    row_id = writer.id_of(model, slug)  # the ids the Writer has just read or written
    record_type = collection[:-1]
    mine = (Citation.record_type == record_type) & (Citation.record_id == row_id)
    first_id = writer.id_of(Source, first)
    Citation.delete().where(
        mine
        & ~(
            (Citation.bundle == first_id)
            | (Citation.bundle.is_null() & (Citation.source == first_id))
        )
    ).execute()
    unattributed = Citation.bundle.is_null() | (Citation.bundle != Citation.source)
    Citation.update(bundle=Citation.source).where(mine & unattributed).execute()
    return row_id


def find(collection: str, slug: str, lock: bool = False) -> pw.Model:
    """The record's row; with `lock`, locked until the transaction ends (PostgreSQL: `FOR NO
    KEY UPDATE`, which lets other writers insert rows that refer to it)."""
    model = of_collection(collection).model
    query = model.select().where(model.slug == slug)
    if lock and is_postgres():
        query = query.for_update("FOR NO KEY UPDATE")
    row = query.get_or_none()
    if row is None:
        raise UnknownRecord(f"No {collection[:-1]} with id {slug!r}.")
    return row


def cited_sources(record: dict) -> set[str]:
    """The ids of the sources a record's citations name."""
    return {c["source"] for c in record.get("citations") or () if isinstance(c, dict)} - {None}


def create(collection: str, body: Any, by: Principal) -> WriteOutcome:
    """A new record (version 1); Exists when its id is taken, Forbidden when it cites a source
    `by`'s owner does not own (its citations become part of that source's contribution)."""
    with database.connection_context(), exclusive():
        record = validate(collection, body)
        check(by, refused_sources(by, cited_sources(record)))
        model = of_collection(collection).model
        slug = (
            relation_slug(record["subject"], record["predicate"], record["object"])
            if collection == "relations"
            else record["id"]
        )
        if model.select().where(model.slug == slug).exists():
            raise Exists(f"The {collection[:-1]} {slug!r} exists already; PATCH it.")
        row_id = write(collection, record)
        journal.log_created(collection, row_id, by)
        render_stale()
        return WriteOutcome(slug, 1)


def update(
    collection: str, slug: str, patch: Any, expected: int | None, by: Principal
) -> WriteOutcome:
    """Apply a merge patch to a record at version `expected` (None: any version); Forbidden
    unless `by`'s owner is one of the record's, and owns every source it newly cites.

    Under `record_write()`: the record's row locked, then read, checked, validated (and, when
    the change stays within its own rows, `writes_own_rows`, written) beside other record
    writes; the rest under the journal's lock (ddl.py)."""
    with database.connection_context(), record_write() as tail:
        row = find(collection, slug, lock=True)
        check(by, refused_records(by, of_collection(collection).name, {row.id: slug}))
        if expected is not None and row.version != expected:
            raise StaleVersion(
                f"The {collection[:-1]} is at version {row.version}, not {expected}."
            )
        before = journal.snapshot(collection, row)
        current = writable(collection, row, before)
        if not isinstance(patch, dict):
            raise SeedError(
                [Problem("request body", "", "(body)", "A merge patch is a JSON object.")]
            )
        merged = merge_patch(current, patch)
        for name in ("id", *_IDENTITY.get(collection, ())):
            if name in current and merged.get(name) != current[name]:
                raise SeedError(
                    [
                        Problem(
                            "request body",
                            name,
                            name,
                            f"`{name}` cannot change: it makes the record's id. "
                            "Create another record and delete this one.",
                        )
                    ]
                )
        record = validate(collection, merged, slug)
        check(by, refused_sources(by, cited_sources(record) - cited_sources(current)))
        if merged == current:
            return WriteOutcome(slug, row.version)
        if not writes_own_rows(collection, current, merged):
            tail()
        write(collection, record)
        after = journal.snapshot(collection, find(collection, slug))
        tail()
        version = journal.bump(collection, row.id, row.version)
        journal.log("update", collection, slug, version, by, before, after)
        render_stale()
        return WriteOutcome(slug, version)


# The fields whose change reaches other records' rows when an actor is written: the events
# that show its name and kind are marked stale (ddl.py STALE_EVENTS), and so are the STIX
# objects that refer to it (STALE_STIX). Nothing written about another record marks an actor.
_ACTOR_FIELDS_SHOWN_ELSEWHERE = ("name", "kind")


def writes_own_rows(collection: str, current: dict, merged: dict) -> bool:
    """Whether writing `merged` over `current` writes only the record's own rows (its row, its
    links, citations and search document, and its own stale marks, which only writers of that
    record touch), so it may run before the journal's lock (ddl.py `record_write`). True for an
    actor whose name and kind stay; other records' own stale marks are also marked by writes of
    the records they show (an actor's version bump marks its events', relations' and
    statements' objects)."""
    return collection == "actors" and all(
        merged.get(name) == current.get(name) for name in _ACTOR_FIELDS_SHOWN_ELSEWHERE
    )


def referrers(collection: str, row_id: int) -> list[tuple[str, int]]:
    """(collection, row id) of every other record that refers to this one."""
    found: list[tuple[str, int]] = []
    for referring, link, record_column, reference in REFERRERS.get(collection, []):
        for (referrer,) in link.select(record_column).where(reference == row_id).tuples():
            if (referring, referrer) not in found and (referring, referrer) != (collection, row_id):
                found.append((referring, referrer))
    return found


def delete(
    collection: str, slug: str, expected: int | None, cascade: bool, by: Principal
) -> list[str]:
    """Delete a record at version `expected`; Referenced when others refer to it, unless
    `cascade` (its relations go too; other records lose the reference). Forbidden unless
    `by`'s owner is one of the record's (and, with `cascade`, of every record it changes).
    The ids changed."""
    with database.connection_context(), exclusive():
        row = find(collection, slug)
        check(by, refused_records(by, of_collection(collection).name, {row.id: slug}))
        if expected is not None and row.version != expected:
            raise StaleVersion(
                f"The {collection[:-1]} is at version {row.version}, not {expected}."
            )
        others = referrers(collection, row.id)
        slugs = [(c, of_collection(c).model.get_by_id(i).slug) for c, i in others]
        names = [f"{c[:-1]} {s}" for c, s in slugs]
        if others and not cascade:
            raise Referenced(
                f"{len(others)} record(s) refer to {slug!r}: {', '.join(names)}. "
                "Change them first, or delete with cascade=true.",
                names,
                [f"{of_collection(c).path}/{s}" for c, s in slugs],
            )
        check(
            by,
            [
                refusal
                for (c, i), (_, s) in zip(others, slugs, strict=True)
                for refusal in refused_records(by, of_collection(c).name, {i: s})
            ],
        )
        befores = {
            (c, i): (
                journal.snapshot(c, of_collection(c).model.get_by_id(i)),
                of_collection(c).model.get_by_id(i).version,
            )
            for c, i in others
        }
        before = journal.snapshot(collection, row)
        for (c, i), (old, version) in befores.items():
            if c == "relations":  # an actor's relations go with it
                _remove_row("relations", i)
                journal.log_deleted("relations", old["id"], version, by, old)
        # places within it stay within the places around it
        around = lift_out(row.id) if collection == "locations" else None
        _remove_row(collection, row.id)
        if around is not None:
            refresh_levels(around)
        journal.log_deleted(collection, slug, row.version, by, before)
        for (c, i), (old, _) in befores.items():
            if c != "relations":
                journal.log_updated(c, i, by, old)
        render_stale()
        return [slug, *names]


def _remove_row(collection: str, row_id: int) -> None:
    """Delete a record, its citations and its search document (its links cascade)."""
    record_type = collection[:-1]
    Citation.delete().where(
        (Citation.record_type == record_type) & (Citation.record_id == row_id)
    ).execute()
    SearchDocument.delete().where(
        (SearchDocument.record_type == record_type) & (SearchDocument.record_id == row_id)
    ).execute()
    model = of_collection(collection).model
    if collection == "actors":
        Relation.delete().where(
            (Relation.subject == row_id) | (Relation.object == row_id)
        ).execute()
    model.delete().where(model.id == row_id).execute()


def current(collection: str, slug: str) -> dict:
    """The writable form of a record (what a PATCH is applied to)."""
    with database.connection_context():
        return writable(collection, find(collection, slug))
