"""The one import path for briefing bundles, used by `briefing seed` and `POST /v1/briefings`.

A bundle is validated whole before anything is written (every problem reported in one pass,
naming file, record and field), then written in one transaction that holds the database's
write lock (api/store/ddl.py `exclusive`), so imports are serialised and atomic and the search index
changes with the records. A bundle owns what it contributes: importing it again replaces its
contribution, records it alone supported and no longer contains are deleted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from api.ingest import owners
from api.ingest.bundle_form import export_bundle
from api.ingest.journal import JournaledWriter, StaleVersion
from api.ingest.owners import Forbidden
from api.ingest.principal import CLI, Principal
from api.ingest.problems import Problem, SeedError
from api.ingest.read import MAX_NESTING, TOO_DEEP, Input, parse_body, read_file, too_deep_json
from api.ingest.resolve import resolve
from api.ingest.validate import COLLECTIONS, Bundle, check, load
from api.ingest.write import render_stale
from api.store.db import database
from api.store.ddl import exclusive
from api.store.models import SearchDocument, Source

__all__ = [
    "BRIEFINGS_DIR",
    "CLI",
    "MAX_NESTING",
    "TOO_DEEP",
    "Forbidden",
    "Principal",
    "Problem",
    "Report",
    "SeedError",
    "StaleVersion",
    "UnknownSource",
    "default_files",
    "delete_source",
    "export_source",
    "import_body",
    "is_empty",
    "load_files",
    "read_bundle",
    "source_text",
    "too_deep_json",
    "validate_files",
]

# The seed briefings ship as data of the `seed` package (read as files, never imported).
BRIEFINGS_DIR = Path(str(resources.files("seed").joinpath("briefings")))


class UnknownSource(LookupError):
    """No source has that id."""


@dataclass
class Report:
    """What an import did (or, for a dry run, would do)."""

    files: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)  # records per collection in the files
    summary: dict[str, dict[str, int]] = field(default_factory=dict)  # collection -> outcome
    sources: list[str] = field(default_factory=list)
    dry_run: bool = False
    skipped: bool = False  # --if-empty found the database seeded already

    @property
    def source(self) -> str | None:
        """The public id of the source imported or removed."""
        return self.sources[0] if self.sources else None

    @property
    def changed(self) -> int:
        """Records created, updated or deleted."""
        return sum(
            n for outcomes in self.summary.values() for k, n in outcomes.items() if k != "unchanged"
        )


def default_files() -> list[Path]:
    """Every briefing file of seed/briefings/, in name order."""
    return sorted(BRIEFINGS_DIR.glob("*.yaml"))


def checked(inputs: list[Input]) -> list[Bundle]:
    """The schema and every rule a bundle can be checked against on its own."""
    bundles = [load(bundle_input) for bundle_input in inputs]
    for bundle in bundles:
        check(bundle)
    return bundles


def position(problem: Problem) -> tuple[int, int]:
    """Where a problem is in its file: source first, then collection order, then record."""
    match = re.match(r"(\w+)(?:\[(\d+)\])?", problem.path)
    if not match:
        return (-1, 0)
    order = ("source", *COLLECTIONS)
    part = match.group(1)
    return (order.index(part) if part in order else -1, int(match.group(2) or 0))


def problems_of(bundles: list[Bundle]) -> list[Problem]:
    """Every problem, file by file, in the order of the records in each file."""
    return [p for bundle in bundles for p in sorted(bundle.report.problems, key=position)]


def read_bundle(path: Path) -> dict:
    """One file, checked on its own (no database): the bundle as the schema loads it."""
    bundles = checked([read_file(path)])
    if problems_of(bundles):
        raise SeedError(problems_of(bundles))
    return bundles[0].data()


def run(
    inputs: list[Input],
    dry_run: bool = False,
    if_empty: bool = False,
    removing: str | None = None,
    by: Principal = CLI,
    expected: int | None = None,
) -> Report:
    """Validate everything, then write it under the write lock; SeedError lists every problem,
    Forbidden names the sources (to import again or remove) `by`'s owner does not own."""
    report = Report(files=[i.name for i in inputs], dry_run=dry_run)
    with database.connection_context():
        bundles = checked(inputs)
        with exclusive() as transaction:
            if if_empty and Source.select().exists():
                report.skipped = True
                return report
            slugs = [s for s in [*(b.source_id for b in bundles), removing] if s is not None]
            owners.check(by, owners.refused_sources(by, slugs))  # before anything is written
            plan = resolve(bundles, removing)
            problems = problems_of(bundles)
            if plan.removal is not None and not bundles:
                problems += plan.removal.problems
            if problems:
                raise SeedError(problems)  # nothing written: the transaction rolls back
            writer = JournaledWriter(by)  # every change journaled as one by `by`
            writer.bundles(bundles, plan)
            if removing:
                source = Source.get(Source.slug == removing)
                if expected is not None and source.version != expected:
                    raise StaleVersion(f"source changed since version {expected}.")
                citing = writer.citing(source.id)
                SearchDocument.delete().where(
                    (SearchDocument.record_type == "source")
                    & (SearchDocument.record_id == source.id)
                ).execute()
                writer.source_deleted(source)
                source.delete_instance()
                writer.changed_since(citing)  # records that kept other citations
                writer.summary["sources"]["deleted"] += 1
            if dry_run:
                transaction.rollback()
            else:
                render_stale()  # what this import changed, rendered again
    report.summary = writer.summary
    report.sources = [b.source_id for b in bundles if b.source_id is not None] or (
        [removing] if removing else []
    )
    for bundle in bundles:
        for collection in COLLECTIONS:
            report.counts[collection] = report.counts.get(collection, 0) + len(
                bundle.records[collection]
            )
    report.counts["sources"] = len(bundles)
    return report


def load_files(
    paths: Iterable[Path] | None = None, if_empty: bool = False, by: Principal = CLI
) -> Report:
    """Validate the files (default: the seed), then load them all in one transaction."""
    inputs = [read_file(Path(p)) for p in (paths or default_files())]
    return run(inputs, if_empty=if_empty, by=by)


def validate_files(paths: Iterable[Path]) -> dict[Path, dict]:
    """Every check of a load, against the bound database, writing nothing (a dry run)."""
    paths = [Path(p) for p in paths]
    inputs = [read_file(p) for p in paths]
    run(inputs, dry_run=True)
    return {p: read_bundle(p) for p in paths}


def import_body(body: bytes, media_type: str, dry_run: bool = False, by: Principal = CLI) -> Report:
    """A bundle sent over HTTP (JSON or YAML; the source text travels in `source.text`)."""
    bundle_input = parse_body(body, media_type)
    if bundle_input.problems:
        raise SeedError(bundle_input.problems)
    if isinstance(bundle_input.raw, dict) and isinstance(bundle_input.raw.get("source"), dict):
        bundle_input.raw["source"].pop("document", None)  # a file name means nothing here
    return run([bundle_input], dry_run=dry_run, by=by)


def delete_source(slug: str, by: Principal = CLI, expected: int | None = None) -> Report:
    """Remove a source, its citations, and the records only it supported; with `expected`,
    only while the source is at that version (StaleVersion otherwise)."""
    with database.connection_context():
        if not Source.select().where(Source.slug == slug).exists():
            raise UnknownSource(slug)
    return run([], removing=slug, by=by, expected=expected)


def export_source(slug: str) -> dict:
    """The bundle that reproduces a source (import -> export -> import changes nothing)."""
    with database.connection_context():
        source = Source.get_or_none(Source.slug == slug)
        if source is None:
            raise UnknownSource(slug)
        return export_bundle(source)


def source_text(slug: str) -> str | None:
    """The stored text of a source (None when it was loaded without one)."""
    with database.connection_context():
        source = Source.get_or_none(Source.slug == slug)
        if source is None:
            raise UnknownSource(slug)
        return source.text


def is_empty() -> bool:
    """True when no source has been loaded yet."""
    with database.connection_context():
        return not Source.select().exists()
