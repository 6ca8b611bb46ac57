"""`near` gives each record its `distance_km` and sorts by it; the network reads as a directed
multigraph in networkx, and exports as GraphML."""

from __future__ import annotations

import io
import math

import networkx as nx
import pytest

from tests.helpers import fetch_all

BAGHDAD = (33.3152, 44.3661)


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dlat, dlon = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dlat / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dlon / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


def test_near_gives_the_distance_of_each_location(client):
    near = "near={},{}&radius_km=1000".format(*BAGHDAD)
    places = fetch_all(client, f"/v1/locations?{near}&limit=3")
    assert places
    for place in places:
        expected = haversine_km(*BAGHDAD, place["latitude"], place["longitude"])
        assert place["distance_km"] == pytest.approx(expected, abs=0.5)
        assert place["distance_km"] <= 1000
    assert "distance_km" not in client.get("/v1/locations?limit=1").json[0]


@pytest.mark.parametrize("collection", ["locations", "events"])
def test_sort_by_distance_pages_nearest_first(client, collection):
    near = "near={},{}&radius_km=1000".format(*BAGHDAD)
    nearest = fetch_all(client, f"/v1/{collection}?{near}&sort=distance&limit=2")
    distances = [r["distance_km"] for r in nearest]
    assert len(distances) > 2 and distances == sorted(distances)
    farthest = fetch_all(client, f"/v1/{collection}?{near}&sort=-distance&limit=2")
    assert [r["distance_km"] for r in farthest] == sorted(distances, reverse=True)


def test_event_distance_is_its_locations(client):
    near = "near={},{}&radius_km=1000".format(*BAGHDAD)
    places = {p["id"]: p["distance_km"] for p in fetch_all(client, f"/v1/locations?{near}")}
    for event in fetch_all(client, f"/v1/events?{near}"):
        assert event["distance_km"] == places[event["location"]["id"]]


def test_sort_by_distance_needs_near(client):
    response = client.get("/v1/locations?sort=distance")
    assert response.status_code == 422 and "sort" in response.json["errors"]["query"]


def test_network_reads_as_a_directed_multigraph_in_networkx(client):
    data = client.get("/v1/actors/kataib-hezbollah/network?depth=2").json
    graph = nx.node_link_graph(data, edges="edges")
    assert graph.is_directed() and graph.is_multigraph()
    assert graph.number_of_nodes() == len(data["nodes"])
    assert graph.number_of_edges() == len(data["edges"])
    assert graph.graph == {"actor": "kataib-hezbollah", "depth": 2}
    relation = next(e for e in data["edges"] if e["kind"] == "relation")
    assert graph.has_edge(relation["source"], relation["target"])


def test_network_as_graphml(client):
    data = client.get("/v1/actors/kataib-hezbollah/network?depth=2").json
    for response in (
        client.get("/v1/actors/kataib-hezbollah/network?depth=2&format=graphml"),
        client.get(
            "/v1/actors/kataib-hezbollah/network?depth=2",
            headers={"Accept": "application/graphml+xml"},
        ),
    ):
        assert response.mimetype == "application/graphml+xml"
        graph = nx.read_graphml(io.BytesIO(response.data), force_multigraph=True)
        assert graph.is_directed()
        assert set(graph.nodes) == {n["id"] for n in data["nodes"]}
        assert graph.number_of_edges() == len(data["edges"])
        assert graph.nodes["kataib-hezbollah"]["name"] == "Kataib Hezbollah"
        kinds = [attrs["kind"] for _, _, attrs in graph.edges(data=True)]
        assert sorted(kinds) == sorted(e["kind"] for e in data["edges"])
        nx.write_graphml(graph, io.BytesIO())  # round-trips: every attribute is a scalar
    assert (
        client.get(
            "/v1/actors/kataib-hezbollah/network", headers={"Accept": "text/csv"}
        ).status_code
        == 406
    )
