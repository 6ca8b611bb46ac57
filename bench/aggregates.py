"""The aggregates at scale: `/v1/events/aggregate` on the synthetic corpus, first ask and
repeated, p50/p95, on SQLite and PostgreSQL; and the filtered series beside Datasette's
`?_facet_date=` on the same SQLite file, in the same run (a ratio).

```sh
.venv/bin/python -m bench.aggregates --events 100000 --backend sqlite --repeat 15
.venv/bin/python -m bench.aggregates --backend postgresql --pg-url postgresql://postgres@127.0.0.1:5432/bench
.venv/bin/python -m bench.aggregates --backend sqlite --datasette   # adds the comparison
.venv/bin/python -m bench.aggregates --url sqlite:////work/corpus/agg-1m.db --events 1000000
```

`--url` measures a database made elsewhere (a shared corpus) as it is: neither seeded nor
upgraded, unless `--upgrade` (the indexes this release adds are then made first).

Each scenario is asked through the Flask test client with the response cache off: `first`
forgets the answers remembered per data version before each ask (what the first request
after a write pays), `repeated` asks again without forgetting. The Datasette comparison runs
both servers (gunicorn with one sync worker, `datasette serve -i`) and times sequential HTTP
requests of each, alternating.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

from bench.common import (
    DEFAULT_EVENTS,
    DEFAULT_PG_URL,
    ROOT,
    briefing_command,
    database_url,
    ensure_database,
    seed,
)

YEAR = 2020


def busiest_country(url: str) -> tuple[str, str]:
    """(slug, path) of the country with the most events."""
    import peewee as pw

    from api.store.db import bind, database
    from api.store.models import Event, Location

    bind(url)
    with database.connection_context():
        per_location = dict(
            Event.select(Event.location, pw.fn.COUNT(Event.id))
            .where(Event.location.is_null(False))
            .group_by(Event.location)
            .tuples()
        )
        counts: dict[str, int] = {}
        for location_id, path in Location.select(Location.id, Location.path).tuples():
            root = path.strip("/").split("/")[0]
            counts[root] = counts.get(root, 0) + per_location.get(location_id, 0)
    slug = max(counts, key=counts.get)
    return slug, f"/{slug}/"


def upgrade(url: str) -> None:
    """`briefing db upgrade` of `url` (the indexes this release adds are made)."""
    started = time.perf_counter()
    subprocess.run(
        [*briefing_command(), "db", "upgrade"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url},
        check=True,
    )
    print(f"upgraded in {time.perf_counter() - started:.1f} s", file=sys.stderr)


def scenarios(country: str) -> dict[str, str]:
    year = f"date_from={YEAR}-01-01&date_to={YEAR}-12-31"
    return {
        "series": f"/v1/events/aggregate?group_by=week&location={country}&{year}",
        "month-type": "/v1/events/aggregate?group_by=month,type",
        "province-month": "/v1/events/aggregate?group_by=province,month",
        "grid": f"/v1/events/aggregate?group_by=grid&cell=0.5&{year}",
        "speaker": "/v1/statements/aggregate?group_by=speaker",
        "week-explorer": "/v1/events/aggregate?group_by=week&fill=zero",
    }


def percentiles(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"p50_ms": round(statistics.median(ordered) * 1000, 1), "p95_ms": round(p95 * 1000, 1)}


def measure(
    url: str, repeat: int, country: str, only: list[str] | None = None, budget_ms: int = 60_000
) -> dict:
    from api.app import create_app
    from api.store.data_version import PerVersion

    # a budget of 60 s rather than 3: what is measured is how long an answer takes
    app = create_app(
        {
            "DATABASE_URL": url,
            "RATELIMIT_ENABLED": False,
            "RESPONSE_CACHE": False,
            "QUERY_TIMEOUT_MS": budget_ms,
            "SCHEMA_UPGRADE": False,  # measure the database as it is
            "SHARED_ANSWERS": False,  # a first ask is counted, not read from an earlier run's
        }
    )
    client = app.test_client()
    results: dict[str, dict] = {}
    for key, path in scenarios(country).items():
        if only and key not in only:
            continue
        first, repeated = [], []
        for _ in range(repeat):
            PerVersion.forget_all()
            started = time.perf_counter()
            response = client.get(path)
            first.append(time.perf_counter() - started)
            if response.status_code == 503:  # over the budget: say so, measure the others
                break
            assert response.status_code == 200, response.get_data(as_text=True)[:500]
            started = time.perf_counter()
            client.get(path)
            repeated.append(time.perf_counter() - started)
        if response.status_code == 503:
            results[key] = {"path": path, "over_budget_ms": budget_ms}
            print(key, json.dumps(results[key]), file=sys.stderr)
            continue
        body = response.json
        results[key] = {
            "path": path,
            "groups": len(body["groups"]),
            "records": body["total"]["count"],
            "imprecise_rows": sum(1 for g in body["groups"] if g.get("imprecise")),
            "first": percentiles(first),
            "repeated": percentiles(repeated),
        }
        print(key, json.dumps(results[key]), file=sys.stderr)
    return results


def compare_with_datasette(url: str, country_path: str, country: str, repeat: int) -> dict:
    """The filtered series (one country, one year, by week) from the service, and Datasette's
    `_facet_date=date` (by day) over the same rows of the same file: sequential requests,
    alternating, p50 of each and the ratio."""
    from bench.compare import Process, datasette_binary, gunicorn
    from bench.run import free_port

    path = Path(url.split(":///", 1)[1])
    logs = Path(tempfile.mkdtemp(prefix="bench-aggregates-"))
    service_port, datasette_port = free_port(), free_port()
    env = {
        "DATABASE_URL": url,
        "RATELIMIT_ENABLED": "0",
        "RESPONSE_CACHE": "off",
        "SECRET_KEY": "bench",
        "QUERY_TIMEOUT_MS": "60000",
    }
    service = Process(
        "service",
        gunicorn("api.app:create_app()", 1, service_port),
        env,
        service_port,
        logs / "service.log",
    )
    datasette = Process(
        "datasette",
        # its time limits raised like the service's budget (1 s for a query and 200 ms for a
        # facet by default: at 1M events the facet would be left out, the query refused)
        [
            str(datasette_binary()),
            "serve",
            "-i",
            str(path),
            "-p",
            str(datasette_port),
            "--setting",
            "sql_time_limit_ms",
            "60000",
            "--setting",
            "facet_time_limit_ms",
            "60000",
        ],
        {},
        datasette_port,
        logs / "datasette.log",
    )
    ours = scenarios(country)["series"]
    where = f"location_id in (select id from location where path like '{country_path}%')"
    theirs = f"/{path.stem}/event.json?" + urlencode(
        {
            "_facet_date": "date",
            "_where": where,
            "date__gte": f"{YEAR}-01-01",
            "date__lte": f"{YEAR}-12-31",
            "_size": "0",
        }
    )
    try:
        service.wait_ready("/healthz")
        datasette.wait_ready("/-/versions.json")
        times: dict[str, list[float]] = {"service": [], "datasette": []}
        for _ in range(repeat):
            for name, base, target in (
                ("service", service.base, ours),
                ("datasette", datasette.base, theirs),
            ):
                started = time.perf_counter()
                with urllib.request.urlopen(base + target, timeout=60) as response:
                    body = response.read()
                    assert response.status == 200
                times[name].append(time.perf_counter() - started)
        facet = json.loads(body)["facet_results"]
        facet = facet.get("date") or next(iter(facet.values()), {})
        result = {name: percentiles(t) for name, t in times.items()}
        result["datasette_buckets"] = len(facet.get("results", []))
        result["ratio_datasette_over_service_p50"] = round(
            result["datasette"]["p50_ms"] / result["service"]["p50_ms"], 2
        )
        result["paths"] = {"service": ours, "datasette": theirs}
        return result
    finally:
        service.stop()
        datasette.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=DEFAULT_EVENTS)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--datasette", action="store_true", help="add the Datasette comparison")
    parser.add_argument("--only", nargs="*", help="scenario keys (default: all)")
    parser.add_argument(
        "--budget-ms", type=int, default=60_000, help="a request's query budget (503 beyond)"
    )
    parser.add_argument(
        "--url", help="an existing database (sqlite:///path or a loopback postgresql:// URL)"
    )
    parser.add_argument("--upgrade", action="store_true", help="with --url: upgrade it first")
    args = parser.parse_args(argv)
    if args.url:
        url = args.url
        args.backend = "sqlite" if url.startswith("sqlite") else "postgresql"
        if args.backend == "postgresql":
            database_url(args.backend, args.events, url)  # refuses a non-loopback or shared name
        if args.upgrade:
            upgrade(url)
    else:
        url = database_url(args.backend, args.events, args.pg_url)
        ensure_database(url)
        seed(url, args.events, args.seed)
    country, country_path = busiest_country(url)
    report = {
        "backend": args.backend,
        "events": args.events,
        "country": country,
        "scenarios": measure(url, args.repeat, country, args.only, args.budget_ms),
    }
    if args.datasette:
        if args.backend != "sqlite":
            raise SystemExit("the Datasette comparison reads the SQLite file")
        report["datasette"] = compare_with_datasette(url, country_path, country, args.repeat)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
