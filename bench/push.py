"""Push under load (issue #27): changes committed at a steady rate through the API while
webhook subscribers and SSE streams follow them; delivery lag, lost and duplicated deliveries,
with the delivery worker left alone and killed twice; and what it costs a list page.

    .venv/bin/python -m bench.push --database-url postgresql://postgres@127.0.0.1:5432/bench_push

Three runs of `--duration` seconds on one `briefing serve`, each writing `--rate` changes a
second as imports of small bundles (`POST /v1/briefings`: a new source, actors and their
relations, `--per-import` changes in all) while a prober GETs the list page
(`/v1/events?limit=50`) ten times a second:

1. `baseline`: no subscription, no stream, no delivery worker;
2. `push`: `--subscribers` webhook receivers (loopback HTTP servers in this process, each
   delivery verified with the `standardwebhooks` library), `--streams` SSE streams, one
   `briefing deliver`;
3. `push-killed`: the same, the worker killed (SIGKILL) at 1/3 and 2/3 of the run and started
   again at once (its lease, `DELIVERY_LEASE_SECONDS`, set to 5 s here, lapses first).

Lag is the time from a change's commit (its `time` in the feed) to its arrival at a receiver
or a stream. Lost: a change of the run some subscriber or stream never received (after the
writes stop, the bench waits up to 120 s for deliveries to finish). The database gets sources
named `bench-push-*` and their actors: use a scratch database (never `test`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import itertools
import json
import os
import signal
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import sseclient
import urllib3
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from bench.harden import BRIEFING, ROOT, Served, keys_of, percentile

PAGE = "/v1/events?limit=50"
TEXT = "The bench wrote this source to measure push. Every actor here is cited to this sentence."
EXCERPT = "Every actor here is cited to this sentence."


def bundle(n: int, changes: int) -> dict:
    """A new source with `changes` - 1 records (no orphan: each actor but the first is a
    member of the first): `changes` changes in one import (`changes` even)."""
    source = f"bench-push-{n}"
    actors = [f"{source}-{k}" for k in range(changes // 2)]
    return {
        "source": {
            "id": source,
            "title": f"Bench push {n}",
            "publisher": "Bench",
            "published": "2024-01-01",
            "text": TEXT,
        },
        "actors": [
            {"id": actor, "name": f"Bench {actor}", "kind": "person", "citations": [EXCERPT]}
            for actor in actors
        ],
        "relations": [
            {
                "subject": actor,
                "predicate": "member_of",
                "object": actors[0],
                "citations": [EXCERPT],
            }
            for actor in actors[1:]
        ],
    }


class Receiver:
    """A loopback webhook receiver: each delivery verified, its seq and arrival time kept."""

    def __init__(self) -> None:
        self.secret = ""
        self.arrivals: list[tuple[int, float]] = []
        self.unverified = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                arrived = time.time()
                try:
                    seq = Webhook(receiver.secret).verify(body, dict(self.headers.items()))["data"][
                        "seq"
                    ]
                except WebhookVerificationError:
                    seq = None
                with receiver.lock:
                    if seq is None:
                        receiver.unverified += 1
                    else:
                        receiver.arrivals.append((seq, arrived))
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"


class Stream(threading.Thread):
    """One SSE client of /v1/changes/stream, from `after`."""

    def __init__(self, port: int, after: int) -> None:
        super().__init__(daemon=True)
        self.port, self.after = port, after
        self.arrivals: list[tuple[int, float]] = []
        self.http = urllib3.PoolManager(retries=False)
        self.response = None

    def run(self) -> None:
        url = f"http://127.0.0.1:{self.port}/v1/changes/stream?after={self.after}"
        self.response = self.http.request("GET", url, preload_content=False, timeout=None)
        if self.response.status != 200:
            raise SystemExit(f"a stream was refused: HTTP {self.response.status}")
        try:
            for event in sseclient.SSEClient(self.response).events():
                self.arrivals.append((int(event.id), time.time()))
        except (urllib3.exceptions.HTTPError, OSError, ValueError, AttributeError):
            pass  # closed by stop()

    def stop(self) -> None:
        if self.response is not None:
            self.response.close()


class Writer(threading.Thread):
    """Imports at `per_second`, on a shared schedule (several writers keep the pace)."""

    def __init__(self, port: int, key: str, schedule, per_import: int, until: float) -> None:
        super().__init__(daemon=True)
        self.port, self.key, self.schedule = port, key, schedule
        self.per_import, self.until = per_import, until
        self.statuses: list[int] = []
        self.seconds: list[float] = []

    def run(self) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Authorization": f"Bearer {self.key}", "Content-Type": "application/json"}
        for n, at in self.schedule:
            if at >= self.until or time.time() >= self.until:  # behind schedule: stop on time
                return
            time.sleep(max(0.0, at - time.time()))
            started = time.monotonic()
            body = json.dumps(bundle(n, self.per_import))
            connection.request("POST", "/v1/briefings", body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            self.statuses.append(response.status)
            self.seconds.append(time.monotonic() - started)


class Prober(threading.Thread):
    """GETs the list page ten times a second; its latencies."""

    def __init__(self, port: int, until: float) -> None:
        super().__init__(daemon=True)
        self.port, self.until = port, until
        self.seconds: list[float] = []
        self.failures = 0

    def run(self) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        while time.time() < self.until:
            started = time.monotonic()
            connection.request("GET", PAGE)
            response = connection.getresponse()
            response.read()
            self.seconds.append(time.monotonic() - started)
            self.failures += response.status != 200
            time.sleep(max(0.0, 0.1 - (time.monotonic() - started)))


class Schedule:
    """Thread-safe (n, start time) of each import: `per_second` of them from `start`."""

    def __init__(self, first: int, start: float, per_second: float) -> None:
        self.counter = itertools.count(first)
        self.start, self.first, self.per_second = start, first, per_second
        self.lock = threading.Lock()

    def __iter__(self):
        while True:
            with self.lock:
                n = next(self.counter)
            yield n, self.start + (n - self.first) / self.per_second


def feed_since(port: int, since: int) -> list[dict]:
    """Every change after `since` (the feed, paged)."""
    entries = []
    while True:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        connection.request("GET", f"/v1/changes?since={since}&limit=1000")
        page = json.loads(connection.getresponse().read())
        connection.close()
        if not page:
            return entries
        entries += page
        since = page[-1]["seq"]


def request(port: int, method: str, path: str, key: str, body: dict | None = None) -> dict:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    connection.request(method, path, body=json.dumps(body) if body else None, headers=headers)
    response = connection.getresponse()
    payload = response.read()
    connection.close()
    return json.loads(payload) if payload else {}


def start_worker(url: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "WEBHOOK_ALLOW_HTTP": "1",
        "WEBHOOK_ALLOW_LOOPBACK": "1",
        "DELIVERY_LEASE_SECONDS": "5",
    }
    worker = subprocess.Popen(
        [BRIEFING, "deliver"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        text=True,
    )
    return worker


def wait_ready(worker: subprocess.Popen) -> None:
    """Until the worker says it delivers (its start-up: imports, the schema check)."""
    line = worker.stdout.readline() if worker.stdout else ""
    if not line.startswith("delivering"):
        raise SystemExit(f"briefing deliver did not start: {line!r}")


def lag_summary(expected: dict[int, float], arrivals: list[tuple[int, float]]) -> dict:
    """Lag percentiles (ms), lost and duplicates of one follower."""
    seen: dict[int, float] = {}
    duplicates = 0
    for seq, arrived in arrivals:
        if seq not in expected:
            continue
        if seq in seen:
            duplicates += 1
            continue
        seen[seq] = arrived
    lags = [(seen[seq] - committed) * 1000 for seq, committed in expected.items() if seq in seen]
    return {
        "received": len(seen),
        "lost": len(expected) - len(seen),
        "duplicates": duplicates,
        "p50": percentile(lags, 0.5),
        "p95": percentile(lags, 0.95),
        "max": max(lags) if lags else float("nan"),
    }


def run(name: str, served: Served, url: str, key: str, args, first: int) -> tuple[dict, int]:
    """One run; (its results, the next import number)."""
    port = served.port
    start_seq = last_seq(port)
    receivers, streams, subscriptions, worker = [], [], [], None
    if name != "baseline":
        for _ in range(args.subscribers):
            receiver = Receiver()
            made = request(port, "POST", "/v1/subscriptions", key, {"url": receiver.url})
            receiver.secret = made["secret"]
            receivers.append(receiver)
            subscriptions.append(made["id"])
        streams = [Stream(port, start_seq) for _ in range(args.streams)]
        for stream in streams:
            stream.start()
        worker = start_worker(url)
        wait_ready(worker)
        time.sleep(1)  # the streams are up
    begin = time.time() + 0.5
    until = begin + args.duration
    per_second = args.rate / args.per_import
    schedule = Schedule(first, begin, per_second)
    writers = [Writer(port, key, schedule, args.per_import, until) for _ in range(args.writers)]
    prober = Prober(port, until)
    for thread in [*writers, prober]:
        thread.start()
    kills = 0
    if name == "push-killed":
        for fraction in (1 / 3, 2 / 3):
            time.sleep(max(0.0, begin + args.duration * fraction - time.time()))
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
            kills += 1
            worker = start_worker(url)
    for thread in [*writers, prober]:
        thread.join()
    changes = [c for c in feed_since(port, start_seq) if c["id"].startswith("bench-push-")]
    expected = {c["seq"]: dt.datetime.fromisoformat(c["time"]).timestamp() for c in changes}
    imports = sum(len(w.statuses) for w in writers)
    failed = sum(s != 201 for w in writers for s in w.statuses)
    result = {
        "run": name,
        "changes": len(expected),
        # as achieved: the writers fall behind the schedule when imports are slower than it
        "changes_per_s": len(expected) / args.duration,  # the writers stop on time
        "imports": imports,
        "failed_imports": failed,
        "import_p95_ms": percentile([s * 1000 for w in writers for s in w.seconds], 0.95),
        "list_p50_ms": percentile([s * 1000 for s in prober.seconds], 0.5),
        "list_p95_ms": percentile([s * 1000 for s in prober.seconds], 0.95),
        "list_failures": prober.failures,
        "kills": kills,
    }
    if name != "baseline":
        deadline = time.time() + 120
        while time.time() < deadline:
            got = [len({s for s, _ in r.arrivals} & expected.keys()) for r in receivers]
            got += [len({s for s, _ in st.arrivals} & expected.keys()) for st in streams]
            if min(got) == len(expected):
                break
            time.sleep(0.5)
        for stream in streams:
            stream.stop()
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(30)
        hooks = [lag_summary(expected, r.arrivals) for r in receivers]
        sse = [lag_summary(expected, st.arrivals) for st in streams]
        result["webhooks"] = merge(hooks) | {"unverified": sum(r.unverified for r in receivers)}
        result["streams"] = merge(sse)
        for subscription in subscriptions:
            request(port, "DELETE", f"/v1/subscriptions/{subscription}", key)
        for receiver in receivers:
            receiver.server.shutdown()
    return result, next(schedule.counter)


def merge(summaries: list[dict]) -> dict:
    """Across followers: the worst lag percentiles, lost and duplicates summed."""
    return {
        "followers": len(summaries),
        "lost": sum(s["lost"] for s in summaries),
        "duplicates": sum(s["duplicates"] for s in summaries),
        "p50": max(s["p50"] for s in summaries),
        "p95": max(s["p95"] for s in summaries),
        "max": max(s["max"] for s in summaries),
    }


def last_seq(port: int) -> int:
    entries = feed_since(port, 0)
    return entries[-1]["seq"] if entries else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--rate", type=float, default=200, help="changes per second")
    parser.add_argument("--duration", type=float, default=30)
    parser.add_argument("--per-import", type=int, default=20, help="changes per import (even)")
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--subscribers", type=int, default=3)
    parser.add_argument("--streams", type=int, default=20)
    parser.add_argument("--runs", nargs="+", default=["baseline", "push", "push-killed"])
    args = parser.parse_args()
    parts = urlsplit(args.database_url)
    if parts.hostname not in (None, "127.0.0.1", "localhost", "::1") or parts.path == "/test":
        raise SystemExit("a scratch database on this machine only (never `test`)")
    (key,) = keys_of(args.database_url, (f"bench-push-{os.getpid()}", "write"))
    env = {"WEBHOOK_ALLOW_HTTP": "1", "WEBHOOK_ALLOW_LOOPBACK": "1"}
    # the bound counts a closed stream until its next write (a heartbeat): room for two runs
    env["STREAMS_PER_CLIENT"] = str(args.streams * 3)
    served = Served(args.database_url, env=env)
    first = int(time.time())  # import numbers: new sources each time the bench runs
    results = []
    try:
        warm = argparse.Namespace(**{**vars(args), "duration": 5.0})
        _, first = run("baseline", served, args.database_url, key, warm, first)  # warm-up
        for name in args.runs:
            result, first = run(name, served, args.database_url, key, args, first)
            results.append(result)
            print(json.dumps(result), flush=True)
    finally:
        served.stop()
    baseline = next((r for r in results if r["run"] == "baseline"), None)
    for result in results:
        if baseline and result is not baseline:
            ratio = result["list_p95_ms"] / baseline["list_p95_ms"]
            print(f"{result['run']}: list p95 {ratio:.2f}x the baseline's")


if __name__ == "__main__":
    main()
