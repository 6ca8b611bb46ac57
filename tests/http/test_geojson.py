"""GeoJSON that GIS tools read well: flat scalar properties and OGC API Features paging."""

from __future__ import annotations

import json

import pytest


@pytest.mark.parametrize("collection", ["events", "locations"])
def test_properties_are_flat_scalars(client, collection):
    body = client.get(f"/v1/{collection}?format=geojson&limit=500").get_json(force=True)
    assert body["features"]
    for feature in body["features"]:
        for name, value in feature["properties"].items():
            assert value is None or isinstance(value, str | int | float | bool), (name, value)


def test_event_properties_name_the_location_and_list_as_json(client):
    events = {e["id"]: e for e in client.get("/v1/events?limit=500").json}
    body = client.get("/v1/events?format=geojson&limit=500").get_json(force=True)
    assert len(body["features"]) == len(events) > 0
    for feature in body["features"]:
        event, props = events[feature["id"]], feature["properties"]
        assert props["location_id"] == (event["location"] or {}).get("id")
        assert props["location_name"] == (event["location"] or {}).get("name")
        assert json.loads(props["participants"]) == [
            f"{p['actor']['id']}:{p['role']}" for p in event["participants"]
        ]
        assert json.loads(props["actor_ids"]) == list(
            dict.fromkeys(p["actor"]["id"] for p in event["participants"])
        )
        if event["coordinates"]:
            lon, lat = feature["geometry"]["coordinates"]
            assert (props["latitude"], props["longitude"]) == (lat, lon)


def test_ogc_paging_in_the_body_walks_every_feature(client):
    total = len(client.get("/v1/locations?limit=500").json)
    url, seen = "/v1/locations?format=geojson&limit=4", []
    while url:
        body = client.get(url).get_json(force=True)
        assert body["numberMatched"] == total
        assert body["numberReturned"] == len(body["features"]) <= 4
        rels = {link["rel"]: link for link in body["links"]}
        assert rels["self"]["type"] == "application/geo+json"
        seen += [f["id"] for f in body["features"]]
        url = rels.get("next", {}).get("href")
    assert len(seen) == len(set(seen)) == total


def test_geojson_download_filename(client):
    response = client.get("/v1/locations?format=geojson")
    assert response.headers["Content-Disposition"] == 'attachment; filename="locations.geojson"'


def test_self_link_is_a_uri_whatever_the_query(client):
    """A `q` in any script still gives ASCII, percent-encoded links (schemathesis found
    `q=ø` echoed raw into `self`)."""
    body = client.get("/v1/events?format=geojson&q=%C3%B8%20x").get_json(force=True)
    (link,) = [link for link in body["links"] if link["rel"] == "self"]
    assert link["href"].isascii() and "q=%C3%B8%20x" in link["href"], link
