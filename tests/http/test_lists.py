"""Lists: filters, sorting, keyset paging, formats. Expectations come from the seed YAML."""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import io
import math

import pytest

from tests.helpers import bundles, fetch_all, ids, links, located, queries_for, seed

# Every list test runs again with the response cache on, as in service.
pytestmark = pytest.mark.response_cache

COLLECTIONS = ["events", "statements", "actors", "locations", "sources"]


def descendants(location_id: str) -> set[str]:
    """The location and every location inside it, from the seed's parent links."""
    children: dict[str, list[str]] = {}
    for location in seed()["locations"]:
        children.setdefault(location["parent"], []).append(location["id"])
    found, stack = set(), [location_id]
    while stack:
        current = stack.pop()
        found.add(current)
        stack.extend(children.get(current, []))
    return found


def days_meant(date: dt.date, end_date: dt.date | None, precision: str) -> tuple[dt.date, dt.date]:
    """The test's own reading of seed/README.md's date rules (not the code under test): a date
    covers its whole day, ISO week (Monday to Sunday), calendar month or year, extended to
    `end_date`."""
    if precision == "year":
        first, last = dt.date(date.year, 1, 1), dt.date(date.year, 12, 31)
    elif precision == "month":
        days_in_month = calendar.monthrange(date.year, date.month)[1]
        first, last = (
            dt.date(date.year, date.month, 1),
            dt.date(date.year, date.month, days_in_month),
        )
    elif precision == "week":
        year, week, _ = date.isocalendar()
        first, last = dt.date.fromisocalendar(year, week, 1), dt.date.fromisocalendar(year, week, 7)
    else:
        first = last = date
    return first, max(last, end_date) if end_date else last


def overlaps(record: dict, start: dt.date, end: dt.date) -> bool:
    """A record may fall in [start, end]; one dated `on_or_before` has no first day."""
    low, high = days_meant(record["date"], record["end_date"], record["date_precision"])
    if record["date_kind"] == "on_or_before":
        low = dt.date.min
    return low <= end and high >= start


# ---------------------------------------------------------------- paging


@pytest.mark.parametrize("collection", COLLECTIONS)
def test_every_seed_record_is_listed_once_across_pages(client, collection):
    records = fetch_all(client, f"/v1/{collection}?limit=2")
    assert ids(records) == {record["id"] for record in seed()[collection]}


@pytest.mark.parametrize("collection", COLLECTIONS)
def test_default_page_and_total(client, collection):
    response = client.get(f"/v1/{collection}")
    assert response.status_code == 200
    assert isinstance(response.json, list)
    assert int(response.headers["X-Total-Count"]) == len(seed()[collection])
    assert len(response.json) == min(50, len(seed()[collection]))


def test_prev_link_returns_the_previous_page(client):
    first = client.get("/v1/events?limit=3")
    second = client.get(links(first)["next"])
    assert "prev" not in links(first)
    back = client.get(links(second)["prev"])
    assert [e["id"] for e in back.json] == [e["id"] for e in first.json]
    assert links(back).get("next") == links(first)["next"]


def test_paging_keeps_the_other_parameters(client):
    response = client.get("/v1/events?limit=1&type=strategic_developments")
    next_url = links(response)["next"]
    assert "type=strategic_developments" in next_url and "limit=1" in next_url


def test_a_repeated_query_string_answers_the_same(client):
    """Arguments are parsed once per query string (api/http/base.py QueryParser): the next request
    gets its own copy, whatever the first did with it, and a refused one is refused again."""
    events = client.get("/v1/events?limit=2").json
    ids = ",".join(e["id"] for e in events)
    types = "&".join(f"type={e['type']}" for e in events)
    path = f"/v1/events?ids={ids}&fields=title&{types}"
    first, again = client.get(path), client.get(path)
    assert first.status_code == again.status_code == 200
    assert first.data == again.data and again.json and set(again.json[0]) == {"id", "title"}
    for _ in range(2):
        assert client.get("/v1/events?limit=0").status_code == 422


def test_paging_is_stable_while_rows_are_added(client, app):
    """A record inserted before the cursor does not shift the next page (keyset, not offset)."""
    from api.store.db import database
    from api.store.models import Event

    first = client.get("/v1/events?limit=2")
    expected = [e["id"] for e in client.get(links(first)["next"]).json]
    with database.connection_context():
        inserted = Event.create(
            slug="zz-inserted-early",
            title="Inserted",
            type="battles",
            sub_type="armed_clash",
            date=dt.date(1990, 1, 1),
            date_precision="day",
            range_start=dt.date(1990, 1, 1),
            range_end=dt.date(1990, 1, 1),
        )
    try:
        assert [e["id"] for e in client.get(links(first)["next"]).json] == expected
    finally:
        with database.connection_context():
            inserted.delete_instance()


@pytest.mark.parametrize(
    "collection, sort, key",
    [
        ("events", "date", "date"),
        ("events", "-date", "date"),
        ("events", "title", "title"),
        ("statements", "-date", "date"),
        ("actors", "name", "name"),
        ("actors", "-name", "name"),
        ("locations", "-name", "name"),
        ("sources", "published", "published"),
    ],
)
def test_sort_orders_every_page(client, collection, sort, key):
    records = fetch_all(client, f"/v1/{collection}?sort={sort}&limit=3")
    values = [record[key] for record in records]
    assert values == sorted(values, reverse=sort.startswith("-"))


def test_events_default_to_oldest_first(client):
    dates = [e["date"] for e in fetch_all(client, "/v1/events")]
    assert dates == sorted(dates)


# ---------------------------------------------------------------- event filters


def expected_events(predicate) -> set[str]:
    return {event["id"] for event in seed()["events"] if predicate(event)}


def actors_of(event: dict) -> set[str]:
    return {p["actor"] for p in event["participants"]}


def test_events_by_actor(client):
    for actor in {a for e in seed()["events"] for a in actors_of(e)}:
        got = ids(fetch_all(client, f"/v1/events?actor={actor}"))
        assert got == expected_events(lambda e, a=actor: a in actors_of(e)), actor


def test_events_by_several_actors_match_any(client):
    a, b = "united-states", "iran"
    got = ids(fetch_all(client, f"/v1/events?actor={a}&actor={b}"))
    assert got == expected_events(lambda e: bool({a, b} & actors_of(e)))


def test_events_by_actor_and_role(client):
    role_of = {(p["actor"], p["role"]) for e in seed()["events"] for p in e["participants"]}
    for actor, role in role_of:
        got = ids(fetch_all(client, f"/v1/events?actor={actor}&role={role}"))
        assert got == expected_events(
            lambda e, a=actor, r=role: {"actor": a, "role": r} in e["participants"]
        )


def test_events_by_role_alone(client):
    got = ids(fetch_all(client, "/v1/events?role=perpetrator"))
    assert got == expected_events(
        lambda e: any(p["role"] == "perpetrator" for p in e["participants"])
    )


@pytest.mark.parametrize("place", ["iraq", "anbar-province", "ain-al-asad-air-base"])
def test_events_in_a_place_include_places_inside_it(client, place):
    inside = descendants(place)
    got = ids(fetch_all(client, f"/v1/events?location={place}"))
    assert got == expected_events(lambda e: e["location"] in inside)
    assert got, f"the seed has events in {place}"


def test_events_in_a_province_include_its_bases(client):
    bases = {
        loc["id"]
        for loc in seed()["locations"]
        if loc["parent"] == "anbar-province" and loc["kind"] == "military_base"
    }
    got = fetch_all(client, "/v1/events?location=anbar-province")
    assert {e["location"]["id"] for e in got} & bases


@pytest.mark.parametrize("field", ["type", "sub_type"])
def test_events_by_type(client, field):
    for value in {e[field] for e in seed()["events"]}:
        got = ids(fetch_all(client, f"/v1/events?{field}={value}"))
        assert got == expected_events(lambda e, v=value: e[field] == v)


@pytest.mark.parametrize(
    "start, end",
    [
        ("2020-01-01", "2020-01-31"),
        ("2020-03-15", "2020-03-16"),
        ("2020-04-04", "2020-04-04"),
        ("2020-04-01", "2020-12-31"),
        ("2019-01-01", "2019-12-31"),
        # the second briefing: edges of a week (Mon 2022-11-07), a month, a year, an end_date
        ("2022-11-13", "2022-11-13"),
        ("2022-11-14", "2022-11-14"),
        ("2022-11-06", "2022-11-06"),
        ("2022-10-31", "2022-10-31"),
        ("2022-09-30", "2022-09-30"),
        ("2021-12-31", "2021-12-31"),
        ("2022-11-18", "2022-11-18"),
    ],
)
def test_date_range_respects_precision(client, start, end):
    low, high = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    got = ids(fetch_all(client, f"/v1/events?date_from={start}&date_to={end}"))
    assert got == expected_events(lambda e: overlaps(e, low, high))
    got = ids(fetch_all(client, f"/v1/statements?date_from={start}&date_to={end}"))
    assert got == {s["id"] for s in seed()["statements"] if overlaps(s, low, high)}


def test_month_precise_record_overlaps_a_range_inside_its_month(client):
    month_events = [e for e in seed()["events"] if e["date_precision"] == "month"]
    assert month_events, "the seed has month-precise events"
    event = month_events[0]
    day = event["date"].replace(day=15).isoformat()
    got = ids(fetch_all(client, f"/v1/events?date_from={day}&date_to={day}"))
    assert event["id"] in got


def test_fatalities_min(client):
    got = ids(fetch_all(client, "/v1/events?fatalities_min=0"))
    assert got == expected_events(lambda e: e["fatalities"] is not None)
    got = ids(fetch_all(client, "/v1/events?fatalities_min=1"))
    assert got == expected_events(lambda e: (e["fatalities"] or 0) >= 1)


def cited_by_source() -> dict[str, dict[str, set[str]]]:
    """{source id: {collection: ids of the records citing it}}, from the briefing files."""
    cited: dict[str, dict[str, set[str]]] = {
        s["id"]: {c: set() for c in SOURCE_FILTERED} for s in seed()["sources"]
    }
    for bundle in bundles().values():
        own = bundle["source"]["id"]
        for collection in SOURCE_FILTERED:
            for record in bundle[collection]:
                record_id = relation_id(record) if collection == "relations" else record["id"]
                for citation in record["citations"]:
                    cited[citation["source"] or own][collection].add(record_id)
    return cited


SOURCE_FILTERED = ("events", "statements", "actors", "locations", "relations")


@pytest.mark.parametrize("collection", SOURCE_FILTERED)
def test_filter_by_source_returns_exactly_that_sources_records(client, collection):
    cited = cited_by_source()
    assert len(cited) >= 2, "the test database holds two sources"
    for source, expected in cited.items():
        assert expected[collection], f"{source} has {collection}"
        got = ids(fetch_all(client, f"/v1/{collection}?source={source}&limit=7"))
        assert got == expected[collection], source
    everything = ids(fetch_all(client, f"/v1/{collection}?limit=500"))
    both = "&".join(f"source={source}" for source in cited)
    assert ids(fetch_all(client, f"/v1/{collection}?{both}&limit=500")) == everything


def test_bbox_keeps_events_whose_place_lies_inside(client):
    coords = {loc["id"]: loc for loc in seed()["locations"]}
    box = (40.0, 32.0, 44.0, 35.0)  # western Iraq: Anbar

    def inside(event):
        place = coords.get(event["location"])
        return bool(
            place
            and place["latitude"] is not None
            and box[0] <= place["longitude"] <= box[2]
            and box[1] <= place["latitude"] <= box[3]
        )

    got = ids(fetch_all(client, "/v1/events?bbox=" + ",".join(map(str, box))))
    assert got == expected_events(inside)
    assert got


def haversine(lat1, lon1, lat2, lon2) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


@pytest.mark.parametrize("radius", [5, 50, 300, 1000])
def test_near_uses_great_circle_distance(client, radius):
    lat, lon = 33.3, 44.4  # Baghdad
    located = [loc for loc in seed()["locations"] if loc["latitude"] is not None]
    expected = {
        loc["id"]
        for loc in located
        if haversine(lat, lon, loc["latitude"], loc["longitude"]) <= radius
    }
    got = ids(fetch_all(client, f"/v1/locations?near={lat},{lon}&radius_km={radius}"))
    assert got == expected


def test_event_full_text_is_ranked_and_matches_prefixes(client):
    records = client.get("/v1/events?q=patriot").json
    assert records
    for record in records:
        text = (record["title"] + " " + (record["summary"] or "")).lower()
        assert "patriot" in text
    assert client.get("/v1/events?q=patri").json == records


@pytest.mark.parametrize(
    "q",
    [
        '"',
        "'",
        "*",
        "OR",
        "AND NOT",
        "a OR b",
        "(",
        "NEAR(",
        "кириллица",
        "كتائب",
        "🙂",
        "-",
        "title:x",
        "x^2",
        "\\",
        "%",
        "_",
    ],
)
def test_any_text_is_a_valid_query(client, q):
    for collection in COLLECTIONS:
        response = client.get(f"/v1/{collection}", query_string={"q": q})
        assert response.status_code == 200, (collection, q, response.json)


def test_actor_search_covers_aliases(client):
    for actor in seed()["actors"]:
        for alias in actor["aliases"]:
            got = ids(client.get("/v1/actors", query_string={"q": alias["name"]}).json)
            assert actor["id"] in got, (actor["id"], alias["name"])


# ---------------------------------------------------------------- statement filters


def expected_statements(predicate) -> set[str]:
    return {s["id"] for s in seed()["statements"] if predicate(s)}


def test_statements_by_speaker_addressee_and_actor(client):
    actors = {
        a for s in seed()["statements"] for a in s["speakers"] + s["addressees"] + s["on_behalf_of"]
    }
    for actor in actors:
        speaker = ids(fetch_all(client, f"/v1/statements?speaker={actor}"))
        assert speaker == expected_statements(
            lambda s, a=actor: a in s["speakers"] + s["on_behalf_of"]
        )
        addressed = ids(fetch_all(client, f"/v1/statements?addressed_to={actor}"))
        assert addressed == expected_statements(lambda s, a=actor: a in s["addressees"])
        either = ids(fetch_all(client, f"/v1/statements?actor={actor}"))
        assert either == speaker | addressed


def test_statements_by_event_channel_and_verbatim(client):
    for event in {e for s in seed()["statements"] for e in s["events"]}:
        got = ids(fetch_all(client, f"/v1/statements?event={event}"))
        assert got == expected_statements(lambda s, e=event: e in s["events"])
    for channel in {s["channel"] for s in seed()["statements"]}:
        got = ids(fetch_all(client, f"/v1/statements?channel={channel}"))
        assert got == expected_statements(lambda s, c=channel: s["channel"] == c)
    for flag in (True, False):
        got = ids(fetch_all(client, f"/v1/statements?verbatim={str(flag).lower()}"))
        assert got == expected_statements(lambda s, f=flag: s["verbatim"] is f)


def test_everything_one_militia_said_in_a_week(client):
    start, end = dt.date(2020, 3, 30), dt.date(2020, 4, 5)
    got = ids(
        fetch_all(
            client, f"/v1/statements?speaker=kataib-hezbollah&date_from={start}&date_to={end}"
        )
    )
    expected = expected_statements(
        lambda s: (
            "kataib-hezbollah" in s["speakers"] + s["on_behalf_of"] and overlaps(s, start, end)
        )
    )
    assert got == expected and "mohyee-dpa-2020-03-31" in got  # its spokesman, on its behalf


# ---------------------------------------------------------------- actors and locations


def test_actors_by_kind_and_related_to(client):
    for kind in {a["kind"] for a in seed()["actors"]}:
        got = ids(fetch_all(client, f"/v1/actors?kind={kind}"))
        assert got == {a["id"] for a in seed()["actors"] if a["kind"] == kind}
    for actor in {r["subject"] for r in seed()["relations"]}:
        got = ids(fetch_all(client, f"/v1/actors?related_to={actor}"))
        expected = {r["object"] for r in seed()["relations"] if r["subject"] == actor} | {
            r["subject"] for r in seed()["relations"] if r["object"] == actor
        }
        assert got == expected, actor


def test_locations_within_and_kind(client):
    for place in {loc["parent"] for loc in seed()["locations"] if loc["parent"]}:
        got = ids(fetch_all(client, f"/v1/locations?within={place}"))
        assert got == descendants(place) - {place}
    for kind in {loc["kind"] for loc in seed()["locations"]}:
        got = ids(fetch_all(client, f"/v1/locations?kind={kind}"))
        assert got == {loc["id"] for loc in seed()["locations"] if loc["kind"] == kind}


def test_location_detail_has_parent_chain_and_coordinates(client):
    base = client.get("/v1/locations/ain-al-asad-air-base").json
    assert base["parent"]["id"] == "anbar-province"
    assert [a["id"] for a in base["ancestors"]] == ["iraq", "anbar-province"]
    assert 33 < base["latitude"] < 34.5 and 42 < base["longitude"] < 43


# ---------------------------------------------------------------- formats


def test_csv_has_a_header_and_one_row_per_record(client):
    response = client.get("/v1/events?format=csv&limit=500")
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == len(seed()["events"])
    assert {"id", "title", "date", "location_id", "participants", "latitude"} <= set(rows[0])
    by_id = {e["id"]: e for e in seed()["events"]}
    for row in rows:
        event = by_id[row["id"]]
        assert row["location_id"] == (event["location"] or "")
        assert row["fatalities"] == (
            "" if event["fatalities"] is None else str(event["fatalities"])
        )


@pytest.mark.parametrize("collection", COLLECTIONS)
def test_csv_by_accept_header_honours_filters_and_paging(client, collection):
    response = client.get(f"/v1/{collection}?limit=2", headers={"Accept": "text/csv"})
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["id"] for r in rows] == [
        r["id"] for r in client.get(f"/v1/{collection}?limit=2").json
    ]
    assert response.headers["X-Total-Count"] == str(len(seed()[collection]))
    assert "next" in links(response) or len(seed()[collection]) <= 2


def test_csv_of_an_empty_list_still_has_its_header(client):
    response = client.get("/v1/events?format=csv&date_to=1900-01-01")
    assert response.get_data(as_text=True).startswith("id,title,")


@pytest.mark.parametrize("collection", ["events", "locations"])
def test_geojson_feature_collection(client, collection):
    for response in (
        client.get(f"/v1/{collection}?format=geojson&limit=500"),
        client.get(f"/v1/{collection}?limit=500", headers={"Accept": "application/geo+json"}),
    ):
        assert response.mimetype == "application/geo+json"
        body = response.get_json(force=True)
        assert body["type"] == "FeatureCollection"
        assert len(body["features"]) == len(seed()[collection])
        for feature in body["features"]:
            assert feature["type"] == "Feature"
            assert feature["properties"]["id"] == feature["id"]
            if feature["geometry"] is not None:
                lon, lat = feature["geometry"]["coordinates"]
                assert -180 <= lon <= 180 and -90 <= lat <= 90


def test_geojson_is_not_offered_for_statements(client):
    assert client.get("/v1/statements?format=geojson").status_code == 422


def test_statements_by_mention_and_anonymity(client):
    for actor in {a for s in seed()["statements"] for a in s["mentions"]}:
        got = ids(fetch_all(client, f"/v1/statements?mentions={actor}"))
        assert got == expected_statements(lambda s, a=actor: a in s["mentions"])
    for flag in (True, False):
        got = ids(fetch_all(client, f"/v1/statements?anonymous={str(flag).lower()}"))
        assert got == expected_statements(lambda s, f=flag: s["anonymous"] is f)
    assert expected_statements(lambda s: s["anonymous"]), "the seed has anonymous sources"


@pytest.mark.parametrize("collection", ["events", "statements", "actors", "locations"])
def test_relevance_paging_walks_every_hit_once(client, collection):
    """Ranked results page like any other list (the cursor carries the rank)."""
    everything = client.get(f"/v1/{collection}?q=iraq&limit=500").json
    assert everything, f"the seed has {collection} matching 'iraq'"
    paged = fetch_all(client, f"/v1/{collection}?q=iraq&limit=1")
    assert [r["id"] for r in paged] == [r["id"] for r in everything]


# ---------------------------------------------------------------- relations


def relation_id(relation: dict) -> str:
    return f"{relation['subject']}--{relation['predicate'].replace('_', '-')}--{relation['object']}"


def test_every_relation_is_listed_and_served(client):
    listed = fetch_all(client, "/v1/relations?limit=5")
    assert ids(listed) == {relation_id(r) for r in seed()["relations"]}
    for expected in seed()["relations"]:
        got = client.get(f"/v1/relations/{relation_id(expected)}").json
        assert (got["subject"]["id"], got["predicate"], got["object"]["id"]) == (
            expected["subject"],
            expected["predicate"],
            expected["object"],
        )
        assert [c["excerpt"] for c in got["citations"]] == [
            c["excerpt"] for c in expected["citations"]
        ]


def test_relations_by_subject_object_actor_and_predicate(client):
    relations = seed()["relations"]
    for actor in {r["subject"] for r in relations} | {r["object"] for r in relations}:
        subject = ids(fetch_all(client, f"/v1/relations?subject={actor}"))
        assert subject == {relation_id(r) for r in relations if r["subject"] == actor}
        obj = ids(fetch_all(client, f"/v1/relations?object={actor}"))
        assert obj == {relation_id(r) for r in relations if r["object"] == actor}
        assert ids(fetch_all(client, f"/v1/relations?actor={actor}")) == subject | obj
    for predicate in {r["predicate"] for r in relations}:
        got = ids(fetch_all(client, f"/v1/relations?predicate={predicate}"))
        assert got == {relation_id(r) for r in relations if r["predicate"] == predicate}


def test_relations_as_a_csv_edge_list(client):
    response = client.get("/v1/relations?format=csv&limit=500")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert {(r["subject_id"], r["predicate"], r["object_id"]) for r in rows} == {
        (r["subject"], r["predicate"], r["object"]) for r in seed()["relations"]
    }


def test_relations_have_no_full_text(client):
    assert client.get("/v1/relations?q=iran").status_code == 422


@pytest.mark.parametrize(
    "path",
    [
        "/v1/events?limit=50",
        "/v1/statements?limit=50",
        "/v1/actors?limit=50",
        "/v1/actors/kataib-hezbollah",
        "/v1/timeline?limit=50",
    ],
)
def test_long_id_lists_are_loaded_in_batches(client, monkeypatch, path):
    """Loaders read more ids than loading.PREPARED_AT_MOST in batches (an actor in 20k
    relations compiled one query of 20k ids in 11 s): the same records, in the same order."""
    from api.queries import loading

    whole = client.get(path)
    assert whole.status_code == 200
    monkeypatch.setattr(loading, "PREPARED_AT_MOST", 2)
    assert client.get(path).json == whole.json


def test_events_list(client):
    response = client.get("/v1/events")
    assert response.status_code == 200
    assert len(response.json) > 0


# Near: distances and the distance sort.

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
    assert response.status_code == 422 and "query.sort" in located(response.json)


def test_the_cached_run_replays_what_it_asked_before(client, response_cache):
    """The cached run of these tests is served from the response cache: a list asked again
    costs the one query that reads the data version; the uncached run computes it again."""
    path = "/v1/events?limit=5&sort=-date"
    first = client.get(path)
    again_queries = queries_for(client, path)
    assert client.get(path).data == first.data
    if response_cache:
        assert "response_cache" in client.application.extensions
        assert again_queries == 1
    else:
        assert "response_cache" not in client.application.extensions
        assert again_queries > 1
