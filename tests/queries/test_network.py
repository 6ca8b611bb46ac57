"""The actor network (api/queries/network.py): relations, co-participation and co-signatory
edges, breadth-first to a depth. Expectations come from a search over the seed YAML."""

from __future__ import annotations

import pytest

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
