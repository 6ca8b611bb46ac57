"""`/v1/events/aggregate` and `/v1/statements/aggregate` over HTTP, on both backends.

The aggregates are checked against an oracle written here from the documented rules alone: it
reads the NDJSON export of the same filters (and the places' export for the hierarchy) and
groups the records in plain Python. Property-based over filters and groupings (a bounded number
of examples), with the invented Burkina Faso briefing loaded for its casualty qualifiers and
date kinds; and the seed's month-precision and window records are placed by name."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import json
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.ingest import delete_source, load_files
from tests.helpers import assert_problem

BUNDLE = Path(__file__).parents[1] / "fixtures" / "datamodel" / "950_liptako_fictional.yaml"
SAHEL = "sahel-monitor-2023-03-10-tin-akoff"
ATTACK = "attack-army-post-tin-akoff-2023-03-06"
AL_MONITOR = "al-monitor-2020-04-07-us-iran-showdown-iraq"
OPEN_START = dt.date(1, 1, 1)
LEVELS = {
    "country": ("country",),
    "province": ("province", "administrative_region"),
    "district": ("district",),
    "city": ("city",),
}
AREAS = {"country", "region", "province", "administrative_region", "district"}
DATES = ("day", "week", "month", "quarter", "year")
EVENT_DIMS = (
    *DATES,
    *LEVELS,
    "grid",
    "type",
    "sub_type",
    "actor",
    "perpetrator",
    "target",
    "dyad",
    "source",
)
STATEMENT_DIMS = (*DATES, "speaker", "channel", "addressee", "source")


@pytest.fixture(scope="module")
def sahel(database_url):
    """The session database with the Burkina Faso briefing loaded (casualties given `at_least`
    and `about`, spans, windows, an open start, places in several regions), for this module."""
    from api.store.db import bind

    bind(database_url)
    load_files([BUNDLE])
    yield
    bind(database_url)
    delete_source(SAHEL)


def get_json(client, path: str, **params) -> dict:
    response = client.get(f"{path}?{urlencode(params, doseq=True)}")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json


# ---------------------------------------------------------------- the oracle


def days_of(record: dict) -> tuple[dt.date, dt.date]:
    """The first and last day a record's date may mean (README: date precision and kind)."""
    date = dt.date.fromisoformat(record["date"])
    precision = record["date_precision"]
    if precision == "day":
        first, last = date, date
    elif precision == "week":
        first = date - dt.timedelta(days=date.weekday())
        last = first + dt.timedelta(days=6)
    elif precision == "month":
        first = date.replace(day=1)
        last = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    else:
        first, last = date.replace(month=1, day=1), date.replace(month=12, day=31)
    if record["date_kind"] == "on_or_before":
        return OPEN_START, last
    end = dt.date.fromisoformat(record["end_date"]) if record.get("end_date") else last
    return first, max(last, end)


def bucket(granularity: str, day: dt.date) -> str:
    if granularity == "day":
        return day.isoformat()
    if granularity == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    if granularity == "month":
        return day.strftime("%Y-%m")
    if granularity == "quarter":
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    return str(day.year)


def date_placements(record: dict, granularity: str, spread: bool) -> list[tuple]:
    first, last = days_of(record)
    if record["date_kind"] != "on_or_before" and bucket(granularity, first) == bucket(
        granularity, last
    ):
        return [(bucket(granularity, first), None, 1.0)]
    if record["date_kind"] == "on_or_before":
        return [(None, "open_start", 1.0)]
    if spread:
        share: dict[str, int] = defaultdict(int)
        day = first
        while day <= last:
            share[bucket(granularity, day)] += 1
            day += dt.timedelta(days=1)
        days = (last - first).days + 1
        return [(key, None, n / days) for key, n in share.items()]
    alone = days_of({**record, "date_kind": "point", "end_date": None})
    if bucket(granularity, alone[0]) != bucket(granularity, alone[1]):
        return [(None, "date_precision", 1.0)]
    return [(None, "window" if record["date_kind"] == "window" else "span", 1.0)]


def placements(record: dict, dim: str, places: dict, spread: bool, cell: float) -> list[tuple]:
    """(key, imprecise reason, weight) of each group of `dim` the record belongs to."""
    if dim in DATES:
        return date_placements(record, dim, spread)
    if dim in LEVELS:
        if not record.get("location"):
            return [(None, "no_location", 1.0)]
        place = places[record["location"]["id"]]
        chain = [a["id"] for a in place["ancestors"]] + [place["id"]]
        found = [slug for slug in chain if places[slug]["kind"] in LEVELS[dim]]
        return [(found[0], None, 1.0)] if found else [(None, "not_located_at_level", 1.0)]
    if dim == "grid":
        if not record.get("location"):
            return [(None, "no_location", 1.0)]
        place = places[record["location"]["id"]]
        if place["latitude"] is None:
            return [(None, "no_coordinates", 1.0)]
        if place["coordinate_precision"] == "centroid" and place["kind"] in AREAS:
            return [(None, "area_centroid", 1.0)]
        lat = (place["latitude"] // cell) * cell
        lon = (place["longitude"] // cell) * cell
        return [((round(lat, 6), round(lon, 6)), None, 1.0)]
    if dim in ("type", "sub_type", "channel"):
        return [(record[dim], None, 1.0)]
    if dim in ("actor", "perpetrator", "target"):
        actors = {
            p["actor"]["id"] for p in record["participants"] if dim == "actor" or p["role"] == dim
        }
        return [(a, None, 1.0) for a in sorted(actors)] or [(None, None, 1.0)]
    if dim == "dyad":
        by_role = {
            role: sorted({p["actor"]["id"] for p in record["participants"] if p["role"] == role})
            for role in ("perpetrator", "target")
        }
        pairs = [f"{a}--{b}" for a in by_role["perpetrator"] for b in by_role["target"]]
        return [(pair, None, 1.0) for pair in pairs] or [(None, None, 1.0)]
    if dim == "source":
        return [(s, None, 1.0) for s in sorted({c["source"]["id"] for c in record["citations"]})]
    if dim == "speaker":
        actors = {a["id"] for a in record["speakers"] + record["on_behalf_of"]}
        return [(a, None, 1.0) for a in sorted(actors)] or [(None, None, 1.0)]
    if dim == "addressee":
        actors = {a["id"] for a in record["addressees"]}
        return [(a, None, 1.0) for a in sorted(actors)] or [(None, None, 1.0)]
    raise AssertionError(dim)


def figures(record: dict) -> dict:
    """Killed and wounded of one event: (figure or None, about, open)."""
    rows = record["casualties"]
    killed = [r for r in rows if r["killed"] is not None]
    wounded = [r for r in rows if r["wounded"] is not None]
    return {
        "killed": (
            record["fatalities"],
            any(r["qualifier"] == "about" for r in killed),
            any(r["qualifier"] != "exact" for r in killed),
        ),
        "wounded": (
            sum(r["wounded"] for r in wounded) if wounded else None,
            any(r["qualifier"] == "about" for r in wounded),
            any(r["qualifier"] != "exact" for r in wounded),
        ),
    }


def oracle(
    records: list[dict], dims: list[str], places: dict, spread: bool, cell: float
) -> dict[tuple, dict]:
    """{(keys, reasons): {count, killed: [sum, given, about, open], wounded: ...}}."""
    groups: dict[tuple, dict] = {}
    for record in records:
        each = [placements(record, d, places, spread, cell) for d in dims]
        tolls = figures(record) if "casualties" in record else None
        for combination in itertools.product(*each):
            keys = tuple(c[0] for c in combination)
            reasons = tuple(c[1] for c in combination)
            weight = 1.0
            for c in combination:
                weight *= c[2]
            group = groups.setdefault(
                (keys, reasons),
                {"count": 0.0, "killed": [0.0, 0.0, False, False], "wounded": [0.0, 0.0, 0, 0]},
            )
            group["count"] += weight
            for what, (figure, about, open_) in (tolls or {}).items():
                if figure is not None:
                    group[what][0] += figure * weight
                    group[what][1] += weight
                    group[what][2] |= about
                    group[what][3] |= open_
    return groups


def expected_figure(sums: list, count: float) -> dict:
    total, given, about, open_ = sums
    stated = total if given > 1e-9 else None
    return {
        "stated": stated,
        "low": None if stated is None or about else stated,
        "high": None if stated is None or open_ else stated,
        "with_figure": given,
        "no_figure": count - given,
    }


def close(a, b) -> bool:
    if a is None or b is None:
        return a is b
    return abs(a - b) < 1e-4


def answer_key(group: dict, dims: list[str]) -> tuple:
    keys = []
    for d in dims:
        key = group["key"][d]
        if d == "grid" and key is not None:
            key = tuple(round(float(n), 6) for n in key.split(","))
        keys.append(key)
    reasons = tuple((group.get("imprecise") or {}).get(d) for d in dims)
    return tuple(keys), reasons


def check_against_export(client, collection: str, filters: dict, dims: list[str], **extra):
    """The aggregate of `filters` equals the oracle's grouping of their NDJSON export."""
    spread = extra.get("spread") == "even"
    cell = extra.get("cell", 1.0)
    params = {**filters, "group_by": ",".join(dims), "limit": 10_000, **extra}
    answer = get_json(client, f"/v1/{collection}/aggregate", **params)
    export = client.get(f"/v1/{collection}?{urlencode({**filters, 'format': 'ndjson'}, True)}")
    records = [json.loads(line) for line in export.get_data(as_text=True).splitlines() if line]
    body = client.get("/v1/locations?format=ndjson").get_data(as_text=True)
    places = {p["id"]: p for p in map(json.loads, filter(None, body.splitlines()))}
    expected = oracle(records, dims, places, spread, cell)
    casualties = "casualties" in str(extra.get("metrics", ""))

    assert answer["total"]["count"] == len(records)
    got = {answer_key(g, dims): g for g in answer["groups"]}
    assert len(got) == len(answer["groups"])  # each group once
    assert set(got) == set(expected), (set(got) ^ set(expected), params)
    for key, sums in expected.items():
        group = got[key]
        assert close(group["count"], sums["count"]), (key, params)
        if casualties:
            for what in ("killed", "wounded"):
                want = expected_figure(sums[what], sums["count"])
                for part, value in want.items():
                    assert close(group[what][part], value), (key, what, part, params)
        else:
            assert "killed" not in group
    summed = sum(s["count"] for s in expected.values())
    assert answer["overlapping"] == (summed > len(records) + 1e-6)


# ---------------------------------------------------------------- property-based

EVENT_FILTERS = st.sampled_from(
    [
        {},
        {"type": "strategic_developments"},
        {"date_from": "2020-03-01", "date_to": "2020-04-30"},
        {"date_from": "2023-01-01"},
        {"location": "iraq"},
        {"actor": "us-forces"},
        {"actor": "us-forces", "role": "perpetrator"},
        {"q": "attack"},
        {"source": AL_MONITOR},
        {"fatalities_min": 1},
        {"bbox": "-6,10,3,16"},
    ]
)
STATEMENT_FILTERS = st.sampled_from(
    [
        {},
        {"speaker": "kataib-hezbollah"},
        {"date_from": "2020-04-01"},
        {"channel": "tweet"},
        {"q": "forces"},
        {"verbatim": "true"},
    ]
)


def groupings(dimensions: tuple[str, ...]) -> st.SearchStrategy[list[str]]:
    located = {"grid", *LEVELS}

    def allowed(dims: list[str]) -> bool:
        return sum(d in DATES for d in dims) <= 1 and sum(d in located for d in dims) <= 1

    return st.lists(st.sampled_from(dimensions), min_size=1, max_size=3, unique=True).filter(
        allowed
    )


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    filters=EVENT_FILTERS,
    dims=groupings(EVENT_DIMS),
    spread=st.booleans(),
    casualties=st.booleans(),
    cell=st.sampled_from([0.5, 1.0, 2.5]),
)
def test_event_aggregates_equal_the_export_grouped(
    client, sahel, filters, dims, spread, casualties, cell
):
    extra: dict = {}
    if spread and any(d in DATES for d in dims):
        extra["spread"] = "even"
    if casualties:
        extra["metrics"] = "casualties"
    if "grid" in dims:
        extra["cell"] = cell
    check_against_export(client, "events", filters, dims, **extra)


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(filters=STATEMENT_FILTERS, dims=groupings(STATEMENT_DIMS), spread=st.booleans())
def test_statement_aggregates_equal_the_export_grouped(client, sahel, filters, dims, spread):
    extra = {"spread": "even"} if spread and any(d in DATES for d in dims) else {}
    check_against_export(client, "statements", filters, dims, **extra)


# ---------------------------------------------------------------- the rules, by name


def group_of(answer: dict, **key) -> list[dict]:
    return [g for g in answer["groups"] if all(g["key"].get(k) == v for k, v in key.items())]


def test_the_seed_month_precision_and_window_records_by_month(client):
    answer = get_json(
        client, "/v1/events/aggregate", group_by="month", source=AL_MONITOR, sort="key"
    )
    rows = {
        (g["key"]["month"], (g.get("imprecise") or {}).get("month")): g for g in answer["groups"]
    }
    # the two January strikes; the March push of Kataib Hezbollah (month precision) is in March
    assert rows["2020-01", None]["count"] == 2
    assert rows["2020-03", None]["count"] == 1
    # Habbaniya (4 April) and the Halliburton rocket strike (6 April)
    assert rows["2020-04", None]["count"] == 2
    # the fortification of Ain al-Asad (a March-to-publication window) and the four bases
    # handed over (a window of weeks from mid-March to 4 April)
    assert rows[None, "window"]["count"] == 2
    # known only to precede a day: the assaults on bases, the Patriot battery, Ghaani's visit
    # and the C-RAM deployment
    assert rows[None, "open_start"]["count"] == 4
    assert set(rows) == {
        ("2020-01", None),
        ("2020-03", None),
        ("2020-04", None),
        (None, "window"),
        (None, "open_start"),
    }
    assert answer["total"]["count"] == 11
    assert sum(g["count"] for g in answer["groups"]) == 11 and not answer["overlapping"]


def test_month_precision_counted_by_week_is_imprecise_and_spread_evenly(client):
    push = {"ids": "kataib-hezbollah-push-for-abu-fadak-2020-03"}
    answer = get_json(client, "/v1/events/aggregate", group_by="week", **push)
    assert answer["groups"] == [
        {"key": {"week": None}, "imprecise": {"week": "date_precision"}, "count": 1}
    ]
    spread = get_json(client, "/v1/events/aggregate", group_by="week", spread="even", **push)
    shares = {g["key"]["week"]: g["count"] for g in spread["groups"]}
    # March 2020: Sunday the 1st (W09), four full weeks, then Monday 30 and Tuesday 31 (W14)
    assert list(shares) == ["2020-W09", "2020-W10", "2020-W11", "2020-W12", "2020-W13", "2020-W14"]
    assert shares["2020-W09"] == pytest.approx(1 / 31, abs=1e-6)
    assert shares["2020-W10"] == pytest.approx(7 / 31, abs=1e-6)
    assert shares["2020-W14"] == pytest.approx(2 / 31, abs=1e-6)
    assert sum(shares.values()) == pytest.approx(1, abs=1e-5)


def test_an_open_start_is_never_spread(client):
    answer = get_json(
        client,
        "/v1/events/aggregate",
        group_by="month",
        spread="even",
        ids="c-ram-deployed-ain-al-asad-2020",
    )
    assert answer["groups"] == [
        {"key": {"month": None}, "imprecise": {"month": "open_start"}, "count": 1}
    ]


def test_a_country_level_event_is_not_located_at_province_level(client):
    answer = get_json(
        client, "/v1/events/aggregate", group_by="province", location="iraq", sort="key"
    )
    anbar = group_of(answer, province="anbar-province")[0]
    assert anbar["label"] == {"province": "Anbar province"} and anbar["count"] == 4
    # the four bases handed over, the assaults, the push for Abu Fadak (known only to Iraq),
    # and Ghaani's visit and the airport strike (Baghdad, which the data puts directly in Iraq)
    lost = [g for g in answer["groups"] if g.get("imprecise")]
    assert lost == [
        {
            "key": {"province": None},
            "label": {"province": None},
            "imprecise": {"province": "not_located_at_level"},
            "count": 5,
        }
    ]
    # by city, Baghdad holds both
    by_city = get_json(client, "/v1/events/aggregate", group_by="city", location="iraq")
    assert group_of(by_city, city="baghdad")[0]["count"] == 2  # Ghaani's visit, the airport


def test_casualty_bounds_follow_the_qualifiers(client, sahel):
    answer = get_json(
        client, "/v1/events/aggregate", group_by="type", metrics="casualties", source=SAHEL
    )
    battles = group_of(answer, type="battles")[0]
    # 'at least 12' + 'about 20' = 32 stated; the 'about' leaves the low bound open, the
    # 'at least' the high one; the 8 wounded are exact
    assert battles["killed"] == {
        "stated": 32,
        "low": None,
        "high": None,
        "with_figure": 1,
        "no_figure": battles["count"] - 1,
    }
    assert battles["wounded"]["stated"] == 8 and battles["wounded"]["low"] == 8
    assert battles["wounded"]["high"] == 8
    # an event without a figure is counted apart, never as 0
    total = answer["total"]["killed"]
    assert total["no_figure"] >= 1 and total["stated"] == 32
    # the Halliburton strike: "no casualties" is 0, exact
    halliburton = get_json(
        client,
        "/v1/events/aggregate",
        group_by="type",
        metrics="casualties",
        ids="rocket-strike-near-halliburton-2020-04-06",
    )["groups"][0]
    assert halliburton["killed"] == {
        "stated": 0,
        "low": 0,
        "high": 0,
        "with_figure": 1,
        "no_figure": 0,
    }


def test_an_at_least_figure_gives_a_low_bound_only(client, sahel):
    """Without the 'about' figure of its side, the 'at least 12' bounds the sum from below."""
    answer = get_json(
        client,
        "/v1/events/aggregate",
        group_by="target",
        metrics="casualties",
        ids=ATTACK,
    )
    killed = answer["groups"][0]["killed"]
    assert (killed["stated"], killed["low"], killed["high"]) == (32, None, None)


def test_actor_groups_overlap_and_the_total_counts_each_event_once(client):
    answer = get_json(client, "/v1/events/aggregate", group_by="perpetrator", source=AL_MONITOR)
    iran_attack = [g["key"]["perpetrator"] for g in answer["groups"] if g["count"]]
    assert {"irgc", "iran"} <= set(iran_attack)  # the 8 January attack counts for both
    assert answer["overlapping"] is True
    assert answer["total"]["count"] == 11
    assert sum(g["count"] for g in answer["groups"]) == 12
    nobody = group_of(answer, perpetrator=None)[0]
    assert "imprecise" not in nobody  # no perpetrator is not imprecision


def test_fill_zero_gives_every_week_between_the_dates(client):
    answer = get_json(
        client,
        "/v1/events/aggregate",
        group_by="week",
        fill="zero",
        date_from="2020-01-01",
        date_to="2020-01-31",
    )
    precise = [g for g in answer["groups"] if not g.get("imprecise")]
    assert [g["key"]["week"] for g in precise] == [f"2020-W{n:02d}" for n in range(1, 6)]
    assert [g["count"] for g in precise] == [1, 1, 0, 0, 0]  # 3 and 8 January


def test_fill_zero_fills_each_series_of_the_other_dimension(client):
    answer = get_json(
        client,
        "/v1/events/aggregate",
        group_by="month,type",
        fill="zero",
        date_from="2020-01-01",
        date_to="2020-04-30",
        source=AL_MONITOR,
    )
    precise = [g for g in answer["groups"] if not g.get("imprecise")]
    types = {g["key"]["type"] for g in precise}
    assert len(precise) == 4 * len(types)
    assert {g["key"]["month"] for g in precise} == {"2020-01", "2020-02", "2020-03", "2020-04"}


# an actor grouping overlaps (kept in Python); the others are kept by the database, and the
# imprecise months of month x type by the second pass, beside them
@pytest.mark.parametrize("group_by", ["actor", "month,type", "province", "grid"])
def test_limit_keeps_the_most_frequent_and_sums_the_rest(client, sahel, group_by):
    whole = get_json(client, "/v1/events/aggregate", group_by=group_by)
    response = client.get(f"/v1/events/aggregate?group_by={group_by}&limit=1&sort=-count")
    assert response.headers["X-Total-Count"] == str(len(whole["groups"]))
    answer = response.json
    assert answer["total"] == whole["total"]
    kept, rest = answer["groups"][:1], answer["groups"][1]

    def named(group: dict) -> str:
        return json.dumps([group["key"], group.get("imprecise")])

    counts = {named(g): g["count"] for g in whole["groups"]}
    left = [n for key, n in counts.items() if key not in {named(g) for g in kept}]
    assert [g["count"] for g in kept] == sorted(counts.values(), reverse=True)[:1]
    assert min(g["count"] for g in kept) >= max(left)  # the most frequent (ties: any)
    assert rest["rest"] == len(whole["groups"]) - 1 == len(left)
    assert rest["key"] == dict.fromkeys(group_by.split(","))
    assert rest["count"] == sum(left)


def test_sort_by_count_and_by_key(client):
    by_count = get_json(client, "/v1/events/aggregate", group_by="type", sort="count")
    counts = [g["count"] for g in by_count["groups"]]
    assert counts == sorted(counts)
    by_key = get_json(client, "/v1/events/aggregate", group_by="type", sort="-key")
    keys = [g["key"]["type"] for g in by_key["groups"]]
    assert keys == sorted(keys, reverse=True)
    default = get_json(client, "/v1/events/aggregate", group_by="type")  # not a date: -count
    counts = [g["count"] for g in default["groups"]]
    assert counts == sorted(counts, reverse=True)


def test_statements_by_speaker_and_month(client):
    answer = get_json(
        client, "/v1/statements/aggregate", group_by="month,speaker", speaker="kataib-hezbollah"
    )
    april = group_of(answer, month="2020-04", speaker="kataib-hezbollah")[0]
    assert april["label"] == {"speaker": "Kataib Hezbollah"}
    listed = client.get(
        "/v1/statements?speaker=kataib-hezbollah&date_from=2020-04-01&date_to=2020-04-30"
    ).json
    in_april = [s for s in listed if s["date"].startswith("2020-04") and s["date_kind"] == "point"]
    assert april["count"] == len(in_april) > 0


# ---------------------------------------------------------------- formats and HTTP


def test_csv_is_one_flat_row_per_group(client):
    response = client.get(
        "/v1/events/aggregate?group_by=month,province&metrics=casualties&format=csv"
    )
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert 'filename="events-aggregate.csv"' in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert list(rows[0]) == [
        "month",
        "month_imprecise",
        "province",
        "province_label",
        "province_imprecise",
        "count",
        *[
            f"{what}_{part}"
            for what in ("killed", "wounded")
            for part in ("stated", "low", "high", "with_figure", "no_figure")
        ],
        "rest",
    ]
    answer = client.get("/v1/events/aggregate?group_by=month,province&metrics=casualties").json
    assert len(rows) == len(answer["groups"])
    assert sum(int(r["count"]) for r in rows) == sum(g["count"] for g in answer["groups"])
    assert {"", "not_located_at_level"} >= {r["province_imprecise"] for r in rows}


def test_geojson_of_a_grid_and_of_places(client):
    grid = client.get("/v1/events/aggregate?group_by=grid&cell=0.5&format=geojson")
    assert grid.status_code == 200 and grid.mimetype == "application/geo+json"
    body = grid.json
    cells = [f for f in body["features"] if f["geometry"]]
    assert cells and all(f["geometry"]["type"] == "Polygon" for f in cells)
    ring = cells[0]["geometry"]["coordinates"][0]
    lat, lon = (float(n) for n in cells[0]["properties"]["grid"].split(","))
    assert ring[0] == [lon, lat] and ring[2] == [lon + 0.5, lat + 0.5]
    assert body["total"]["count"] == sum(f["properties"]["count"] for f in body["features"])
    places = client.get(
        "/v1/events/aggregate?group_by=province&format=geojson", headers={"Accept": "*/*"}
    ).json
    anbar = next(f for f in places["features"] if f["properties"]["province"] == "anbar-province")
    assert (
        anbar["geometry"] == {"type": "Point", "coordinates": [43.0, 33.0]}
        or anbar["geometry"]["type"] == "Point"
    )


def test_geojson_needs_a_place_or_grid(client):
    assert_problem(client.get("/v1/events/aggregate?group_by=type&format=geojson"), 422, "format")
    response = client.get(
        "/v1/events/aggregate?group_by=type", headers={"Accept": "application/geo+json"}
    )
    assert response.status_code == 406


def test_link_etag_and_cache_like_the_lists(client):
    response = client.get("/v1/events/aggregate?group_by=week&actor=us-forces&fill=zero")
    assert response.headers["Link"] == '<http://localhost/v1/events?actor=us-forces>; rel="related"'
    etag = response.headers["ETag"]
    assert response.headers["Cache-Control"].startswith("public")
    again = client.get(
        "/v1/events/aggregate?group_by=week&actor=us-forces&fill=zero",
        headers={"If-None-Match": etag},
    )
    assert again.status_code == 304


def test_the_answer_is_remembered_per_data_version(client):
    from playhouse.test_utils import count_queries

    path = "/v1/events/aggregate?group_by=quarter,actor&q=forces"
    first = client.get(path)
    with count_queries() as counted:
        second = client.get(path)
    assert second.get_data() == first.get_data()
    assert counted.count <= 2  # the data version (and the rate limiter's nothing)


@pytest.mark.parametrize(
    "query, parameter",
    [
        ("", "group_by"),
        ("group_by=week,month", "group_by"),
        ("group_by=grid,province", "group_by"),
        ("group_by=type,type", "group_by"),
        ("group_by=type,actor,source,week", "group_by"),
        ("group_by=speaker", "group_by"),
        ("group_by=type&fill=zero", "fill"),
        ("group_by=type&spread=even", "spread"),
        ("group_by=type&cell=1", "cell"),
        ("group_by=grid&cell=0", "cell"),
        ("group_by=type&limit=0", "limit"),
        ("group_by=type&metrics=deaths", "metrics"),
        ("group_by=type&sort=title", "sort"),
        ("group_by=type&typo=1", "typo"),
        ("group_by=type&actor=nobody-at-all", "actor"),
        ("group_by=type&limit=2&limit=3", "limit"),
        ("group_by=day&fill=zero&date_from=0001-01-01&date_to=9999-12-31", "fill"),
    ],
)
def test_bad_requests_are_4xx_problems_naming_the_parameter(client, query, parameter):
    assert_problem(client.get(f"/v1/events/aggregate?{query}"), 422, parameter)


def test_statements_refuse_event_dimensions_and_casualties(client):
    assert_problem(client.get("/v1/statements/aggregate?group_by=province"), 422, "group_by")
    assert_problem(
        client.get("/v1/statements/aggregate?group_by=month&metrics=casualties"), 422, "metrics"
    )


@pytest.mark.parametrize(
    "path, example",
    [
        (
            "/v1/events/aggregate?group_by=month,type&metrics=casualties&limit=3&source="
            + AL_MONITOR,
            "EVENT_AGGREGATE_EXAMPLE",
        ),
        (
            "/v1/statements/aggregate?group_by=month,speaker&speaker=kataib-hezbollah",
            "STATEMENT_AGGREGATE_EXAMPLE",
        ),
    ],
)
def test_the_spec_examples_are_real_answers(client, path, example):
    from schemas import examples

    assert client.get(path).json == getattr(examples, example)


@pytest.mark.parametrize("collection", ["events", "statements"])
def test_the_aggregate_advertises_reads_only(client, collection):
    allowed = client.options(f"/v1/{collection}/aggregate").headers["Allow"]
    assert set(allowed.replace(" ", "").split(",")) == {"GET", "HEAD", "OPTIONS"}


def test_place_levels_follow_location_writes(curated):
    """A place's province is kept on the location by every write of a path or a kind: a new
    province around Baghdad gathers its events, a kind that no longer makes the level lets
    them go, and so does deleting the province."""
    client = curated.app.test_client()
    by_province = {"group_by": "province", "location": "iraq"}

    def baghdad_events() -> list[dict]:
        answer = get_json(client, "/v1/events/aggregate", **by_province)
        return [g for g in answer["groups"] if g["key"]["province"] == "baghdad-governorate"]

    assert baghdad_events() == []
    excerpt = "In his visit to Baghdad, he held talks with various Iraqi factions."
    created = client.post(
        "/v1/locations",
        json={
            "id": "baghdad-governorate",
            "name": "Baghdad Governorate",
            "kind": "province",
            "parent": "iraq",
            "country": "IQ",
            "citations": [{"source": AL_MONITOR, "excerpt": excerpt}],
        },
        headers=curated.auth(),
    )
    assert created.status_code == 201, created.json
    merge = {**curated.auth(), "Content-Type": "application/merge-patch+json"}

    def patch(path: str, body: dict) -> None:
        etag = client.get(path).headers["ETag"]
        done = client.patch(path, data=json.dumps(body), headers={**merge, "If-Match": etag})
        assert done.status_code == 200, done.json

    patch("/v1/locations/baghdad", {"parent": "baghdad-governorate"})  # moved into it
    moved = baghdad_events()
    assert [(g["label"], g["count"]) for g in moved] == [
        ({"province": "Baghdad Governorate"}, 2)  # Ghaani's visit, the airport strike
    ]
    patch("/v1/locations/baghdad-governorate", {"kind": "region"})  # not a province any more
    assert baghdad_events() == []
    patch("/v1/locations/baghdad-governorate", {"kind": "province"})
    assert len(baghdad_events()) == 1
    path = "/v1/locations/baghdad-governorate"
    etag = client.get(path).headers["ETag"]
    gone = client.delete(f"{path}?cascade=true", headers={**curated.auth(), "If-Match": etag})
    assert gone.status_code == 204, gone.json
    assert baghdad_events() == []
    # the places within it stay within the places around it: Baghdad is in Iraq again
    assert client.get("/v1/locations/baghdad").json["parent"]["id"] == "iraq"
    in_iraq = get_json(client, "/v1/events/aggregate", group_by="city", location="iraq")
    assert group_of(in_iraq, city="baghdad")[0]["count"] == 2
