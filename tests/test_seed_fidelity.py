"""Fidelity of the seed briefings to their source articles.

No database and no app: each test reads the article text and its seed YAML and checks that the
bundle validates, quotes what the article really says, holds together (references, orphans,
location tree), and keeps to the article's numbers. Failure messages name the record.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from schemas.bundle import BriefingBundleSchema

BRIEFINGS = Path(__file__).parent.parent / "seed" / "briefings"
SEED = BRIEFINGS / "000_9e342d25cd08eb3a.yaml"
ARTICLE = BRIEFINGS / "000_9e342d25cd08eb3a.txt"

# Page furniture starts here; nothing after it may be cited.
FURNITURE_MARKER = "Join hundreds of Middle East professionals"

# Curly double quotes, curly single quotes -> straight ones.
TYPOGRAPHIC = str.maketrans({"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'"})


def normalize(text: str) -> str:
    """Typographic quotes to straight ones, whitespace runs to one space."""
    return re.sub(r"\s+", " ", text.translate(TYPOGRAPHIC)).strip()


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    with SEED.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@pytest.fixture(scope="module")
def bundle(raw: dict[str, Any]) -> dict[str, Any]:
    return BriefingBundleSchema().load(raw)


@pytest.fixture(scope="module")
def body() -> str:
    text = ARTICLE.read_text(encoding="utf-8")
    assert FURNITURE_MARKER in text, f"{ARTICLE.name}: furniture marker not found"
    return normalize(text.split(FURNITURE_MARKER, 1)[0])


def record_label(collection: str, record: dict[str, Any]) -> str:
    if "id" in record:
        return f"{collection}[{record['id']}]"
    return f"{collection}[{record['subject']} {record['predicate']} {record['object']}]"


def all_citations(bundle: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for collection in ("actors", "relations", "locations", "events", "statements"):
        for record in bundle[collection]:
            for citation in record["citations"]:
                yield record_label(collection, record), citation


def ids(bundle: dict[str, Any], collection: str) -> set[str]:
    return {record["id"] for record in bundle[collection]}


# --- 1. the bundle validates ----------------------------------------------------------------


def test_bundle_validates(raw: dict[str, Any]) -> None:
    errors = BriefingBundleSchema().validate(raw)
    assert not errors, f"{SEED.name} does not validate: {errors}"


def test_source_document_is_the_article(bundle: dict[str, Any]) -> None:
    assert bundle["source"]["document"] == ARTICLE.name, (
        f"source.document is {bundle['source']['document']!r}, expected {ARTICLE.name!r}"
    )


# --- 2. citations and quotes come from the article body ----------------------------------------


def test_citation_excerpts_occur_in_article_body(bundle: dict[str, Any], body: str) -> None:
    missing = [
        f"{label}: {citation['excerpt']!r}"
        for label, citation in all_citations(bundle)
        if normalize(citation["excerpt"]) not in body
    ]
    assert not missing, "excerpts not found in the article body:\n" + "\n".join(missing)


def test_citation_sources_resolve(bundle: dict[str, Any]) -> None:
    source_id = bundle["source"]["id"]
    wrong = [
        f"{label}: source {citation['source']!r}"
        for label, citation in all_citations(bundle)
        if citation["source"] not in (None, source_id)
    ]
    assert not wrong, f"citations naming a source other than {source_id!r}:\n" + "\n".join(wrong)


def test_verbatim_statements_occur_in_article_body(bundle: dict[str, Any], body: str) -> None:
    missing = [
        f"statements[{statement['id']}]: {statement['text']!r}"
        for statement in bundle["statements"]
        if statement["verbatim"] and normalize(statement["text"]) not in body
    ]
    assert not missing, "verbatim statement text not in the article body:\n" + "\n".join(missing)


def test_paraphrases_use_the_articles_own_words(bundle: dict[str, Any], body: str) -> None:
    missing = [
        f"statements[{statement['id']}]: {statement['text']!r}"
        for statement in bundle["statements"]
        if not statement["verbatim"] and normalize(statement["text"]) not in body
    ]
    assert not missing, "paraphrase text is not a clause of the article:\n" + "\n".join(missing)


def test_verbatim_text_is_the_quote_not_the_quotation_marks(bundle: dict[str, Any]) -> None:
    wrapped = [
        f"statements[{statement['id']}]: {statement['text']!r}"
        for statement in bundle["statements"]
        if statement["verbatim"]
        and re.match(r"^[\"\u201c].*[\"\u201d]$", statement["text"].strip())
    ]
    assert not wrapped, "verbatim text wrapped in quotation marks:\n" + "\n".join(wrapped)


# --- 3. every reference resolves ------------------------------------------------------------


def test_references_resolve(bundle: dict[str, Any]) -> None:
    actors = ids(bundle, "actors")
    locations = ids(bundle, "locations")
    events = ids(bundle, "events")
    broken: list[str] = []

    def need(label: str, field: str, value: str | None, known: set[str]) -> None:
        if value is not None and value not in known:
            broken.append(f"{label}.{field}: unknown id {value!r}")

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


def test_outlets_are_media_outlets(bundle: dict[str, Any]) -> None:
    kinds = {actor["id"]: actor["kind"] for actor in bundle["actors"]}
    wrong = [
        f"statements[{statement['id']}].outlet: {statement['outlet']!r} is "
        f"{kinds.get(statement['outlet'])!r}"
        for statement in bundle["statements"]
        if statement["outlet"] and kinds.get(statement["outlet"]) != "media_outlet"
    ]
    assert not wrong, "outlets that are not media outlets:\n" + "\n".join(wrong)


# --- 4. no orphans; the location tree has no cycle -------------------------------------------


def test_every_actor_is_referenced(bundle: dict[str, Any]) -> None:
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
    orphans = sorted(ids(bundle, "actors") - used)
    assert not orphans, (
        "actors referenced by no relation, event participation or statement: "
        + ", ".join(f"actors[{orphan}]" for orphan in orphans)
    )


def test_location_parents_have_no_cycle(bundle: dict[str, Any]) -> None:
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
    assert not cycles, "cycles in location parents:\n" + "\n".join(cycles)


def test_every_location_is_used(bundle: dict[str, Any]) -> None:
    locations = {location["id"]: location for location in bundle["locations"]}
    used = {event["location"] for event in bundle["events"] if event["location"]}
    covered: set[str] = set()
    for location_id in used:
        current: str | None = location_id
        while current is not None and current in locations and current not in covered:
            covered.add(current)
            current = locations[current]["parent"]
    parent_ids = {location["parent"] for location in locations.values()}
    exempt = {
        location_id
        for location_id, location in locations.items()
        if location["kind"] == "country"
        and location["parent"] is None
        and location_id in parent_ids
    }
    orphans = sorted(set(locations) - covered - exempt)
    assert not orphans, "locations used by no event (nor parent of one that is): " + ", ".join(
        f"locations[{orphan}]" for orphan in orphans
    )


# --- 5. sanity: numbers, dates, signatories ---------------------------------------------------


def test_halliburton_strike_has_zero_fatalities(bundle: dict[str, Any]) -> None:
    strikes = [
        event
        for event in bundle["events"]
        if any(p["actor"] == "halliburton" for p in event["participants"])
        and event["type"] == "explosions_remote_violence"
    ]
    assert len(strikes) == 1, (
        f"expected one rocket strike involving Halliburton, found {[e['id'] for e in strikes]}"
    )
    strike = strikes[0]
    assert strike["fatalities"] == 0, (
        f"events[{strike['id']}].fatalities is {strike['fatalities']!r}; the article says "
        "'No casualties ... were reported', so it must be 0"
    )
    assert str(strike["date"]) == "2020-04-06", (
        f"events[{strike['id']}].date is {strike['date']}; the article says 'early April 6'"
    )


def test_fatalities_are_null_where_the_article_gives_no_number(bundle: dict[str, Any]) -> None:
    # The only casualty figure in the article is "No casualties" for the Halliburton strike.
    wrong = []
    for event in bundle["events"]:
        says_none = any(
            re.search(r"\bno casualties\b", citation["excerpt"], re.IGNORECASE)
            for citation in event["citations"]
        )
        expected = 0 if says_none else None
        if event["fatalities"] != expected:
            wrong.append(
                f"events[{event['id']}].fatalities is {event['fatalities']!r}, "
                f"expected {expected!r}"
            )
    assert not wrong, "fatalities not supported by the article:\n" + "\n".join(wrong)


def test_fatalities_key_is_explicit(raw: dict[str, Any]) -> None:
    missing = [f"events[{event.get('id')}]" for event in raw["events"] if "fatalities" not in event]
    assert not missing, "events without a fatalities key: " + ", ".join(missing)


def test_every_statement_has_a_date_precision(raw: dict[str, Any]) -> None:
    missing = [
        f"statements[{statement.get('id')}]"
        for statement in raw["statements"]
        if not statement.get("date_precision")
    ]
    assert not missing, "statements without date_precision: " + ", ".join(missing)


def test_week_and_month_dates_are_aligned(bundle: dict[str, Any]) -> None:
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
    assert not wrong, "\n".join(wrong)


def test_joint_statement_signatories(bundle: dict[str, Any]) -> None:
    joint = [s for s in bundle["statements"] if s["channel"] == "joint_statement"]
    assert joint, "no joint_statement: the April 4 statement of eight militias is missing"
    for statement in joint:
        count, speakers = statement["signatory_count"], statement["speakers"]
        assert count == 8, (
            f"statements[{statement['id']}].signatory_count is {count!r}; "
            "the article says eight militias"
        )
        assert count >= len(speakers), (
            f"statements[{statement['id']}]: signatory_count {count} < {len(speakers)} speakers"
        )


def test_nothing_dated_after_publication(bundle: dict[str, Any]) -> None:
    published = bundle["source"]["published"]
    late = [
        f"{collection}[{record['id']}]: {record['date']} > {published}"
        for collection in ("events", "statements")
        for record in bundle[collection]
        if record["date"] > published or (record["end_date"] or record["date"]) > published
    ]
    assert not late, "records dated after the article was published:\n" + "\n".join(late)
