"""Where a record PATCH's time goes (issue #27): `--writes` PATCHes of actors' descriptions
through the Flask test client, one at a time (no lock contention: what one write costs), each
phase timed by wrapping the function that does it.

    .venv/bin/python -m bench.write_profile --database-url postgresql://postgres@127.0.0.1:5432/push_bench

Use a scratch copy that holds the bench's source (bench/push.py puts it in its template);
the writes are committed. Phases, in the order a PATCH meets them: outside the lock (auth,
parsing, the answer's record), the lock taken (with the data version bumped: the response
cache's invalidation), the record read and checked (find, owners, snapshots), validated like an
import, written by the importer's Writer, versioned (bump), journaled (the change row), the
outbox rows, the notification, the stale event bodies rendered again, the commit. Then how
long each PATCH held the write lock (on PostgreSQL, shared with other record writes:
api/store/ddl.py `record_write`) and the journal's lock (one at a time: the ceiling of the
rate of record writes, whatever the cores), and the CPU a PATCH costs: this process's (the
app's Python, through the test client) and PostgreSQL's backends'.

The code before `record_write` can be profiled side by side with the same file:
`cd <a checkout of it> && PYTHONPATH=. .venv/bin/python /path/to/this/bench/write_profile.py ...`
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from bench.harden import keys_of, percentile
from bench.push import MERGE_PATCH, actor_ids


def backend_cpu(pid: int) -> float:
    """User + system CPU seconds of a process (a PostgreSQL backend); 0 when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--writes", type=int, default=300)
    parser.add_argument("--subscribers", type=int, default=3, help="outbox rows per change")
    parser.add_argument(
        "--skip", type=int, default=0, help="actors not written (1: not the hub, actor 0)"
    )
    args = parser.parse_args()
    (key,) = keys_of(args.database_url, ("write-profile", "write"))
    os.environ["DATABASE_URL"] = args.database_url

    from api.app import create_app
    from api.ingest import curation, journal, outbox
    from api.queries import stix_kept
    from api.queries.rendered import Rendered
    from api.store import ddl, notify
    from api.store.db import database
    from api.store.models import Subscription

    app = create_app({"RATELIMIT_ENABLED": False, "RESPONSE_CACHE": False})
    client = app.test_client()
    spent: dict[str, float] = defaultdict(float)
    inner: list[str] = []  # the phase being timed (nested phases are subtracted)

    def timed(name: str, function: Callable) -> Callable:
        def wrapper(*a, **k):
            started = time.perf_counter()
            inner.append(name)
            try:
                return function(*a, **k)
            finally:
                inner.pop()
                took = time.perf_counter() - started
                spent[name] += took
                if inner:
                    spent[inner[-1]] -= took

        return wrapper

    held: dict[str, float] = defaultdict(float)  # the write lock (shared) and the journal's
    if not hasattr(ddl, "record_write"):  # the code before it (a side-by-side comparison)
        exclusive = ddl.exclusive

        @contextmanager
        def timed_exclusive(*a, **k) -> Iterator:
            started = time.perf_counter()
            with exclusive(*a, **k) as transaction:
                spent["write lock taken, data version bumped"] += time.perf_counter() - started
                yield transaction
                ended = time.perf_counter()
            finished = time.perf_counter()
            spent["commit"] += finished - ended
            held["write lock"] += finished - started

        ddl.record_write = None  # type: ignore[attr-defined]
        curation.exclusive = timed_exclusive
    record_write = ddl.record_write

    @contextmanager
    def timed_record_write() -> Iterator:
        started = time.perf_counter()
        tail_started: list[float] = []
        with record_write() as tail:
            spent["write lock taken (shared on PostgreSQL)"] += time.perf_counter() - started

            def timed_tail() -> None:
                if not tail_started:
                    tail_started.append(time.perf_counter())
                    tail()
                    spent["journal's lock taken, data version bumped"] += (
                        time.perf_counter() - tail_started[0]
                    )

            yield timed_tail
            ended = time.perf_counter()
        finished = time.perf_counter()
        spent["commit"] += finished - ended
        held["write lock"] += finished - started
        held["journal's lock"] += finished - tail_started[0] if tail_started else 0.0

    if record_write is not None:
        curation.record_write = timed_record_write
    curation.find = timed("record read, owners checked", curation.find)
    curation.check = timed("record read, owners checked", curation.check)
    journal.snapshot = timed("snapshots (before, after)", journal.snapshot)
    curation.validate = timed("validated", curation.validate)
    curation.write = timed("written (importer's Writer)", curation.write)
    journal.bump = timed("version bumped", journal.bump)
    curation_log = journal.log
    journal.log = timed("journaled (change row)", curation_log)
    outbox.enqueue = timed("outbox (sources, deliveries)", outbox.enqueue)
    notify.announce = timed("notification", notify.announce)
    Rendered.refresh = timed("stale events rendered", Rendered.refresh)
    stix_kept.refresh = timed("stale STIX objects rendered", stix_kept.refresh)

    with database.connection_context():
        Subscription.delete().where(Subscription.slug.startswith("profile-")).execute()
        for n in range(args.subscribers):  # never delivered: outbox rows only
            Subscription.create(
                slug=f"profile-{n}", key="write-profile", url="https://example.org/", secret="x"
            )
    headers = {"Authorization": f"Bearer {key}", "Content-Type": MERGE_PATCH}
    actors = actor_ids(args.skip + args.writes)[args.skip :]
    etags = {a: client.get(f"/v1/actors/{a}").headers["ETag"] for a in actors}
    totals = []
    with database.connection_context():  # the server side: PostgreSQL's backends of the db
        backends = [
            pid
            for (pid,) in database.execute_sql(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            )
        ]
    cpu_before = time.process_time(), sum(backend_cpu(pid) for pid in backends)
    try:
        for actor in actors:
            started = time.perf_counter()
            inside = sum(spent.values())
            response = client.patch(
                f"/v1/actors/{actor}",
                data=json.dumps({"description": f"Profiled at {time.time()}."}),
                headers=headers | {"If-Match": etags[actor]},
            )
            assert response.status_code == 200, response.json
            took = time.perf_counter() - started
            totals.append(took)
            spent["outside the lock (HTTP, auth, the answer)"] += took - (
                sum(spent.values()) - inside
            )
    finally:
        with database.connection_context():
            Subscription.delete().where(Subscription.slug.startswith("profile-")).execute()
    python_cpu = time.process_time() - cpu_before[0]
    postgres_cpu = sum(backend_cpu(pid) for pid in backends) - cpu_before[1]
    count = len(totals)
    print(f"{count} PATCHes, {args.subscribers} subscriptions; per PATCH (ms):")
    p50, p95 = percentile(totals, 0.5) * 1000, percentile(totals, 0.95) * 1000
    print(f"  total p50 {p50:.1f}, p95 {p95:.1f}")
    for name, seconds in sorted(spent.items(), key=lambda item: -item[1]):
        print(f"  {seconds / count * 1000:7.2f}  {name}")
    print(
        f"  CPU per PATCH: Python {python_cpu / count * 1000:.1f} ms, PostgreSQL "
        f"{postgres_cpu / count * 1000:.1f} ms (one core: {count / (python_cpu + postgres_cpu):.0f}"
        " PATCHes/s)"
    )
    for name, seconds in held.items():
        each = seconds / count
        print(f"  {each * 1000:7.2f}  holding the {name}, in all (ceiling {1 / each:.0f}/s)")


if __name__ == "__main__":
    main()
