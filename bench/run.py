"""Load benchmark: gunicorn on 127.0.0.1 + wrk, on SQLite and/or PostgreSQL.

    python -m bench.run --backend sqlite|postgresql|both --events 100000 --duration 15

For each backend: create the database if missing, seed the synthetic corpus if absent
(`briefing seed --synthetic N`), start gunicorn on a free loopback port, run wrk against each
scenario (bench/common.py), always stop gunicorn, then write bench/results/<stamp>-<backend>.json
and the "latest numbers" table of bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from bench.common import (
    DEFAULT_EVENTS,
    DEFAULT_PG_URL,
    RESULTS,
    ROOT,
    Scenario,
    database_size,
    database_url,
    ensure_database,
    scenarios,
    seed,
)

README = ROOT / "bench" / "README.md"
START, END = "<!-- bench:latest:start -->", "<!-- bench:latest:end -->"
BACKENDS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
APP_DIR = Path(os.environ.get("BENCH_APP_DIR") or ROOT).resolve()


class BenchError(Exception):
    pass


# ---------------------------------------------------------------- gunicorn


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """gunicorn in its own process group; `stop()` ends exactly that group."""

    def __init__(self, url: str, workers: int, log: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        gunicorn = Path(sys.executable).parent / "gunicorn"
        self.log_path = log
        self.log = log.open("w")
        self.process = subprocess.Popen(
            [
                str(gunicorn) if gunicorn.exists() else "gunicorn",
                "--workers",
                str(workers),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--timeout",
                "120",
                "--log-level",
                "warning",
                "api.app:create_app()",
            ],
            # BENCH_APP_DIR: serve another checkout (a before/after run on the same data);
            # rate limiting off: the benchmark measures the service, not the limiter
            cwd=APP_DIR,
            env={
                **os.environ,
                "DATABASE_URL": url,
                "RATELIMIT_ENABLED": "0",
                **({"PYTHONPATH": str(APP_DIR)} if APP_DIR != ROOT else {}),
            },
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"gunicorn exited ({self.process.returncode}): {self.tail()}")
            try:
                with urllib.request.urlopen(f"{self.base}/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.25)
        raise BenchError(f"gunicorn not ready after {timeout:.0f}s: {self.tail()}")

    def tail(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")[-2000:]

    def stop(self) -> None:
        stop_group(self.process)
        self.log.close()


def stop_group(process: subprocess.Popen) -> None:
    """Stop a server started in its own process group: TERM, then KILL after 15 s."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
    except ProcessLookupError:
        pass


def fetch(url: str) -> tuple[int, dict, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=120) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


# ---------------------------------------------------------------- wrk


def to_ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text.strip())
    if not match:
        raise BenchError(f"cannot read wrk duration {text!r}")
    return float(match[1]) * UNITS_MS[match[2]]


def parse_wrk(output: str) -> dict:
    """Requests/sec, latency percentiles (ms), request and error counts of `wrk --latency`."""
    result: dict = {}
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if not rps:
        raise BenchError(f"no Requests/sec in wrk output:\n{output}")
    result["requests_per_sec"] = float(rps[1])
    for percent in ("50", "75", "90", "99"):
        match = re.search(rf"^\s+{percent}%\s+(\S+)", output, re.MULTILINE)
        result[f"p{percent}_ms"] = round(to_ms(match[1]), 2) if match else None
    total = re.search(r"(\d+) requests in ([\d.]+\w+)", output)
    result["requests"] = int(total[1]) if total else None
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    result["non_2xx"] = int(non2xx[1]) if non2xx else 0
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    result["socket_errors"] = sum(int(n) for n in errors.groups()) if errors else 0
    return result


def run_wrk(url: str, duration: int, threads: int, connections: int) -> dict:
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration}s",
        "--latency",
        "--timeout",
        "30s",
        url,
    ]
    completed = subprocess.run(
        command, capture_output=True, text=True, timeout=duration + 60, check=False
    )
    if completed.returncode != 0:
        raise BenchError(f"wrk failed ({completed.returncode}): {completed.stderr}")
    return parse_wrk(completed.stdout)


# ---------------------------------------------------------------- one backend


def bench_backend(backend: str, options: argparse.Namespace) -> dict:
    url = database_url(backend, options.events, options.pg_url)
    ensure_database(url)
    seeding = seed(url, options.events, options.seed)
    found, facts = scenarios(url)
    RESULTS.mkdir(parents=True, exist_ok=True)
    seed_file = RESULTS / f"seed-{backend}-{options.events}.json"
    if not seeding["skipped"]:
        seed_file.write_text(json.dumps(seeding, indent=2))
    elif seed_file.exists():
        seeding = {**json.loads(seed_file.read_text()), "skipped": True}
    result = {
        "backend": backend,
        "events": options.events,
        "random_seed": options.seed,
        "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "commit": git_commit(),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "settings": {
            "workers": options.workers,
            "threads": options.threads,
            "connections": options.connections,
            "duration_s": options.duration,
            "warmup_s": options.warmup,
            "rounds": options.rounds,
        },
        "seed": seeding,
        "database_bytes": database_size(url),
        "facts": facts,
        "scenarios": [],
    }
    server = Server(url, options.workers, RESULTS / f"gunicorn-{backend}.log")
    try:
        server.wait_ready()
        result["scenarios"] = [
            check(server, scenario, facts)
            for scenario in found
            if not options.only or scenario.key in options.only
        ]
        measure_all(result["scenarios"], options)
    finally:
        server.stop()
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    text = json.dumps(result, indent=2, default=str)
    (RESULTS / f"{stamp}-{backend}.json").write_text(text)
    (RESULTS / f"latest-{backend}.json").write_text(text)
    return result


def check(server: Server, scenario: Scenario, facts: dict) -> dict:
    """One request: the scenario answers 200 (else it is reported, not load-tested)."""
    url = server.base + scenario.path
    started = time.perf_counter()
    status, headers, body = fetch(url)
    first_ms = (time.perf_counter() - started) * 1000
    base = {"key": scenario.key, "label": scenario.label, "path": scenario.path, "status": status}
    if status != 200:
        print(f"{scenario.label:48} HTTP {status}: {body[:300]!r}", file=sys.stderr)
        return {**base, "error": body[:2000].decode(errors="replace")}
    records = json.loads(body)
    if scenario.key == "deep" and facts["deep_expected_first"]:
        got = records[0]["id"] if records else None
        if got != facts["deep_expected_first"]:
            raise BenchError(
                f"page {facts['deep_page']} starts at {got}, expected "
                f"{facts['deep_expected_first']}: the cursor does not match OFFSET paging"
            )
    return {
        **base,
        "url": url,
        "total": int(headers.get("X-Total-Count", headers.get("X-Total-Count-Estimate", -1))),
        "records": len(records),
        "bytes": len(body),
        "first_request_ms": round(first_ms, 1),
        "rounds": [],
    }


def measure_all(checked: list[dict], options: argparse.Namespace) -> None:
    """wrk on every scenario, round-robin over `--rounds` rounds, so that a burst of load
    from elsewhere on the machine spreads over all scenarios instead of hitting one; each
    scenario's numbers are the medians of its rounds."""
    runnable = [c for c in checked if c["status"] == 200]
    seconds = max(1, round(options.duration / options.rounds))
    for number in range(options.rounds):
        for result in runnable:
            if number == 0 and options.warmup:
                run_wrk(result["url"], options.warmup, options.threads, options.connections)
            load = os.getloadavg()[0]
            numbers = run_wrk(result["url"], seconds, options.threads, options.connections)
            numbers["load_average_1m"] = round(max(load, os.getloadavg()[0]), 2)
            result["rounds"].append(numbers)
    for result in runnable:
        rounds = result["rounds"]
        for metric in ("requests_per_sec", "p50_ms", "p75_ms", "p90_ms", "p99_ms"):
            values = [r[metric] for r in rounds if r[metric] is not None]
            result[metric] = round(statistics.median(values), 2) if values else None
        for metric in ("requests", "non_2xx", "socket_errors"):
            result[metric] = sum(r[metric] or 0 for r in rounds)
        result["load_average_1m"] = [
            min(r["load_average_1m"] for r in rounds),
            max(r["load_average_1m"] for r in rounds),
        ]
        print(
            f"{result['label']:48} {result['requests_per_sec']:8.1f} req/s  "
            f"p50 {result['p50_ms']:7.1f} ms  p99 {result['p99_ms']:7.1f} ms",
            file=sys.stderr,
        )


def git_commit() -> str | None:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


# ---------------------------------------------------------------- README table


def human_bytes(size: int) -> str:
    return f"{size / 1_000_000:,.0f} MB"


def table(results: dict[str, dict]) -> str:
    """The markdown of the "latest numbers" section, from the latest result of each backend."""
    backends = [b for b in BACKENDS if b in results]
    head = "| Scenario | X-Total-Count |" + "".join(
        f" {BACKENDS[b]} req/s | p50 ms | p99 ms |" for b in backends
    )
    rule = "|---|---:|" + "---:|---:|---:|" * len(backends)
    rows = []
    first = results[backends[0]]
    for scenario in first["scenarios"]:
        total = scenario.get("total")
        cells = [f"`{scenario['key']}`: {scenario['label']}", f"{total:,}" if total else ""]
        for backend in backends:
            match = next(
                (s for s in results[backend]["scenarios"] if s["key"] == scenario["key"]), None
            )
            if match is None:
                cells += ["", "", ""]
                continue
            if match["status"] != 200:
                cells += [f"HTTP {match['status']}", "", ""]
                continue
            flag = " (errors!)" if match["non_2xx"] or match["socket_errors"] else ""
            cells += [
                f"{match['requests_per_sec']:,.0f}{flag}",
                f"{match['p50_ms']:.1f}",
                f"{match['p99_ms']:.1f}",
            ]
        rows.append("| " + " | ".join(cells) + " |")
    lines = [head, rule, *rows, ""]
    for backend in backends:
        r = results[backend]
        loads = [x for s in r["scenarios"] for x in s.get("load_average_1m") or []]
        load = f"1-min load average {min(loads):.1f}-{max(loads):.1f}; " if loads else ""
        s = r["settings"]
        seeding = r["seed"]
        generation = (
            f"generated in {seeding['seconds']:.0f} s"
            if "seconds" in seeding
            else "generation time not recorded"
        )
        lines.append(
            f"- {BACKENDS[backend]}: {r['facts']['events']:,} events, database "
            f"{human_bytes(r['database_bytes'])}, {generation}; gunicorn {s['workers']} sync "
            f"workers; wrk -t{s['threads']} -c{s['connections']}, {s['duration_s']} s per scenario "
            f"in {s.get('rounds', 1)} round-robin rounds (medians), after a {s['warmup_s']} s "
            f"warm-up; {r['machine']['cpus']} CPUs, {load}"
            f"commit {r['commit']}, {r['started']}."
        )
    return "\n".join(lines)


def write_readme(results: dict[str, dict]) -> None:
    text = README.read_text()
    if START not in text or END not in text:
        raise BenchError(f"{README} lacks the {START} ... {END} markers")
    before, rest = text.split(START, 1)
    _, after = rest.split(END, 1)
    README.write_text(f"{before}{START}\n{table(results)}\n{END}{after}")


def latest_results() -> dict[str, dict]:
    found = {}
    for backend in BACKENDS:
        path = RESULTS / f"latest-{backend}.json"
        if path.exists():
            found[backend] = json.loads(path.read_text())
    return found


# ---------------------------------------------------------------- entry point


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--events", type=int, default=DEFAULT_EVENTS)
    parser.add_argument("--seed", type=int, default=42, help="random seed of the corpus")
    parser.add_argument("--duration", type=int, default=15, help="seconds per scenario")
    parser.add_argument(
        "--rounds", type=int, default=3, help="split --duration into this many round-robin runs"
    )
    parser.add_argument("--warmup", type=int, default=2, help="warm-up seconds per scenario")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2-4)")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--connections", type=int, default=4, help="wrk connections")
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", DEFAULT_PG_URL))
    parser.add_argument("--only", nargs="*", help="scenario keys to run (default: all)")
    parser.add_argument("--no-readme", action="store_true", help="do not update bench/README.md")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    if shutil.which("wrk") is None:
        print(
            "wrk is not installed: `apt-get install -y wrk` (Debian/Ubuntu) or "
            "`brew install wrk`, then run again. See bench/README.md.",
            file=sys.stderr,
        )
        return 2
    if not 1 <= options.workers <= 16:
        print("--workers must be between 1 and 16", file=sys.stderr)
        return 2
    backends = ["sqlite", "postgresql"] if options.backend == "both" else [options.backend]

    def terminate(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)  # unwinds through `finally`, which stops gunicorn

    signal.signal(signal.SIGTERM, terminate)
    for backend in backends:
        print(f"== {BACKENDS[backend]} ({options.events:,} events)", file=sys.stderr)
        try:
            bench_backend(backend, options)
        except BenchError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
    if not options.no_readme and not options.only:
        latest = latest_results()
        write_readme({b: r for b, r in latest.items() if r["events"] == options.events})
        print(f"updated {README.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
