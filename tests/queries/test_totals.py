"""Totals that never scan every match: exact up to EXACT_COUNT_LIMIT, an estimate
beyond it, exact on `Prefer: count=exact`; full text counts its first page with the page."""

from __future__ import annotations

import pytest


@pytest.fixture
def small(make_app):
    """An app counting exactly up to 2 matches."""
    return make_app(EXACT_COUNT_LIMIT=2).test_client()


def exact_total(client, path: str) -> int:
    response = client.get(path, headers={"Prefer": "count=exact"})
    assert response.headers["Preference-Applied"] == "count=exact"
    return int(response.headers["X-Total-Count"])


def test_beyond_the_limit_an_estimate(small):
    total = exact_total(small, "/v1/events")
    assert total > 2
    response = small.get("/v1/events?limit=1")
    assert "X-Total-Count" not in response.headers
    assert "Preference-Applied" not in response.headers
    assert int(response.headers["X-Total-Count-Estimate"]) >= 3


def test_within_the_limit_exact(small, client):
    events = client.get("/v1/events?limit=2").get_json()
    ids = "&".join(f"ids={event['id']}" for event in events)
    response = small.get(f"/v1/events?{ids}")
    assert response.headers["X-Total-Count"] == "2"
    assert "X-Total-Count-Estimate" not in response.headers


def test_default_limit_counts_the_seed_exactly(client):
    response = client.get("/v1/events?limit=1")
    assert int(response.headers["X-Total-Count"]) == exact_total(client, "/v1/events")


@pytest.mark.parametrize("prefer", ["count=exact", "return=minimal, count=exact", "COUNT=EXACT"])
def test_prefer_count_exact(small, prefer):
    response = small.get("/v1/events?limit=1", headers={"Prefer": prefer})
    assert int(response.headers["X-Total-Count"]) > 2


def test_other_preferences_are_ignored(small):
    response = small.get("/v1/events?limit=1", headers={"Prefer": "count=planned; x"})
    assert response.status_code == 200
    assert "X-Total-Count-Estimate" in response.headers


def test_geojson_always_counts_exactly(small):
    body = small.get("/v1/events?format=geojson&limit=1").get_json()
    assert body["numberMatched"] == exact_total(small, "/v1/events")


def test_full_text_total_is_the_same_on_every_page(client):
    first = client.get("/v1/events?q=rocket&limit=1")
    total = int(first.headers["X-Total-Count"])
    assert total >= 2
    cursor = first.headers["Link"].split("cursor=")[1].split(">")[0]
    second = client.get(f"/v1/events?q=rocket&limit=1&cursor={cursor}")
    assert int(second.headers["X-Total-Count"]) == total
    everything = client.get("/v1/events?q=rocket&limit=500").get_json()
    assert len(everything) == total
    assert client.get("/v1/events?q=zzzznothing").headers["X-Total-Count"] == "0"


def test_lists_vary_by_prefer(client):
    vary = {v.strip() for v in client.get("/v1/events").headers["Vary"].split(",")}
    assert {"Prefer", "Accept"} <= vary


def test_timeline_beyond_the_limit_an_estimate(small):
    """The timeline counts like the lists: exact up to the limit, an estimate beyond."""
    total = exact_total(small, "/v1/timeline")
    assert total > 2
    response = small.get("/v1/timeline?limit=1")
    assert "X-Total-Count" not in response.headers
    assert int(response.headers["X-Total-Count-Estimate"]) >= 3
    narrow = small.get("/v1/timeline?limit=1&q=halliburton")
    assert int(narrow.headers["X-Total-Count"]) <= 2


@pytest.mark.parametrize(
    "path", ["/v1/events?q=strikes&sort=date", "/v1/statements?q=us&sort=-date"]
)
def test_full_text_alone_estimates_its_matches(small, database_url, path):
    """Full text alone, not by relevance, walks the sort's index testing rows: beyond the
    limit its estimate is of the matches (SQLite: counted from the index, exact; PostgreSQL:
    the planner's estimate of the match), not of the walk (the whole table at 1M)."""
    matches = exact_total(small, path)
    assert matches > 2
    collection = path.split("?")[0]
    assert exact_total(small, collection) > matches  # an estimate of the table would be wrong
    estimate = int(small.get(f"{path}&limit=1").headers["X-Total-Count-Estimate"])
    if database_url.startswith("sqlite"):
        assert estimate == matches
    else:
        assert estimate >= 3
