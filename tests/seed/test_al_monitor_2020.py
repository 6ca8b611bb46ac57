"""Checks specific to the first seed briefing, 000_9e342d25cd08eb3a (Al-Monitor, April 2020):
its page furniture, its one casualty figure, its joint statement of eight militias. The checks
every briefing passes are in test_fidelity.py."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.seed.test_fidelity import all_citations, load, normalize

BRIEFINGS = Path(__file__).parents[2] / "seed" / "briefings"
SEED = BRIEFINGS / "000_9e342d25cd08eb3a.yaml"
ARTICLE = BRIEFINGS / "000_9e342d25cd08eb3a.txt"

# Page furniture starts here; nothing after it may be cited.
FURNITURE_MARKER = "Join hundreds of Middle East professionals"


@pytest.fixture(scope="module")
def bundle() -> dict[str, Any]:
    return load(SEED)


@pytest.fixture(scope="module")
def body() -> str:
    """The article up to its page furniture."""
    text = ARTICLE.read_text(encoding="utf-8")
    assert FURNITURE_MARKER in text, f"{ARTICLE.name}: furniture marker not found"
    return normalize(text.split(FURNITURE_MARKER, 1)[0])


def test_citation_excerpts_occur_in_article_body(bundle: dict[str, Any], body: str) -> None:
    missing = [
        f"{label}: {citation['excerpt']!r}"
        for label, citation in all_citations(bundle)
        if normalize(citation["excerpt"]) not in body
    ]
    assert not missing, "excerpts not found in the article body:\n" + "\n".join(missing)


def test_every_citation_is_of_this_article(bundle: dict[str, Any]) -> None:
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
