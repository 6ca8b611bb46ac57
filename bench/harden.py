"""Attack, load and fault runs against a live gunicorn (issue #13). Not part of `make test`.

    python -m bench.harden fuzz [--requests 10000]   malformed requests on every operation
    python -m bench.harden load [--duration 60]      wrk, 64 connections: list, search, network
    python -m bench.harden slow [--model gthread|sync]  slow clients vs. /healthz probes
    python -m bench.harden kill                      kill -9 of a worker under load
    python -m bench.harden pgrestart                 stop/start a throwaway PostgreSQL under load
    python -m bench.harden keyflood [--duration 15]  16 connections of invalid keys vs public reads
    python -m bench.harden chunked                   a 5.4 MB bundle sent chunked: 413, no write
    python -m bench.harden revoke                    a revoked key's first refusal on each worker

Each serves the seed briefings (SQLite under instance/bench/, or a throwaway PostgreSQL cluster it
creates on port 55432 and removes), only on 127.0.0.1, prints its figures and exits non-zero on
a 5xx that is not a documented 503, a leaked trace, a non-problem error body or a lost request.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BRIEFING = str(Path(sys.executable).parent / "briefing")
LEAKS = re.compile(r"Traceback|File \"/|psycopg2|sqlite3\.|peewee|port \d{4}|127\.0\.0\.1:\d+\"")
PG_PORT = 55432


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Served:
    """`briefing serve` (gevent workers; with `model="gthread"`, the former 2 x 8 threaded
    workers; with `model="sync"`, the first plain `gunicorn --workers 2`) in its own process
    group on a free loopback port; `stop()` ends exactly that group."""

    def __init__(
        self, url: str, model: str = "serve", env: dict | None = None, port: int | None = None
    ) -> None:
        self.port = port or free_port()
        self.env = {**os.environ, "DATABASE_URL": url, "RATELIMIT_ENABLED": "0", **(env or {})}
        if model == "sync":
            gunicorn = str(Path(sys.executable).parent / "gunicorn")
            command = [gunicorn, "--workers", "2", "--bind", f"127.0.0.1:{self.port}"]
            command += ["--no-control-socket", "api.app:create_app()"]
        else:
            command = [BRIEFING, "serve", "--port", str(self.port)]
        if model == "gthread":
            threaded = "--worker-class gthread --threads 8 --worker-connections 8"
            self.env["GUNICORN_CMD_ARGS"] = f"{threaded} {self.env.get('GUNICORN_CMD_ARGS', '')}"
        self.log = tempfile.TemporaryFile("w+")  # noqa: SIM115 (closed by stop())
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        for _ in range(200):
            if status(self.port, "/healthz", timeout=2)[0] == 200:
                return
            time.sleep(0.1)
        self.stop()
        raise SystemExit("the server did not start")

    def workers(self) -> list[int]:
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in path.read_text().split()]

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


def status(port: int, path: str, timeout: float = 10, headers: dict | None = None):
    """(status, headers, body) of one GET, or (None, {}, error text) when no answer came."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    except (OSError, http.client.HTTPException) as error:
        return None, {}, str(error).encode()
    finally:
        connection.close()


def seeded_sqlite() -> str:
    path = ROOT / "instance" / "bench" / "harden.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{path}"
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run([BRIEFING, "seed", "--if-empty"], env=env, check=True, capture_output=True)
    return url


def verdict(problems: list[str]) -> int:
    for problem in problems[:20]:
        print("  FAIL", problem)
    print("result:", "FAIL" if problems else "ok")
    return 1 if problems else 0


def judge(path: str, code, headers: dict, body: bytes, problems: list[str]) -> None:
    """Record what is wrong with one answer: none, a 5xx other than a documented 503, a trace or
    internals in the body, an error that is not problem+json."""
    text = body.decode("utf-8", "replace")
    if code is None:
        problems.append(f"no answer: {path[:120]} ({text[:80]})")
    elif code >= 500 and not (code == 503 and "Retry-After" in headers):
        problems.append(f"{code}: {path[:120]}")
    elif code >= 400 and headers.get("Content-Type") != "application/problem+json":
        problems.append(f"{code} not problem+json: {path[:120]}")
    if code is not None and code >= 400 and LEAKS.search(text):
        problems.append(f"leak in {code}: {path[:80]}: {LEAKS.search(text)[0]}")


# ---------------------------------------------------------------- fuzz

HOSTILE = [
    "' OR 1=1 --",
    '"; DROP TABLE event; --',
    "%00",
    "\x00",
    "../../etc/passwd",
    "%2e%2e%2f",
    "NEAR(a b)",
    "a*",
    "*",
    '"',
    "(",
    ")",
    "^",
    "-",
    "{}",
    "[]",
    "1e400",
    "-1",
    "0",
    "99999999999999999999",
    "NaN",
    "Infinity",
    "2020-02-30",
    "2020-13-01",
    "true",
    "maybe",
    "ÿ" * 50,
    "\u202e",
    "💥",
    " ".join(["a"] * 250),
    "x" * 600,
    "a,b,c",
    "1,2,3,4,5",
    "90,180",
    ",",
    "%",
    "_",
]


def malformed_paths(spec: dict, rng: random.Random, cursors: list[str]):
    """Query strings of every operation in turn, each made wrong in one or more ways."""
    operations = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method != "get":
                continue
            names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
            operations.append((path, names))
    from urllib.parse import quote

    def one(path: str, names: list[str]) -> str:
        ids = ["kataib-hezbollah", "x", "..", "%00", "a" * 300]
        concrete = re.sub(r"\{[^}]+\}", lambda m: rng.choice(ids), path)
        pairs = []
        for _ in range(1 if rng.random() < 0.6 else rng.randint(2, 4)):  # one: reach deeper
            name = rng.choice([*names, "limt", "cursor", "q", "sort"]) if names else "x"
            value = rng.choice(cursors if name == "cursor" and rng.random() < 0.7 else HOSTILE)
            pairs.append((name, value))
            if rng.random() < 0.2:  # a repeated parameter
                pairs.append((name, rng.choice(HOSTILE)))
        query = "&".join(f"{quote(n)}={quote(v, safe='')}" for n, v in pairs)
        return f"{concrete}?{query}"

    for i in itertools.count():
        yield one(*operations[i % len(operations)])


def forged_cursors() -> list[str]:
    import base64

    docs = [
        b"[" * 1490,
        b'{"s":"date","k":"2020-01-01","i":1e400,"d":"next"}',
        json.dumps({"s": "date", "k": "2020-01-01", "i": 2**63, "d": "next"}).encode(),
    ]
    return [base64.urlsafe_b64encode(d).decode().rstrip("=") for d in docs]


def run_fuzz(options: argparse.Namespace) -> int:
    server = Served(seeded_sqlite())
    try:
        spec = json.loads(status(server.port, "/openapi.json")[2])
        rng = random.Random(options.seed)
        generator = iter(malformed_paths(spec, rng, forged_cursors()))
        paths = [next(generator) for _ in range(options.requests)]
        problems: list[str] = []
        codes: Counter = Counter()
        lock = threading.Lock()
        started = time.monotonic()

        def worker(chunk: list[str]) -> None:
            for path in chunk:
                headers = {}
                if rng.random() < 0.05:
                    headers = rng.choice(
                        [
                            {"Host": "evil.example"},
                            {"Accept": "application/xml"},
                            {"Accept": "text/csv"},
                            {"X-Forwarded-Host": "evil"},
                        ]
                    )
                code, response_headers, body = status(server.port, path, headers=headers)
                with lock:
                    codes[code] += 1
                    judge(path, code, response_headers, body, problems)
                    if b"evil" in response_headers.get("Link", "").encode():
                        problems.append(f"Host reflected into Link: {path[:80]}")

        threads = [
            threading.Thread(target=worker, args=(paths[i :: options.threads],))
            for i in range(options.threads)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        print(f"fuzz: {len(paths)} requests in {elapsed:.1f}s over {options.threads} threads")
        print("  statuses:", dict(sorted(codes.items(), key=lambda kv: str(kv[0]))))
        return verdict(problems)
    finally:
        server.stop()


# ---------------------------------------------------------------- load (wrk)

WRK_LUA = """
local counts = {}
function response(status, headers, body)
  local class = math.floor(status / 100) .. "xx"
  counts[class] = (counts[class] or 0) + 1
end
function done(summary, latency, requests) end
"""


def run_load(options: argparse.Namespace) -> int:
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install -y wrk")
    server = Served(seeded_sqlite(), env={"RATELIMIT_ENABLED": "1" if options.limited else "0"})
    targets = {
        "list": "/v1/events?limit=50",
        "search": "/v1/search?q=iraq",
        "network": "/v1/actors/kataib-hezbollah/network?depth=2",
    }
    problems: list[str] = []
    try:
        each = max(options.duration // len(targets), 5)
        for name, path in targets.items():
            output = subprocess.run(
                [
                    "wrk",
                    "-t2",
                    f"-c{options.connections}",
                    f"-d{each}s",
                    "--latency",
                    "--timeout",
                    "10s",
                    f"http://127.0.0.1:{server.port}{path}",
                ],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            rps = re.search(r"Requests/sec:\s+([\d.]+)", output)[1]
            p50 = re.search(r"^\s+50%\s+(\S+)", output, re.M)[1]
            p99 = re.search(r"^\s+99%\s+(\S+)", output, re.M)[1]
            errors = re.search(r"Socket errors: (.*)", output)
            non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
            print(
                f"load {name:8} {each}s c={options.connections}: {rps} req/s, p50 {p50}, "
                f"p99 {p99}, non-2xx {non2xx[1] if non2xx else 0}, "
                f"socket errors: {errors[1] if errors else 'none'}"
            )
            if errors and re.search(r"read [1-9]|write [1-9]|timeout [1-9]", errors[1]):
                problems.append(f"{name}: socket errors {errors[1]}")
            if non2xx and not options.limited:
                problems.append(f"{name}: {non2xx[1]} non-2xx responses")
            code = status(server.port, "/healthz", timeout=5)[0]
            if code != 200:
                problems.append(f"after {name}: /healthz {code}")
        return verdict(problems)
    finally:
        server.stop()


# ---------------------------------------------------------------- slow clients


def run_slow(options: argparse.Namespace) -> int:
    server = Served(seeded_sqlite(), model=options.model)
    stop = threading.Event()

    def slow_client() -> None:
        try:
            with socket.create_connection(("127.0.0.1", server.port), timeout=60) as sock:
                sock.sendall(b"GET /v1/events HTTP/1.1\r\nHost: x\r\n")
                while not stop.wait(options.interval):
                    sock.sendall(b"X-Slow: 1\r\n")
        except OSError:
            pass  # the server dropped us

    clients = [threading.Thread(target=slow_client) for _ in range(options.clients)]
    for client in clients:
        client.start()
    answered, latencies = 0, []
    try:
        time.sleep(1)
        for _ in range(options.probes):
            started = time.monotonic()
            code = status(server.port, "/healthz", timeout=options.probe_timeout)[0]
            if code == 200:
                answered += 1
                latencies.append(time.monotonic() - started)
            time.sleep(max(0.0, options.window / options.probes - (time.monotonic() - started)))
    finally:
        stop.set()
        for client in clients:
            client.join()
        server.stop()
    worst = f"{max(latencies) * 1000:.0f} ms" if latencies else "-"
    print(
        f"slow clients ({options.model}, {options.clients} clients, one header line every "
        f"{options.interval:g}s): {answered}/{options.probes} /healthz probes answered in "
        f"{options.window:g}s (timeout {options.probe_timeout:g}s), slowest {worst}"
    )
    return verdict([] if answered == options.probes else ["probes unanswered"])


# ---------------------------------------------------------------- invalid keys


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def keys_of(url: str, *specs: tuple[str, str]) -> list[str]:
    """Keys created with `briefing keys create NAME --scope SCOPE` (the last line printed)."""
    env = {**os.environ, "DATABASE_URL": url}
    return [
        subprocess.run(
            [
                BRIEFING,
                "keys",
                "create",
                f"{name}-{os.getpid()}-{time.time_ns()}",
                "--scope",
                scope,
            ],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()[-1]
        for name, scope in specs
    ]


def run_keyflood(options: argparse.Namespace) -> int:
    """`--connections` clients sending made-up keys (or a real prefix with a wrong secret) to
    /v1/audit for `--duration` s, the rate limiter on; meanwhile one client reads a public
    page every 100 ms. Compares the reads' p95 with a quiet period before the flood."""
    url = seeded_sqlite()
    (real,) = keys_of(url, ("flood-admin", "admin"))
    server = Served(url, model=options.model, env={"RATELIMIT_ENABLED": "1"})
    stop = threading.Event()
    codes: Counter = Counter()
    lock = threading.Lock()

    def reads(seconds: float) -> list[float]:
        latencies, deadline = [], time.monotonic() + seconds
        while time.monotonic() < deadline:
            started = time.monotonic()
            code = status(server.port, "/v1/events?limit=5", timeout=10)[0]
            if code == 200:
                latencies.append(time.monotonic() - started)
            time.sleep(max(0.0, 0.1 - (time.monotonic() - started)))
        return latencies

    def flood(n: int) -> None:
        rng = random.Random(n)
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        while not stop.is_set():
            if options.prefix == "real":
                prefix = real.split(".")[0]
            else:
                prefix = "bk_" + "".join(rng.choices("0123456789abcdef", k=12))
            key = f"{prefix}.{''.join(rng.choices('abcdefghij', k=43))}"
            try:
                connection.request(
                    "GET", "/v1/audit?limit=1", headers={"Authorization": f"Bearer {key}"}
                )
                response = connection.getresponse()
                response.read()
                code = response.status
                if response.getheader("Connection", "").lower() == "close":
                    connection.close()
            except (OSError, http.client.HTTPException):
                code = None
                connection.close()
            with lock:
                codes[code] += 1
        connection.close()

    try:
        quiet = reads(options.quiet)
        threads = [threading.Thread(target=flood, args=(n,)) for n in range(options.connections)]
        for thread in threads:
            thread.start()
        try:
            loud = reads(options.duration)
        finally:
            stop.set()
            for thread in threads:
                thread.join()
        check = status(
            server.port, "/v1/audit?limit=1", headers={"Authorization": f"Bearer {real}"}
        )
    finally:
        server.stop()
    quiet95, loud95 = percentile(quiet, 0.95) * 1000, percentile(loud, 0.95) * 1000
    total = sum(codes.values())
    print(
        f"invalid keys ({options.prefix} prefix), {options.connections} connections for "
        f"{options.duration:g}s: {total} requests ({total / options.duration:.0f}/s), statuses "
        f"{dict(sorted(codes.items(), key=lambda kv: str(kv[0])))}; 429s: {codes.get(429, 0)}"
    )
    print(
        f"  public read p95: quiet {quiet95:.1f} ms ({len(quiet)} reads), during the flood "
        f"{loud95:.1f} ms ({len(loud)} reads): x{loud95 / quiet95:.1f}; the real key "
        f"afterwards: {check[0]}"
    )
    return verdict([] if codes.get(None, 0) == 0 else ["flood requests unanswered"])


# ---------------------------------------------------------------- chunked bundle


def chunked_bundle(limit: int, size: int) -> tuple[bytes, int]:
    """The seed bundle as YAML, its statements repeated (new ids) until it is `size` bytes, and
    a comment line sized so that a statement starts at byte `limit`: a body cut at the limit is
    a valid bundle with statements missing. Returns (body, statements in it)."""
    import yaml

    from api.ingest import default_files
    from api.ingest.read import read_file

    raw = read_file(default_files()[0]).raw
    raw["source"].pop("document", None)
    originals = [
        yaml.safe_dump([s], sort_keys=False, allow_unicode=True, width=100)
        for s in raw.pop("statements")
    ]
    head = yaml.safe_dump(raw, sort_keys=False, allow_unicode=True, width=100) + "statements:\n"
    items, length = list(originals), sum(len(o.encode()) for o in originals)
    while len(head) + length < size:
        item = originals[len(items) % len(originals)]
        first, rest = item.split("\n", 1)
        items.append(f"{first}-copy-{len(items)}\n{rest}")
        length += len(items[-1].encode())
    room = limit - len(head.encode()) - 2  # the comment line: "#", its padding, "\n"
    offset, cut = 0, 0
    for item in items:
        if offset > room:
            break
        cut, offset = offset, offset + len(item.encode())
    padding = "#" + " " * (room - cut) + "\n"
    body = (head + padding + "".join(items)).encode()
    assert body[limit : limit + 6] == b"- id: ", "the cut does not fall on a statement"
    return body, len(items)


def counts_of(port: int) -> dict[str, str]:
    paths = {"statements": "/v1/statements?limit=1", "changes": "/v1/changes?since=0&limit=1"}
    return {name: status(port, path)[1].get("X-Total-Count", "?") for name, path in paths.items()}


def run_chunked(options: argparse.Namespace) -> int:
    limit = 5 * 1024 * 1024
    body, statements = chunked_bundle(limit, int(options.megabytes * 1_000_000))
    url = seeded_sqlite()
    (key,) = keys_of(url, ("chunked-writer", "write"))
    server = Served(url)
    problems: list[str] = []
    try:
        before = counts_of(server.port)
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
        connection.putrequest("POST", "/v1/briefings")
        connection.putheader("Authorization", f"Bearer {key}")
        connection.putheader("Content-Type", "application/yaml")
        connection.putheader("Transfer-Encoding", "chunked")
        connection.endheaders()
        started = time.monotonic()
        try:
            for offset in range(0, len(body), 65536):
                chunk = body[offset : offset + 65536]
                connection.send(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            connection.send(b"0\r\n\r\n")
            response = connection.getresponse()
            code, answer = response.status, response.read()
        except (OSError, http.client.HTTPException) as error:
            code, answer = None, str(error).encode()
        elapsed = time.monotonic() - started
        connection.close()
        after = counts_of(server.port)
    finally:
        server.stop()
    written = before != after
    detail = answer[:160].decode("utf-8", "replace")
    print(
        f"chunked bundle of {len(body) / 1e6:.2f} MB ({statements} statements; limit "
        f"{limit / 1e6:.2f} MB): {code} in {elapsed:.2f}s; written: {written} "
        f"(before {before}, after {after})\n  {detail}"
    )
    if code != 413:
        problems.append(f"answered {code}, not 413")
    if written:
        problems.append("something was written")
    return verdict(problems)


# ---------------------------------------------------------------- revocation


def run_revoke(options: argparse.Namespace) -> int:
    """An admin key used on every worker, then revoked with `briefing keys revoke`: the time
    from the revocation to each worker's first 401 (new connections every 20 ms; the workers
    are told apart by the pid gunicorn writes in its access log)."""
    url = seeded_sqlite()
    name = f"revoked-{os.getpid()}-{time.time_ns()}"
    key = subprocess.run(
        [BRIEFING, "keys", "create", name, "--scope", "admin"],
        env={**os.environ, "DATABASE_URL": url},
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()[-1]
    env = {"GUNICORN_CMD_ARGS": "--access-logformat '%(p)s %(s)s %({x-probe}i)s'"}
    server = Served(url, env=env)
    headers = {"Authorization": f"Bearer {key}"}
    sent: dict[int, float] = {}
    problems: list[str] = []
    try:
        workers = set(server.workers())
        for n in range(40):  # every worker verifies (and caches) the key
            assert (
                status(server.port, "/v1/audit?limit=1", headers=headers | {"X-Probe": f"w{n}"})[0]
                == 200
            )
        revoked = time.monotonic()
        subprocess.run(
            [BRIEFING, "keys", "revoke", name],
            env={**os.environ, "DATABASE_URL": url},
            check=True,
            capture_output=True,
        )
        done = time.monotonic()
        n = 0
        while time.monotonic() - revoked < options.timeout:
            sent[n] = time.monotonic()
            status(server.port, "/v1/audit?limit=1", headers=headers | {"X-Probe": str(n)})
            n += 1
            time.sleep(0.02)
            if n % 25 == 0 and len(first_refusals(server, sent)) == len(workers):
                break
        refusals = first_refusals(server, sent)
    finally:
        server.stop()
    print(f"revocation (the CLI took {(done - revoked) * 1000:.0f} ms), {n} probes:")
    for pid in sorted(workers):
        if pid in refusals:
            print(
                f"  worker {pid}: first 401 {(refusals[pid] - revoked) * 1000:.0f} ms after the "
                f"CLI started, {(refusals[pid] - done) * 1000:.0f} ms after it returned"
            )
        else:
            print(f"  worker {pid}: no 401 within {options.timeout:g}s")
            problems.append(f"worker {pid} still accepts the revoked key")
    return verdict(problems)


def first_refusals(server: Served, sent: dict[int, float]) -> dict[int, float]:
    """pid -> when the first probe that worker refused was sent, from the access log."""
    server.log.flush()
    server.log.seek(0)
    found: dict[int, float] = {}
    for line in server.log.read().splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] == "401" and parts[2].isdigit():
            pid, probe = int(parts[0].strip("<>")), int(parts[2])
            if probe in sent and (pid not in found or sent[probe] < found[pid]):
                found[pid] = sent[probe]
    server.log.seek(0, 2)
    return found


# ---------------------------------------------------------------- faults


def hammer(port: int, stop: threading.Event, results: Counter, problems: list[str]) -> None:
    paths = ["/v1/events?limit=20", "/v1/statements?limit=20", "/v1/search?q=iraq", "/healthz"]
    while not stop.is_set():
        path = random.choice(paths)
        code, headers, body = status(port, path, timeout=10)
        results[code] += 1
        judge(path, code, headers, body, problems)


def under_load(port: int, seconds: float, fault, clients: int = 8) -> tuple[Counter, list[str]]:
    stop, results, problems = threading.Event(), Counter(), []
    threads = [
        threading.Thread(target=hammer, args=(port, stop, results, problems))
        for _ in range(clients)
    ]
    for thread in threads:
        thread.start()
    try:
        fault()
        time.sleep(seconds)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    return results, problems


def run_kill(options: argparse.Namespace) -> int:
    server = Served(seeded_sqlite())
    try:
        victim = server.workers()[0]

        def fault() -> None:
            time.sleep(2)
            os.kill(victim, signal.SIGKILL)

        results, problems = under_load(server.port, options.duration, fault)
        respawned = victim not in server.workers() and len(server.workers()) == 2
    finally:
        server.stop()
    print(
        f"kill -9 of worker {victim} under load: {sum(results.values())} requests, "
        f"statuses {dict(results)}, worker respawned: {respawned}"
    )
    # SIGKILL loses what the killed worker held: at most its connections (one per thread).
    lost = results.get(None, 0)
    held = int(os.environ.get("THREADS", "8"))
    print(f"  lost {lost} (bound: the {held} connections one worker holds)")
    if lost > held:
        problems.append(f"{lost} requests lost")
    problems = [p for p in problems if not p.startswith("no answer")]
    return verdict(problems + ([] if respawned else ["worker not respawned"]))


def pg(*args: str, data: Path) -> None:
    subprocess.run(
        ["su", "postgres", "-c", " ".join([*args, "-D", str(data)])],
        check=True,
        capture_output=True,
    )


def run_pgrestart(options: argparse.Namespace) -> int:
    """A throwaway cluster of our own on port 55432 (never the shared one on 5432)."""
    data = Path(tempfile.mkdtemp(prefix="harden-pg-"))
    shutil.chown(data, "postgres", "postgres")
    control = f"pg_ctl -w -o '-p {PG_PORT} -k /tmp -c listen_addresses=127.0.0.1'"
    pg("initdb", "-A", "trust", "-U", "postgres", data=data / "db")
    pg(control, "-l", str(data / "log"), "start", data=data / "db")
    server = None
    try:
        url = f"postgresql://postgres@127.0.0.1:{PG_PORT}/postgres"
        env = {**os.environ, "DATABASE_URL": url}
        subprocess.run([BRIEFING, "seed"], env=env, check=True, capture_output=True)
        server = Served(url)
        timeline: list[tuple[float, int | None]] = []

        def fault() -> None:
            time.sleep(2)
            pg(control, "-m", "fast", "stop", data=data / "db")
            down = time.monotonic()
            time.sleep(options.outage)
            pg(control, "-l", str(data / "log"), "start", data=data / "db")
            up = time.monotonic()
            while time.monotonic() - up < 10:
                code = status(server.port, "/v1/events?limit=5", timeout=5)[0]
                timeline.append((time.monotonic() - up, code))
                if code == 200:
                    break
                time.sleep(0.05)
            print(
                f"  PostgreSQL down {up - down:.1f}s; first 200 {timeline[-1][0]:.2f}s after "
                f"it was back"
            )

        results, problems = under_load(server.port, 3, fault)
    finally:
        if server:
            server.stop()
        subprocess.run(
            ["su", "postgres", "-c", f"pg_ctl -m immediate stop -D {data / 'db'}"],
            capture_output=True,
        )
        shutil.rmtree(data, ignore_errors=True)
    print(
        f"PostgreSQL stop/start under load: {sum(results.values())} requests, "
        f"statuses {dict(results)}"
    )
    if not timeline or timeline[-1][1] != 200:
        problems.append("not back after PostgreSQL restarted")
    return verdict(problems)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.harden", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    fuzz = commands.add_parser("fuzz")
    fuzz.add_argument("--requests", type=int, default=10_000)
    fuzz.add_argument("--threads", type=int, default=4)
    fuzz.add_argument("--seed", type=int, default=13)
    load = commands.add_parser("load")
    load.add_argument("--duration", type=int, default=60, help="seconds, split over 3 targets")
    load.add_argument("--connections", type=int, default=64)
    load.add_argument("--limited", action="store_true", help="keep the rate limiter on")
    slow = commands.add_parser("slow")
    slow.add_argument("--model", choices=["serve", "gthread", "sync"], default="serve")
    slow.add_argument("--clients", type=int, default=2)
    slow.add_argument("--interval", type=float, default=5.0)
    slow.add_argument("--probes", type=int, default=8)
    slow.add_argument("--window", type=float, default=30.0)
    slow.add_argument("--probe-timeout", type=float, default=3.0)
    kill = commands.add_parser("kill")
    kill.add_argument("--duration", type=float, default=8.0)
    restart = commands.add_parser("pgrestart")
    restart.add_argument("--outage", type=float, default=3.0)
    keyflood = commands.add_parser("keyflood")
    keyflood.add_argument("--connections", type=int, default=16)
    keyflood.add_argument("--duration", type=float, default=15.0)
    keyflood.add_argument("--quiet", type=float, default=5.0, help="seconds of reads before")
    keyflood.add_argument("--prefix", choices=["madeup", "real"], default="madeup")
    keyflood.add_argument("--model", choices=["serve", "gthread"], default="serve")
    chunked = commands.add_parser("chunked")
    chunked.add_argument("--megabytes", type=float, default=5.4)
    revoke = commands.add_parser("revoke")
    revoke.add_argument("--timeout", type=float, default=90.0)
    options = parser.parse_args(argv)
    run = {"fuzz": run_fuzz, "load": run_load, "slow": run_slow, "kill": run_kill}
    run |= {"keyflood": run_keyflood, "chunked": run_chunked, "revoke": run_revoke}
    return (run | {"pgrestart": run_pgrestart})[options.command](options)


if __name__ == "__main__":
    sys.exit(main())
