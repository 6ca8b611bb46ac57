"""Validating one bundle on its own: the schema, record by record (so every broken record is
reported, not only the first), then the rules of seed/README that need no database:
duplicates, excerpts and verbatim quotes in the source text, nothing dated after publication,
no orphans, no parent cycles. Cross-bundle and database checks are in api/ingest/resolve.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import marshmallow as ma

from api.ingest.excerpts import normalize
from api.ingest.places import outside_country
from api.ingest.problems import Reporter, flatten, record_name
from api.ingest.public_records import public_record_problems
from api.ingest.read import Input
from api.records import WRITABLE, named
from api.store.models import date_span, relation_slug

COLLECTIONS = tuple(kind.collection for kind in WRITABLE)  # a bundle's lists, in import order


def key_of(collection: str, record: dict) -> str:
    """A record's public id (relations: `subject--predicate--object`)."""
    if collection == "relations":
        return relation_slug(record["subject"], record["predicate"], record["object"])
    return record["id"]


@dataclass
class Bundle:
    """A bundle whose records passed the schema (records that failed it are left out, their
    problems reported). `broken` holds the ids of those, so references to them are not
    reported a second time."""

    name: str
    source: dict | None
    records: dict[str, list[tuple[int, dict]]]  # collection -> (index in file, record)
    broken: dict[str, set[str]]
    report: Reporter
    # The fields that passed the schema in records that did not: their references and
    # excerpts are checked too, so one pass reports every problem.
    partial: dict[str, list[tuple[int, dict]]] = field(default_factory=dict)

    def every(self, collection: str) -> Iterator[tuple[int, dict, str | None]]:
        """(index, record, name) of valid and partial records alike."""
        for index, record in self.records[collection]:
            yield index, record, key_of(collection, record)
        for index, record in self.partial.get(collection, []):
            yield index, record, record_name(collection, record)

    @property
    def source_id(self) -> str | None:
        return self.source["id"] if self.source else None

    def data(self) -> dict:
        """The bundle as BriefingBundleSchema would load it."""
        return {"source": self.source} | {
            c: [record for _, record in self.records[c]] for c in COLLECTIONS
        }


def load(bundle_input: Input) -> Bundle:
    """Run the schema over the source and over every record separately."""
    report = Reporter(bundle_input.name)
    report.problems.extend(bundle_input.problems)
    bundle = Bundle(bundle_input.name, None, {c: [] for c in COLLECTIONS}, {}, report)
    raw = bundle_input.raw
    if bundle_input.problems and raw is None:
        return bundle
    if not isinstance(raw, dict):
        report.add("A bundle is a mapping with source, actors, relations, locations, ...")
        return bundle
    for key in raw:
        if key not in ("source", *COLLECTIONS):
            report.add("Unknown field.", str(key))
    if "source" not in raw:
        report.add("Missing data for required field.", "source")
    else:
        try:
            bundle.source = named("source").bundle_schema().load(raw["source"])
        except ma.ValidationError as error:
            for path, message in flatten(error.messages):
                report.add(message, "source", field=path)
    for kind in WRITABLE:
        collection, schema = kind.collection, kind.bundle_schema
        items = raw.get(collection)
        if items is None:
            continue
        if not isinstance(items, list):
            report.add("Not a valid list.", collection)
            continue
        for index, item in enumerate(items):
            name = record_name(collection, item)
            try:
                bundle.records[collection].append((index, schema().load(item)))
            except ma.ValidationError as error:
                if name and collection != "relations":
                    bundle.broken.setdefault(collection, set()).add(name)
                if isinstance(error.valid_data, dict):
                    bundle.partial.setdefault(collection, []).append((index, error.valid_data))
                for path, message in flatten(error.messages):
                    report.add(message, collection, index, name, path)
    if bundle.source is not None and bundle.source["text"] is None:
        report.add(
            "Missing: the source's text (`text`, or `document`, a file beside the bundle); "
            "every citation excerpt is checked against it.",
            "source",
            field="text",
        )
    return bundle


def check(bundle: Bundle) -> None:
    """The rules of seed/README that one bundle can be checked against on its own."""
    _check_duplicates(bundle)
    if bundle.source is None:
        return
    _check_text(bundle)
    check_dates(bundle)
    _check_orphans(bundle)
    _check_parent_cycles(bundle)
    _check_public_records(bundle)
    _check_points(bundle)


def _check_public_records(bundle: Bundle) -> None:
    for collection in COLLECTIONS:
        for index, record in bundle.records[collection]:
            for field_name, message in public_record_problems(collection, record):
                bundle.report.add(
                    message, collection, index, key_of(collection, record), field_name
                )


def _check_points(bundle: Bundle) -> None:
    """A place's coordinates lie within its country."""
    for index, location in bundle.records["locations"]:
        if location["latitude"] is None or not location["country"]:
            continue
        problem = outside_country(location["latitude"], location["longitude"], location["country"])
        if problem:
            bundle.report.add(problem, "locations", index, location["id"], "latitude")


def _check_duplicates(bundle: Bundle) -> None:
    for collection in COLLECTIONS:
        seen: set[str] = set()
        for index, record in bundle.records[collection]:
            key = key_of(collection, record)
            field = "id" if collection != "relations" else "object"
            if key in seen:
                bundle.report.add(f"Duplicate {key!r}.", collection, index, key, field)
            seen.add(key)


def _check_text(bundle: Bundle) -> None:
    """Every excerpt citing this bundle's source, and every verbatim quote, is in its text."""
    if not bundle.source or not bundle.source["text"]:
        return
    text = normalize(bundle.source["text"])
    own = bundle.source_id
    for collection in COLLECTIONS:
        for index, record, name in bundle.every(collection):
            for n, citation in enumerate(record.get("citations") or []):
                if not isinstance(citation, dict) or citation.get("excerpt") is None:
                    continue
                mine = citation.get("source") in (None, own)
                if mine and normalize(citation["excerpt"]) not in text:
                    bundle.report.add(
                        f"Not in the source's text: {citation['excerpt'][:80]!r}.",
                        collection,
                        index,
                        name,
                        f"citations[{n}]",
                    )
            quoted = collection == "statements" and record.get("verbatim") and "text" in record
            if quoted and normalize(record["text"]) not in text:
                bundle.report.add(
                    "A verbatim quote must be the source's exact words; not found in its "
                    "text (use verbatim: false for a paraphrase).",
                    collection,
                    index,
                    name,
                    "text",
                )


_DATE_FIELDS = {
    "relations": ("start_date", "end_date"),
    "events": ("date", "end_date"),
    "statements": ("date", "end_date"),
}


def check_dates(bundle: Bundle) -> None:
    """Nothing is dated after the publication date (at the publication's precision)."""
    source = bundle.source
    if source is None:
        return
    _, latest = date_span(source["published"], None, source["published_precision"])
    for collection, names in _DATE_FIELDS.items():
        for index, record in bundle.records[collection]:
            for name in names:
                if record[name] and record[name] > latest:
                    bundle.report.add(
                        f"{record[name].isoformat()} is after the source's publication "
                        f"({source['published'].isoformat()}).",
                        collection,
                        index,
                        key_of(collection, record),
                        name,
                    )


def _check_orphans(bundle: Bundle) -> None:
    """Every actor is used by a relation, an event or a statement; every location by an
    event, or is an ancestor of one that is (a top-level country may serve only as a parent)."""
    used_actors: set[str | None] = set()
    for _, relation, _ in bundle.every("relations"):
        used_actors.update((relation.get("subject"), relation.get("object")))
    for _, event, _ in bundle.every("events"):
        used_actors.update(p.get("actor") for p in event.get("participants") or [])
        used_actors.update(c.get("side") for c in event.get("casualties") or [])
    for _, statement, _ in bundle.every("statements"):
        for name in ("speakers", "on_behalf_of", "addressees", "mentions"):
            used_actors.update(statement.get(name) or [])
        used_actors.add(statement.get("outlet"))
    for index, actor in bundle.records["actors"]:
        if actor["id"] not in used_actors:
            bundle.report.add(
                "An orphan: no relation, event or statement of the bundle mentions this actor.",
                "actors",
                index,
                actor["id"],
                "id",
            )
    parents = {loc["id"]: loc["parent"] for _, loc in bundle.records["locations"]}
    used = {event.get("location") for _, event, _ in bundle.every("events")}
    for place in list(used):
        seen = set()
        while parents.get(place) and place not in seen:
            seen.add(place)
            place = parents[place]
            used.add(place)
    regions = {loc["id"]: loc.get("regions") or [] for _, loc in bundle.records["locations"]}
    used |= {region for place in list(used) for region in regions.get(place, [])}
    for place in list(used):  # a region's own parents are used too
        while parents.get(place) and parents[place] not in used:
            place = parents[place]
            used.add(place)
    is_parent = set(parents.values())
    for index, loc in bundle.records["locations"]:
        serves_as_parent = loc["kind"] == "country" and not loc["parent"] and loc["id"] in is_parent
        if loc["id"] not in used and not serves_as_parent:
            bundle.report.add(
                "An orphan: no event of the bundle happens at this location or within it.",
                "locations",
                index,
                loc["id"],
                "id",
            )


def _check_parent_cycles(bundle: Bundle) -> None:
    parents = {loc["id"]: loc["parent"] for _, loc in bundle.records["locations"]}
    for index, loc in bundle.records["locations"]:
        place, seen = loc["id"], set()
        while place in parents and place not in seen:
            seen.add(place)
            place = parents[place]
        if place == loc["id"]:
            bundle.report.add(
                f"A cycle of parents: {' > '.join(sorted(seen))}.",
                "locations",
                index,
                loc["id"],
                "parent",
            )
