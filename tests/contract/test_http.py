"""The contract an integrator relies on beyond the spec: consistent 406s, absolute URLs,
search paged like every list, error details that are sentences, and bbox/near as a comma
string or an array."""

from __future__ import annotations

import pytest

from tests.helpers import links, located

JSON_ONLY = [
    "/v1/events/rocket-strike-near-halliburton-2020-04-06",
    "/v1/actors/kataib-hezbollah",
    "/v1/actors/kataib-hezbollah/network",
    "/v1/search?q=ghaani",
    "/v1/timeline",
    "/v1/events/facets?field=type",
    "/v1/vocabularies",
]


@pytest.mark.parametrize("url", JSON_ONLY)
def test_json_only_views_answer_406_to_what_they_cannot_serve(client, url):
    refused = client.get(url, headers={"Accept": "text/csv"})
    assert refused.status_code == 406
    assert refused.mimetype == "application/problem+json"
    assert "application/json" in refused.json["detail"]
    assert client.get(url, headers={"Accept": "text/html,*/*;q=0.8"}).status_code == 200
    assert client.get("/v1/events", headers={"Accept": "image/png"}).status_code == 406


def test_urls_in_responses_are_absolute(client):
    hit = client.get("/v1/search?q=ghaani").json[0]
    assert hit["url"] == f"http://localhost/v1/{hit['record_type']}s/{hit['id']}"
    assert client.get(hit["url"]).status_code == 200
    item = client.get("/v1/timeline?limit=1").json[0]
    assert item["url"].startswith("http://localhost/v1/")
    source = client.get("/v1/sources").json[0]
    assert all(url.startswith("http://localhost/v1/") for url in source["links"].values())
    behind = client.get("/v1/search?q=ghaani", base_url="https://briefing.example.org")
    assert behind.json[0]["url"].startswith("https://briefing.example.org/v1/")


def test_search_is_paged_like_every_list(client):
    whole = client.get("/v1/search?q=iraq&limit=100")
    total = int(whole.headers["X-Total-Count"])
    assert total == len(whole.json) > 7 and "Link" not in whole.headers
    hits, response = [], client.get("/v1/search?q=iraq&limit=7")
    while True:
        assert int(response.headers["X-Total-Count"]) == total
        hits += [(h["record_type"], h["id"]) for h in response.json]
        if "next" not in links(response):
            break
        response = client.get(links(response)["next"])
    assert hits == [(h["record_type"], h["id"]) for h in whole.json]
    bad = client.get("/v1/search?q=iraq&cursor=bm9wZQ")
    assert bad.status_code == 422 and "query.cursor" in located(bad.json)


def test_validation_errors_name_parameters_in_a_sentence(client):
    problem = client.get("/v1/events?type=riot").json
    assert [e["path"] for e in problem["errors"]] == ["query.type"]
    assert problem["errors"][0]["message"].startswith("Must be one of: battles")
    detail = problem["detail"]
    assert detail.startswith("Invalid request. query parameter 'type': Must be one of")
    assert "{" not in detail and detail.endswith(".") and ".;" not in detail


@pytest.mark.parametrize(
    "query",
    [
        "bbox=38.7,29.0,48.6,37.4",
        "bbox=38.7&bbox=29.0&bbox=48.6&bbox=37.4",
        "bbox=38.7,29.0&bbox=48.6,37.4",
    ],
)
def test_bbox_as_a_comma_string_or_an_array(client, query):
    response = client.get(f"/v1/locations?{query}&limit=500")
    assert response.status_code == 200
    ids = {p["id"] for p in response.json}
    assert "ain-al-asad-air-base" in ids and "iraq" in ids


@pytest.mark.parametrize("query", ["near=33.31,44.36", "near=33.31&near=44.36"])
def test_near_as_a_comma_string_or_an_array(client, query):
    response = client.get(f"/v1/locations?{query}&radius_km=30")
    assert response.status_code == 200
    assert "baghdad" in {p["id"] for p in response.json}


@pytest.mark.parametrize("query", ["bbox=1,2,3", "bbox=a,b,c,d", "near=1", "near=nan,1"])
def test_malformed_coordinates_are_a_422_naming_the_parameter(client, query):
    response = client.get(f"/v1/locations?{query}")
    assert response.status_code == 422
    assert f"query.{query.split('=')[0]}" in located(response.json)
