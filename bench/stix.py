"""TAXII 2.1 at scale: pages of 1,000 objects (p50/p95) and a collection walk's objects/s, on
the synthetic corpus, SQLite or PostgreSQL.

```sh
.venv/bin/python -m bench.stix --events 1000000 --backend sqlite --pages 30
.venv/bin/python -m bench.stix --events 1000000 --backend postgresql \
    --pg-url postgresql://postgres@127.0.0.1:5432/bench_stix
```

Each request goes through the Flask test client with the response cache off (every page is
computed). `objects`: consecutive pages of `/taxii2/briefing/collections/<everything>/objects/`
with `limit=1000`, each following the previous page's `next` (a walk from the start, then from
`--skip` pages in, where a keyset page costs what the first does); `manifest`: the same pages'
manifests; `source`: one source's collection; `added_after`: pages of objects added after the
corpus's time (what a poll after a write reads: here the two shared objects only). The walk
rate is objects over the seconds the walk took; a walk of the whole collection (3.2 million
objects at 1M events) is bounded by `--pages`, so the rate is measured on that many pages and
the time of a whole walk extrapolated from it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

from bench.common import DEFAULT_EVENTS, DEFAULT_PG_URL, database_url, ensure_database, seed

LIMIT = 1000


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def walk(client, url: str, pages: int, skip_token: str | None = None) -> dict:
    """`pages` consecutive pages of `url` from the start (or from `skip_token`): each page's
    seconds, the objects read, and the `next` it ended on."""
    seconds: list[float] = []
    objects = 0
    token = skip_token
    for _ in range(pages):
        target = f"{url}?limit={LIMIT}" + (f"&next={token}" if token else "")
        started = time.perf_counter()
        response = client.get(target)
        body = response.get_data()
        seconds.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise SystemExit(f"{target}: HTTP {response.status_code} {body[:300]!r}")
        envelope = json.loads(body)
        objects += len(envelope.get("objects", ()))
        token = envelope.get("next")
        if not envelope.get("more"):
            break
    return {"seconds": seconds, "objects": objects, "next": token}


def summary(name: str, result: dict) -> dict:
    seconds = result["seconds"]
    total = sum(seconds)
    row = {
        "scenario": name,
        "pages": len(seconds),
        "objects": result["objects"],
        "p50_ms": round(statistics.median(seconds) * 1000, 1),
        "p95_ms": round(percentile(seconds, 0.95) * 1000, 1),
        "max_ms": round(max(seconds) * 1000, 1),
        "objects_per_s": round(result["objects"] / total) if total else 0,
    }
    print(json.dumps(row), flush=True)
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--events", type=int, default=DEFAULT_EVENTS)
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--pages", type=int, default=30, help="pages of 1,000 per scenario")
    parser.add_argument("--skip", type=int, default=200, help="pages in for the deep walk")
    parser.add_argument("--seed", type=int, default=42, help="random seed of the corpus")
    parser.add_argument(
        "--explain", action="store_true", help="the plans of one deep page's queries too"
    )
    options = parser.parse_args(argv)

    url = database_url(options.backend, options.events, options.pg_url)
    ensure_database(url)
    seed(url, options.events, options.seed)

    from api.app import create_app
    from api.store.db import database
    from api.store.models import Actor, Event, Location, Relation, Source, Statement

    app = create_app({"DATABASE_URL": url, "RESPONSE_CACHE": False, "QUERY_TIMEOUT_MS": 0})
    client = app.test_client()
    with database.connection_context():
        models = (Source, Actor, Location, Relation, Event, Statement)
        total = sum(model.select().count() for model in models)
    collections = client.get("/taxii2/briefing/collections/").json["collections"]
    everything = f"/taxii2/briefing/collections/{collections[0]['id']}"
    one_source = f"/taxii2/briefing/collections/{collections[1]['id']}"
    print(
        f"{options.backend}: {total} records; {len(collections)} collections; "
        f"load average {os.getloadavg()}",
        flush=True,
    )

    rows = []
    start = walk(client, f"{everything}/objects/", options.pages)
    rows.append(summary("objects: walk from the start", start))
    # the deep walk starts `--skip` pages in: manifests get there cheaply (no records loaded)
    skipped = walk(client, f"{everything}/manifest/", options.skip)
    rows.append(summary("manifest: walk from the start", skipped))
    deep = walk(client, f"{everything}/objects/", options.pages, skipped["next"])
    rows.append(summary(f"objects: walk from page {options.skip + 1}", deep))
    if options.explain:
        explain(client, f"{everything}/objects/?limit={LIMIT}&next={skipped['next']}")
    source_walk = walk(client, f"{one_source}/objects/", options.pages)
    rows.append(summary("source collection: walk", source_walk))
    # a poll after the corpus was written: only what changed since (here, nothing)
    after = "added_after=2025-01-01T00:00:00.000000Z"
    polls = []
    for _ in range(10):
        started = time.perf_counter()
        polled = client.get(f"{everything}/objects/?limit={LIMIT}&{after}")
        polls.append(time.perf_counter() - started)
        assert polled.status_code == 200, polled.get_data()[:300]
        found = len(polled.json.get("objects", ()))  # the producer and the extension
    rows.append(
        summary("poll: added_after the corpus's time", {"seconds": polls, "objects": found})
    )
    # match[version]: the objects at one version (a time shared by a million records here)
    version = client.get(f"{everything}/objects/?limit=1&match[type]=note").json["objects"][0]
    matches = []
    for _ in range(5):
        started = time.perf_counter()
        matched = client.get(
            f"{everything}/objects/?limit={LIMIT}&match[version]={version['modified']}"
        )
        matches.append(time.perf_counter() - started)
        assert matched.status_code == 200, matched.get_data()[:300]
    rows.append(
        summary(
            "match[version] of a note's modified",
            {"seconds": matches, "objects": len(matched.json.get("objects", ()))},
        )
    )
    # an object by its STIX id: the first ask builds the worker's index of the type's ids
    # (taxii.resolve: a UUIDv5 per row), later asks bisect it
    deep_page = client.get(f"{everything}/objects/?limit=1&match[type]=note").json
    wanted = deep_page["objects"][0]["id"]
    asks = []
    for _ in range(5):
        started = time.perf_counter()
        one = client.get(f"{everything}/objects/{wanted}/")
        asks.append(time.perf_counter() - started)
        assert one.status_code == 200 and one.json["objects"][0]["id"] == wanted
    print(
        json.dumps(
            {
                "scenario": "object by id (note)",
                "first_ms": round(asks[0] * 1000, 1),
                "then_p50_ms": round(statistics.median(asks[1:]) * 1000, 1),
            }
        ),
        flush=True,
    )
    rate = start["objects"] / sum(start["seconds"])
    print(
        json.dumps(
            {
                "records": total,
                "whole_walk_estimate_s": round((total + 2) / rate),
                "walk_objects_per_s": round(rate),
                "load_average": os.getloadavg(),
            }
        )
    )
    return 0


def explain(client, path: str) -> None:
    """Each query of one page, timed (best of 3), with its plan: the keyset reads must seek."""
    from playhouse.test_utils import count_queries

    from api.store.db import database, is_postgres
    from bench.explain import best_of, plan

    with count_queries() as counter:
        client.get(path)
    print(f"## plans of {path[:90]}... ({counter.count} queries)", flush=True)
    with database.connection_context():
        for record in counter.get_queries():
            sql, params = record.msg
            params = tuple(params or ())
            took = best_of(database, sql, params)
            print(f"- {took:.2f} ms: {sql[:240]}{' ...' if len(sql) > 240 else ''}")
            print("  " + plan(database, sql, params, is_postgres()).replace("\n", "\n  "))


if __name__ == "__main__":
    sys.exit(main())
