"""The timeline (api/queries/timeline.py): every event and statement in date order, filtered as
the lists are. Expectations come from the seed YAML or from the lists with the same filters."""

from __future__ import annotations

from collections import defaultdict

import pytest

from api.queries.paging import forget_counts
from tests.helpers import (
    PLURAL,
    assert_problem,
    fetch_all,
    ids,
    key,
    links,
    queries_for,
    seed,
    url,
)


def union(client, params: dict) -> set[tuple[str, str]]:
    """What the timeline should hold: the events and statements lists with the same filters."""
    events = fetch_all(client, url("/v1/events", {**params, "limit": 500}))
    statements = fetch_all(client, url("/v1/statements", {**params, "limit": 500}))
    return {("event", i) for i in ids(events)} | {("statement", i) for i in ids(statements)}


def test_timeline_holds_every_event_and_statement_oldest_first(client):
    items = fetch_all(client, "/v1/timeline?limit=5")
    expected = {("event", e["id"]) for e in seed()["events"]}
    expected |= {("statement", s["id"]) for s in seed()["statements"]}
    assert {key(item) for item in items} == expected
    assert len(items) == len(expected)
    dates = [item["date"] for item in items]
    assert dates == sorted(dates)


def test_timeline_reversed_is_the_same_sequence_backwards(client):
    forward = fetch_all(client, "/v1/timeline?limit=4")
    backward = fetch_all(client, "/v1/timeline?limit=7&sort=-date")
    assert [key(i) for i in backward] == [key(i) for i in reversed(forward)]
    dates = [item["date"] for item in backward]
    assert dates == sorted(dates, reverse=True)


def test_timeline_pages_are_the_same_whatever_the_page_size(client):
    whole = [key(i) for i in client.get("/v1/timeline?limit=500").json]
    for limit in (1, 3, 10):
        assert [key(i) for i in fetch_all(client, f"/v1/timeline?limit={limit}")] == whole


def test_timeline_prev_link_goes_back_a_page(client):
    first = client.get("/v1/timeline?limit=3")
    second = client.get(links(first)["next"])
    assert "prev" in links(second)
    back = client.get(links(second)["prev"])
    assert [key(i) for i in back.json] == [key(i) for i in first.json]
    assert int(second.headers["X-Total-Count"]) == int(first.headers["X-Total-Count"])


def test_timeline_items_describe_their_records(client):
    events = {e["id"]: e for e in seed()["events"]}
    statements = {s["id"]: s for s in seed()["statements"]}
    items = client.get("/v1/timeline?limit=500").json
    assert {item["record_type"] for item in items} == {"event", "statement"}
    for item in items:
        if item["record_type"] == "event":
            event = events[item["id"]]
            assert item["title"] == event["title"]
            participants = list(dict.fromkeys(p["actor"] for p in event["participants"]))
            assert [a["id"] for a in item["actors"]] == participants
            assert (item["location"] or {}).get("id") == event["location"]
            record = event
        else:
            statement = statements[item["id"]]
            assert item["title"] == statement["text"]
            assert [a["id"] for a in item["actors"]] == statement["speakers"]
            assert item["location"] is None
            record = statement
        assert item["date"] == record["date"].isoformat()
        assert item["date_precision"] == record["date_precision"]
        assert item["url"] == f"http://localhost/v1/{PLURAL[item['record_type']]}/{item['id']}"
        detail = client.get(item["url"])
        assert detail.status_code == 200 and detail.json["id"] == item["id"]


@pytest.mark.parametrize(
    "params",
    [
        {"date_from": "2020-04-01"},
        {"date_to": "2020-03-31"},
        {"date_from": "2020-03-01", "date_to": "2020-04-02"},
        {"q": "Iraq"},
        {"q": "Soleimani", "date_to": "2020-03-31"},
        {"actor": ["kataib-hezbollah", "donald-trump"]},
    ],
)
def test_timeline_filters_as_the_lists_do(client, params):
    items = fetch_all(client, url("/v1/timeline", {**params, "limit": 2}))
    expected = union(client, params)
    assert {key(i) for i in items} == expected
    assert expected, "a filter case that matches nothing proves little"


@pytest.mark.parametrize("q", ["*", '"', "OR", "قاسم"])
def test_timeline_accepts_any_full_text(client, q):
    response = client.get(url("/v1/timeline", {"q": q}))
    assert response.status_code == 200, response.json
    assert {key(i) for i in response.json} == union(client, {"q": q})


def test_timeline_actor_filter_per_actor(client):
    """For every actor: its events (any role) and the statements it made (itself or through a
    spokesman, on its behalf) or received."""
    by_actor: dict[str, set] = defaultdict(set)
    for event in seed()["events"]:
        for participant in event["participants"]:
            by_actor[participant["actor"]].add(("event", event["id"]))
    for statement in seed()["statements"]:
        for actor in statement["speakers"] + statement["addressees"] + statement["on_behalf_of"]:
            by_actor[actor].add(("statement", statement["id"]))
    for actor in seed()["actors"]:
        items = client.get(url("/v1/timeline", {"actor": actor["id"], "limit": 500})).json
        assert {key(i) for i in items} == by_actor[actor["id"]], actor["id"]


def test_timeline_location_includes_places_inside_and_statements_about_their_events(client):
    events = ids(fetch_all(client, "/v1/events?location=iraq&limit=500"))
    about = {s["id"] for s in seed()["statements"] if set(s["events"]) & events}
    items = fetch_all(client, "/v1/timeline?location=iraq&limit=3")
    assert {key(i) for i in items} == {("event", e) for e in events} | {
        ("statement", s) for s in about
    }
    assert about, "the seed has statements about events in Iraq"
    inner = fetch_all(client, "/v1/timeline?location=anbar-province")
    assert {key(i) for i in inner} < {key(i) for i in items}


def test_timeline_refuses_bad_parameters(client):
    assert_problem(client.get("/v1/timeline?actr=kataib-hezbollah"), 422, "actr")
    assert_problem(client.get("/v1/timeline?sort=title"), 422, "sort")
    assert_problem(client.get("/v1/timeline?actor=no-such-actor"), 422, "actor")
    assert_problem(client.get("/v1/timeline?location=atlantis"), 422, "location")
    assert_problem(client.get("/v1/timeline?limit=0"), 422, "limit")
    assert_problem(client.get("/v1/timeline?date_from=2020-05-01&date_to=2020-04-01"), 422)
    assert_problem(client.get("/v1/timeline?cursor=not-a-cursor"), 422, "cursor")
    # A cursor of one sort order is refused by the other.
    next_of_forward = links(client.get("/v1/timeline?limit=2"))["next"]
    cursor = next_of_forward.split("cursor=")[1]
    assert_problem(client.get(f"/v1/timeline?sort=-date&cursor={cursor}"), 422, "cursor")


def test_timeline_query_count_does_not_grow_with_the_page(client):
    # Count, a page of each table (each read in its own date order), then the
    # page's events, statements, places, participants and speakers, one batch each: the same
    # for any page holding both kinds.
    # Each measured as the first request of its filter: the total is remembered per data
    # version (paging.count_rows), after the data version is read.
    counts = {first_queries_for(client, f"/v1/timeline?limit={n}") for n in (12, 20, 500)}
    assert len(counts) == 1 and counts.pop() <= 9
    filtered = first_queries_for(
        client, "/v1/timeline?limit=500&actor=us-forces&location=iraq&q=US&date_from=2020-01-01"
    )
    # +1: places that list the `location` among their regions; on SQLite +2 counts of each
    # table's other conditions alone (filters.led_by_the_rest), each after its data version
    assert filtered <= 20


def first_queries_for(client, path: str) -> int:
    forget_counts()
    return queries_for(client, path)
