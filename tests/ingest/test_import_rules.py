"""More of the importer's rules, through `briefing seed` on both backends: a bundle's own
records change freely, two files of one load must agree, the article must be there."""

from __future__ import annotations

import pytest

from tests.import_helpers import (
    ANDES,
    ANDES_ID,
    BALTIC,
    BALTIC_ID,
    remove_test_sources,
    seed_cli,
    variant,
)
from tests.ingest.test_import_failures import refused


@pytest.fixture
def curator(client, app, database_url, monkeypatch):
    yield lambda *args: seed_cli(monkeypatch, database_url, *args)
    remove_test_sources(app)


def test_a_bundle_changes_its_own_records_in_place(curator, client, tmp_path):
    assert curator(ANDES).exit_code == 0

    def retitle(bundle):
        bundle["events"][0]["title"] = "Bloqueo minero en la carretera a Oruro"

    result = curator(variant(tmp_path, ANDES, retitle))
    assert result.exit_code == 0, result.output
    assert "1 row(s) changed" in result.output
    event = client.get("/v1/events/test-bloqueo-la-paz-oruro-2023-05-10").json
    assert event["title"] == "Bloqueo minero en la carretera a Oruro"
    assert [r["id"] for r in client.get("/v1/search?q=minero&type=event").json] == [event["id"]]


def test_two_files_of_one_load_must_agree_on_a_shared_record(curator, client, tmp_path):
    def another_source_renaming_sweden(bundle):
        bundle["source"]["id"] = "test-nordic-copy"
        bundle["locations"][0]["name"] = "Kingdom of Sweden"

    copy = variant(tmp_path, BALTIC, another_source_renaming_sweden, name="nordic.yaml")
    output = refused(curator(ANDES, BALTIC, copy))
    assert (
        "nordic.yaml: locations[0] (test-sweden) id: 'test-sweden' is defined differently "
        f"by source {BALTIC_ID!r} (name)"
    ) in output
    assert client.get(f"/v1/sources/{ANDES_ID}").status_code == 404  # the whole load refused


def test_the_article_must_be_beside_the_bundle(curator, tmp_path):
    path = variant(tmp_path, ANDES, lambda b: b["source"].update(document="missing.txt"))
    refused(curator(path), "andes.yaml: source.document: cannot read 'missing.txt'")
    no_text = variant(tmp_path, ANDES, lambda b: b["source"].pop("document"), name="bare.yaml")
    refused(curator(no_text), "bare.yaml: source.text: Missing: the source's text")


def test_no_cycle_of_parents_through_another_briefing(curator, tmp_path):
    assert curator(ANDES).exit_code == 0

    def district_of_bolivia(bundle):
        bundle["locations"].append(
            {
                "id": "test-roadside",
                "name": "Roadside",
                "kind": "district",
                "parent": "test-bolivia",  # the andes briefing's
                "citations": ["east of Gotland"],
            }
        )
        bundle["events"][0]["location"] = "test-roadside"
        bundle["locations"] = bundle["locations"][2:]  # Sweden and Gotland unused now

    result = curator(variant(tmp_path, BALTIC, district_of_bolivia))
    assert result.exit_code == 0, result.output
    (tmp_path / "again").mkdir()
    cycle = variant(
        tmp_path / "again", ANDES, lambda b: b["locations"][0].update(parent="test-roadside")
    )
    refused(
        curator(cycle),
        "andes.yaml: locations[0] (test-bolivia) parent: A cycle of parents: 'test-roadside' "
        "lies within 'test-bolivia'.",
    )


# --- general checks of every briefing: places, coordinates, casualties ------------------------


def _add_places(bundle: dict, *places: dict) -> None:
    for place in places:
        bundle["locations"].append({"citations": ["la carretera entre La Paz y Oruro"]} | place)


def test_a_parent_is_an_administrative_place_of_a_higher_level(curator, tmp_path):
    def misplaced(bundle):
        _add_places(
            bundle,
            {
                "id": "test-altiplano",
                "name": "Altiplano",
                "kind": "region",
                "parent": "test-bolivia",
            },
            {"id": "test-la-paz", "name": "La Paz", "kind": "city", "parent": "test-bolivia"},
            {
                "id": "test-la-paz-dept",
                "name": "La Paz",
                "kind": "province",
                "parent": "test-la-paz",
            },
            {
                "id": "test-oruro",
                "name": "Oruro",
                "kind": "city",
                "parent": "test-la-paz-dept",
                "regions": ["test-altiplano"],
            },
        )
        bundle["locations"][1]["parent"] = "test-altiplano"  # the highway, in a region
        bundle["events"][0]["location"] = "test-oruro"

    refused(
        curator(variant(tmp_path, ANDES, misplaced)),
        "andes.yaml: locations[1] (test-la-paz-oruro-highway) parent: 'test-altiplano' is a "
        "region, not an administrative place: a place lies in a region through `regions`, and "
        "its parent is the administrative place that encloses it",
        "andes.yaml: locations[4] (test-la-paz-dept) parent: 'test-la-paz' is a city: a "
        "province's parent is a country or an administrative_region",
    )


def test_a_parent_stored_by_another_briefing_is_checked_too(curator, tmp_path):
    assert curator(ANDES).exit_code == 0

    def within_the_highway(bundle):
        bundle["locations"].append(
            {
                "id": "test-roadside",
                "name": "Roadside",
                "kind": "facility",
                "parent": "test-la-paz-oruro-highway",  # the andes briefing's facility
                "citations": ["east of Gotland"],
            }
        )
        bundle["events"][0]["location"] = "test-roadside"
        bundle["locations"] = bundle["locations"][2:]

    refused(
        curator(variant(tmp_path, BALTIC, within_the_highway)),
        "baltic.yaml: locations[0] (test-roadside) parent: 'test-la-paz-oruro-highway' is a "
        "facility: a facility's parent is a country, an administrative_region, a province, a "
        "district or a city",
    )


def test_a_country_has_no_parent(curator, tmp_path):
    def nested(bundle):
        _add_places(
            bundle,
            {
                "id": "test-peru",
                "name": "Peru",
                "kind": "country",
                "country": "PE",
                "parent": "test-bolivia",
            },
        )
        bundle["locations"][-1]["citations"] = ["la carretera entre La Paz y Oruro"]
        bundle["events"][0]["location"] = "test-peru"

    refused(
        curator(variant(tmp_path, ANDES, nested)),
        "andes.yaml: locations[2] (test-peru) parent: A country has no parent",
    )


def test_a_point_outside_its_country_is_refused(curator, tmp_path):
    def swapped(bundle):
        bolivia, highway = bundle["locations"]
        bolivia.update(latitude=-63.59 / 2, longitude=16.29)  # signs and axes mixed up
        highway.update(latitude=-17.2, longitude=-67.5, coordinate_precision="approximate")

    output = refused(
        curator(variant(tmp_path, ANDES, swapped)),
        "andes.yaml: locations[0] (test-bolivia) latitude: (-31.795, 16.29) lies outside BO "
        "(latitude -22.9 to -9.7, longitude -69.6 to -57.5)",
    )
    assert "test-la-paz-oruro-highway" not in output  # inside Bolivia: no problem


def test_fatalities_null_while_casualties_give_figures_is_refused(curator, tmp_path):
    def unknown_headline(bundle):
        bundle["events"][0].update(fatalities=None, casualties=[{"killed": 3, "wounded": 2}])

    refused(
        curator(variant(tmp_path, ANDES, unknown_headline)),
        "andes.yaml: events[0] (test-bloqueo-la-paz-oruro-2023-05-10) fatalities: Null "
        "(unknown) while `casualties` give 3 killed: the headline is their total",
    )


# --- facts from outside the article: public-record citations -----------------------------------

RECORD = {
    "public_record": "Instituto Nacional de Estadística de Bolivia, division of the country",
    "where": "https://www.ine.gob.bo",
    "supports": ["latitude", "longitude"],
    "fact": "The centre of Bolivia lies near 16.3 S, 63.6 W.",
}


def test_a_public_record_citation_names_the_fields_it_supports(curator, client, tmp_path):
    def from_public_record(bundle):
        bundle["locations"][0]["citations"].append(dict(RECORD))

    result = curator(variant(tmp_path, ANDES, from_public_record))
    assert result.exit_code == 0, result.output
    bolivia = client.get("/v1/locations/test-bolivia").json
    article, outside = bolivia["citations"]
    assert article["public_record"] is None and article["excerpt"]
    assert outside["excerpt"] is None
    assert outside["source"]["id"] == ANDES_ID  # the bundle that gives it
    assert outside["public_record"] == {
        "name": RECORD["public_record"],
        "where": RECORD["where"],
        "supports": ["latitude", "longitude"],
        "fact": RECORD["fact"],
    }
    csv = client.get("/v1/locations?format=csv&ids=test-bolivia").text
    assert "public record: Instituto Nacional" in csv
    exported = client.get(f"/v1/sources/{ANDES_ID}/bundle").json
    cited = next(loc for loc in exported["locations"] if loc["id"] == "test-bolivia")["citations"]
    assert cited[1] == RECORD | {"source": None}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda c: c.pop("where"),
            "locations[0] (test-bolivia) citations[1].where: Required with public_record: where "
            "the record can be checked",
        ),
        (
            lambda c: c.update(supports=["altitude"]),
            "locations[0] (test-bolivia) citations[1].supports: 'altitude' is not a field of a "
            "location",
        ),
        (
            lambda c: c.update(supports=["description"]),
            "locations[0] (test-bolivia) citations[1].supports: 'description' is empty in this "
            "record",
        ),
        (
            lambda c: c.update(excerpt="la carretera entre La Paz y Oruro"),
            "locations[0] (test-bolivia) citations[1].excerpt: A public-record citation quotes "
            "no excerpt",
        ),
    ],
)
def test_a_public_record_citation_is_checked(curator, tmp_path, change, message):
    def with_record(bundle):
        record = dict(RECORD)
        change(record)
        bundle["locations"][0]["citations"].append(record)

    refused(curator(variant(tmp_path, ANDES, with_record)), "andes.yaml: " + message)


def test_a_record_cites_its_article_besides_any_public_record(curator, tmp_path):
    def only_public_record(bundle):
        bundle["locations"][0]["citations"] = [dict(RECORD)]

    refused(
        curator(variant(tmp_path, ANDES, only_public_record)),
        "andes.yaml: locations[0] (test-bolivia) citations: At least one citation must be an "
        "excerpt of a source; a public record only adds to it",
    )
