"""The actor network (api/queries/network.py): relations, co-participation and co-signatory
edges, breadth-first to a depth, its evidence capped per edge and its ties read from the latest
records of each actor; it reads as a directed multigraph in networkx and exports as GraphML.
Expectations come from a search over the seed YAML."""

from __future__ import annotations

import io

import networkx as nx
import pytest

from api.queries import network
from tests.helpers import assert_problem, queries_for, seed


def seed_edges() -> dict[tuple, dict]:
    """Every network edge the seed implies, keyed like the API's edges."""
    edges: dict[tuple, dict] = {}
    for relation in seed()["relations"]:
        k = ("relation", relation["subject"], relation["object"], relation["predicate"])
        edges[k] = {"ends": {relation["subject"], relation["object"]}, "relation": relation}
    for kind, records, actors_of, field in (
        (
            "co_participation",
            seed()["events"],
            lambda r: [p["actor"] for p in r["participants"]],
            "events",
        ),
        ("co_signatory", seed()["statements"], lambda r: r["speakers"], "statements"),
    ):
        for record in records:
            actors = sorted(set(actors_of(record)))
            for n, one in enumerate(actors):
                for other in actors[n + 1 :]:
                    edge = edges.setdefault(
                        (kind, one, other, None), {"ends": {one, other}, field: set()}
                    )
                    edge[field].add(record["id"])
    return edges


def expected_network(actor: str, depth: int) -> tuple[dict[str, int], set[tuple]]:
    """Nodes with their depth, and edge keys, by breadth-first search over the seed."""
    edges = seed_edges()
    depth_of, found, frontier = {actor: 0}, set(), {actor}
    for level in range(1, depth + 1):
        reached = set()
        for k, edge in edges.items():
            if edge["ends"] & frontier:
                found.add(k)
                for end in edge["ends"] - set(depth_of):
                    depth_of[end] = level
                    reached.add(end)
        frontier = reached
    return depth_of, found


def api_key(edge: dict) -> tuple:
    if edge["kind"] == "relation":
        return ("relation", edge["source"], edge["target"], edge["predicate"])
    one, other = sorted((edge["source"], edge["target"]))
    return (edge["kind"], one, other, None)


@pytest.mark.parametrize("depth", [1, 2])
def test_network_matches_the_seed_graph(client, depth):
    edges = seed_edges()
    for actor in seed()["actors"]:
        response = client.get(f"/v1/actors/{actor['id']}/network?depth={depth}&limit=500")
        assert response.status_code == 200, response.json
        body = response.json
        depth_of, keys = expected_network(actor["id"], depth)
        assert body["actor"]["id"] == actor["id"] and body["depth"] == depth
        assert {n["id"]: n["depth"] for n in body["nodes"]} == depth_of, actor["id"]
        assert body["nodes"][0]["id"] == actor["id"]
        assert [n["depth"] for n in body["nodes"]] == sorted(n["depth"] for n in body["nodes"])
        assert {api_key(e) for e in body["edges"]} == keys, actor["id"]
        assert len(body["edges"]) == len(keys)
        assert body["truncated"] is False
        for edge in body["edges"]:
            expected = edges[api_key(edge)]
            if edge["kind"] == "relation":
                excerpts = [c["excerpt"] for c in edge["citations"]]
                assert excerpts == [c["excerpt"] for c in expected["relation"]["citations"]]
                assert edge["events"] == [] and edge["statements"] == []
            else:
                assert edge["predicate"] is None and edge["citations"] == []
                evidence = edge["events"] or edge["statements"]
                assert set(evidence) == expected.get("events", expected.get("statements"))


def test_network_edge_kinds_all_occur(client):
    kinds = set()
    for actor in ("kataib-hezbollah", "us-forces", "asaib-ahl-al-haq", "qasem-soleimani"):
        body = client.get(f"/v1/actors/{actor}/network").json
        kinds |= {edge["kind"] for edge in body["edges"]}
    assert kinds == {"relation", "co_participation", "co_signatory"}


def test_network_depth_two_extends_depth_one(client):
    grew = False
    for actor in seed()["actors"]:
        one = client.get(f"/v1/actors/{actor['id']}/network").json
        two = client.get(f"/v1/actors/{actor['id']}/network?depth=2").json
        nodes_one = {n["id"] for n in one["nodes"]}
        assert nodes_one <= {n["id"] for n in two["nodes"]}
        assert {api_key(e) for e in one["edges"]} <= {api_key(e) for e in two["edges"]}
        grew |= len(two["nodes"]) > len(one["nodes"])
    assert grew


def test_network_limit_truncates_nearest_first(client):
    full = client.get("/v1/actors/kataib-hezbollah/network?depth=2&limit=500").json
    assert len(full["nodes"]) > 3
    cut = client.get("/v1/actors/kataib-hezbollah/network?depth=2&limit=3").json
    assert cut["truncated"] is True
    assert len(cut["nodes"]) == 3
    assert cut["nodes"][0]["id"] == "kataib-hezbollah"
    kept = {n["id"] for n in cut["nodes"]}
    assert kept <= {n["id"] for n in full["nodes"]}
    for edge in cut["edges"]:
        assert {edge["source"], edge["target"]} <= kept
    # The nodes kept are among the nearest.
    assert max(n["depth"] for n in cut["nodes"]) <= min(
        n["depth"] for n in full["nodes"] if n["id"] not in kept
    )
    alone = client.get("/v1/actors/kataib-hezbollah/network?limit=1").json
    assert [n["id"] for n in alone["nodes"]] == ["kataib-hezbollah"]
    assert alone["edges"] == [] and alone["truncated"] is True


def test_network_of_an_unknown_actor_is_404(client):
    body = assert_problem(client.get("/v1/actors/no-such-actor/network"), 404)
    assert "no-such-actor" in body["detail"]


@pytest.mark.parametrize(
    "query, parameter",
    [
        ("depth=3", "depth"),
        ("depth=0", "depth"),
        ("depth=two", "depth"),
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("dept=2", "dept"),
    ],
)
def test_network_refuses_bad_parameters(client, query, parameter):
    assert_problem(client.get(f"/v1/actors/kataib-hezbollah/network?{query}"), 422, parameter)


def test_network_route_leaves_the_actor_routes_alone(client):
    assert client.get("/v1/actors/kataib-hezbollah").json["id"] == "kataib-hezbollah"
    assert client.get("/v1/actors/network").status_code == 404  # no actor called "network"


def test_network_query_count_is_constant(client):
    one = {queries_for(client, f"/v1/actors/{a['id']}/network") for a in seed()["actors"]}
    two = {
        queries_for(client, f"/v1/actors/{a['id']}/network?depth=2&limit=500")
        for a in seed()["actors"]
    }
    assert max(one) <= 8 and max(two) <= 12


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


def test_network_evidence_is_capped_oldest_first(client, monkeypatch):
    path = "/v1/actors/kataib-hezbollah/network?depth=2&limit=500"
    full = client.get(path).get_json()["edges"]
    assert max(len(e["events"]) + len(e["statements"]) for e in full) >= 2
    monkeypatch.setattr(network, "EVIDENCE_LIMIT", 1)
    capped = client.get(path).get_json()["edges"]
    assert len(capped) == len(full)
    for before, after in zip(full, capped, strict=True):
        for field in ("events", "statements"):
            assert after[field] == before[field][:1]


def test_network_ties_come_from_the_latest_records_of_each_actor(client, monkeypatch):
    """Around a hub the network reads at most RECORDS_PER_ACTOR links per explored actor;
    the result is the same on every call."""
    path = "/v1/actors/kataib-hezbollah/network?depth=2&limit=500"
    full = client.get(path).get_json()
    monkeypatch.setattr(network, "RECORDS_PER_ACTOR", 1)
    capped = client.get(path).get_json()
    assert capped == client.get(path).get_json()
    ties = [e for e in capped["edges"] if e["kind"] != "relation"]
    assert ties and len(ties) < len([e for e in full["edges"] if e["kind"] != "relation"])
    for edge in ties:  # one record from each end explored, at most
        assert 1 <= len(edge["events"]) + len(edge["statements"]) <= 2
    assert len(capped["nodes"]) <= len(full["nodes"])
