"""Push under load (issue #27): record PATCHes at a steady rate over HTTP while webhook
subscribers and SSE streams follow them; delivery lag, lost and duplicated deliveries, with the
delivery worker left alone and killed twice; and what it costs a list page.

    .venv/bin/python -m bench.push \\
        --template postgresql://postgres@127.0.0.1:5432/push_bench_tpl \\
        --database-url postgresql://postgres@127.0.0.1:5432/push_bench

`--template` is a PostgreSQL database loaded once (`briefing seed --synthetic 100000`); the
bench adds to it, once, a source of its own with `--actors` actors (the synthetic sources have
no text, so their records cannot be written: a write is validated like an import). Each run
starts from a clean copy of it (`--database-url` is dropped and made again from the template)
and its own `briefing serve` on `--port`, and for `--duration` seconds PATCHes actors'
descriptions (JSON Merge Patch with `If-Match`, each one change) on a schedule of `--rate` a
second from `--writers` client connections, each writing its own actors (no 412), stopped on
time, while a prober GETs the list page (`/v1/events?limit=50`) ten times a second:

1. `baseline`: no subscription, no stream, no delivery worker;
2. `push`: `--subscribers` webhook receivers (loopback HTTP servers in this process on the
   ports after `--port`, each delivery verified with the `standardwebhooks` library),
   `--streams` SSE streams, one `briefing deliver`;
3. `push-killed`: the same, the worker killed (SIGKILL) at 1/3 and 2/3 of the run and started
   again at once (its lease, `DELIVERY_LEASE_SECONDS`, set to 5 s here, lapses first).

Lag is the time from a change's commit (its `time` in the feed) to its arrival at a receiver
or a stream. Lost: a change of the run some subscriber or stream never received (after the
writes stop, the bench waits up to 120 s for deliveries to finish). CPU: the seconds the
server (gunicorn and its workers, the prober's requests included), the run database's
PostgreSQL backends and the delivery worker used while the clock ran, per write that
succeeded, and how busy the machine's cores were meanwhile (everyone's work): when the
machine is busy, the rate is what the server's share of the cores allows.
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
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import sseclient
import urllib3
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from bench.harden import BRIEFING, ROOT, Served, keys_of, percentile

PAGE = "/v1/events?limit=50"
SOURCE = "bench-push-actors"
TEXT = "The bench wrote this source to measure push. Every actor here is cited to this sentence."
EXCERPT = "Every actor here is cited to this sentence."
MERGE_PATCH = "application/merge-patch+json"


def actor_ids(count: int) -> list[str]:
    return [f"{SOURCE}-{n}" for n in range(count)]


def bundle(count: int) -> dict:
    """The bench's source, its `count` actors and their relations (each cited once)."""
    actors = actor_ids(count)
    return {
        "source": {
            "id": SOURCE,
            "title": "Bench push",
            "publisher": "Bench",
            "published": "2024-01-01",
            "text": TEXT,
        },
        "actors": [
            {"id": actor, "name": f"Bench {actor}", "kind": "person", "citations": [EXCERPT]}
            for actor in actors
        ],
        "relations": [  # no orphan: each actor but the first is a member of the first
            {
                "subject": actor,
                "predicate": "member_of",
                "object": actors[0],
                "citations": [EXCERPT],
            }
            for actor in actors[1:]
        ],
    }


# -- databases ------------------------------------------------------------------------------


def admin_connection(url: str):
    """An autocommit connection to the cluster's `postgres` database (to drop and create)."""
    parts = urlsplit(url)
    connection = psycopg2.connect(urlunsplit(parts._replace(path="/postgres")))
    connection.autocommit = True
    return connection


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def prepare_template(template: str, actors: int) -> None:
    """Import the bench's source into the template unless it is there (once; with the
    largest `--actors` a run will write)."""
    with psycopg2.connect(template) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM source WHERE slug = %s", (SOURCE,))
        if cursor.fetchone()[0]:
            return
    (key,) = keys_of(template, ("bench-push-import", "write"))
    served = Served(template, env={"RATELIMIT_ENABLED": "0"})
    try:
        made = request(served.port, "POST", "/v1/briefings", key, bundle(actors))
        if made.get("status", 201) >= 400:
            raise SystemExit(f"the bench's source was refused: {made.get('detail')}")
    finally:
        served.stop()
    with psycopg2.connect(template) as connection, connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def fresh_copy(template: str, url: str) -> None:
    """`url`'s database dropped and made again from the template."""
    connection = admin_connection(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{database_name(url)}" WITH (FORCE)')
            cursor.execute(
                f'CREATE DATABASE "{database_name(url)}" TEMPLATE "{database_name(template)}"'
            )
    finally:
        connection.close()


def drop(url: str) -> None:
    connection = admin_connection(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{database_name(url)}" WITH (FORCE)')
    finally:
        connection.close()


# -- followers ------------------------------------------------------------------------------


class Receiver:
    """A loopback webhook receiver: each delivery verified, its seq and arrival time kept."""

    def __init__(self, port: int) -> None:
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

        class Server(ThreadingHTTPServer):
            allow_reuse_address = True

            def handle_error(self, request, client_address) -> None:
                pass  # a worker killed mid-request resets its connection: expected here

        self.server = Server(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Stream(threading.Thread):
    """One SSE client of /v1/changes/stream, from `after`."""

    def __init__(self, port: int, after: int) -> None:
        super().__init__(daemon=True)
        self.port, self.after = port, after
        self.arrivals: list[tuple[int, float]] = []
        self.http = urllib3.PoolManager(retries=False)

    def run(self) -> None:
        url = f"http://127.0.0.1:{self.port}/v1/changes/stream?after={self.after}"
        response = self.http.request("GET", url, preload_content=False, timeout=None)
        if response.status != 200:
            raise SystemExit(f"a stream was refused: HTTP {response.status}")
        try:
            for event in sseclient.SSEClient(response).events():
                self.arrivals.append((int(event.id), time.time()))
        except (urllib3.exceptions.HTTPError, OSError, ValueError, AttributeError):
            pass  # ended by the server's stop


# -- load -----------------------------------------------------------------------------------


class Schedule:
    """Thread-safe start times of the writes: `per_second` of them from `start`."""

    def __init__(self, start: float, per_second: float) -> None:
        self.counter = itertools.count()
        self.start, self.per_second = start, per_second
        self.lock = threading.Lock()

    def next(self) -> float:
        with self.lock:
            n = next(self.counter)
        return self.start + n / self.per_second


class Writer(threading.Thread):
    """PATCHes its own actors, in turn, at the times the shared schedule gives, on one
    connection; each write's If-Match is the ETag the previous one returned."""

    def __init__(self, port: int, key: str, actors: list[str], schedule, until: float) -> None:
        super().__init__(daemon=True)
        self.port, self.key, self.schedule, self.until = port, key, schedule, until
        self.actors = actors
        self.etags: dict[str, str] = {}
        self.statuses: list[int] = []
        self.seconds: list[float] = []

    def connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)

    def prepare(self) -> None:
        connection = self.connect()
        for actor in self.actors:
            connection.request("GET", f"/v1/actors/{actor}")
            response = connection.getresponse()
            response.read()
            self.etags[actor] = response.getheader("ETag")
        connection.close()

    def run(self) -> None:
        connection = self.connect()
        headers = {"Authorization": f"Bearer {self.key}", "Content-Type": MERGE_PATCH}
        for n in itertools.count():
            at = self.schedule.next()
            if at >= self.until or time.time() >= self.until:  # behind schedule: stop on time
                return
            time.sleep(max(0.0, at - time.time()))
            actor = self.actors[n % len(self.actors)]
            body = json.dumps({"description": f"Described by the bench at {at:.3f}."})
            started = time.monotonic()
            connection.request(
                "PATCH",
                f"/v1/actors/{actor}",
                body=body,
                headers=headers | {"If-Match": self.etags[actor]},
            )
            response = connection.getresponse()
            response.read()
            self.seconds.append(time.monotonic() - started)
            self.statuses.append(response.status)
            if response.status == 200:
                self.etags[actor] = response.getheader("ETag")


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


# -- CPU ----------------------------------------------------------------------------------------

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used (0 when it is gone)."""
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()  # noqa: SIM115
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU ticks of the whole machine, every core, every user."""
    values = [int(v) for v in open("/proc/stat").readline().split()[1:]]  # noqa: SIM115
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


class CpuMeter:
    """CPU time used during a run by the server (gunicorn and its workers), the PostgreSQL
    backends connected to the run's database, and the delivery worker; and how busy the
    machine's cores were meanwhile (everyone's work, the other engineers' too)."""

    def __init__(self, served: Served, url: str) -> None:
        self.served, self.url = served, url

    def pids(self, worker: subprocess.Popen | None) -> dict[str, list[int]]:
        with psycopg2.connect(self.url) as connection, connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()"
            )
            backends = [pid for (pid,) in cursor.fetchall()]
        return {
            "server": [self.served.process.pid, *self.served.workers()],
            "postgres": backends,
            "worker": [worker.pid] if worker is not None and worker.poll() is None else [],
        }

    def start(self, worker: subprocess.Popen | None) -> None:
        self.before = {pid: cpu_seconds(pid) for pids in self.pids(worker).values() for pid in pids}
        self.busy = machine_busy()
        self.started = time.time()

    def stop(self, worker: subprocess.Popen | None, writes: int) -> dict:
        """CPU seconds per part over the run, and per write (ms)."""
        busy, total = machine_busy()
        used = {
            part: sum(cpu_seconds(pid) - self.before.get(pid, 0.0) for pid in pids)
            for part, pids in self.pids(worker).items()
        }
        seconds = time.time() - self.started
        spent = sum(used.values())
        return {
            "cpu_s": {part: round(value, 1) for part, value in used.items()},
            "cpu_ms_per_write": round(spent / max(writes, 1) * 1000, 1),
            "cores_used": round(spent / seconds, 2),
            "machine_busy": round((busy - self.busy[0]) / (total - self.busy[1]), 2),
        }


# -- helpers --------------------------------------------------------------------------------


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


def last_seq(url: str) -> int:
    with psycopg2.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM change")
        return cursor.fetchone()[0]


def request(port: int, method: str, path: str, key: str, body: dict | None = None) -> dict:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
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
    return subprocess.Popen(
        [BRIEFING, "deliver"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        text=True,
    )


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
        "lags": lags,
    }


def merge(summaries: list[dict]) -> dict:
    """Across followers: lag percentiles over every arrival, lost and duplicates summed."""
    lags = [lag for s in summaries for lag in s["lags"]]
    return {
        "followers": len(summaries),
        "lost": sum(s["lost"] for s in summaries),
        "duplicates": sum(s["duplicates"] for s in summaries),
        "p50_ms": round(percentile(lags, 0.5), 1),
        "p95_ms": round(percentile(lags, 0.95), 1),
        "max_ms": round(max(lags), 1) if lags else float("nan"),
    }


# -- a run ----------------------------------------------------------------------------------


def progress(name: str, what: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {name}: {what}", file=sys.stderr, flush=True)


def run(name: str, args: argparse.Namespace) -> dict:
    """One run on a clean copy of the template: its results."""
    url = args.database_url
    progress(name, "a clean copy")
    fresh_copy(args.template, url)
    (key,) = keys_of(url, ("bench-push", "write"))
    env = {
        "WEBHOOK_ALLOW_HTTP": "1",
        "WEBHOOK_ALLOW_LOOPBACK": "1",
        "STREAMS_PER_CLIENT": str(args.streams),  # all of them might land on one worker
    }
    progress(name, "serving")
    served = Served(url, env=env, port=args.port)
    port = served.port
    receivers: list[Receiver] = []
    streams: list[Stream] = []
    worker = None
    try:
        start_seq = last_seq(url)
        if name != "baseline":
            for n in range(args.subscribers):
                receiver = Receiver(args.port + 1 + n)
                made = request(port, "POST", "/v1/subscriptions", key, {"url": receiver.url})
                receiver.secret = made["secret"]
                receivers.append(receiver)
            streams = [Stream(port, start_seq) for _ in range(args.streams)]
            for stream in streams:
                stream.start()
            worker = start_worker(url)
            wait_ready(worker)
        actors = actor_ids(args.actors)
        per_writer = [actors[n :: args.writers] for n in range(args.writers)]
        schedule = Schedule(0, args.rate)  # start set below
        writers = [Writer(port, key, mine, schedule, 0) for mine in per_writer]
        preparing = [threading.Thread(target=w.prepare) for w in writers]
        for thread in preparing:
            thread.start()
        for thread in preparing:
            thread.join()
        # a warm-up: a few writes and pages before the clock starts
        warm = Schedule(time.time(), args.rate)
        for writer in writers:
            writer.schedule, writer.until = warm, time.time() + 2
        warmers = [threading.Thread(target=w.run) for w in writers]
        for thread in warmers:
            thread.start()
        for thread in warmers:
            thread.join()
        start_seq = last_seq(url)  # the run's changes: after the warm-up's
        for writer in writers:
            writer.statuses.clear()
            writer.seconds.clear()
        if streams:
            time.sleep(1)  # the streams have caught up with the warm-up
        progress(name, "writing")
        load_before = os.getloadavg()[0]
        meter = CpuMeter(served, url)
        meter.start(worker)
        begin = time.time() + 0.5
        until = begin + args.duration
        schedule.start = begin
        for writer in writers:
            writer.schedule, writer.until = schedule, until
        threads: list[threading.Thread] = [
            *[threading.Thread(target=w.run, daemon=True) for w in writers]
        ]
        prober = Prober(port, until)
        threads.append(prober)
        for thread in threads:
            thread.start()
        kills = 0
        if name == "push-killed":
            for fraction in (1 / 3, 2 / 3):
                time.sleep(max(0.0, begin + args.duration * fraction - time.time()))
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait()
                kills += 1
                worker = start_worker(url)
        for thread in threads:
            thread.join()
        load_after = os.getloadavg()[0]
        ok = sum(s == 200 for w in writers for s in w.statuses)
        cpu = meter.stop(worker, ok)
        changes = [c for c in feed_since(port, start_seq) if c["id"].startswith(SOURCE)]
        expected = {c["seq"]: dt.datetime.fromisoformat(c["time"]).timestamp() for c in changes}
        statuses = [s for w in writers for s in w.statuses]
        write_ms = [s * 1000 for w in writers for s in w.seconds]
        result = {
            "run": name,
            "load": [round(load_before, 2), round(load_after, 2)],
            "changes": len(expected),
            "writes_per_s": round(sum(s == 200 for s in statuses) / args.duration, 1),
            "failed_writes": sum(s != 200 for s in statuses),
            "write_p50_ms": round(percentile(write_ms, 0.5), 1),
            "write_p95_ms": round(percentile(write_ms, 0.95), 1),
            "list_p50_ms": round(percentile([s * 1000 for s in prober.seconds], 0.5), 1),
            "list_p95_ms": round(percentile([s * 1000 for s in prober.seconds], 0.95), 1),
            "list_failures": prober.failures,
            "kills": kills,
            **cpu,
        }
        if name != "baseline":
            progress(name, "waiting for the followers")
            deadline = time.time() + 120
            while time.time() < deadline:
                got = [len({s for s, _ in r.arrivals} & expected.keys()) for r in receivers]
                got += [len({s for s, _ in st.arrivals} & expected.keys()) for st in streams]
                if min(got) == len(expected):
                    break
                time.sleep(0.5)
            result["webhooks"] = merge([lag_summary(expected, r.arrivals) for r in receivers])
            result["webhooks"]["unverified"] = sum(r.unverified for r in receivers)
            result["streams"] = merge([lag_summary(expected, s.arrivals) for s in streams])
        return result
    finally:
        # the streams end with the server (closing a reading urllib3 response from another
        # thread blocks for seconds each)
        if worker is not None and worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(30)
        for receiver in receivers:
            receiver.close()
        served.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--template", required=True, help="a seeded PostgreSQL database")
    parser.add_argument("--database-url", required=True, help="dropped and made each run")
    parser.add_argument("--port", type=int, default=8130, help="the server's; receivers after")
    parser.add_argument("--rate", type=float, default=200, help="writes per second")
    parser.add_argument("--duration", type=float, default=30)
    parser.add_argument("--writers", type=int, default=8, help="client connections")
    parser.add_argument("--actors", type=int, default=400, help="actors written in turn")
    parser.add_argument("--subscribers", type=int, default=3)
    parser.add_argument("--streams", type=int, default=20)
    parser.add_argument("--runs", nargs="+", default=["baseline", "push", "push-killed"])
    args = parser.parse_args()
    for url in (args.template, args.database_url):
        parts = urlsplit(url)
        if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise SystemExit("databases on this machine only")
    if database_name(args.database_url) in ("test", "corpus_1m", database_name(args.template)):
        raise SystemExit("--database-url is dropped each run: name a scratch database")
    prepare_template(args.template, args.actors)
    results = []
    try:
        for name in args.runs:
            result = run(name, args)
            results.append(result)
            print(json.dumps(result), flush=True)
    finally:
        drop(args.database_url)
    baseline = next((r for r in results if r["run"] == "baseline"), None)
    for result in results:
        if baseline and result is not baseline:
            ratio = result["list_p95_ms"] / baseline["list_p95_ms"]
            print(f"{result['run']}: list p95 {ratio:.2f}x the baseline's")


if __name__ == "__main__":
    main()
