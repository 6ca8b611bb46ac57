"""The synthetic corpus (`briefing seed --synthetic N`) and the API at more than toy scale.

Each database here is a fresh temporary SQLite file filled by the CLI in a subprocess, never
the session database of conftest.py; the proxy's binding is restored after every test. Expected
values are computed with the sqlite3 module straight from the file, independently of the API.
The pure generator (`api.synthetic.generate`) is tested on its own at the end, without a database.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import os
import re
import sqlite3
import subprocess
import sys
from collections import Counter
from contextlib import closing
from itertools import islice
from pathlib import Path

import psycopg2
import pytest
from playhouse.test_utils import count_queries

from api.app import create_app
from api.ingest import default_files, validate_files
from api.queries.events import EVENTS
from api.queries.paging import forget_counts
from api.store.db import database
from api.store.ddl import STALE_EVENTS
from api.store.models import date_span
from api.synthetic.generate import COLUMNS, corpus
from api.synthetic.world import CorpusPlan
from api.synthetic.write import REFERENCES
from api.synthetic.write import WRITTEN_TABLES as WRITTEN
from tests.scratch import scratch_database

N = 300
BRIEFING = [sys.executable, "-c", "from api.cli import main; main()"]


def seed_synthetic(path: Path, *args: str) -> str:
    completed = subprocess.run(
        [*BRIEFING, "seed", "--synthetic", str(N), *args],
        env={**os.environ, "DATABASE_URL": f"sqlite:///{path}"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return completed.stdout


@pytest.fixture(scope="module")
def synthetic_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("synthetic") / "synthetic.db"
    output = seed_synthetic(path)
    assert f"events={N}" in output and "loaded" in output
    return path


@pytest.fixture
def bound():
    """Restore the proxy's previous binding (the session database) after the test."""
    previous = database.obj
    yield
    current = database.obj
    if current is not None and current is not previous:
        current.close()
    if previous is not None:
        database.initialize(previous)


@pytest.fixture
def client_for(bound):
    def make(path: Path):
        return create_app({"DATABASE_URL": f"sqlite:///{path}", "TESTING": True}).test_client()

    return make


@pytest.fixture
def syn(client_for, synthetic_db: Path):
    return client_for(synthetic_db)


@pytest.fixture
def raw(synthetic_db: Path):
    connection = sqlite3.connect(synthetic_db)
    yield connection
    connection.close()


def scalar(raw: sqlite3.Connection, sql: str, *params) -> int:
    return raw.execute(sql, params).fetchone()[0]


def total(response) -> int:
    assert response.status_code == 200, response.get_data(as_text=True)
    return int(response.headers["X-Total-Count"])


def next_link(response) -> str | None:
    match = re.search(r'<([^>]+)>; rel="next"', response.headers.get("Link", ""))
    return match[1].replace("http://localhost", "") if match else None


# ---------------------------------------------------------------- shape and counts


def test_sizes_follow_n(syn, raw):
    assert total(syn.get("/v1/events")) == N
    assert total(syn.get("/v1/statements")) == 2 * N
    assert total(syn.get("/v1/actors")) == max(40, N // 10)
    assert total(syn.get("/v1/locations")) == max(60, N // 20)
    assert total(syn.get("/v1/sources")) == 3
    for table, record_type in (
        ("event", "event"),
        ("statement", "statement"),
        ("actor", "actor"),
        ("location", "location"),
    ):
        rows = scalar(raw, f"SELECT COUNT(*) FROM {table}")
        docs = scalar(
            raw, "SELECT COUNT(*) FROM search_document WHERE record_type = ?", record_type
        )
        cited = scalar(
            raw, "SELECT COUNT(DISTINCT record_id) FROM citation WHERE record_type = ?", record_type
        )
        assert rows == docs == cited, table


def test_realistic_shape(raw):
    participants = raw.execute(
        "SELECT MIN(n), MAX(n) FROM (SELECT COUNT(*) AS n FROM event_participant GROUP BY event_id)"
    ).fetchone()
    assert participants[0] >= 1 and participants[1] <= 4
    speakers = raw.execute(
        "SELECT MIN(n), MAX(n) FROM (SELECT COUNT(*) AS n FROM statement_speaker GROUP BY "
        "statement_id)"
    ).fetchone()
    assert speakers[0] >= 1 and speakers[1] <= 3
    assert (
        scalar(
            raw,
            "SELECT COUNT(*) FROM statement WHERE id NOT IN "
            "(SELECT statement_id FROM statement_speaker)",
        )
        == 0
    )
    precisions = {p for (p,) in raw.execute("SELECT DISTINCT date_precision FROM event")}
    assert precisions == {"day", "week", "month", "year"}
    fatalities = raw.execute(
        "SELECT SUM(fatalities IS NULL), SUM(fatalities = 0), SUM(fatalities > 0) FROM event"
    ).fetchone()
    assert all(n > 0 for n in fatalities)
    kinds = {k for (k,) in raw.execute("SELECT DISTINCT kind FROM location")}
    assert {"country", "province", "city", "military_base"} <= kinds
    # coordinates inside a Middle East box; every non-country place has a parent
    box = raw.execute(
        "SELECT MIN(latitude), MAX(latitude), MIN(longitude), MAX(longitude) FROM location"
    ).fetchone()
    assert box[0] >= 10 and box[1] <= 43
    assert box[2] >= 25 and box[3] <= 64
    assert (
        scalar(raw, "SELECT COUNT(*) FROM location WHERE kind != 'country' AND parent_id IS NULL")
        == 0
    )
    # paths extend the parent's, like the loader's
    broken = raw.execute(
        "SELECT c.slug FROM location c JOIN location p ON c.parent_id = p.id "
        "WHERE c.path != p.path || c.slug || '/'"
    ).fetchall()
    assert broken == []
    # the date span of every dated row is what api.store.models.date_span says
    for table in ("event", "statement"):
        for date, end, precision, start, stop in raw.execute(
            f"SELECT date, end_date, date_precision, range_start, range_end FROM {table}"
        ):
            expected = date_span(
                dt.date.fromisoformat(date), end and dt.date.fromisoformat(end), precision
            )
            assert (start, stop) == tuple(d.isoformat() for d in expected)


def test_ids_never_collide_with_real_briefings(raw):
    synthetic = {
        slug
        for (slug,) in raw.execute(
            "SELECT slug FROM event UNION SELECT slug FROM statement UNION SELECT slug FROM actor "
            "UNION SELECT slug FROM location UNION SELECT slug FROM source"
        )
    }
    assert all(slug.startswith("syn-") for slug in synthetic)
    real = set()
    for bundle in validate_files(default_files()).values():
        real.add(bundle["source"]["id"])
        for collection in ("actors", "locations", "events", "statements"):
            real.update(record["id"] for record in bundle[collection])
    assert real and not any(slug.startswith("syn-") for slug in real)


# ---------------------------------------------------------------- paging


def test_paging_through_every_page(syn, raw):
    url, seen, pages, totals = "/v1/events?limit=7", [], 0, set()
    while url:
        response = syn.get(url)
        totals.add(total(response))
        seen.extend((record["date"], record["id"]) for record in response.json)
        pages += 1
        url = next_link(response)
    assert totals == {N}
    assert pages == math.ceil(N / 7)
    assert len({slug for _, slug in seen}) == N  # no row twice, none missing
    expected = [slug for (slug,) in raw.execute("SELECT slug FROM event ORDER BY date, id")]
    assert [slug for _, slug in seen] == expected


def test_deep_page_by_cursor_is_the_offset_page(syn, raw):
    """Page n reached by following n-1 cursors holds the rows OFFSET (n-1)*limit gives."""
    url, n = "/v1/events?limit=10&sort=-date", 1
    while n < 20:
        url = next_link(syn.get(url))
        n += 1
    page = [record["id"] for record in syn.get(url).json]
    expected = [
        slug
        for (slug,) in raw.execute(
            "SELECT slug FROM event ORDER BY date DESC, id DESC LIMIT 10 OFFSET 190"
        )
    ]
    assert page == expected
    # and the prev link goes back exactly one page
    back = re.search(r'<([^>]+)>; rel="prev"', syn.get(url).headers["Link"])[1]
    previous = [r["id"] for r in syn.get(back.replace("http://localhost", "")).json]
    assert previous == [
        slug
        for (slug,) in raw.execute(
            "SELECT slug FROM event ORDER BY date DESC, id DESC LIMIT 10 OFFSET 180"
        )
    ]


# ---------------------------------------------------------------- filters


def busiest_province(raw: sqlite3.Connection) -> tuple[str, str, int]:
    return raw.execute(
        "SELECT p.slug, p.path, COUNT(e.id) AS n FROM location p "
        "JOIN location l ON substr(l.path, 1, length(p.path)) = p.path "
        "JOIN event e ON e.location_id = l.id WHERE p.kind = 'province' "
        "GROUP BY p.slug ORDER BY n DESC, p.slug LIMIT 1"
    ).fetchone()


def test_location_filter_includes_descendants(syn, raw):
    slug, path, count = busiest_province(raw)
    direct = scalar(
        raw,
        "SELECT COUNT(*) FROM event e JOIN location l ON e.location_id = l.id WHERE l.slug = ?",
        slug,
    )
    assert count > direct  # the province's events are mostly in its cities and bases
    response = syn.get(f"/v1/events?location={slug}&limit=500")
    assert total(response) == count == len(response.json)
    for record in response.json:
        place = syn.get(f"/v1/locations/{record['location']['id']}").json
        assert slug in [record["location"]["id"]] + [a["id"] for a in place["ancestors"]]
    country = path.strip("/").split("/")[0]
    in_country = scalar(
        raw,
        "SELECT COUNT(*) FROM event e JOIN location l ON e.location_id = l.id WHERE l.path LIKE ?",
        f"/{country}/%",
    )
    assert total(syn.get(f"/v1/events?location={country}")) == in_country


def test_every_location_filter_selects_the_events_below_its_path(syn, raw):
    """`location=` reads a country's, province's or city's events from the event's place at
    that level (api/queries/events.py): for every place of the corpus, the events whose place's
    path starts with its path, no more, no fewer."""
    places = raw.execute("SELECT slug, path, kind FROM location").fetchall()
    kinds = set()
    for slug, path, kind in places:
        expected = {
            event
            for (event,) in raw.execute(
                "SELECT e.slug FROM event e JOIN location l ON e.location_id = l.id "
                "WHERE substr(l.path, 1, length(?)) = ?",
                (path, path),
            )
        }
        response = syn.get(f"/v1/events?location={slug}&limit=500")
        assert total(response) == len(expected), slug
        assert {record["id"] for record in response.json} == expected, slug
        kinds.add(kind)
    assert {"country", "province", "city"} <= kinds


def test_date_range_filter_respects_precision(syn, raw):
    start, end = "2016-03-01", "2016-06-30"
    expected = scalar(
        raw, "SELECT COUNT(*) FROM event WHERE range_end >= ? AND range_start <= ?", start, end
    )
    strictly_inside = scalar(
        raw, "SELECT COUNT(*) FROM event WHERE date BETWEEN ? AND ?", start, end
    )
    response = syn.get(f"/v1/events?date_from={start}&date_to={end}&limit=500")
    assert total(response) == expected == len(response.json) >= strictly_inside > 0
    for record in response.json:
        first, last = date_span(
            dt.date.fromisoformat(record["date"]),
            record["end_date"] and dt.date.fromisoformat(record["end_date"]),
            record["date_precision"],
        )
        assert first.isoformat() <= end and last.isoformat() >= start
    statements = scalar(
        raw, "SELECT COUNT(*) FROM statement WHERE range_end >= ? AND range_start <= ?", start, end
    )
    assert total(syn.get(f"/v1/statements?date_from={start}&date_to={end}")) == statements


def test_bbox_filter(syn, raw):
    min_lon, min_lat, max_lon, max_lat = 39.0, 30.0, 46.0, 36.0  # most of Iraq
    expected = scalar(
        raw,
        "SELECT COUNT(*) FROM event e JOIN location l ON e.location_id = l.id "
        "WHERE l.latitude BETWEEN ? AND ? AND l.longitude BETWEEN ? AND ?",
        min_lat,
        max_lat,
        min_lon,
        max_lon,
    )
    response = syn.get(f"/v1/events?bbox={min_lon},{min_lat},{max_lon},{max_lat}&limit=500")
    assert total(response) == expected == len(response.json) > 0
    for record in response.json:
        point = record["coordinates"]
        assert min_lat <= point["latitude"] <= max_lat
        assert min_lon <= point["longitude"] <= max_lon


def test_full_text_filter(syn, raw):
    word = re.compile(r"\brocket", re.IGNORECASE)
    expected = {
        slug
        for slug, title, summary in raw.execute("SELECT slug, title, summary FROM event")
        if word.search(f"{title} {summary}")
    }
    response = syn.get("/v1/events?q=rocket&sort=date&limit=500")
    assert total(response) == len(expected) > 0
    assert {record["id"] for record in response.json} == expected
    combined = syn.get("/v1/events?q=rocket&type=explosions_remote_violence&limit=500")
    assert 0 < total(combined) <= len(expected)
    assert {r["type"] for r in combined.json} == {"explosions_remote_violence"}


def test_full_text_by_relevance_pages(syn):
    """Relevance-sorted results page on past page 1 (was a 500: the rank was not on the row)."""
    url, seen = "/v1/events?q=rocket&limit=5", []
    while url:
        response = syn.get(url)
        assert response.status_code == 200
        seen.extend(record["id"] for record in response.json)
        url = next_link(response)
    assert len(seen) == len(set(seen)) == total(syn.get("/v1/events?q=rocket")) > 5


def test_filters_combine(syn, raw):
    slug, path, _ = busiest_province(raw)
    expected = scalar(
        raw,
        "SELECT COUNT(*) FROM event e JOIN location l ON e.location_id = l.id WHERE "
        "l.path LIKE ? AND e.type = ? AND e.range_end >= ?",
        f"{path}%",
        "explosions_remote_violence",
        "2015-01-01",
    )
    response = syn.get(
        f"/v1/events?location={slug}&type=explosions_remote_violence&date_from=2015-01-01&limit=500"
    )
    assert total(response) == expected == len(response.json)


# ---------------------------------------------------------------- determinism


def dump(client) -> str:
    """Every record of every collection, as the API serves them (public ids, no row ids)."""
    parts = []
    for collection in ("events", "statements", "actors", "locations", "sources"):
        url = f"/v1/{collection}?limit=500"
        while url:
            response = client.get(url)
            assert response.status_code == 200
            parts.append(response.get_data(as_text=True))
            url = next_link(response)
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def test_same_seed_same_corpus_and_reseeding(client_for, synthetic_db: Path, tmp_path: Path):
    again = tmp_path / "again.db"
    seed_synthetic(again)
    reference = dump(client_for(synthetic_db))
    assert dump(client_for(again)) == reference
    # the same corpus is not loaded twice
    assert "already present" in seed_synthetic(again)
    # another seed replaces the corpus: same sizes, other rows
    assert "removed" in seed_synthetic(again, "--synthetic-seed", "7")
    other = client_for(again)
    assert total(other.get("/v1/events")) == N
    assert total(other.get("/v1/statements")) == 2 * N
    assert dump(other) != reference
    seed_synthetic(again)
    assert dump(client_for(again)) == reference


def test_every_event_is_rendered_once_loaded(syn, raw, monkeypatch):
    """The bulk load writes without the triggers and renders its events once, at the end."""
    assert scalar(raw, "SELECT COUNT(body) FROM event_json") == N
    paths = ["/v1/events?limit=500", "/v1/events?limit=500&sort=-date", "/v1/events?q=rocket"]
    served = [syn.get(path).data for path in paths]
    monkeypatch.setattr(EVENTS, "rendered", None)
    assert served == [syn.get(path).data for path in paths]
    made_again = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE ?"
    expected = sum(len(writes.split()) for _, writes, _, _ in STALE_EVENTS) + 1  # a new event
    assert scalar(raw, made_again, "%_stales_event_json_%") == expected


# ---------------------------------------------------------------- no N+1


QUERY_BUDGET = {  # queries per list page, whatever its size, its total counted too
    # Each starts with the data version (totals are remembered per version) and the count.
    # version, count, page, the records' stored JSON (api/queries/rendered.py; a stale record
    # takes the loaders' 5 more: its row, locations, participants+actors, casualties+sides,
    # citations+sources, and the enclosing places of a location without coordinates)
    "/v1/events?": 4,
    # +2 on SQLite, the first request of a filter: the type and dates counted alone, after the
    # data version (filters.led_by_the_rest)
    "/v1/events?type=explosions_remote_violence&date_from=2015-01-01&location={province}&": 9,
    # version, count, page, speakers, on behalf of, addressees, mentions, events, outlets,
    # citations
    "/v1/statements?": 10,
    # version, count, page, relations, relation citations, aliases, identifiers, same-as
    # links, citations
    "/v1/actors?": 9,
    # version, count, page, ancestors, regions, aliases, identifiers, same-as links, citations
    "/v1/locations?": 9,
}


def test_bulk_load_leaves_statistics_for_every_table(database_url: str, tmp_path: Path):
    """After `briefing seed --synthetic`, every table the loader wrote has planner statistics:
    one left out (statement_mention) was planned blind, a hash join over every actor
    for each statements page at 1M."""
    with scratch_database(database_url, tmp_path, "stats") as url:
        completed = subprocess.run(
            [*BRIEFING, "seed", "--synthetic", str(N)],
            env={**os.environ, "DATABASE_URL": url},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert completed.returncode == 0, completed.stderr[-3000:]
        if url.startswith("sqlite"):
            with closing(sqlite3.connect(url.split(":///", 1)[1])) as connection:
                rows = connection.execute("SELECT DISTINCT tbl FROM sqlite_stat1").fetchall()
        else:
            with closing(psycopg2.connect(url)) as connection, connection.cursor() as cursor:
                cursor.execute(
                    "SELECT relname FROM pg_stat_user_tables "
                    "WHERE schemaname = current_schema() AND last_analyze IS NOT NULL"
                )
                rows = cursor.fetchall()
    assert set(WRITTEN) - {table for (table,) in rows} == set()


@pytest.mark.parametrize("base", list(QUERY_BUDGET))
def test_queries_per_page_do_not_grow_with_limit(syn, raw, base):
    base_url = base.format(province=busiest_province(raw)[0])
    counts = {}
    syn.get(f"{base_url}limit=1")  # once per process: is `event_json` there (rendered.kept)
    for limit in (10, 50, 200, 500):
        forget_counts()  # each page as the first of its filter: its total counted too
        with count_queries() as counter:
            response = syn.get(f"{base_url}limit={limit}")
        assert response.status_code == 200
        counts[limit] = counter.count
    print(f"{base_url}: queries per page by limit {counts}")
    assert len(set(counts.values())) == 1, counts
    assert counts[500] <= QUERY_BUDGET[base], counts


def test_sources_record_what_made_the_corpus(raw):
    """The first synthetic source's url names N, the seed and the generator version."""
    (url,) = raw.execute("SELECT url FROM source WHERE slug = 'syn-source-1'").fetchone()
    assert f"events={N}&seed=42&version=" in url


# ---------------------------------------------------------------- the pure generator


def test_generator_same_seed_same_rows_other_seed_other_rows():
    rows = list(corpus(200, 5))
    assert rows == list(corpus(200, 5))
    assert rows != list(corpus(200, 6))
    # the stream is lazy: its head is the same without generating the rest
    assert list(islice(corpus(200, 5), 50)) == rows[:50]


def test_generator_sizes_follow_the_plan():
    plan = CorpusPlan(200)
    sizes = Counter(table for table, _ in corpus(200))
    assert sizes["event"] == plan.events and sizes["statement"] == plan.statements
    assert sizes["actor"] == plan.actors and sizes["location"] == plan.locations
    assert sizes["source"] == 3
    records = sum(sizes[t] for t in ("source", "location", "actor", "event", "statement"))
    assert sizes["search_document"] == records
    assert sizes["citation"] >= records - sizes["source"] + sizes["relation"]
    assert set(sizes) == set(COLUMNS)


def test_generator_rows_refer_only_to_earlier_rows():
    """What the writer relies on: a referenced slug always comes before the row naming it."""
    seen: dict[str, set[str]] = {table: set() for table in COLUMNS}
    for table, row in corpus(100, 3):
        assert len(row) == len(COLUMNS[table])
        for column, target in REFERENCES.get(table, {}).items():
            value = row[COLUMNS[table].index(column)]
            target = row[0] if target == "record_type" else target
            assert value is None or value in seen[target], (table, column, value)
        if "slug" in COLUMNS[table]:
            assert row[0].startswith("syn-")
            seen[table].add(row[0])


def test_the_loaded_places_and_months_group_like_their_paths_and_dates(syn, raw):
    """The synthetic writer keeps each place's province and each record's months as the
    loader does: by province and by month, the aggregates count what the raw paths and spans
    say."""
    slug, _, count = busiest_province(raw)
    answer = syn.get("/v1/events/aggregate?group_by=province&limit=10000").json
    assert [g["count"] for g in answer["groups"] if g["key"]["province"] == slug] == [count]
    months = dict(
        raw.execute(
            "SELECT substr(range_start, 1, 7), COUNT(*) FROM statement "
            "WHERE substr(range_start, 1, 7) = substr(range_end, 1, 7) GROUP BY 1"
        ).fetchall()
    )
    by_month = syn.get("/v1/statements/aggregate?group_by=month&limit=10000").json
    assert {g["key"]["month"]: g["count"] for g in by_month["groups"] if g["key"]["month"]} == (
        months
    )
