"""Fidelity of every briefing bundle to its source article, whatever the article.

No database and no app: each check reads the YAML bundles (seed/briefings/*.yaml, and the test
briefings in tests/fixtures/briefings/) and their article texts, and checks that each bundle
validates, quotes what its article really says, holds together across files (unique ids,
references, orphans, location tree), and keeps to the date rules of seed/README.md. Failure
messages name the file and the record. The checks specific to one article live in a module of
their own (test_al_monitor_2020.py).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from schemas.bundle import BriefingBundleSchema

TESTS = Path(__file__).parents[1]
BRIEFING_DIRS = (TESTS.parent / "seed" / "briefings", TESTS / "fixtures" / "briefings")
FILES = [path for folder in BRIEFING_DIRS for path in sorted(folder.glob("*.yaml"))]
COLLECTIONS = ("actors", "relations", "locations", "events", "statements")

# Curly double quotes, curly single quotes -> straight ones.
TYPOGRAPHIC = str.maketrans({"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'"})


def normalize(text: str) -> str:
    """seed/README.md's comparison: typographic quotes to straight ones, whitespace runs to one
    space."""
    return re.sub(r"\s+", " ", text.translate(TYPOGRAPHIC)).strip()


def read_raw(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@cache
def load(path: Path) -> dict[str, Any]:
    return BriefingBundleSchema().load(read_raw(path))


@cache
def article_text(path: Path) -> str:
    """The normalised text of the article a bundle describes (its `document`)."""
    return normalize((path.parent / load(path)["source"]["document"]).read_text(encoding="utf-8"))


def articles_by_source() -> dict[str, str]:
    return {load(path)["source"]["id"]: article_text(path) for path in FILES}


def record_label(collection: str, record: dict[str, Any]) -> str:
    if "id" in record:
        return f"{collection}[{record['id']}]"
    return f"{collection}[{record['subject']} {record['predicate']} {record['object']}]"


def all_citations(bundle: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(record label, citation) of every excerpt citation (public records quote nothing)."""
    for collection in COLLECTIONS:
        for record in bundle[collection]:
            for citation in record["citations"]:
                if citation["public_record"] is None:
                    yield record_label(collection, record), citation


def test_every_record_cites_an_excerpt(path: Path, bundle: dict[str, Any]) -> None:
    """A public record only adds to the article: every record also quotes it."""
    bare = [
        f"{path.name}: {record_label(collection, record)}"
        for collection in COLLECTIONS
        for record in bundle[collection]
        if all(c["public_record"] is not None for c in record["citations"])
    ]
    assert not bare, "records citing only public records:\n" + "\n".join(bare)


def ids(bundle: dict[str, Any], collection: str) -> set[str]:
    return {record["id"] for record in bundle[collection]}


def everywhere(collection: str) -> set[str]:
    """Ids of a collection over every file: a file may refer to another file's records."""
    return {i for path in FILES for i in ids(load(path), collection)}


def test_there_are_briefings_to_check() -> None:
    assert any(path.parent == BRIEFING_DIRS[0] for path in FILES), "no seed briefing found"


@pytest.fixture(params=FILES, ids=lambda path: path.name)
def path(request: pytest.FixtureRequest) -> Path:
    return request.param


@pytest.fixture
def raw(path: Path) -> dict[str, Any]:
    return read_raw(path)


@pytest.fixture
def bundle(path: Path) -> dict[str, Any]:
    return load(path)


# --- 1. the bundle validates; its document is the article beside it ---------------------------


def test_bundle_validates(path: Path, raw: dict[str, Any]) -> None:
    errors = BriefingBundleSchema().validate(raw)
    assert not errors, f"{path.name} does not validate: {errors}"


def test_source_document_is_the_article_beside_it(path: Path, bundle: dict[str, Any]) -> None:
    document = bundle["source"]["document"]
    assert document == path.with_suffix(".txt").name, (
        f"{path.name}: source.document is {document!r}, expected {path.stem}.txt"
    )
    assert (path.parent / document).is_file(), f"{path.name}: {document} is missing"


# --- 2. citations and quotes come from the article ---------------------------------------------


def test_citation_excerpts_occur_in_the_cited_article(path: Path, bundle: dict[str, Any]) -> None:
    articles = articles_by_source()
    own = bundle["source"]["id"]
    missing = [
        f"{path.name}: {label}: {citation['excerpt']!r}"
        for label, citation in all_citations(bundle)
        if normalize(citation["excerpt"]) not in articles.get(citation["source"] or own, "")
    ]
    assert not missing, "excerpts not found in the article they cite:\n" + "\n".join(missing)


def test_citation_sources_resolve(path: Path, bundle: dict[str, Any]) -> None:
    sources = set(articles_by_source())
    wrong = [
        f"{path.name}: {label}: source {citation['source']!r}"
        for label, citation in all_citations(bundle)
        if citation["source"] is not None and citation["source"] not in sources
    ]
    assert not wrong, "citations naming an unknown source:\n" + "\n".join(wrong)


def test_statement_texts_occur_in_the_article(path: Path, bundle: dict[str, Any]) -> None:
    """A verbatim text is the quote; a paraphrase is a clause of the article, in its words."""
    article = article_text(path)
    missing = [
        f"{path.name}: statements[{statement['id']}] (verbatim={statement['verbatim']}): "
        f"{statement['text']!r}"
        for statement in bundle["statements"]
        if normalize(statement["text"]) not in article
    ]
    assert not missing, "statement text not in the article:\n" + "\n".join(missing)


def test_verbatim_text_is_the_quote_not_the_quotation_marks(
    path: Path, bundle: dict[str, Any]
) -> None:
    wrapped = [
        f"{path.name}: statements[{statement['id']}]: {statement['text']!r}"
        for statement in bundle["statements"]
        if statement["verbatim"]
        and re.match(r"^[\"\u201c\u00ab].*[\"\u201d\u00bb]$", statement["text"].strip())
    ]
    assert not wrapped, "verbatim text wrapped in quotation marks:\n" + "\n".join(wrapped)


# --- 3. ids are unique, every reference resolves --------------------------------------------


def test_ids_are_unique_across_files() -> None:
    duplicates = []
    for collection in ("actors", "locations", "events", "statements"):
        counts = Counter(i for path in FILES for i in (r["id"] for r in load(path)[collection]))
        duplicates += [f"{collection}[{i}] x{n}" for i, n in counts.items() if n > 1]
    counts = Counter(load(path)["source"]["id"] for path in FILES)
    duplicates += [f"source {i} x{n}" for i, n in counts.items() if n > 1]
    counts = Counter(
        (r["subject"], r["predicate"], r["object"])
        for path in FILES
        for r in load(path)["relations"]
    )
    duplicates += [f"relations[{' '.join(k)}] x{n}" for k, n in counts.items() if n > 1]
    assert not duplicates, "ids defined more than once:\n" + "\n".join(duplicates)


def test_references_resolve(path: Path, bundle: dict[str, Any]) -> None:
    actors, locations, events = everywhere("actors"), everywhere("locations"), everywhere("events")
    broken: list[str] = []

    def need(label: str, field: str, value: str | None, known: set[str]) -> None:
        if value is not None and value not in known:
            broken.append(f"{path.name}: {label}.{field}: unknown id {value!r}")

    for relation in bundle["relations"]:
        label = record_label("relations", relation)
        need(label, "subject", relation["subject"], actors)
        need(label, "object", relation["object"], actors)
    for location in bundle["locations"]:
        need(record_label("locations", location), "parent", location["parent"], locations)
    for event in bundle["events"]:
        label = record_label("events", event)
        need(label, "location", event["location"], locations)
        for participant in event["participants"]:
            need(label, "participants.actor", participant["actor"], actors)
    for statement in bundle["statements"]:
        label = record_label("statements", statement)
        for speaker in statement["speakers"]:
            need(label, "speakers", speaker, actors)
        for addressee in statement["addressees"]:
            need(label, "addressees", addressee, actors)
        for mentioned in statement["mentions"]:
            need(label, "mentions", mentioned, actors)
        need(label, "outlet", statement["outlet"], actors)
        for event_id in statement["events"]:
            need(label, "events", event_id, events)
    assert not broken, "unresolved references:\n" + "\n".join(broken)


def test_outlets_are_media_outlets(path: Path, bundle: dict[str, Any]) -> None:
    kinds = {a["id"]: a["kind"] for p in FILES for a in load(p)["actors"]}
    wrong = [
        f"{path.name}: statements[{statement['id']}].outlet: {statement['outlet']!r} is "
        f"{kinds.get(statement['outlet'])!r}"
        for statement in bundle["statements"]
        if statement["outlet"] and kinds.get(statement["outlet"]) != "media_outlet"
    ]
    assert not wrong, "outlets that are not media outlets:\n" + "\n".join(wrong)


# --- 4. no orphans; the location tree has no cycle -------------------------------------------


def actors_used(bundle: dict[str, Any]) -> set[str]:
    used: set[str] = set()
    for relation in bundle["relations"]:
        used |= {relation["subject"], relation["object"]}
    for event in bundle["events"]:
        used |= {participant["actor"] for participant in event["participants"]}
    for statement in bundle["statements"]:
        used |= set(statement["speakers"]) | set(statement["addressees"])
        used |= set(statement["mentions"])
        if statement["outlet"]:
            used.add(statement["outlet"])
    return used


def test_every_actor_is_referenced(path: Path, bundle: dict[str, Any]) -> None:
    used = set().union(*(actors_used(load(p)) for p in FILES))
    orphans = sorted(ids(bundle, "actors") - used)
    assert not orphans, f"{path.name}: actors referenced by no relation, event participation " + (
        "or statement: " + ", ".join(f"actors[{orphan}]" for orphan in orphans)
    )


def test_location_parents_have_no_cycle(path: Path, bundle: dict[str, Any]) -> None:
    parents = {location["id"]: location["parent"] for location in bundle["locations"]}
    cycles = []
    for start in parents:
        seen, current = [start], parents[start]
        while current is not None and current in parents:
            if current in seen:
                cycles.append(f"locations[{start}]: {' -> '.join([*seen, current])}")
                break
            seen.append(current)
            current = parents[current]
    assert not cycles, f"{path.name}: cycles in location parents:\n" + "\n".join(cycles)


def test_every_location_is_used(path: Path, bundle: dict[str, Any]) -> None:
    locations = {loc["id"]: loc for p in FILES for loc in load(p)["locations"]}
    used = {e["location"] for p in FILES for e in load(p)["events"] if e["location"]}
    covered: set[str] = set()

    def cover(location_id: str | None) -> None:
        while location_id is not None and location_id in locations and location_id not in covered:
            covered.add(location_id)
            location_id = locations[location_id]["parent"]

    for location_id in used:
        cover(location_id)
    for location_id in list(covered):  # the regions a used place lies in (one step)
        for region in locations[location_id]["regions"]:
            cover(region)
    parent_ids = {location["parent"] for location in locations.values()}
    exempt = {
        location_id
        for location_id, location in locations.items()
        if location["kind"] == "country"
        and location["parent"] is None
        and location_id in parent_ids
    }
    orphans = sorted(ids(bundle, "locations") - covered - exempt)
    assert not orphans, (
        f"{path.name}: locations used by no event (nor parent of one that is): "
        + ", ".join(f"locations[{orphan}]" for orphan in orphans)
    )


# --- 5. numbers, dates, signatories ----------------------------------------------------------


def test_fatalities_key_is_explicit(path: Path, raw: dict[str, Any]) -> None:
    missing = [
        f"events[{event.get('id')}]" for event in raw.get("events", []) if "fatalities" not in event
    ]
    assert not missing, f"{path.name}: events without a fatalities key: " + ", ".join(missing)


def test_every_statement_has_a_date_precision(path: Path, raw: dict[str, Any]) -> None:
    missing = [
        f"statements[{statement.get('id')}]"
        for statement in raw.get("statements", [])
        if not statement.get("date_precision")
    ]
    assert not missing, f"{path.name}: statements without date_precision: " + ", ".join(missing)


def test_week_month_and_year_dates_are_aligned(path: Path, bundle: dict[str, Any]) -> None:
    wrong = []
    for collection in ("events", "statements"):
        for record in bundle[collection]:
            precision, date = record["date_precision"], record["date"]
            if precision == "week" and date.weekday() != 0:
                wrong.append(f"{collection}[{record['id']}]: week date {date} is not a Monday")
            if precision == "month" and date.day != 1:
                wrong.append(f"{collection}[{record['id']}]: month date {date} is not the 1st")
            if precision == "year" and (date.month, date.day) != (1, 1):
                wrong.append(f"{collection}[{record['id']}]: year date {date} is not 1 January")
    assert not wrong, f"{path.name}:\n" + "\n".join(wrong)


def test_signatories_are_at_least_the_speakers(path: Path, bundle: dict[str, Any]) -> None:
    wrong = [
        f"statements[{s['id']}]: signatory_count {s['signatory_count']} < {len(s['speakers'])}"
        for s in bundle["statements"]
        if s["signatory_count"] is not None and s["signatory_count"] < len(s["speakers"])
    ]
    assert not wrong, f"{path.name}:\n" + "\n".join(wrong)


def test_nothing_dated_after_publication(path: Path, bundle: dict[str, Any]) -> None:
    published = bundle["source"]["published"]
    late = [
        f"{collection}[{record['id']}]: {record['date']} > {published}"
        for collection in ("events", "statements")
        for record in bundle[collection]
        if record["date"] > published or (record["end_date"] or record["date"]) > published
    ]
    assert not late, f"{path.name}: records dated after publication:\n" + "\n".join(late)
