"""Checks against the other bundles of the import and the database, inside the import's
transaction: references resolve (the nearest id is suggested), excerpts citing another source
occur in its text, ids defined by another source are not redefined, and what a bundle no
longer contains can go (the records it alone supported, unless others still refer to them).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from api.ingest.bundle_form import contributed_by, contributor, definition, differences
from api.ingest.excerpts import normalize
from api.ingest.places import parent_problem
from api.ingest.problems import Reporter
from api.ingest.references import REFERRERS, references, suggestion
from api.ingest.validate import COLLECTIONS, Bundle, key_of
from api.records import WRITABLE, named, of_collection
from api.store.models import (
    Citation,
    Location,
    Source,
)


@dataclass
class Plan:
    """What the import will do beyond writing its records: `stale` records (collection ->
    internal ids) lose their last citation and are deleted."""

    sources: dict[str, int] = field(default_factory=dict)  # batch source slug -> id, if stored
    stale: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    removal: Reporter | None = None  # the problems of removing a source, if one is removed


def _contributors(record_type: str, ids: set[int]) -> dict[int, set[str]]:
    """{record id: slugs of the sources whose bundles cite it}."""
    found: dict[int, set[str]] = defaultdict(set)
    if ids:
        query = (
            Citation.select(Citation.record_id, Source.slug)
            .join(Source, on=(Source.id == contributor()))
            .where((Citation.record_type == record_type) & Citation.record_id.in_(list(ids)))
            .distinct()
        )
        for record_id, slug in query.tuples():
            found[record_id].add(slug)
    return found


def resolve(bundles: list[Bundle], removing: str | None = None) -> Plan:
    """Cross-check the bundles (and a source being removed); problems go to their reporters."""
    plan = Plan()
    batch = {b.source_id for b in bundles if b.source_id} | ({removing} if removing else set())
    for slug, row_id in (
        Source.select(Source.slug, Source.id).where(Source.slug.in_(batch)).tuples()
    ):
        plan.sources[slug] = row_id
    defined: dict[str, dict[str, tuple[Bundle, int, dict]]] = {c: {} for c in COLLECTIONS}
    for bundle in bundles:
        for collection in COLLECTIONS:
            for index, record in bundle.records[collection]:
                key = key_of(collection, record)
                first = defined[collection].setdefault(key, (bundle, index, record))
                if first[0] is not bundle and differences(first[2], record):
                    changed = ", ".join(differences(first[2], record))
                    bundle.report.add(
                        f"{key!r} is defined differently by source {first[0].source_id!r} "
                        f"({changed}); refer to it with the same definition.",
                        collection,
                        index,
                        key,
                        "id" if collection != "relations" else "object",
                    )
    _find_stale(plan, batch, defined)
    _check_redefinitions(bundles, batch)
    _check_references(bundles, plan, defined)
    _check_removals(plan, defined, bundles, removing)
    _check_stored_ancestry(bundles, defined)
    _check_parent_kinds(bundles, defined)
    return plan


def _check_parent_kinds(bundles: list[Bundle], defined: dict) -> None:
    """A parent is an administrative place of a higher level (in the import, or stored)."""
    wanted = {
        location["parent"]
        for bundle in bundles
        for _, location in bundle.records["locations"]
        if location["parent"]
    }
    kinds = {slug: record["kind"] for slug, (_, _, record) in defined["locations"].items()}
    missing = list(wanted - set(kinds))
    if missing:
        query = Location.select(Location.slug, Location.kind).where(Location.slug.in_(missing))
        kinds.update(dict(query.tuples()))
    for bundle in bundles:
        for index, location in bundle.records["locations"]:
            parent = location["parent"]
            if not parent or parent not in kinds:
                continue  # an unknown parent is reported as such
            problem = parent_problem(location["kind"], parent, kinds[parent])
            if problem:
                bundle.report.add(problem, "locations", index, location["id"], "parent")


def _check_stored_ancestry(bundles: list[Bundle], defined: dict) -> None:
    """A location may not get a stored parent that lies within it (a cycle through records
    of other bundles)."""
    for bundle in bundles:
        for index, location in bundle.records["locations"]:
            parent = location["parent"]
            if not parent or parent in defined["locations"]:
                continue  # cycles within the import are checked with the bundle
            row = Location.get_or_none(Location.slug == parent)
            if row is not None and f"/{location['id']}/" in row.path:
                bundle.report.add(
                    f"A cycle of parents: {parent!r} lies within {location['id']!r}.",
                    "locations",
                    index,
                    location["id"],
                    "parent",
                )


def _find_stale(plan: Plan, batch: set[str], defined: dict) -> None:
    """Records the batch's sources supported, that no bundle defines any more and that no
    other source supports: they will be deleted."""
    if not plan.sources:
        return
    previous = (
        Citation.select(Citation.record_type, Citation.record_id)
        .where(contributed_by(list(plan.sources.values())))
        .distinct()
    )
    by_type: dict[str, set[int]] = defaultdict(set)
    for record_type, record_id in previous.tuples():
        by_type[record_type].add(record_id)
    for kind in WRITABLE:
        collection, model = kind.collection, kind.model
        ids = by_type.get(kind.name, set())
        if not ids:
            continue
        cited = _contributors(kind.name, ids)
        for row_id, slug in (
            model.select(model.id, model.slug).where(model.id.in_(list(ids))).tuples()
        ):
            if slug not in defined[collection] and cited[row_id] <= batch:
                plan.stale[collection].add(row_id)


def _check_redefinitions(bundles: list[Bundle], batch: set[str]) -> None:
    """A record that another source (outside this import) supports keeps its definition."""
    for bundle in bundles:
        for kind in WRITABLE:
            collection, model = kind.collection, kind.model
            records = {key_of(collection, r): (i, r) for i, r in bundle.records[collection]}
            if not records:
                continue
            rows = list(model.select().where(model.slug.in_(list(records))))
            cited = _contributors(kind.name, {row.id for row in rows})
            for row in rows:
                others = sorted(cited[row.id] - batch)
                if not others:
                    continue
                index, record = records[row.slug]
                changed = differences(definition(collection, row), record)
                if changed:
                    owners = ", ".join(repr(o) for o in others)
                    bundle.report.add(
                        f"{row.slug!r} belongs to source {owners}; this bundle "
                        f"({bundle.source_id!r}) changes its {', '.join(changed)}. Refer to "
                        "it unchanged, or change it in a bundle of its source.",
                        collection,
                        index,
                        row.slug,
                        changed[0],
                    )


def _check_references(bundles: list[Bundle], plan: Plan, defined: dict) -> None:
    """Every reference resolves to a record of the import or a stored one that stays."""
    wanted: dict[str, set[str]] = defaultdict(set)
    for bundle in bundles:
        for collection in COLLECTIONS:
            for _, record, _ in bundle.every(collection):
                for kind, slug, _ in references(collection, record):
                    if isinstance(slug, str):
                        wanted[kind].add(slug)
    stored: dict[str, dict[str, int]] = {}
    texts: dict[str, str | None] = {b.source["id"]: b.source["text"] for b in bundles if b.source}
    for kind, slugs in wanted.items():
        model = named(kind).model
        query = model.select(model.slug, model.id).where(model.slug.in_(list(slugs)))
        stale = plan.stale.get(named(kind).collection, set())
        stored[kind] = {s: i for s, i in query.tuples() if i not in stale}
    for source in Source.select(Source.slug, Source.text).where(
        Source.slug.in_(list(wanted["source"] - set(texts)))
    ):
        texts[source.slug] = source.text
    for bundle in bundles:
        for collection in COLLECTIONS:
            for index, record, name in bundle.every(collection):
                for kind, slug, where in references(collection, record):
                    if not isinstance(slug, str) or slug in stored.get(kind, {}):
                        continue
                    if kind == "source" and slug in texts:
                        continue
                    if kind != "source" and slug in defined[named(kind).collection]:
                        continue
                    if kind != "source" and slug in bundle.broken.get(
                        named(kind).collection, set()
                    ):
                        continue
                    bundle.report.add(
                        f"unknown {kind} {slug!r}{suggestion(kind, slug, defined, plan.stale)}",
                        collection,
                        index,
                        name,
                        where,
                    )
                _check_foreign_excerpts(collection, index, name, record, texts, bundle)


def _check_foreign_excerpts(
    collection: str,
    index: int,
    name: str | None,
    record: dict,
    texts: dict,
    bundle: Bundle,
) -> None:
    """An excerpt citing another source occurs in that source's stored text."""
    for n, citation in enumerate(record.get("citations") or []):
        if not isinstance(citation, dict) or citation.get("excerpt") is None:
            continue
        cited = citation.get("source")
        if cited in (None, bundle.source_id) or cited not in texts:
            continue
        text = texts[cited]
        if not text or normalize(citation["excerpt"]) not in normalize(text):
            reason = "has no stored text" if not text else "does not contain it"
            bundle.report.add(
                f"Source {cited!r} {reason}: {citation['excerpt'][:80]!r}.",
                collection,
                index,
                name,
                f"citations[{n}]",
            )


def _check_removals(plan: Plan, defined: dict, bundles: list[Bundle], removing: str | None) -> None:
    """A record about to go must not be referred to by a record that stays."""
    report = bundles[0].report if bundles else Reporter(removing or "")
    plan.removal = report
    for collection, links in REFERRERS.items():
        ids = plan.stale.get(collection)
        if not ids:
            continue
        model = of_collection(collection).model
        for referring, link, record_column, reference in links:
            query = link.select(record_column, reference).where(reference.in_(list(ids)))
            for referrer_id, target_id in query.tuples():
                if referrer_id in plan.stale.get(referring, set()):
                    continue
                referrer = of_collection(referring).model.get_by_id(referrer_id).slug
                if referrer in defined[referring]:
                    continue  # redefined by the import: its references were checked above
                target = model.get_by_id(target_id).slug
                report.add(
                    f"{target!r} would be removed (no bundle supports it any more), but "
                    f"{referring[:-1]} {referrer!r} still refers to it.",
                    collection,
                    field=target,
                )
