"""Where a scenario's time goes: every SQL query of one request, timed, with its plan.

    python -m bench.explain --backend sqlite|postgresql [--events 100000] [--only fts deep]

Runs each scenario of bench/common.py once through the Flask test client (no gunicorn), captures
the queries peewee logs, re-runs each one (best of 3) and prints EXPLAIN QUERY PLAN (SQLite) or
EXPLAIN (ANALYZE, BUFFERS) (PostgreSQL). Uses the benchmark databases, never `test`. The
response cache is off unless RESPONSE_CACHE says otherwise: every request is computed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from playhouse.test_utils import count_queries

from bench.common import DEFAULT_EVENTS, DEFAULT_PG_URL, Scenario, database_url, scenarios


def best_of(database, sql: str, params: tuple, runs: int = 3) -> float:
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        database.execute_sql(sql, params).fetchall()
        best = min(best, time.perf_counter() - started)
    return best * 1000


def plan(database, sql: str, params: tuple, postgres: bool) -> str:
    if sql.lstrip().upper().startswith("EXPLAIN"):  # the estimate of a total: a plan already
        return "(a plan itself)"
    if postgres:
        rows = database.execute_sql("EXPLAIN (ANALYZE, BUFFERS) " + sql, params).fetchall()
        return "\n".join(row[0] for row in rows)
    rows = database.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall()
    return "\n".join(f"{'  ' * (0 if row[1] == 0 else 1)}{row[-1]}" for row in rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.explain", description=__doc__)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--events", type=int, default=DEFAULT_EVENTS)
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--only", nargs="*", help="scenario keys (default: all)")
    parser.add_argument("--requests", type=int, default=5, help="timed requests per scenario")
    parser.add_argument("--path", nargs="*", help="explain these URLs (path?query) instead")
    parser.add_argument(
        "--url", help="an existing database, read as it is (no upgrade); needs --path"
    )
    parser.add_argument("--brief", action="store_true", help="timings only, no plans")
    parser.add_argument(
        "--forget",
        action="store_true",
        help="forget what is remembered per data version before each request (facets and "
        "aggregates are then computed, as on the first ask after a write)",
    )
    options = parser.parse_args(argv)

    os.environ.setdefault("RESPONSE_CACHE", "off")  # measure the work, not the replay
    from api.app import create_app
    from api.store.data_version import PerVersion
    from api.store.db import database, is_postgres

    def forget() -> None:
        if options.forget:
            PerVersion.forget_all()

    if options.url and not options.path:
        parser.error("--url needs --path")
    url = options.url or database_url(options.backend, options.events, options.pg_url)
    found, facts = ([], {"url": url}) if options.url else scenarios(url)
    if options.path:
        found = [Scenario(f"path{n}", path, path) for n, path in enumerate(options.path, 1)]
    client = create_app({"DATABASE_URL": url, "SCHEMA_UPGRADE": not options.url}).test_client()
    postgres = is_postgres()
    print(f"# {options.backend}: {facts}")
    summary = []
    for scenario in found:
        if options.only and scenario.key not in options.only:
            continue
        client.get(scenario.path)  # warm caches
        elapsed = 0.0
        for _ in range(options.requests):
            forget()
            started = time.perf_counter()
            response = client.get(scenario.path)
            elapsed += time.perf_counter() - started
        request_ms = elapsed * 1000 / options.requests
        forget()
        with count_queries() as counter:
            client.get(scenario.path)
        print(
            f"\n## {scenario.key}: {scenario.label}\n{scenario.path}\n"
            f"HTTP {response.status_code}, X-Total-Count {response.headers.get('X-Total-Count')}, "
            f"{request_ms:.1f} ms per request in-process, {counter.count} queries"
        )
        sql_ms, slowest = 0.0, 0.0
        with database.connection_context():
            for record in counter.get_queries():
                sql, params = record.msg
                params = tuple(params or ())
                took = best_of(database, sql, params)
                sql_ms, slowest = sql_ms + took, max(slowest, took)
                print(f"\n- {took:.2f} ms: {sql[:300]}{' ...' if len(sql) > 300 else ''}")
                print(f"  params: {params[:8]}{' ...' if len(params) > 8 else ''}")
                if not options.brief:
                    print("  " + plan(database, sql, params, postgres).replace("\n", "\n  "))
        summary.append(
            f"| `{scenario.key}` | {response.status_code} | {request_ms:.1f} | {counter.count} | "
            f"{sql_ms:.1f} | {slowest:.1f} |"
        )
    print(f"\n## Summary ({options.backend}, in-process, one client, no gunicorn)\n")
    print("| Scenario | HTTP | ms per request | queries | SQL ms (sum) | slowest query ms |")
    print("|---|---:|---:|---:|---:|---:|")
    print("\n".join(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
