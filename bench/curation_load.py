"""Concurrent record writes against gunicorn (issue #10): W writers x N writes each, mixed
create / patch / delete, some on the same records, then every outcome checked.

    .venv/bin/python -m bench.curation_load --database-url sqlite:///instance/bench/curation.db
    .venv/bin/python -m bench.curation_load \
        --database-url postgresql://postgres@127.0.0.1:5432/curation_bench

The database is dropped, recreated and seeded first: never point it at data you keep. Each
writer creates its own actors, patches its own and a few shared hot ones (GET for the ETag,
then PATCH with If-Match: concurrent writers conflict) and deletes some of its own. Checked:
no 5xx; every 2xx is in the data and in the audit trail (a create or update by the bench key
whose `after` holds the value sent; a delete as a tombstone); every 412 is a real conflict (the
audit has a later version than the one If-Match named); the final record of each touched id is
the last audited `after`. Prints writes/s and latency percentiles of the write requests.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import statistics
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from urllib.parse import urlsplit

from api.http.keys import create_key
from api.ingest import default_files, load_files
from api.store.db import bind, database
from api.store.ddl import create_schema, drop_schema
from api.store.models import Actor, Change
from bench.harden import Served

SOURCE = "al-monitor-2020-04-07-us-iran-showdown-iraq"
EXCERPT = (
    "Kataib Hezbollah spokesman Mohammad Mohyee warned against four possible moves by the "
    "United States."
)
HOT = ("kataib-hezbollah", "esmail-ghaani", "qasem-soleimani", "mohammad-mohyee")
KEY_NAME = "bench-writer"


@dataclass
class Outcome:
    op: str
    slug: str
    status: int
    seconds: float
    value: str | None = None
    if_match: int | None = None
    version: int | None = None


class Writer(threading.Thread):
    def __init__(self, n: int, port: int, key: str, writes: int, barrier: threading.Barrier):
        super().__init__()
        self.n, self.port, self.key, self.writes, self.barrier = n, port, key, writes, barrier
        self.outcomes: list[Outcome] = []
        self.random = random.Random(n)
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def request(self, method: str, path: str, body: dict | None = None, headers=None):
        headers = {"Authorization": f"Bearer {self.key}", **(headers or {})}
        data = json.dumps(body) if body is not None else None
        self.connection.request(method, path, body=data, headers=headers)
        response = self.connection.getresponse()
        payload = response.read()
        return response.status, response.getheader("ETag"), payload

    def version_of(self, slug: str) -> tuple[str | None, int | None]:
        status, etag, _ = self.request("GET", f"/v1/actors/{slug}")
        if status != 200 or not etag:
            return None, None
        return etag, int(etag.strip('"').split("-")[0][1:])

    def run(self) -> None:
        mine: list[str] = []
        self.barrier.wait()
        for i in range(self.writes):
            roll = self.random.random()
            if roll < 0.35 or not mine:
                slug = f"bench-w{self.n}-{i}"
                body = {
                    "id": slug,
                    "name": f"Bench actor {self.n}.{i}",
                    "kind": "person",
                    "description": f"w{self.n}-{i}",
                    "citations": [{"source": SOURCE, "excerpt": EXCERPT}],
                }
                started = time.perf_counter()
                status, _, _ = self.request(
                    "POST", "/v1/actors", body, {"Content-Type": "application/json"}
                )
                self.outcomes.append(
                    Outcome(
                        "create", slug, status, time.perf_counter() - started, body["description"]
                    )
                )
                if status == 201:
                    mine.append(slug)
            elif roll < 0.85:
                slug = self.random.choice(HOT if self.random.random() < 0.5 else mine)
                etag, version = self.version_of(slug)
                value = f"w{self.n}-{i}"
                started = time.perf_counter()
                status, new_etag, _ = self.request(
                    "PATCH",
                    f"/v1/actors/{slug}",
                    {"description": value},
                    {"Content-Type": "application/merge-patch+json", "If-Match": etag or '""'},
                )
                new = int(new_etag.strip('"').split("-")[0][1:]) if status == 200 else None
                self.outcomes.append(
                    Outcome(
                        "patch", slug, status, time.perf_counter() - started, value, version, new
                    )
                )
            else:
                slug = mine.pop(self.random.randrange(len(mine)))
                etag, version = self.version_of(slug)
                started = time.perf_counter()
                status, _, _ = self.request(
                    "DELETE", f"/v1/actors/{slug}", headers={"If-Match": etag or '""'}
                )
                self.outcomes.append(
                    Outcome("delete", slug, status, time.perf_counter() - started, None, version)
                )
        self.connection.close()


def check(outcomes: list[Outcome]) -> list[str]:
    """Every 2xx in the data and the audit; every 412 a real conflict; no 5xx."""
    problems = []
    entries: dict[str, list[Change]] = {}
    for change in Change.select().where(Change.key == KEY_NAME).order_by(Change.id):
        entries.setdefault(change.record, []).append(change)
    for outcome in outcomes:
        trail = entries.get(outcome.slug, [])
        afters = [json.loads(c.after) for c in trail if c.after]
        if outcome.status >= 500:
            problems.append(f"{outcome.op} {outcome.slug}: {outcome.status}")
        elif outcome.op in ("create", "patch") and outcome.status in (200, 201):
            if not any(a.get("description") == outcome.value for a in afters):
                problems.append(f"{outcome.op} {outcome.slug} {outcome.value}: not audited")
            if outcome.op == "patch" and not any(
                c.version == outcome.version and c.op == "update" for c in trail
            ):
                problems.append(f"patch {outcome.slug} v{outcome.version}: no such version")
        elif outcome.op == "delete" and outcome.status == 204:
            if not any(c.op == "delete" for c in trail):
                problems.append(f"delete {outcome.slug}: no tombstone")
        elif outcome.status == 412 and not any(c.version > (outcome.if_match or 0) for c in trail):
            problems.append(f"{outcome.op} {outcome.slug}: 412 without a newer version")
    for slug, trail in entries.items():
        row = Actor.get_or_none(Actor.slug == slug)
        last = trail[-1]
        if last.op == "delete":
            if row is not None:
                problems.append(f"{slug}: deleted in the audit, present in the data")
        elif row is None or row.version != last.version:
            problems.append(f"{slug}: data and audit disagree on the version")
        elif row.description != json.loads(last.after)["description"]:
            problems.append(f"{slug}: data and the last audited change disagree")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--writes", type=int, default=200)
    args = parser.parse_args(argv)
    host = urlsplit(args.database_url).hostname
    if host not in (None, "", "127.0.0.1", "localhost"):
        raise SystemExit("refusing a database that is not on this machine")
    bind(args.database_url)
    drop_schema()
    create_schema()
    load_files(default_files())
    key = create_key(KEY_NAME, "write")
    database.close()
    served = Served(args.database_url)
    try:
        barrier = threading.Barrier(args.writers)
        writers = [Writer(n, served.port, key, args.writes, barrier) for n in range(args.writers)]
        started = time.perf_counter()
        for writer in writers:
            writer.start()
        for writer in writers:
            writer.join()
        elapsed = time.perf_counter() - started
    finally:
        served.stop()
    outcomes = [o for w in writers for o in w.outcomes]
    bind(args.database_url)
    with database.connection_context():
        problems = check(outcomes)
    latencies = sorted(o.seconds * 1000 for o in outcomes)
    p95 = latencies[int(len(latencies) * 0.95) - 1]
    counts = Counter((o.op, o.status) for o in outcomes)
    backend = args.database_url.split(":")[0]
    print(
        f"{backend}: {args.writers} writers x {args.writes} writes = {len(outcomes)} in "
        f"{elapsed:.1f}s: {len(outcomes) / elapsed:.0f} writes/s (each PATCH/DELETE also GETs "
        f"its ETag); write latency median {statistics.median(latencies):.1f} ms, "
        f"p95 {p95:.1f} ms, max {latencies[-1]:.1f} ms"
    )
    print("outcomes:", dict(sorted(counts.items())))
    print(f"lost or unaudited writes, 5xx, 412 without a conflict: {len(problems)}")
    for problem in problems[:20]:
        print("  ", problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
