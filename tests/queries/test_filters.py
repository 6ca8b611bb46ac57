"""How a list page reads its matches (api/queries/filters.py): a filter through
places, actors, roles or sources is searched through its own index when it matches few rows;
probed row by row while the list is read in the order of its sort index beyond PROBE_ABOVE
matches (or, on SQLite, when a walk finds a page soon enough); and probed for each row of its
other conditions (dates, types) when those alone match few rows (SQLite: led by the rest).
All give the same records, order, totals and cursors, on both backends."""

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


# Settings of api/queries/filters.py that force one way of reading (each else decided by counts)
FORMS = {
    "searched": {"PROBE_ABOVE": 10**9, "LED_AT_MOST": -1},
    "probed": {"PROBE_ABOVE": 0, "LED_AT_MOST": -1},
    "led": {"LED_AT_MOST": 10**9},
}


def read_as(monkeypatch, form: str) -> None:
    for name, value in FORMS[form].items():
        monkeypatch.setattr(filters, name, value)


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
    read_as(monkeypatch, "searched")
    searched = pages(client, path + sort)
    read_as(monkeypatch, "probed")  # every match count is "many"
    probed = pages(client, path + sort)
    read_as(monkeypatch, "led")  # any other condition leads
    led = pages(client, path + sort)
    assert probed == searched
    assert led == searched
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
    read_as(monkeypatch, "searched")
    assert "EXISTS" not in page_sql(client, path)
    read_as(monkeypatch, "probed")
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
    """The timeline pages each table in its own date order and merges them; a
    broad filter is probed there too. Same items, order and cursors either way, both ways."""
    read_as(monkeypatch, "searched")
    forget_counts()
    searched = timeline_ids(client, path + sort)
    read_as(monkeypatch, "probed")
    forget_counts()
    probed = timeline_ids(client, path + sort)
    read_as(monkeypatch, "led")
    forget_counts()
    led = timeline_ids(client, path + sort)
    assert probed == searched
    assert led == searched
    assert searched[0] == searched[1] and searched[0], path  # back and forth agree


def test_a_broad_timeline_is_probed(client, monkeypatch):
    """The switch itself: statements about the place's events are tested one by one."""
    path = "/v1/timeline?location=iraq&limit=2"
    read_as(monkeypatch, "searched")
    assert "EXISTS" not in page_sql(client, path)
    read_as(monkeypatch, "probed")
    assert "EXISTS" in page_sql(client, path)


def test_few_rows_in_the_dates_lead_on_sqlite(client, monkeypatch, database_url):
    """The switch of `led_by_the_rest`: when the other conditions alone match at most
    LED_AT_MOST rows, the narrowing is probed for each of them and the page sorts them
    (`ORDER BY +date`, no walk of the date index); more, and the narrowing is searched.
    PostgreSQL's planner weighs both sides itself: never led there."""
    read_as(monkeypatch, "searched")
    everything = client.get("/v1/events?date_to=2100-01-01&limit=1")
    first = client.get("/v1/events?limit=1").json[0]["date"]
    few = int(client.get(f"/v1/events?date_to={first}&limit=1").headers["X-Total-Count"])
    assert few < int(everything.headers["X-Total-Count"])
    monkeypatch.setattr(filters, "LED_AT_MOST", few)
    narrow = page_sql(client, f"/v1/events?role=target&date_to={first}&limit=2")
    broad = page_sql(client, "/v1/events?role=target&date_to=2100-01-01&limit=2")
    assert "EXISTS" not in broad and "+" not in broad
    if database_url.startswith("sqlite"):
        assert "EXISTS" in narrow and 'ORDER BY +"t1"."date"' in narrow
    else:
        assert "EXISTS" not in narrow


def events_by_paths(slugs: list[str]) -> set[str]:
    """The events at the places or below them, read through the places' paths (the form the
    level columns stand for)."""
    from api.queries.filters import descendant_location_ids
    from api.store.models import Event

    inside = descendant_location_ids(slugs, "location")
    return {slug for (slug,) in Event.select(Event.slug).where(Event.location.in_(inside)).tuples()}


@pytest.mark.parametrize("form", ["searched", "probed", "led"])
def test_a_location_filter_selects_the_events_of_the_paths(client, monkeypatch, form):
    """`location=` reads the event's place at a level for a place at that level (a country,
    a province, a city: `country_place_id = ...`), the paths for the others (a region, a
    base, and the places listing a region among theirs): every place of the seed and the
    fictional briefing, alone and with others, selects the same events as the paths."""
    read_as(monkeypatch, form)
    slugs = [place["id"] for place in fetch_all(client, "/v1/locations?limit=100")]
    asked = [[slug] for slug in slugs] + [["iraq", "iraqi-kurdistan"], slugs[:5]]
    for names in asked:
        query = "&".join(f"location={slug}" for slug in names)
        forget_counts()
        found = {e["id"] for e in fetch_all(client, f"/v1/events?{query}&limit=100")}
        assert found == events_by_paths(names), names
    assert any(events_by_paths([slug]) for slug in slugs)


def test_a_place_at_a_level_is_read_on_the_event_row(client, monkeypatch):
    """A country (and a province) by the event's own column, probed through no index of it; a
    region by the paths, with the province listing it among its regions by that province's
    column; a city (whose column no index leads) by its paths."""
    read_as(monkeypatch, "searched")
    assert '"country_place_id" = ' in page_sql(client, "/v1/events?location=iraq&limit=2")
    city = page_sql(client, "/v1/events?location=baghdad&limit=2")
    assert "city_place_id" not in city and '"path"' in city
    read_as(monkeypatch, "probed")
    assert '+"t1"."country_place_id" = ' in page_sql(client, "/v1/events?location=iraq&limit=2")
    region = page_sql(client, "/v1/events?location=iraqi-kurdistan&limit=2")
    assert "province_place_id" in region and '"path"' in region
