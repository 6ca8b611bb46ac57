"""Time to import the seed through the API: `POST /v1/briefings` of the seed bundle (JSON, its
article inline) into an empty database, again (nothing changes), and as a dry run.

    .venv/bin/python -m bench.import_api --database-url sqlite:///instance/import-bench.db
    .venv/bin/python -m bench.import_api --database-url postgresql://postgres@127.0.0.1:5432/x

In-process (Flask's test client: no network, no gunicorn); the database is dropped and
recreated first. Prints the median of --rounds rounds for each step.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import uuid

from api.app import create_app
from api.http.keys import create_key
from api.ingest import default_files
from api.ingest.read import read_file
from api.store.db import bind
from api.store.ddl import create_schema, drop_schema


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    bundle = read_file(default_files()[0]).raw
    bundle["source"].pop("document")
    bundle["source"]["text"] = (default_files()[0].with_suffix(".txt")).read_text("utf-8")
    body = json.dumps(bundle)
    timings: dict[str, list[float]] = {"create": [], "again": [], "dry_run": []}
    for _ in range(args.rounds):
        bind(args.database_url)
        drop_schema()
        create_schema()
        app = create_app({"DATABASE_URL": args.database_url})
        with app.app_context():
            key = create_key(f"bench-{uuid.uuid4().hex[:6]}", "write")
        client = app.test_client()
        headers = {"Authorization": f"Bearer {key}"}
        for step, query in (("create", ""), ("again", ""), ("dry_run", "?dry_run=true")):
            started = time.perf_counter()
            response = client.post(
                f"/v1/briefings{query}",
                data=body,
                content_type="application/json",
                headers=headers,
            )
            timings[step].append(time.perf_counter() - started)
            assert response.status_code in (200, 201), response.json
    backend = args.database_url.split(":")[0]
    print(
        f"seed import through POST /v1/briefings on {backend}, {len(body) // 1024} KB, "
        f"median of {args.rounds}:"
    )
    for step, values in timings.items():
        print(f"  {step:8} {statistics.median(values) * 1000:7.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
