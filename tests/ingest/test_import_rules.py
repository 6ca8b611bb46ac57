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

    def place_within_the_highway(bundle):
        bundle["locations"].append(
            {
                "id": "test-roadside",
                "name": "Roadside",
                "kind": "facility",
                "parent": "test-la-paz-oruro-highway",  # the andes briefing's
                "citations": ["east of Gotland"],
            }
        )
        bundle["events"][0]["location"] = "test-roadside"
        bundle["locations"] = bundle["locations"][2:]  # Sweden and Gotland unused now

    result = curator(variant(tmp_path, BALTIC, place_within_the_highway))
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
