"""Import failures, as a curator from another region found them: each failure reproduced through
`briefing seed` and the API, on both backends. Bundles: tests/fixtures/import/ (invented)."""

from __future__ import annotations

import pytest

from tests.import_helpers import (
    ANDES,
    ANDES_ID,
    BALTIC,
    remove_test_sources,
    seed_cli,
    text_variant,
    variant,
)

SEED_ID = "al-monitor-2020-04-07-us-iran-showdown-iraq"


@pytest.fixture
def curator(client, app, database_url, monkeypatch):
    """Runs `briefing seed` on the session database; removes what the test loaded."""
    yield lambda *args: seed_cli(monkeypatch, database_url, *args)
    remove_test_sources(app)


def refused(result, *fragments: str) -> str:
    """The CLI refused the file (exit 1, no traceback) with messages holding `fragments`."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in result.output, result.output
    return result.output


def test_the_invented_briefings_load_beside_the_seed(curator, client):
    result = curator(ANDES, BALTIC)
    assert result.exit_code == 0, result.output
    assert client.get(f"/v1/sources/{ANDES_ID}").status_code == 200
    event = client.get("/v1/events/test-cable-damage-gotland-2024-02-01").json
    assert event["location"]["id"] == "test-gotland"


def test_an_excerpt_not_in_the_article_is_refused(curator, client, tmp_path):
    def invent(bundle):
        bundle["events"][0]["citations"][1] = "La policía informó que hubo tres muertos."

    refused(
        curator(variant(tmp_path, ANDES, invent)),
        "andes.yaml: events[0] (test-bloqueo-la-paz-oruro-2023-05-10) citations[1]: "
        "Not in the source's text",
    )
    assert client.get(f"/v1/sources/{ANDES_ID}").status_code == 404


def test_an_impossible_date_is_named_not_a_traceback(curator, tmp_path):
    path = text_variant(tmp_path, ANDES, "    date: 2023-05-10\n", "    date: 2021-02-30\n")
    refused(
        curator(path),
        "andes.yaml: events[0] (test-bloqueo-la-paz-oruro-2023-05-10) date: Not a real date",
    )


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda b: b["statements"][0].update(date="2023-05-13", end_date=None),
            "statements[0] (test-quispe-reuters-2023-05) date: 2023-05-13 is after the "
            "source's publication (2023-05-12)",
        ),
        (
            lambda b: b["events"][0].update(location="test-bolivia"),
            "locations[1] (test-la-paz-oruro-highway) id: An orphan",
        ),
        (
            lambda b: b["actors"][1].update(country="ZZ"),
            "actors[1] (test-ramiro-quispe) country: 'ZZ' is not an ISO 3166-1 alpha-2",
        ),
    ],
    ids=["dated-after-publication", "orphan-location", "country-zz"],
)
def test_what_seed_readme_forbids_is_refused(curator, client, tmp_path, change, expected):
    refused(curator(variant(tmp_path, ANDES, change)), f"andes.yaml: {expected}")
    assert client.get(f"/v1/sources/{ANDES_ID}").status_code == 404


def test_every_problem_is_reported_in_one_pass(curator, tmp_path):
    def break_three_things(bundle):
        bundle["actors"][1]["country"] = "ZZ"
        bundle["events"][0]["location"] = "test-la-paz-oruro-higway"
        bundle["statements"][0]["text"] = "No vamos a levantar nada"

    output = refused(
        curator(variant(tmp_path, ANDES, break_three_things)),
        "actors[1] (test-ramiro-quispe) country:",
        "events[0] (test-bloqueo-la-paz-oruro-2023-05-10) location: unknown location "
        "'test-la-paz-oruro-higway'; did you mean 'test-la-paz-oruro-highway'?",
        "statements[0] (test-quispe-reuters-2023-05) text: A verbatim quote",
    )
    assert "refused: 4 problem(s)" in output  # the highway is then an orphan too


def test_redefining_another_sources_id_is_refused_naming_both(curator, client, tmp_path):
    before = client.get("/v1/actors/reuters").json

    def rename(bundle):
        bundle["actors"][2].update(name="Reuters News Agency", aliases=[])

    refused(
        curator(variant(tmp_path, ANDES, rename)),
        "andes.yaml: actors[2] (reuters) name: 'reuters' belongs to source "
        f"'{SEED_ID}'; this bundle ('{ANDES_ID}') changes its name, aliases",
    )
    assert client.get("/v1/actors/reuters").json == before


def test_an_actor_two_briefings_mention_is_one_record_citing_both(curator, client):
    assert curator(ANDES).exit_code == 0
    reuters = client.get("/v1/actors/reuters").json
    assert reuters["name"] == "Reuters" and [a["name"] for a in reuters["aliases"]] == [
        "Thomson Reuters"
    ]
    cited = {citation["source"]["id"] for citation in reuters["citations"]}
    assert cited == {SEED_ID, ANDES_ID}


def test_a_record_removed_from_a_bundle_is_deleted(curator, client, tmp_path):
    assert curator(ANDES).exit_code == 0
    assert client.get("/v1/statements/test-quispe-reuters-2023-05").status_code == 200
    assert client.get("/v1/search?q=levantar").json

    def drop_the_quote(bundle):
        bundle["statements"] = []
        bundle["actors"] = [a for a in bundle["actors"] if a["id"] != "reuters"]

    result = curator(variant(tmp_path, ANDES, drop_the_quote))
    assert result.exit_code == 0, result.output
    assert client.get("/v1/statements/test-quispe-reuters-2023-05").status_code == 404
    assert client.get("/v1/search?q=levantar").json == []
    # reuters is also the seed's: it stays, without this briefing's citation
    reuters = client.get("/v1/actors/reuters").json
    assert {c["source"]["id"] for c in reuters["citations"]} == {SEED_ID}
    assert client.get("/v1/events/test-bloqueo-la-paz-oruro-2023-05-10").status_code == 200
