"""What authentication costs a request with a key the worker knows (issue #31): the median time
of `GET /v1/audit?limit=1` with an admin key beside the same journal page read publicly
(`GET /v1/changes?limit=1`), on an empty SQLite database, in-process (Flask's test client).

    .venv/bin/python -m bench.auth_cost                       # this tree
    .venv/bin/python -m bench.auth_cost --tree /path/to/other/checkout --tree .

With `--tree`, each checkout runs in its own process (its code first on the path), the rounds
interleaved so that both see the same load; the difference of the two medians is what a
request pays for its key (one indexed read of the key's row, the remembered secret, and from
issue #31 the owner, expiry and rotation checks and the last-use test).
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
from pathlib import Path


def measure(requests: int) -> dict[str, float]:
    """Median microseconds per request of each kind, in this process."""
    from api.app import create_app

    try:
        from api.http.keys import create_key
    except ImportError:  # before issue #31 the keys' lifecycle lived in auth
        from api.http.keys import create_key  # type: ignore[attr-defined,no-redef]

    with tempfile.TemporaryDirectory() as folder:
        app = create_app({"DATABASE_URL": f"sqlite:///{folder}/auth.db", "TESTING": True})
        key = create_key("bench-admin", "admin")
        client = app.test_client()
        headers = {"Authorization": f"Bearer {key}"}
        kinds = {
            "public": lambda: client.get("/v1/changes?limit=1"),
            "with key": lambda: client.get("/v1/audit?limit=1", headers=headers),
        }
        for call in kinds.values():  # warm: the key verified once, plans compiled
            assert call().status_code == 200
        found: dict[str, list[float]] = {kind: [] for kind in kinds}
        for _ in range(requests):
            for kind, call in kinds.items():
                start = time.perf_counter()
                call()
                found[kind].append((time.perf_counter() - start) * 1e6)
    return {kind: statistics.median(times) for kind, times in found.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tree", action="append", default=[], help="a checkout to measure")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child or not args.tree:
        print(json.dumps(measure(args.requests)))
        return 0
    results: dict[str, list[dict[str, float]]] = {tree: [] for tree in args.tree}
    for _ in range(args.rounds):
        for tree in args.tree:
            env = {**os.environ, "PYTHONPATH": str(Path(tree).resolve())}
            here = str(Path(__file__).resolve())
            command = [sys.executable, here, "--child", "--requests", str(args.requests)]
            output = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
            results[tree].append(json.loads(output.stdout.strip().splitlines()[-1]))
    print(f"{'tree':40} {'public µs':>10} {'with key µs':>12} {'key costs µs':>13}")
    for tree, rounds in results.items():
        public = statistics.median(r["public"] for r in rounds)
        keyed = statistics.median(r["with key"] for r in rounds)
        print(f"{tree[-40:]:40} {public:10.0f} {keyed:12.0f} {keyed - public:13.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
