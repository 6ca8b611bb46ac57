"""The page comparison of issue #14: the service, Datasette and a bare-Flask ceiling, on one
SQLite file, in one run, with the ratios printed.

```sh
.venv/bin/python -m bench.compare --events 20000            # wrk -t2 -c32, 10 s x 2 rounds
.venv/bin/python -m bench.compare --events 20000 --duration 15 --rounds 3
```

1. seeds `instance/bench/synthetic-N.db` (`briefing seed --synthetic N`, skipped when there);
2. installs Datasette into a venv of its own, `.tools/datasette-venv` (git-ignored; never a
   dependency of the service), and serves the file with `datasette serve -i` (immutable);
3. starts the service (gunicorn, `--workers` sync workers, rate limiting off, the same as
   `bench.run`, and the response cache off: every request computed; `--cached` adds the same
   service with the cache on; `--gthread T` runs every gunicorn with threaded workers), fetches its
   `/v1/events?limit=50` once, and starts the bare-Flask ceiling
   (`bench/bare.py`: gunicorn, same workers, returning exactly those bytes);
4. runs `wrk -tT -cC --latency` against each of the three, round-robin for `--rounds` rounds
   (the medians are reported), and prints req/s, p50/p99 and the two ratios of the issue:
   service / Datasette lean mode (goal >= 3) and service / bare Flask (goal >= 0.25).

Datasette lean mode is the issue's: `_nocount=1&_nofacet=1&_labels=on`, 50 rows.
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
import urllib.error
import urllib.request
from pathlib import Path

from bench.common import RESULTS, ROOT, seed, sqlite_url
from bench.run import BenchError, fetch, free_port, git_commit, run_wrk, stop_group

DATASETTE_VENV = ROOT / ".tools" / "datasette-venv"
PAGE_PATH = "/v1/events?limit=50"


def datasette_binary() -> Path:
    """Datasette in its own venv (installed on first use)."""
    binary = DATASETTE_VENV / "bin" / "datasette"
    if not binary.exists():
        print("installing datasette into .tools/datasette-venv", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(DATASETTE_VENV)], check=True)
        pip = DATASETTE_VENV / "bin" / "pip"
        subprocess.run([str(pip), "install", "--quiet", "datasette"], check=True)
    return binary


class Process:
    """One server in its own process group; `stop()` ends exactly that group."""

    def __init__(
        self, name: str, command: list[str], env: dict, port: int, log: Path, cwd: Path = ROOT
    ) -> None:
        self.name, self.port = name, port
        self.base = f"http://127.0.0.1:{port}"
        self.log_path = log
        self.log = log.open("w")
        self.process = subprocess.Popen(
            command,
            cwd=cwd,
            env={**os.environ, **env},
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, path: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"{self.name} exited: {self.log_path.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(self.base + path, timeout=5) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.25)
        raise BenchError(f"{self.name} not ready after {timeout:.0f}s")

    def stop(self) -> None:
        stop_group(self.process)
        self.log.close()


def gunicorn(app: str, workers: int, port: int, threads: int = 0) -> list[str]:
    binary = Path(sys.executable).parent / "gunicorn"
    threaded = ["--worker-class", "gthread", "--threads", str(threads)] if threads else []
    return [
        str(binary) if binary.exists() else "gunicorn",
        *threaded,
        "--workers",
        str(workers),
        "--bind",
        f"127.0.0.1:{port}",
        "--timeout",
        "120",
        "--log-level",
        "warning",
        "--no-control-socket",
        app,
    ]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.compare", description=__doc__)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database", help="a SQLite file (default instance/bench/...)")
    parser.add_argument("--label", default="", help="a note stored with the result")
    parser.add_argument(
        "--cached",
        action="store_true",
        help="also measure the service with its response cache on, as `service-cached` "
        "(`service` itself always runs with RESPONSE_CACHE=off: every request computed)",
    )
    parser.add_argument(
        "--gthread",
        type=int,
        default=0,
        metavar="THREADS",
        help="run every gunicorn (service, baseline, bare Flask) with gthread workers of THREADS "
        "threads, as `briefing serve` does (api/gunicorn_conf.py; keep-alive), instead of sync",
    )
    parser.add_argument(
        "--baseline",
        help="a checkout of an older commit (`git archive REV | tar -x -C DIR`): its service "
        "is measured in the same rounds, as `baseline`, for a before/after ratio",
    )
    parser.add_argument(
        "--baseline-database",
        help="the SQLite file the baseline serves (default: the same file): a release before a "
        "schema migration refuses a database the service has upgraded; seed its own copy",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    url = f"sqlite:///{options.database}" if options.database else sqlite_url(options.events)
    path = Path(url.split(":///", 1)[1])
    path.parent.mkdir(parents=True, exist_ok=True)
    seed(url, options.events, options.seed)
    RESULTS.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="bench-compare-"))
    servers: list[Process] = []
    env = {"DATABASE_URL": url, "RATELIMIT_ENABLED": "0", "RESPONSE_CACHE": "off"}
    if options.gthread:
        env["DB_POOL_SIZE"] = str(max(8, options.gthread))
    try:
        port = free_port()
        service = Process(
            "service",
            gunicorn("api.app:create_app()", options.workers, port, options.gthread),
            env,
            port,
            scratch / "service.log",
        )
        servers.append(service)
        service.wait_ready("/healthz")
        status, headers, body = fetch(service.base + PAGE_PATH)
        if status != 200:
            raise BenchError(f"service answered {status}")
        (scratch / "page.json").write_bytes(body)
        port = free_port()
        bare = Process(
            "bare-flask",
            gunicorn("bench.bare:create_app()", options.workers, port, options.gthread),
            {"BARE_BODY": str(scratch / "page.json"), "BARE_TYPE": headers["Content-Type"]},
            port,
            scratch / "bare.log",
        )
        servers.append(bare)
        port = free_port()
        datasette = Process(
            "datasette",
            [str(datasette_binary()), "serve", "-i", str(path), "-p", str(port)],
            {},
            port,
            scratch / "datasette.log",
        )
        servers.append(datasette)
        baseline = None
        if options.baseline:
            port = free_port()
            baseline = Process(
                "baseline",
                gunicorn("api.app:create_app()", options.workers, port, options.gthread),
                {
                    **env,
                    "PYTHONPATH": options.baseline,
                    **(
                        {"DATABASE_URL": f"sqlite:///{Path(options.baseline_database).resolve()}"}
                        if options.baseline_database
                        else {}
                    ),
                },
                port,
                scratch / "baseline.log",
                cwd=Path(options.baseline),  # gunicorn puts its cwd first on sys.path
            )
            servers.append(baseline)
            baseline.wait_ready("/healthz")
        variants = {}
        if options.cached:
            variants["service-cached"] = {**env, "RESPONSE_CACHE": "on"}
        for name, variant_env in variants.items():
            port = free_port()
            variant = Process(
                name,
                gunicorn("api.app:create_app()", options.workers, port, options.gthread),
                variant_env,
                port,
                scratch / f"{name}.log",
            )
            servers.append(variant)
            variant.wait_ready("/healthz")
            variants[name] = variant
        bare.wait_ready(PAGE_PATH)
        datasette.wait_ready("/-/versions.json", timeout=300)  # -i counts tables at start
        targets = {
            "service": service.base + PAGE_PATH,
            **{name: variant.base + PAGE_PATH for name, variant in variants.items()},
            **({"baseline": baseline.base + PAGE_PATH} if baseline else {}),
            "datasette": datasette.base
            + f"/{path.stem}/event.json?_size=50&_nocount=1&_nofacet=1&_labels=on",
            "bare-flask": bare.base + PAGE_PATH,
        }
        sizes = {}
        for name, target in targets.items():
            status, _, payload = fetch(target)
            if status != 200:
                raise BenchError(f"{name} answered {status} for {target}")
            sizes[name] = len(payload)
            run_wrk(target, 2, options.threads, options.connections)  # warm-up
        runs: dict[str, list[dict]] = {name: [] for name in targets}
        for round_number in range(options.rounds):
            for name, target in targets.items():
                result = run_wrk(target, options.duration, options.threads, options.connections)
                result["load"] = os.getloadavg()[0]
                runs[name].append(result)
                print(
                    f"round {round_number + 1} {name}: {result['requests_per_sec']:.0f} req/s "
                    f"p99 {result['p99_ms']} ms",
                    file=sys.stderr,
                )
        summary = {
            name: {
                "requests_per_sec": statistics.median(r["requests_per_sec"] for r in found),
                "p50_ms": statistics.median(r["p50_ms"] for r in found),
                "p99_ms": statistics.median(r["p99_ms"] for r in found),
                "non_2xx": sum(r["non_2xx"] + r["socket_errors"] for r in found),
                "bytes": sizes[name],
            }
            for name, found in runs.items()
        }
    finally:
        for server in servers:
            server.stop()
    service_rps = summary["service"]["requests_per_sec"]
    ratios = {
        "service/datasette": service_rps / summary["datasette"]["requests_per_sec"],
        "service/bare-flask": service_rps / summary["bare-flask"]["requests_per_sec"],
    }
    for name in summary:
        if name.startswith("service-"):
            rps = summary[name]["requests_per_sec"]
            ratios[f"{name}/datasette"] = rps / summary["datasette"]["requests_per_sec"]
            ratios[f"{name}/bare-flask"] = rps / summary["bare-flask"]["requests_per_sec"]
    if "baseline" in summary:
        base_rps = summary["baseline"]["requests_per_sec"]
        ratios["service/baseline"] = service_rps / base_rps
        ratios["baseline/datasette"] = base_rps / summary["datasette"]["requests_per_sec"]
        ratios["baseline/bare-flask"] = base_rps / summary["bare-flask"]["requests_per_sec"]
    loads = [r["load"] for found in runs.values() for r in found]
    record = {
        "events": options.events,
        "commit": git_commit(),
        "label": options.label,
        "wrk": f"-t{options.threads} -c{options.connections}, {options.duration} s x "
        f"{options.rounds} rounds (medians)",
        "workers": options.workers,
        "worker_class": f"gthread x{options.gthread}" if options.gthread else "sync",
        "load_average": [round(min(loads), 1), round(max(loads), 1)],
        "summary": summary,
        "ratios": ratios,
        "at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for name in (f"compare-{stamp}.json", "latest-compare.json"):
        (RESULTS / name).write_text(json.dumps(record, indent=2))
    print(
        f"\n{options.events:,} events, wrk {record['wrk']}, {options.workers} workers, "
        f"load {record['load_average']}, commit {record['commit']} {options.label}"
    )
    print("| Server | req/s | p50 ms | p99 ms | body bytes | errors |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, row in summary.items():
        print(
            f"| {name} | {row['requests_per_sec']:.0f} | {row['p50_ms']} | {row['p99_ms']} | "
            f"{row['bytes']:,} | {row['non_2xx']} |"
        )
    print(
        f"service / datasette lean: {ratios['service/datasette']:.2f}x (goal >= 3); "
        f"service / bare Flask: {ratios['service/bare-flask']:.1%} (goal >= 25%)"
    )
    for name in summary:
        if name.startswith("service-"):
            print(
                f"{name} / datasette lean: {ratios[f'{name}/datasette']:.2f}x; {name} / bare "
                f"Flask: {ratios[f'{name}/bare-flask']:.1%}"
            )
    if "service/baseline" in ratios:
        print(
            f"baseline / datasette lean: {ratios['baseline/datasette']:.2f}x; baseline / bare "
            f"Flask: {ratios['baseline/bare-flask']:.1%}; service / baseline: "
            f"{ratios['service/baseline']:.2f}x"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
