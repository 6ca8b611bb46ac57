"""Single-client latency at scale (issue #14's 1M table): p50 / p95 per scenario, worker RSS.

    python -m bench.latency --backend sqlite|postgresql --events 1000000 [--requests 20]

Serves the benchmark database of `--events` (bench/common.py; it must be seeded already:
`python -m bench.run` or `briefing seed --synthetic N`) with gunicorn (2 workers), sends every
scenario `--warmup` requests, then `--requests` more one at a time, and prints a markdown
table of p50 / p95 / max in ms, with the RSS of each worker after the run. Writes
bench/results/latency-<backend>-<events>.json.

The response cache is off (`RESPONSE_CACHE=off`, unless set otherwise): every request is
computed. What the service remembers per data version (totals, facets) is still remembered:
the `first` column is the first request of a scenario, which computes it for one worker.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time

from bench.common import DEFAULT_PG_URL, RESULTS, database_url, scenarios
from bench.run import Server, fetch


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile of `values` (share in 0..1)."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1))]


def worker_rss_mb(server: Server) -> list[float]:
    """RSS in MB of each gunicorn worker (the children of the arbiter)."""
    found = subprocess.run(
        ["ps", "-o", "rss=", "--ppid", str(server.process.pid)],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    return [round(int(kb) / 1024, 1) for kb in found]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.latency", description=__doc__)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--only", nargs="*", help="scenario keys (default: all)")
    options = parser.parse_args(argv)
    os.environ.setdefault("RESPONSE_CACHE", "off")  # the server inherits it

    url = database_url(options.backend, options.events, options.pg_url)
    found, facts = scenarios(url)
    RESULTS.mkdir(parents=True, exist_ok=True)
    server = Server(url, options.workers, RESULTS / f"gunicorn-latency-{options.backend}.log")
    rows = []
    loads = [os.getloadavg()[0]]
    try:
        server.wait_ready()
        for scenario in found:
            if options.only and scenario.key not in options.only:
                continue
            target = server.base + scenario.path
            started = time.perf_counter()
            status, headers, body = fetch(target)
            first = (time.perf_counter() - started) * 1000
            for _ in range(options.warmup - 1):
                fetch(target)
            times = []
            for _ in range(options.requests):
                started = time.perf_counter()
                status, headers, body = fetch(target)
                times.append((time.perf_counter() - started) * 1000)
            total = headers.get("X-Total-Count") or headers.get("X-Total-Count-Estimate")
            rows.append(
                {
                    "key": scenario.key,
                    "path": scenario.path,
                    "status": status,
                    "total": total,
                    "bytes": len(body),
                    "first_ms": round(first, 1),
                    "p50_ms": round(statistics.median(times), 1),
                    "p95_ms": round(percentile(times, 0.95), 1),
                    "max_ms": round(max(times), 1),
                }
            )
            print(
                f"{scenario.key:14} HTTP {status} p50 {rows[-1]['p50_ms']:8.1f} "
                f"p95 {rows[-1]['p95_ms']:8.1f} ms",
                file=sys.stderr,
            )
        rss = worker_rss_mb(server)
        loads.append(os.getloadavg()[0])
    finally:
        server.stop()
    print(
        f"\n{options.backend}, {facts['events']:,} events, one client, {options.requests} "
        f"requests after {options.warmup} warm-up; RESPONSE_CACHE={os.environ['RESPONSE_CACHE']}; "
        f"worker RSS after the run: {rss} MB; 1-minute load {loads[0]:.1f} -> {loads[-1]:.1f}\n"
    )
    print("| scenario | HTTP | total | KB | first ms | p50 ms | p95 ms | max ms |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        print(
            f"| `{row['key']}` | {row['status']} | {row['total'] or ''} | "
            f"{row['bytes'] / 1000:.1f} | {row['first_ms']} | {row['p50_ms']} | "
            f"{row['p95_ms']} | {row['max_ms']} |"
        )
    out = RESULTS / f"latency-{options.backend}-{options.events}.json"
    out.write_text(
        json.dumps({"facts": facts, "worker_rss_mb": rss, "load": loads, "rows": rows}, indent=2)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
