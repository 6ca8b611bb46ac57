"""Same-as links: made and withdrawn by a curator, never a merge. `resolve=same_as` treats each
linked group as one on the lists and facets; withdrawing the link restores every answer
exactly (both backends, each test on its own seeded copy)."""

from __future__ import annotations

import json

import pytest

from tests.helpers import assert_problem, fetch_all, ids

SOURCE = "al-monitor-2020-04-07-us-iran-showdown-iraq"
# Two records a curator might take for one (here, on purpose, to see the counts move).
PAIR = ["us-forces", "us-central-command"]
GROUP = "us-central-command"  # the smaller id of the two


@pytest.fixture
def client(curated):
    return curated.app.test_client()


def link(client, curated, body: dict):
    headers = {**curated.auth(), "Content-Type": "application/json"}
    return client.post("/v1/same-as", data=json.dumps(body), headers=headers)


def answers(client) -> dict[str, object]:
    """Every answer `resolve=same_as` may change, in full."""
    paths = [
        "/v1/actors?resolve=same_as&limit=500",
        "/v1/actors?limit=500",
        "/v1/events/facets?field=actor&resolve=same_as&buckets=500",
        "/v1/statements/facets?field=speaker&resolve=same_as&buckets=500",
        "/v1/events?actor=us-forces&resolve=same_as&limit=500",
        "/v1/events?actor=us-central-command&resolve=same_as&limit=500",
        "/v1/events/aggregate?group_by=actor&resolve=same_as",
        "/v1/actors/us-forces/network?resolve=same_as&depth=2",
    ]
    found = {}
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, (path, response.json)
        found[path] = (response.json, response.headers.get("X-Total-Count"))
    return found


def events_of(client, actor: str) -> set[str]:
    return ids(fetch_all(client, f"/v1/events?actor={actor}&limit=500"))


def test_a_link_made_and_undone(client, curated):
    before = answers(client)
    actors_before = int(before["/v1/actors?resolve=same_as&limit=500"][1])
    union = events_of(client, PAIR[0]) | events_of(client, PAIR[1])
    made = link(
        client,
        curated,
        {"record_type": "actor", "records": PAIR, "confidence": 0.6, "reason": "A test link."},
    )
    assert made.status_code == 201, made.json
    body = made.json
    assert body["id"] == "us-central-command--same-as--us-forces"
    assert body["asserted_by"] == curated.names["write"] and body["group"] == GROUP
    assert made.headers["Location"].endswith(f"/v1/same-as/{body['id']}")
    assert client.get(f"/v1/same-as/{body['id']}").json == body

    after = answers(client)
    resolved = after["/v1/actors?resolve=same_as&limit=500"]
    assert int(resolved[1]) == actors_before - 1  # one group, counted once
    assert GROUP in ids(resolved[0]) and "us-forces" not in ids(resolved[0])
    head = next(a for a in resolved[0] if a["id"] == GROUP)
    assert [a["id"] for a in head["same_as"]] == ["us-forces"]
    # both records stay, and keep working, without resolve
    assert client.get("/v1/actors/us-forces").status_code == 200
    assert after["/v1/actors?limit=500"][1] == before["/v1/actors?limit=500"][1]
    # facets: the group's bucket counts the events of either member once
    buckets = {
        b["value"]: b["count"]
        for b in after["/v1/events/facets?field=actor&resolve=same_as&buckets=500"][0]
    }
    assert buckets[GROUP] == len(union) and "us-forces" not in buckets
    aggregate = after["/v1/events/aggregate?group_by=actor&resolve=same_as"][0]
    counts = {g["key"]["actor"]: g["count"] for g in aggregate["groups"]}
    assert counts[GROUP] == len(union) and "us-forces" not in counts
    graph = after["/v1/actors/us-forces/network?resolve=same_as&depth=2"][0]
    assert graph["actor"]["id"] == GROUP
    assert GROUP in ids(graph["nodes"]) and "us-forces" not in ids(graph["nodes"])
    assert all(e["source"] != e["target"] for e in graph["edges"])
    for member in PAIR:  # a filter by either member matches the group's events
        events = after[f"/v1/events?actor={member}&resolve=same_as&limit=500"]
        assert ids(events[0]) == union

    etagless = client.delete(f"/v1/same-as/{body['id']}", headers=curated.auth())
    assert etagless.status_code == 204
    assert answers(client) == before  # exactly as before the link
    assert_problem(client.get(f"/v1/same-as/{body['id']}"), 404)


def test_links_are_listed_and_chained_into_groups(client, curated):
    for pair in (["iraq", "iraqi-government"], ["iraqi-government", "iraqi-forces"]):
        body = {"record_type": "actor", "records": pair, "confidence": 0.5, "reason": "Chained."}
        assert link(client, curated, body).status_code == 201
    listed = client.get("/v1/same-as?record=iraqi-government").json
    assert {found["group"] for found in listed} == {"iraq"}
    resolved = ids(fetch_all(client, "/v1/actors?resolve=same_as&limit=500"))
    assert "iraq" in resolved and not {"iraqi-government", "iraqi-forces"} & resolved


def test_a_cited_link_of_places(client, curated):
    excerpt = "one Patriot battery was deployed to Harir airbase in Erbil in Iraqi Kurdistan."
    body = {
        "record_type": "location",
        "records": ["erbil-province", "harir-air-base"],
        "confidence": 0.3,
        "citation": {"source": SOURCE, "excerpt": excerpt},
    }
    made = link(client, curated, body)
    assert made.status_code == 201, made.json
    assert made.json["citation"]["source"]["id"] == SOURCE
    locations = ids(fetch_all(client, "/v1/locations?resolve=same_as&limit=500"))
    assert "erbil-province" in locations and "harir-air-base" not in locations


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"record_type": "actor", "records": ["irgc", "irgc"], "reason": "x" * 8}, "records"),
        ({"record_type": "actor", "records": ["irgc", "nobody"], "reason": "x" * 8}, "records[1]"),
        ({"record_type": "actor", "records": ["irgc", "quds-force"]}, "reason"),
        (
            {
                "record_type": "actor",
                "records": ["irgc", "quds-force"],
                "citation": {"source": SOURCE, "excerpt": "Words the article never says."},
            },
            "citation.excerpt",
        ),
        ({"record_type": "event", "records": ["a", "b"], "reason": "x" * 8}, "record_type"),
    ],
)
def test_a_refused_link_is_a_422_and_changes_nothing(client, curated, body, path):
    body = {"confidence": 0.5} | body
    problem = assert_problem(link(client, curated, body), 422)
    assert any(e["path"].endswith(path) for e in problem["errors"]), problem
    assert client.get("/v1/same-as").json == []


def test_a_link_needs_a_write_key_and_is_made_once(client, curated):
    body = {"record_type": "actor", "records": ["irgc", "quds-force"], "confidence": 0.5}
    body["reason"] = "Said to be one."
    assert_problem(client.post("/v1/same-as", json=body), 401)
    assert link(client, curated, body).status_code == 201
    body["records"] = ["quds-force", "irgc"]
    assert_problem(link(client, curated, body), 409)
    assert_problem(client.delete("/v1/same-as/nothing", headers=curated.auth()), 404)
