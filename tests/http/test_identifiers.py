"""External identifiers of actors and places: on the records, the `identifier=` filter, the
lookup, the vocabulary of schemes, and record writes (validated like any field)."""

from __future__ import annotations

import json

import pytest

from schemas import vocabularies as vocab
from tests.helpers import assert_problem, ids

MERGE = "application/merge-patch+json"


def test_records_carry_their_identifiers_with_pages(client):
    iraq = client.get("/v1/locations/iraq").json
    assert [(i["scheme"], i["value"]) for i in iraq["identifiers"]] == [
        ("wikidata", "Q796"),
        ("geonames", "99237"),
        ("iso3166-1", "IQ"),
    ]
    assert iraq["identifiers"][0]["url"] == "https://www.wikidata.org/wiki/Q796"
    assert iraq["identifiers"][1]["url"] == "https://www.geonames.org/99237"
    assert all(i["reason"] for i in iraq["identifiers"])
    cited = [c["public_record"] for c in iraq["citations"] if c["public_record"]]
    assert {"identifiers"} <= {field for c in cited for field in c["supports"]}
    militia = client.get("/v1/actors/kataib-hezbollah").json
    assert militia["identifiers"] == [] and militia["same_as"] == []


@pytest.mark.parametrize(
    ("path", "identifier", "expected"),
    [
        ("/v1/actors", "wikidata:Q796", {"iraq"}),
        ("/v1/actors", "iso3166-1:US", {"united-states"}),
        ("/v1/locations", "wikidata:Q796", {"iraq"}),
        ("/v1/locations", "iso3166-2:IQ-AN", {"anbar-province"}),
        ("/v1/locations", "wikidata:Q99999999", set()),
    ],
)
def test_the_identifier_filter(client, path, identifier, expected):
    response = client.get(f"{path}?identifier={identifier}")
    assert response.status_code == 200
    assert ids(response.json) == expected
    assert int(response.headers["X-Total-Count"]) == len(expected)


def test_the_identifier_filter_takes_any_of_its_values(client):
    response = client.get("/v1/actors?identifier=wikidata:Q794&identifier=wikidata:Q30")
    assert ids(response.json) == {"iran", "united-states"}


@pytest.mark.parametrize(
    ("path", "identifier"),
    [
        ("/v1/actors", "Q796"),  # no scheme
        ("/v1/actors", "wikidata:796"),  # not a QID
        ("/v1/actors", "geonames:99237"),  # a scheme of places only
        ("/v1/locations", "iso3166-1:XX"),  # unassigned
        ("/v1/locations", "iso3166-2:IQ-ZZ"),
        ("/v1/locations", "viaf:123"),  # no such scheme
    ],
)
def test_a_malformed_identifier_is_a_422_naming_it(client, path, identifier):
    assert_problem(client.get(f"{path}?identifier={identifier}"), 422, "identifier")


def test_the_lookup_answers_without_a_redirect(client):
    response = client.get("/v1/identifiers/wikidata/Q796")
    assert response.status_code == 200
    body = response.json
    assert body["url"] == "https://www.wikidata.org/wiki/Q796"
    assert [(r["type"], r["id"]) for r in body["records"]] == [
        ("actor", "iraq"),
        ("location", "iraq"),
    ]
    assert body["records"][0]["url"].endswith("/v1/actors/iraq")


@pytest.mark.parametrize(
    "path",
    ["/v1/identifiers/wikidata/Q99999999", "/v1/identifiers/viaf/1", "/v1/identifiers/wikidata/x"],
)
def test_the_lookup_of_nothing_is_a_404(client, path):
    assert_problem(client.get(path), 404)


def test_the_vocabulary_lists_the_schemes_with_their_url_templates(client):
    schemes = {e["code"]: e for e in client.get("/v1/vocabularies").json["identifier_schemes"]}
    assert list(schemes) == list(vocab.IDENTIFIER_SCHEMES)
    assert schemes["wikidata"]["url_template"] == "https://www.wikidata.org/wiki/{value}"
    assert schemes["acled"]["url_template"] is None
    assert schemes["geonames"]["record_types"] == ["location"]


def _patch(client, curated, path: str, body: dict):
    etag = client.get(path).headers["ETag"]
    headers = {**curated.auth(), "Content-Type": MERGE, "If-Match": etag}
    return client.patch(path, data=json.dumps(body), headers=headers)


def test_identifiers_are_written_like_any_field(curated):
    client = curated.app.test_client()
    path = "/v1/actors/kataib-hezbollah"
    refused = _patch(
        client, curated, path, {"identifiers": [{"scheme": "wikidata", "value": "Q12x"}]}
    )
    problem = assert_problem(refused, 422)
    assert any("identifiers[0].value" in e["path"] for e in problem["errors"])
    assert client.get(path).json["identifiers"] == []  # a refused write changes nothing
    given = {"scheme": "acled", "value": "Kataib Hezbollah", "reason": "ACLED's actor name."}
    assert _patch(client, curated, path, {"identifiers": [given]}).status_code == 200
    assert client.get(path).json["identifiers"] == [given | {"url": None}]
    found = client.get("/v1/actors?identifier=acled:Kataib Hezbollah").json
    assert ids(found) == {"kataib-hezbollah"}
    assert _patch(client, curated, path, {"identifiers": []}).status_code == 200
    assert client.get("/v1/actors?identifier=acled:Kataib Hezbollah").json == []


def test_a_duplicate_identifier_is_refused(curated):
    client = curated.app.test_client()
    twice = [{"scheme": "wikidata", "value": "Q796"}] * 2
    assert_problem(_patch(client, curated, "/v1/locations/iraq", {"identifiers": twice}), 422)
