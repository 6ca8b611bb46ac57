"""A data model for any briefing. An invented briefing from Burkina Faso
(tests/fixtures/datamodel/) uses every field v4 added: casualty figures, date kinds, the new
vocabulary values, statements on behalf of an actor, places in several regions, coordinates
from an enclosing place; and full text that stems and folds accents. Both backends."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from api.ingest import delete_source, import_body, load_files
from api.ingest.read import parse_yaml
from schemas import vocabularies as vocab

BUNDLE = Path(__file__).parents[1] / "fixtures" / "datamodel" / "950_liptako_fictional.yaml"
SOURCE = "sahel-monitor-2023-03-10-tin-akoff"
ATTACK = "attack-army-post-tin-akoff-2023-03-06"


@pytest.fixture(scope="module")
def sahel(database_url):
    """The session database with the Burkina Faso briefing loaded, for this module only."""
    from api.store.db import bind

    bind(database_url)
    load_files([BUNDLE])
    yield parse_yaml(BUNDLE.read_text(encoding="utf-8"))
    bind(database_url)
    delete_source(SOURCE)


def ids(response) -> list[str]:
    assert response.status_code == 200, response.json
    return [record["id"] for record in response.json]


def test_casualties_say_at_least_about_killed_wounded_and_side(client, sahel):
    event = client.get(f"/v1/events/{ATTACK}").json
    assert event["fatalities"] == 32  # the headline: the total killed, bounds as their number
    assert [
        (c["side"] and c["side"]["id"], c["killed"], c["wounded"], c["qualifier"])
        for c in event["casualties"]
    ] == [
        ("burkina-faso-army", 12, None, "at_least"),
        ("burkina-faso-army", None, 8, "exact"),
        ("liptako-front", 20, None, "about"),
    ]
    assert ATTACK in ids(client.get("/v1/events?fatalities_min=32&source=" + SOURCE))
    assert ATTACK not in ids(client.get("/v1/events?fatalities_min=33&source=" + SOURCE))
    # null stays "not given": an event without figures has none, and no headline
    operation = client.get("/v1/events/operation-laabingol-2023").json
    assert operation["fatalities"] is None and operation["casualties"] == []


def test_a_headline_that_contradicts_the_figures_is_refused(sahel):
    bundle = json.loads(json.dumps(sahel, default=str))
    bundle["source"]["text"] = (BUNDLE.parent / bundle["source"].pop("document")).read_text()
    bundle["events"][0]["fatalities"] = 12
    bundle["events"][1]["date_kind"] = "window"
    bundle["events"][1].pop("end_date")
    with pytest.raises(Exception) as refused:
        import_body(json.dumps(bundle).encode(), "application/json", dry_run=True)
    text = str(getattr(refused.value, "problems", refused.value))
    assert "total killed" in text and "Required when date_kind is window" in text


def test_date_kinds_span_window_and_open_start(client, sahel):
    events = {e["id"]: e for e in client.get(f"/v1/events?source={SOURCE}").json}
    assert events["operation-laabingol-2023"]["date_kind"] == "span"
    assert events["bridge-destroyed-near-sebba-2023-03"]["date_kind"] == "window"
    assert events["gendarmerie-post-abandoned-sebba-2023-02"]["date_kind"] == "on_or_before"
    assert events[ATTACK]["date_kind"] == "point"
    # a window overlaps a range that holds any of its days
    window = ids(client.get(f"/v1/events?source={SOURCE}&date_from=2023-03-04&date_to=2023-03-04"))
    assert "bridge-destroyed-near-sebba-2023-03" in window and ATTACK not in window
    # "on or before February 20": any range reaching back before that day may hold it
    early = ids(client.get(f"/v1/events?source={SOURCE}&date_from=2022-06-01&date_to=2022-06-30"))
    assert early == ["gendarmerie-post-abandoned-sebba-2023-02"]
    late = ids(client.get(f"/v1/events?source={SOURCE}&date_from=2023-02-21"))
    assert "gendarmerie-post-abandoned-sebba-2023-02" not in late


def test_every_new_vocabulary_value_is_served_with_its_meaning(client, sahel):
    served = {
        name: {e["code"]: e["meaning"] for e in entries}
        for name, entries in client.get("/v1/vocabularies").json.items()
    }
    for name, code in [
        ("actor_kinds", "intergovernmental_organization"),
        ("location_kinds", "administrative_region"),
        ("statement_channels", "organization_report"),
        ("statement_channels", "unattributed_report"),
        ("event_sub_types", "military_operation"),
    ]:
        assert served[name][code]
    for name, vocabulary in [
        ("date_kinds", vocab.DATE_KINDS),
        ("casualty_qualifiers", vocab.CASUALTY_QUALIFIERS),
        ("coordinate_sources", vocab.COORDINATE_SOURCES),
    ]:
        assert served[name] == vocabulary
    assert ids(client.get("/v1/actors?kind=intergovernmental_organization")) == [
        "minusma-fictional-test",
        "united-nations-fictional-test",
    ]
    unattributed = client.get("/v1/statements?channel=unattributed_report").json
    assert [(s["speakers"], s["attribution"]) for s in unattributed] == [([], "reportedly")]


def test_speaker_matches_the_actors_spoken_for(client, sahel):
    statement = client.get("/v1/statements/kabore-2023-03-07-held-firm").json
    assert [a["id"] for a in statement["on_behalf_of"]] == ["burkina-faso-army"]
    spoken_for = ids(client.get("/v1/statements?speaker=burkina-faso-army"))
    assert spoken_for == ["kabore-2023-03-07-held-firm", "kabore-2023-03-07-neutralised"]
    assert set(spoken_for) <= set(ids(client.get("/v1/statements?actor=burkina-faso-army")))


def test_an_event_without_coordinates_gets_its_nearest_located_ancestors(client, sahel):
    event = client.get(f"/v1/events/{ATTACK}").json
    assert event["coordinates"] == {
        "latitude": 14.0354,
        "longitude": -0.0345,
        "precision": "centroid",
        "source": "ancestor",
        "location": "sahel-region-burkina-faso",
    }
    own = client.get("/v1/events/bridge-destroyed-near-sebba-2023-03").json["coordinates"]
    assert own["source"] == "location" and own["location"] == "sebba"
    features = client.get(f"/v1/events?source={SOURCE}&format=geojson").json["features"]
    attack = next(f for f in features if f["id"] == ATTACK)
    assert attack["geometry"]["coordinates"] == [-0.0345, 14.0354]
    assert attack["properties"]["coordinate_source"] == "ancestor"
    assert attack["properties"]["coordinate_location"] == "sahel-region-burkina-faso"
    csv = client.get(f"/v1/events?source={SOURCE}&format=csv").text
    assert "coordinate_source" in csv.splitlines()[0]


def test_a_place_in_several_regions_is_within_each(client, sahel):
    country = client.get("/v1/locations/burkina-faso").json
    assert [r["id"] for r in country["regions"]] == ["the-sahel"]
    assert country["parent"] is None
    inside = ids(client.get("/v1/locations?within=the-sahel"))
    assert set(inside) == {"burkina-faso", "sahel-region-burkina-faso", "tin-akoff", "sebba"}
    events = ids(client.get("/v1/events?location=the-sahel"))
    assert ATTACK in events and "operation-laabingol-2023" in events


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("/v1/statements?q=neutralized", "kabore-2023-03-07-neutralised"),  # en-US for en-GB
        ("/v1/locations?q=sebba", "sebba"),  # accents folded
        ("/v1/events?q=sebba", "bridge-destroyed-near-sebba-2023-03"),
        ("/v1/events?q=attacks", ATTACK),  # plural finds singular
        ("/v1/events?q=operations", "operation-laabingol-2023"),
    ],
)
def test_full_text_stems_english_and_folds_accents(client, sahel, query, found):
    assert found in ids(client.get(query))


def test_the_first_briefing_is_found_by_inflected_words(client):
    found = ids(client.get("/v1/events?q=strikes"))
    assert "rocket-strike-near-halliburton-2020-04-06" in found


def test_export_round_trips_the_new_fields(client, sahel):
    exported = client.get(f"/v1/sources/{SOURCE}/bundle").json
    attack = next(e for e in exported["events"] if e["id"] == ATTACK)
    written = sahel["events"][0]["casualties"]  # as the curator wrote them, defaults filled
    assert attack["casualties"] == [
        {"killed": None, "wounded": None, "qualifier": "exact"} | figure for figure in written
    ]
    assert attack["date_kind"] == "point"
    country = next(loc for loc in exported["locations"] if loc["id"] == "burkina-faso")
    assert country["regions"] == ["the-sahel"]
    held = next(s for s in exported["statements"] if s["id"] == "kabore-2023-03-07-held-firm")
    assert held["on_behalf_of"] == ["burkina-faso-army"]
    report = import_body(json.dumps(exported).encode(), "application/json", dry_run=True)
    assert report.changed == 0, report.summary


def test_without_unaccent_postgresql_still_stems(database_url, tmp_path, monkeypatch, make_app):
    """Where the unaccent extension cannot be created, full text stems without folding."""
    from tests.scratch import is_postgres, scratch_database

    if not is_postgres(database_url):
        pytest.skip("unaccent is PostgreSQL's; FTS5 folds accents itself")
    from api.store import ddl

    monkeypatch.setattr(ddl, "unaccent_schema", lambda: None)
    with scratch_database(database_url, tmp_path, "plain") as url:
        served = make_app(url).test_client()
        load_files([BUNDLE])
        from api.store.db import database

        with database.connection_context():
            assert ddl.fulltext_configuration().endswith("(no unaccent)")
        assert ATTACK in ids(served.get("/v1/events?q=attacks"))
        assert "sebba" in ids(served.get("/v1/locations?q=s%C3%A9bba"))  # as written
        assert "sebba" in ids(served.get("/v1/locations?q=sebba"))  # its alias, unaccented


# ------------------------------------------------- the first briefing, revised


def test_reuters_is_given_no_words_the_article_gives_the_pmu_sources(client):
    reuters = client.get("/v1/statements/reuters-2020-04-01-faction-disagreement").json
    pmu = client.get("/v1/statements/pmu-sources-al-monitor-disagreement").json
    assert "disagreement is deep" in pmu["text"]
    assert "disagreement is deep" not in reuters["text"] and not reuters["verbatim"]
    assert "in line with" in reuters["text"]


def test_the_new_york_times_report_keeps_the_articles_date_and_names_the_record(client):
    nyt = client.get("/v1/statements/nyt-pentagon-sources-strike-on-kataib-hezbollah").json
    assert (nyt["date"], nyt["date_precision"]) == ("2020-03-30", "week")  # "last week"
    assert "Public record" in nyt["summary"]
    [record] = [c["public_record"] for c in nyt["citations"] if c["public_record"]]
    assert record["supports"] == ["summary"] and "27 March 2020" in record["name"]


def test_no_fact_is_counted_twice_as_events(client):
    events = {e["id"]: e for e in client.get("/v1/events?limit=500").json}
    # the aggregate no longer includes the base that is an event of its own
    bases = events["us-hands-four-bases-to-iraqi-forces-2020"]
    assert "three" in bases["title"] and bases["date_kind"] == "window"
    assert "habbaniya-air-base-handover-2020-04-04" in bases["summary"]
    # fortification and C-RAM cite different passages; the Patriot move is not an event
    excerpts = {
        event_id: {c["excerpt"] for c in events[event_id]["citations"]}
        for event_id in ("ain-al-asad-fortification-2020", "c-ram-deployed-ain-al-asad-2020")
    }
    assert not set.intersection(*excerpts.values())
    assert not any("making sure" in e for e in excerpts["ain-al-asad-fortification-2020"])
    assert client.get("/v1/events/patriot-systems-moved-into-iraq-2020").status_code == 404
    cram = events["c-ram-deployed-ain-al-asad-2020"]
    assert (cram["date"], cram["date_kind"], cram["end_date"]) == (
        "2020-04-07",
        "on_or_before",
        None,
    )


def test_the_first_briefing_says_none_were_hurt_and_who_spoke_for_whom(client):
    strike = client.get("/v1/events/rocket-strike-near-halliburton-2020-04-06").json
    assert strike["fatalities"] == 0
    assert strike["casualties"] == [{"side": None, "killed": 0, "wounded": 0, "qualifier": "exact"}]
    assert "mohyee-dpa-2020-03-31" in ids(client.get("/v1/statements?speaker=kataib-hezbollah"))
