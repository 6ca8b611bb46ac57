"""Releases at scale (issue #25): making one, page 1 of a release against the live page, a diff
of N changes, and the download's size and time.

    python -m bench.releases --backend sqlite --events 1000000
    python -m bench.releases --backend postgresql --pg-url postgresql://postgres@127.0.0.1:5432/bench_x

On the benchmark database of `--events` (bench/common.py; seeded already, upgraded here):

1. makes release `bench-<stamp>` in this process, timing the snapshot and the downloads apart;
2. serves the database with gunicorn (response cache off) and asks `/v1/events?limit=50` and
   the same page of the release alternately, `--requests` times each: p50 / p95 of both;
3. creates `--changes` actors over HTTP (citing the seed briefing, loaded first), then times
   the diff from the release to now (JSON pages of 1,000, and NDJSON) and checks it lists them;
4. downloads the SQLite file and the events' NDJSON.gz over HTTP: bytes and seconds;
5. prints a markdown table and writes bench/results/releases-<backend>-<events>.json.

The release stays (the newest cannot be deleted): `briefing release list`, and remove the
benchmark database's copy when done. To hold the shared benchmark lock a few minutes at a time,
run the steps apart: `--make-only --no-downloads` (the snapshot), then `--release NAME
--make-only` (its downloads, each file timed), then `--release NAME` (the rest).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import urllib.request

from bench.common import DEFAULT_PG_URL, RESULTS, database_url
from bench.latency import percentile
from bench.run import Server, fetch


def _timed(work):
    started = time.perf_counter()
    result = work()
    return result, time.perf_counter() - started


def make_release(url: str, name: str, with_downloads: bool = True) -> dict:
    """Make the release in this process: seconds for the snapshot and for the downloads."""
    from api.app import create_app
    from api.http import release_files
    from api.ingest.releases import create

    app = create_app({"DATABASE_URL": url, "RESPONSE_CACHE": False})
    spent: dict[str, float] = {"downloads_s": 0.0}
    each: dict[str, float] = {}

    def downloads(release):
        files, spent["downloads_s"] = _timed(lambda: release_files.build(app, release, each))
        return files

    with app.app_context():
        build = downloads if with_downloads else None
        release, total = _timed(lambda: create(name, "benchmark", "bench", build))
    return {
        "snapshot_s": round(total - spent["downloads_s"], 1),
        "downloads_s": round(spent["downloads_s"], 1),
        "total_s": round(total, 1),
        "snapshot_bytes": release.snapshot_bytes,
        "seq": release.seq,
        "files": json.loads(release.downloads),
        "files_s": {file: round(seconds, 1) for file, seconds in each.items()},
    }


def build_downloads(url: str, name: str, files: list[str] | None) -> dict:
    """Write the downloads of an existing release in this process, each as its first request
    does (`located`): seconds, each file's."""
    from api.app import create_app
    from api.http import release_files
    from api.queries.releases import find
    from api.store.db import database

    app = create_app({"DATABASE_URL": url, "RESPONSE_CACHE": False})
    each: dict[str, float] = {}
    with app.app_context():
        for file in files or release_files.file_names():
            with database.connection_context():
                release = find(name)
            started = time.perf_counter()
            release_files.located(release, file, app)
            each[file] = time.perf_counter() - started
        with database.connection_context():
            release = find(name)
    return {
        "snapshot_s": None,
        "downloads_s": round(sum(each.values()), 1),
        "snapshot_bytes": release.snapshot_bytes,
        "seq": release.seq,
        "files": json.loads(release.downloads),
        "files_s": {file: round(seconds, 1) for file, seconds in each.items()},
    }


def write_key(url: str) -> str:
    from api.app import create_app
    from api.http.keys import create_key

    create_app({"DATABASE_URL": url, "SCHEMA_UPGRADE": False})
    return create_key(f"bench-releases-{int(time.time())}", "write")


SOURCE = "al-monitor-2020-04-07-us-iran-showdown-iraq"  # the seed's
EXCERPT = (
    "Kataib Hezbollah spokesman Mohammad Mohyee warned against four possible moves by the "
    "United States."
)


def load_seed(url: str) -> None:
    """The seed briefing beside the synthetic corpus (idempotent): the actors the benchmark
    creates cite it (synthetic sources keep no text to check excerpts against)."""
    from api.app import create_app
    from api.ingest import default_files, load_files

    create_app({"DATABASE_URL": url, "SCHEMA_UPGRADE": False})
    load_files(default_files())


def send(method: str, url: str, body: bytes | None, headers: dict) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, data=body, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def page_latency(base: str, release: str, requests: int) -> dict:
    paths = {"live": "/v1/events?limit=50", "release": f"/releases/{release}/v1/events?limit=50"}
    times: dict[str, list[float]] = {key: [] for key in paths}
    for path in paths.values():  # warm-up: the first request of each counts its total
        status, _, _ = fetch(base + path)
        assert status == 200, (path, status)
    for _ in range(requests):
        for key, path in paths.items():
            _, spent = _timed(lambda path=path: fetch(base + path))
            times[key].append(spent * 1000)
    return {
        key: {
            "p50_ms": round(statistics.median(values), 1),
            "p95_ms": round(percentile(values, 0.95), 1),
        }
        for key, values in times.items()
    }


def create_actors(base: str, key: str, count: int, stamp: str) -> float:
    """`count` new actors over HTTP (POST, one at a time): `count` changes in the journal."""
    started = time.perf_counter()
    for number in range(count):
        actor = {
            "id": f"bench-actor-{stamp}-{number}",
            "name": f"Benchmark actor {number}",
            "kind": "person",
            "citations": [{"source": SOURCE, "excerpt": EXCERPT}],
        }
        status, _, answer = send(
            "POST",
            f"{base}/v1/actors",
            json.dumps(actor).encode(),
            {"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        )
        assert status == 201, (actor["id"], status, answer[:300])
    return time.perf_counter() - started


def diff_timing(base: str, release: str, expected: int) -> dict:
    def json_pages() -> int:
        url, count = f"{base}/v1/releases/{release}/diff/now?limit=1000", 0
        while url:
            status, headers, body = fetch(url)
            assert status == 200, (url, status)
            count += len(json.loads(body))
            link = headers.get("Link", "")
            url = link[1 : link.index(">")] if link else ""
        return count

    listed, json_s = _timed(json_pages)
    (_, _, body), ndjson_s = _timed(
        lambda: fetch(f"{base}/v1/releases/{release}/diff/now?format=ndjson")
    )
    assert listed == expected == len(body.splitlines()), (listed, expected)
    return {"entries": listed, "json_s": round(json_s, 2), "ndjson_s": round(ndjson_s, 2)}


def download_timing(base: str, release: str) -> dict:
    """Each file streamed to nowhere: its bytes (checked against Content-Length) and seconds."""
    found = {}
    for label, path in (("sqlite", "download"), ("events.ndjson.gz", "download/events")):
        started, received = time.perf_counter(), 0
        with urllib.request.urlopen(f"{base}/v1/releases/{release}/{path}", timeout=600) as got:
            expected = int(got.headers["Content-Length"])
            while chunk := got.read(1 << 20):
                received += len(chunk)
        assert received == expected, (label, received, expected)
        found[label] = {"bytes": received, "seconds": round(time.perf_counter() - started, 1)}
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.releases", description=__doc__)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--changes", type=int, default=1_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--no-downloads",
        action="store_true",
        help="make the release without its downloads, and do not download (disk: they take "
        "about half the database's size again)",
    )
    parser.add_argument(
        "--release",
        help="use this release (made earlier with --make-only) instead of making one; its "
        "downloads are written here unless --no-downloads",
    )
    parser.add_argument(
        "--make-only",
        action="store_true",
        help="stop once the release (or, with --release, its downloads) is made: each step "
        "can then run under the shared benchmark lock on its own",
    )
    parser.add_argument(
        "--files",
        help="with --release and --make-only: only these files of its download (comma-separated, "
        "e.g. release.sqlite,events.ndjson.gz)",
    )
    options = parser.parse_args(argv)
    os.environ.setdefault("RESPONSE_CACHE", "off")
    url = database_url(options.backend, options.events, options.pg_url)
    name = options.release or f"bench-{time.strftime('%Y%m%d-%H%M%S')}"
    loads = [os.getloadavg()[0]]

    load_seed(url)
    if options.release is None:
        made = make_release(url, name, not options.no_downloads)
    elif options.make_only and not options.no_downloads:
        made = build_downloads(url, name, options.files.split(",") if options.files else None)
    else:
        made = {}
    print(f"made {name}: {made}, 1-minute load {os.getloadavg()[0]:.1f}", file=sys.stderr)
    if options.make_only:
        return 0
    key = write_key(url)
    RESULTS.mkdir(parents=True, exist_ok=True)
    server = Server(url, options.workers, RESULTS / f"gunicorn-releases-{options.backend}.log")
    try:
        server.wait_ready()
        pages = page_latency(server.base, name, options.requests)
        print(f"page 1: {pages}", file=sys.stderr)
        changes_s = create_actors(server.base, key, options.changes, name)
        diff = diff_timing(server.base, name, options.changes)
        print(f"diff: {diff}", file=sys.stderr)
        downloads = {} if options.no_downloads else download_timing(server.base, name)
        loads.append(os.getloadavg()[0])
    finally:
        server.stop()
    result = {
        "backend": options.backend,
        "events": options.events,
        "release": made,
        "page1": pages,
        "changes_s": round(changes_s, 1),
        "diff": diff,
        "downloads": downloads,
        "load": loads,
    }
    (RESULTS / f"releases-{options.backend}-{options.events}.json").write_text(
        json.dumps(result, indent=2)
    )
    ratio = pages["release"]["p95_ms"] / pages["live"]["p95_ms"]
    sizes = {f["file"]: f["bytes"] for f in made.get("files", [])}
    rows = [
        ("page 1 live p50 / p95", f"{pages['live']['p50_ms']} / {pages['live']['p95_ms']} ms"),
        (
            "page 1 release p50 / p95",
            f"{pages['release']['p50_ms']} / {pages['release']['p95_ms']} ms "
            f"({ratio:.2f}x live p95)",
        ),
        (f"{diff['entries']:,} changes made", f"{changes_s:.0f} s"),
        ("diff of them", f"JSON {diff['json_s']} s, NDJSON {diff['ndjson_s']} s"),
    ]
    if made.get("snapshot_s") is not None:
        rows.insert(
            0, ("snapshot", f"{made['snapshot_s']} s, {made['snapshot_bytes'] / 1e9:.2f} GB")
        )
    if sizes:
        gz = sum(v for k, v in sizes.items() if k.endswith(".gz"))
        rows.insert(
            1,
            (
                "downloads written",
                f"{made['downloads_s']} s: SQLite {sizes['release.sqlite'] / 1e6:.0f} MB in "
                f"{made['files_s']['release.sqlite']} s, NDJSON.gz {gz / 1e6:.0f} MB "
                f"(statements {made['files_s']['statements.ndjson.gz']} s, events "
                f"{made['files_s']['events.ndjson.gz']} s)",
            ),
        )
    for label, measured in downloads.items():
        rows.append(
            (f"download {label}", f"{measured['bytes'] / 1e6:.0f} MB in {measured['seconds']} s")
        )
    print(
        f"\n{options.backend}, {options.events:,} events; 1-minute load "
        f"{loads[0]:.1f} -> {loads[-1]:.1f}\n\n| measure | value |\n|---|---|"
    )
    for label, measured in rows:
        print(f"| {label} | {measured} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
