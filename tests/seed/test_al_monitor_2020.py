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
    # The article's figures: "No casualties" for the Halliburton strike, and the two named dead
    # of the strike that killed Soleimani and al-Muhandis ("at least 2").
    named_dead = {"soleimani-muhandis-killing-2020-01-03": 2}
    wrong = []
    for event in bundle["events"]:
        says_none = any(
            re.search(r"\bno casualties\b", citation["excerpt"] or "", re.IGNORECASE)
            for citation in event["citations"]
        )
        expected = 0 if says_none else named_dead.get(event["id"])
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


# --- the seed audit: each finding, as a client of the API sees it ------------------------------

PUBLISHED = "2020-04-07"


def _get(client, path: str) -> dict:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code, response.json)
    return response.json


def _ids(client, path: str) -> set[str]:
    return {record["id"] for record in _get(client, path)}


def _public_records(record: dict) -> list[dict]:
    return [c["public_record"] for c in record["citations"] if c["public_record"]]


def _supported_from_outside(record: dict) -> set[str]:
    return {name for p in _public_records(record) for name in p["supports"]}


def test_erbil_province_lies_in_iraq_and_in_the_region_of_iraqi_kurdistan(client):
    erbil = _get(client, "/v1/locations/erbil-province")
    assert erbil["parent"]["id"] == "iraq"
    assert [region["id"] for region in erbil["regions"]] == ["iraqi-kurdistan"]
    # the region still finds the province and the base within it
    assert {"erbil-province", "harir-air-base"} <= _ids(
        client, "/v1/locations?within=iraqi-kurdistan"
    )


@pytest.mark.parametrize(
    "path",
    [
        "/v1/events/assaults-on-bases-housing-us-forces-2020",
        "/v1/events/patriot-battery-harir-air-base-2020",
        "/v1/statements/pentagon-source-al-monitor-c-ram",
        "/v1/statements/pmu-sources-al-monitor-disagreement",
    ],
)
def test_what_is_known_only_to_precede_a_day_has_an_open_start(client, path):
    record = _get(client, path)
    assert record["date_kind"] == "on_or_before", record["date_kind"]
    assert record["end_date"] is None
    assert record["date_precision"] == "day"


def test_the_assaults_precede_the_april_6_strike_and_leave_the_irgc_attack_to_its_event(client):
    assaults = _get(client, "/v1/events/assaults-on-bases-housing-us-forces-2020")
    assert assaults["date"] == "2020-04-05"
    assert "irgc-missile-attack-ain-al-asad-2020-01-08" in assaults["summary"]


def test_the_nyt_report_is_dated_as_the_article_dates_it_and_the_disagreement_is_said(client):
    report = _get(client, "/v1/statements/nyt-pentagon-sources-strike-on-kataib-hezbollah")
    assert (report["date"], report["date_precision"]) == ("2020-03-30", "week")
    assert "March 27" in report["summary"] and "disagree" in report["summary"]
    assert "summary" in _supported_from_outside(report)


def test_ghaanis_visit_ends_before_the_statement_it_preceded(client):
    late = _ids(client, "/v1/events?date_from=2020-04-04&date_to=2020-04-07")
    assert "ghaani-first-visit-to-iraq-2020-03" not in late
    visit = _get(client, "/v1/events/ghaani-first-visit-to-iraq-2020-03")
    assert (visit["date"], visit["date_kind"]) == ("2020-04-03", "on_or_before")


def test_the_killing_of_soleimani_and_al_muhandis_counts_its_two_named_dead(client):
    killing = _get(client, "/v1/events/soleimani-muhandis-killing-2020-01-03")
    victims = {p["actor"]["id"] for p in killing["participants"] if p["role"] == "victim"}
    assert victims == {"qasem-soleimani", "abu-mahdi-al-muhandis"}
    assert killing["fatalities"] == 2
    assert [(c["killed"], c["qualifier"]) for c in killing["casualties"]] == [(2, "at_least")]
    # that al-Muhandis died in this strike is public record, and marked so
    assert {"participants", "casualties", "fatalities"} <= _supported_from_outside(killing)
    assert "soleimani-muhandis-killing-2020-01-03" in _ids(client, "/v1/events?fatalities_min=2")


def test_mckenzies_words_are_not_given_a_channel_the_article_does_not_name(client):
    for statement_id in (
        "mckenzie-2020-03-13-patriots-moving",
        "mckenzie-2020-03-13-patriot-positions",
    ):
        assert _get(client, f"/v1/statements/{statement_id}")["channel"] == "statement"


def test_the_joint_statement_is_not_linked_to_the_visit_it_followed(client):
    joint = _get(client, "/v1/statements/joint-statement-eight-militias-2020-04-04")
    assert joint["events"] == []


def test_the_pmu_is_an_umbrella(client):
    assert _get(client, "/v1/actors/popular-mobilization-units")["kind"] == "coalition"


def test_habbaniya_is_placed_from_public_record_and_only_approximately(client):
    base = _get(client, "/v1/locations/habbaniya-air-base")
    assert base["coordinate_precision"] == "approximate"
    assert {"parent", "aliases", "latitude", "longitude"} <= _supported_from_outside(base)


def test_abdul_mahdi_speaks_for_the_iraqi_government_to_us_forces(client):
    expected = {
        "abdul-mahdi-2020-03-29-warning-to-us-forces",
        "abdul-mahdi-2020-03-29-unauthorized-flights",
        "abdul-mahdi-2020-03-29-strike-warning",
    }
    assert expected <= _ids(client, "/v1/statements?speaker=iraqi-government")
    assert expected <= _ids(client, "/v1/statements?addressed_to=us-forces")


def test_the_patriot_statements_are_linked_to_the_patriot_battery(client):
    assert _ids(client, "/v1/statements?event=patriot-battery-harir-air-base-2020") == {
        "centcom-2020-04-02-defensive-systems",
        "mckenzie-2020-03-13-patriots-moving",
        "mckenzie-2020-03-13-patriot-positions",
    }


def test_mohyees_warning_cites_his_words_and_mentions_the_pmu(client):
    warning = _get(client, "/v1/statements/mohyee-dpa-2020-03-31")
    excerpts = " ".join(c["excerpt"] or "" for c in warning["citations"])
    assert "Iran-backed factions see" not in excerpts  # the article's analysis, not his words
    assert [actor["id"] for actor in warning["mentions"]] == ["popular-mobilization-units"]


@pytest.mark.parametrize(
    ("path", "fields"),
    [
        ("/v1/relations/esmail-ghaani--commands--quds-force", {"start_date"}),
        ("/v1/relations/esmail-ghaani--succeeded--qasem-soleimani", {"start_date"}),
        ("/v1/relations/qasem-soleimani--commands--quds-force", {"end_date"}),
        ("/v1/relations/abu-mahdi-al-muhandis--leads--popular-mobilization-units", {"end_date"}),
        ("/v1/actors/abu-mahdi-al-muhandis", {"description"}),
        ("/v1/events/soleimani-muhandis-killing-2020-01-03", {"date", "location", "sub_type"}),
        ("/v1/events/irgc-missile-attack-ain-al-asad-2020-01-08", {"date"}),
        ("/v1/locations/baghdad-international-airport", {"description"}),
        ("/v1/locations/halliburton-facility-southern-iraq", {"parent", "description"}),
    ],
)
def test_facts_from_public_record_name_the_record_that_supports_them(client, path, fields):
    record = _get(client, path)
    assert fields <= _supported_from_outside(record), _public_records(record)
    for public_record in _public_records(record):
        assert public_record["name"] and public_record["where"] and public_record["fact"]
    assert any(c["public_record"] is None for c in record["citations"]), "no article citation"
