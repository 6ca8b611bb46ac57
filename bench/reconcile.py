"""Reconciliation at scale: `POST /v1/reconcile` with a batch of 10 queries (as OpenRefine
sends them) on the synthetic corpus, first ask and repeated, p50/p95, on SQLite and
PostgreSQL.

```sh
.venv/bin/python -m bench.reconcile --events 1000000 --backend sqlite --repeat 30
.venv/bin/python -m bench.reconcile --events 1000000 --backend postgresql \
    --pg-url postgresql://postgres@127.0.0.1:5432/bench_x
```

The 10 queries are actors' names of the corpus (people, armed groups, states) spelled as
another transliteration would (`al-` as `el-`, `Q` as `K`, vowels changed, an apostrophe),
half of them typed (`type`), one with a country property, drawn with a fixed seed. Asked
through the Flask test client with the response cache off: `first` forgets what is
remembered per data version before each ask (the names' index is read again: what the first
batch after a write pays, per worker), `repeated` asks again without forgetting. The share of
queries whose first candidate is the actor the spelling came from is reported beside the times
(names repeat in the synthetic corpus, so a namesake may rightly come first).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time

from bench.common import DEFAULT_EVENTS, DEFAULT_PG_URL, database_url, ensure_database, seed

_RESPELL = (
    ("al-", "el-"),
    ("Q", "K"),
    ("ou", "u"),
    ("i", "e"),
    ("Kataib", "Kata'ib"),
    ("Hezbollah", "Hizballah"),
    ("a", "aa"),
)


def respelled(name: str, rng: random.Random) -> str:
    """`name` as another transliteration might write it (one or two changes)."""
    changes = [pair for pair in _RESPELL if pair[0] in name]
    for old, new in rng.sample(changes, min(len(changes), rng.randint(1, 2))):
        name = name.replace(old, new, 1)
    return name


def batch(url: str, random_seed: int) -> tuple[dict, dict[str, str]]:
    """The batch of 10 queries, and the actor each query's spelling came from."""
    from api.store.db import bind, database
    from api.store.models import Actor

    bind(url)
    rng = random.Random(random_seed)
    with database.connection_context():
        count = Actor.select().count()
        chosen = []
        for kind in ("person",) * 5 + ("armed_group",) * 3 + ("state",) * 2:
            query = Actor.select(Actor.slug, Actor.name, Actor.country).where(Actor.kind == kind)
            offset = rng.randrange(max(1, query.count()))
            # `.get()` would page the query to its first row, dropping the offset
            row = next(iter(query.order_by(Actor.id).offset(offset).limit(1).tuples()))
            chosen.append((kind, *row))
    queries, expected = {}, {}
    for n, (kind, slug, name, country) in enumerate(chosen):
        key = f"q{n}"
        queries[key] = {"query": respelled(name, rng), "limit": 5}
        if n % 2 == 0:
            queries[key]["type"] = kind
        if n == 3 and country:
            queries[key]["properties"] = [{"pid": "country", "v": country}]
        expected[key] = f"actors/{slug}"
    print(f"{count} actors; batch {json.dumps(queries, ensure_ascii=False)}", file=sys.stderr)
    return queries, expected


def percentiles(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"p50_ms": round(statistics.median(ordered) * 1000, 1), "p95_ms": round(p95 * 1000, 1)}


def measure(url: str, repeat: int, queries: dict, expected: dict[str, str]) -> dict:
    from api.app import create_app
    from api.store.data_version import PerVersion

    app = create_app(
        {
            "DATABASE_URL": url,
            "RATELIMIT_ENABLED": False,
            "RESPONSE_CACHE": False,
            "QUERY_TIMEOUT_MS": 60_000,
        }
    )
    client = app.test_client()
    form = {"queries": json.dumps(queries)}
    first, repeated = [], []
    for n in range(repeat):
        if n < 3:  # the index is rebuilt: a few asks are enough to know its cost
            PerVersion.forget_all()
            started = time.perf_counter()
            response = client.post("/v1/reconcile", data=form)
            first.append(time.perf_counter() - started)
            assert response.status_code == 200, response.get_data(as_text=True)[:500]
        started = time.perf_counter()
        response = client.post("/v1/reconcile", data=form)
        repeated.append(time.perf_counter() - started)
        assert response.status_code == 200, response.get_data(as_text=True)[:500]
    answers = response.json
    found = sum(
        1
        for key, answer in answers.items()
        if answer["result"][:1] and answer["result"][0]["id"] == expected[key]
    )
    return {
        "first": percentiles(first),
        "repeated": percentiles(repeated),
        "top1_source_actor": f"{found}/{len(expected)}",
        "matches": sum(c["match"] for answer in answers.values() for c in answer["result"]),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=DEFAULT_EVENTS)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args(argv)
    url = database_url(args.backend, args.events, args.pg_url)
    ensure_database(url)
    seed(url, args.events, args.seed)
    queries, expected = batch(url, args.seed)
    report = {
        "backend": args.backend,
        "events": args.events,
        "batch": 10,
        **measure(url, args.repeat, queries, expected),
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
