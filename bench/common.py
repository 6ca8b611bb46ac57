"""Benchmark databases and scenarios, shared by `bench.run` (wrk) and `bench.explain`.

Each backend gets its own database, never the test suite's: a SQLite file under
`instance/bench/` and, on PostgreSQL, a database of its own (default `bench`, created when
missing). Only loopback hosts are accepted.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import peewee as pw

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/bench"
DEFAULT_EVENTS = 100_000
PAGE = 50
DEEP_PAGE = 1_000
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
FORBIDDEN_DATABASES = {"test", "postgres", "template0", "template1"}


@dataclass
class Scenario:
    key: str
    label: str
    path: str  # path + query string, no host


def sqlite_url(events: int) -> str:
    return f"sqlite:///{ROOT / 'instance' / 'bench' / f'synthetic-{events}.db'}"


def database_url(backend: str, events: int, pg_url: str = DEFAULT_PG_URL) -> str:
    if backend == "sqlite":
        return sqlite_url(events)
    parts = urlsplit(pg_url)
    name = parts.path.lstrip("/")
    if parts.hostname not in LOOPBACK:
        raise SystemExit(f"refused: {pg_url!r} is not on loopback (127.0.0.1)")
    if not name or name in FORBIDDEN_DATABASES:
        raise SystemExit(
            f"refused: database {name!r}: benchmarks need a database of their own "
            "(the test suite drops the tables of `test`), e.g. .../bench"
        )
    return pg_url


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database of `url` when it does not exist (SQLite: the folder)."""
    if url.startswith("sqlite"):
        Path(url.split(":///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)
        return
    import psycopg2

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    connection = psycopg2.connect(
        host=parts.hostname,
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password,
        dbname="postgres",
    )
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if cursor.fetchone() is None:
                cursor.execute(f'CREATE DATABASE "{name}"')
                print(f"created database {name}", file=sys.stderr)
    finally:
        connection.close()


def briefing_command() -> list[str]:
    script = Path(sys.executable).parent / "briefing"
    return [str(script)] if script.exists() else ["briefing"]


def seed(url: str, events: int, random_seed: int) -> dict:
    """`briefing seed --synthetic N` (skipped by the command when already loaded)."""
    started = time.perf_counter()
    completed = subprocess.run(
        [
            *briefing_command(),
            "seed",
            "--synthetic",
            str(events),
            "--synthetic-seed",
            str(random_seed),
        ],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url},
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    )
    message = completed.stdout.strip()
    print(message, file=sys.stderr)
    return {
        "skipped": "already present" in message,
        "seconds": round(time.perf_counter() - started, 1),
        "message": message,
    }


def database_size(url: str) -> int:
    """Bytes on disk: the SQLite file (+ WAL), or pg_database_size."""
    if url.startswith("sqlite"):
        path = Path(url.split(":///", 1)[1])
        return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())
    from api.store.db import database

    with database.connection_context():
        name = urlsplit(url).path.lstrip("/")
        return int(database.execute_sql("SELECT pg_database_size(%s)", (name,)).fetchone()[0])


def scenarios(url: str) -> tuple[list[Scenario], dict]:
    """The benchmark URLs for the data in `url`, and what was checked to build them."""
    from api.config import settings_from_env
    from api.queries.paging import CursorSigner, Sort
    from api.store.db import bind, database
    from api.store.models import Actor, Event, EventParticipant, Location

    cursors = CursorSigner(settings_from_env()["SECRET_KEY"])  # as the served app signs them
    bind(url)
    with database.connection_context():
        total = Event.select().count()
        # the busiest province: events per location, summed over each province's subtree
        per_location = dict(
            Event.select(Event.location, pw.fn.COUNT(Event.id))
            .where(Event.location.is_null(False))
            .group_by(Event.location)
            .tuples()
        )
        provinces = dict(
            Location.select(Location.path, Location.slug)
            .where(Location.kind == "province")
            .tuples()
        )
        busy: Counter[str] = Counter()
        for location_id, path in Location.select(Location.id, Location.path).tuples():
            for province_path, slug in provinces.items():
                if path.startswith(province_path):
                    busy[slug] += per_location.get(location_id, 0)
        province = busy.most_common(1)[0][0] if busy else None
        # its country, and a date a month after the first event: few events of the country
        # fall before it, and few of all events (a narrow date under a broad place)
        country = next(
            (path.strip("/").split("/")[0] for path, slug in provinces.items() if slug == province),
            None,
        )
        first_date = Event.select(pw.fn.MIN(Event.date)).scalar()
        deep = max(1, min(DEEP_PAGE, -(-total // PAGE)))
        cursor = None
        expected_first = None
        if deep > 1:
            boundary = (  # not .get(): it resets the offset
                Event.select(Event.date, Event.id)
                .order_by(Event.date, Event.id)
                .offset(PAGE * (deep - 1) - 1)
                .limit(1)
                .tuples()
            )
            last_date, last_id = next(iter(boundary))
            cursor = cursors.encode(Sort("date", Event.date), last_date, last_id, "next")
            expected_first = (
                Event.select(Event.slug)
                .order_by(Event.date, Event.id)
                .offset(PAGE * (deep - 1))
                .limit(1)
                .scalar()
            )
        hub = (  # the actor in most events: the network's worst case
            Actor.select(Actor.slug)
            .join(EventParticipant, on=(EventParticipant.actor == Actor.id))
            .group_by(Actor.id, Actor.slug)
            .order_by(pw.fn.COUNT(EventParticipant.id).desc(), Actor.id)
            .limit(1)
            .scalar()
        )
    filtered = f"/v1/events?limit={PAGE}&type=explosions_remote_violence&date_from=2019-01-01"
    if province:
        filtered += f"&location={province}"
    deep_path = f"/v1/events?limit={PAGE}" + (f"&cursor={cursor}" if cursor else "")
    found = [
        Scenario("page1", "events, page 1", f"/v1/events?limit={PAGE}"),
        Scenario("filtered", "events, filtered (type + date_from + province)", filtered),
        Scenario("deep", f"events, page {deep:,} (cursor)", deep_path),
        Scenario("bbox", "events, bbox (2x2 degrees)", f"/v1/events?limit={PAGE}&bbox=43,32,45,34"),
        Scenario(
            "fts", "events, full text q=rocket (by relevance)", f"/v1/events?limit={PAGE}&q=rocket"
        ),
        Scenario(
            "fts-date",
            "events, full text q=rocket, sort=date",
            f"/v1/events?limit={PAGE}&q=rocket&sort=date",
        ),
        Scenario("statements", "statements, page 1", f"/v1/statements?limit={PAGE}"),
        Scenario(
            "broad", "events, role=target (half of them)", f"/v1/events?limit={PAGE}&role=target"
        ),
        Scenario(
            "dates-broad",
            "events, date_from=2013-01-01 (nine in ten)",
            f"/v1/events?limit={PAGE}&date_from=2013-01-01",
        ),
        Scenario("timeline", "timeline, page 1", f"/v1/timeline?limit={PAGE}"),
        Scenario(
            "timeline-hub",
            "timeline of the busiest actor",
            f"/v1/timeline?limit={PAGE}&actor={hub}",
        ),
        Scenario("search", "search, q=rocket (every type)", "/v1/search?q=rocket"),
    ]
    if country and first_date:
        early = first_date + dt.timedelta(days=30)
        place_dates = f"location={country}&date_to={early.isoformat()}"
        found += [
            Scenario(
                "country-early",
                "events of the busiest country, first month",
                f"/v1/events?limit={PAGE}&{place_dates}",
            ),
            Scenario(
                "timeline-country-early",
                "timeline of the busiest country, first month",
                f"/v1/timeline?limit={PAGE}&{place_dates}",
            ),
        ]
    found += [
        Scenario("facet-type", "events facets by type", "/v1/events/facets?field=type"),
        Scenario("facet-actor", "events facets by actor", "/v1/events/facets?field=actor"),
        Scenario(
            "network",
            "network depth 2 around the busiest actor",
            f"/v1/actors/{hub}/network?depth=2",
        ),
    ]
    return found, {
        "events": total,
        "province": province,
        "deep_page": deep,
        "deep_expected_first": expected_first,
        "hub": hub,
        "country": country,
    }
