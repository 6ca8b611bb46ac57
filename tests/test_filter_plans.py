"""How a list page reads its matches (api/queries/filters.py, issue #14): a filter through
places, actors, roles or sources is searched through its own index when it matches few rows
and, beyond PROBE_ABOVE matches, probed row by row while the list is read in the order of its
sort index. Both give the same records, order, totals and cursors, on both backends."""

from __future__ import annotations

import pytest
from playhouse.test_utils import count_queries

from api.queries import filters
from api.queries.paging import forget_counts
from tests.helpers import fetch_all, links

SOURCE = "al-monitor-2020-04-07-us-iran-showdown-iraq"
LISTS = [
    "/v1/events?role=target",
    "/v1/events?actor=kataib-hezbollah",
    "/v1/events?actor=us-forces&role=target",
    "/v1/events?location=iraq",
    "/v1/events?bbox=38,29,49,38",
    "/v1/events?near=33.3,44.4&radius_km=400",
    "/v1/events?near=33.3,44.4&radius_km=400&sort=distance",
    f"/v1/events?source={SOURCE}",
    "/v1/events?location=iraq&role=perpetrator&type=explosions_remote_violence",
    "/v1/events?role=target&date_from=2020-03-01",
    "/v1/events?location=iraq&date_to=2020-03-15",
    "/v1/statements?speaker=kataib-hezbollah&date_from=2020-03-01&date_to=2020-04-30",
    "/v1/statements?speaker=kataib-hezbollah",
    "/v1/statements?actor=us-forces",
    "/v1/statements?addressed_to=us-forces",
    "/v1/statements?mentions=kataib-hezbollah",
    f"/v1/statements?source={SOURCE}",
]
SORTS = ["", "&sort=-date", "&sort=title"]


def pages(client, path: str) -> tuple[list[str], list[str]]:
    """Every id of a list (2 a page, following cursors) and each page's X-Total-Count."""
    forget_counts()
    records = fetch_all(client, f"{path}&limit=2")
    first = client.get(f"{path}&limit=2")
    return [r["id"] for r in records], [first.headers["X-Total-Count"]]


@pytest.mark.parametrize("sort", SORTS)
@pytest.mark.parametrize("path", LISTS)
def test_probed_and_searched_filters_give_the_same_pages(client, monkeypatch, path, sort):
    if "sort=title" in sort and path.startswith("/v1/statements"):
        pytest.skip("statements have no title sort")
    if sort and "sort=" in path:
        pytest.skip("the path has its sort")
    searched = pages(client, path + sort)
    monkeypatch.setattr(filters, "PROBE_ABOVE", 0)  # every match count is "many"
    probed = pages(client, path + sort)
    assert probed == searched
    assert searched[0], path  # the filter matches something


def page_sql(client, path: str) -> str:
    """The SQL of the page query (the one with a LIMIT of limit + 1 = 3 rows)."""
    forget_counts()
    with count_queries() as counter:
        assert client.get(path).status_code == 200
    return " ".join(r.msg[0] for r in counter.get_queries() if "ORDER BY" in r.msg[0])


def test_many_matches_are_probed_in_sort_order(client, monkeypatch):
    """The switch itself: the page of a broad filter tests rows (EXISTS), a narrow one reads
    its matches (IN); a date filter probes too (the date index holds the spans), a
    full-text query or the distance sort keeps IN."""
    path = "/v1/events?role=target&limit=2"
    assert "EXISTS" not in page_sql(client, path)
    monkeypatch.setattr(filters, "PROBE_ABOVE", 0)
    assert "EXISTS" in page_sql(client, path)
    assert "EXISTS" in page_sql(client, path + "&sort=title&date_from=2020-01-01")
    assert "EXISTS" in page_sql(client, path + "&date_from=2020-01-01")
    assert "EXISTS" in page_sql(client, path + "&sort=-date&date_to=2020-04-01")
    assert "EXISTS" not in page_sql(client, path + "&q=rocket")
    near = "/v1/events?near=33.3,44.4&radius_km=400&limit=2"
    assert "EXISTS" in page_sql(client, near)
    assert "EXISTS" not in page_sql(client, near + "&sort=distance")


TIMELINES = [
    "/v1/timeline?location=iraq",
    "/v1/timeline?actor=us-forces",
    "/v1/timeline?location=iraq&actor=kataib-hezbollah",
    "/v1/timeline?location=iraq&date_from=2020-03-01",
    "/v1/timeline?actor=us-forces&date_to=2020-03-15",
]


def timeline_ids(client, path: str) -> tuple[list[str], list[str]]:
    """Every (record_type, id) of a timeline, 3 a page forward, and the same walked back from
    its last page by the prev links."""
    forward = fetch_all(client, f"{path}&limit=3")
    response = client.get(f"{path}&limit=3")
    while "next" in links(response):
        response = client.get(links(response)["next"])
    backward = list(response.json)
    while "prev" in links(response):
        response = client.get(links(response)["prev"])
        backward = response.json + backward
    ids = [f"{item['record_type']}:{item['id']}" for item in forward]
    return ids, [f"{item['record_type']}:{item['id']}" for item in backward]


@pytest.mark.parametrize("sort", ["", "&sort=-date"])
@pytest.mark.parametrize("path", TIMELINES)
def test_probed_and_searched_timelines_are_the_same(client, monkeypatch, path, sort):
    """The timeline pages each table in its own date order and merges them (issue #14); a
    broad filter is probed there too. Same items, order and cursors either way, both ways."""
    forget_counts()
    searched = timeline_ids(client, path + sort)
    monkeypatch.setattr(filters, "PROBE_ABOVE", 0)
    forget_counts()
    probed = timeline_ids(client, path + sort)
    assert probed == searched
    assert searched[0] == searched[1] and searched[0], path  # back and forth agree


def test_a_broad_timeline_is_probed(client, monkeypatch):
    """The switch itself: statements about the place's events are tested one by one."""
    path = "/v1/timeline?location=iraq&limit=2"
    assert "EXISTS" not in page_sql(client, path)
    monkeypatch.setattr(filters, "PROBE_ABOVE", 0)
    assert "EXISTS" in page_sql(client, path)
