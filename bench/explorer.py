"""The explorer in a browser at scale: the overview's first render and a filter change,
measured by the page itself (the Performance API measures `explorer:first-render` and
`explorer:navigation` that api/http/explorer/static/js/main.js records once every panel is
drawn), against gunicorn (`briefing serve`, as `make run` serves) on a benchmark corpus.

```sh
.venv/bin/python -m bench.explorer --events 1000000                 # SQLite, instance/bench/
.venv/bin/python -m bench.explorer --database postgresql://postgres@127.0.0.1:5432/bench_x
.venv/bin/python -m bench.explorer --database sqlite:///instance/dev.db --screenshots docs
```

Each round opens a fresh browser context (an empty browser cache), loads `/explore`, then
clicks the first actor of the facet counts (a filter change, drawn without a page load). The
first round meets a server whose response cache is cold; the later ones replay its answers,
as a busy service would. `--screenshots DIR` takes the README's pictures instead.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.common import DEFAULT_EVENTS, ROOT, sqlite_url
from bench.compare import Process
from bench.run import free_port

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def forget_shared_answers(url: str) -> None:
    """Empty `shared_answer` (api/store/shared_answers.py): a server just started on data an
    earlier run asked about would otherwise read that run's answers, not count its own."""
    import peewee as pw

    from api.store.db import bind, database
    from api.store.models import SharedAnswer

    bind(url)
    # a database made before the table has nothing kept
    with database.connection_context(), contextlib.suppress(pw.DatabaseError):
        SharedAnswer.delete().execute()


def serve(url: str, log_dir: Path) -> Process:
    forget_shared_answers(url)
    port = free_port()
    env = {
        "DATABASE_URL": url,
        "PORT": str(port),
        "WORKERS": "2",
        "RATELIMIT_ENABLED": "0",
        "QUERY_TIMEOUT_MS": "60000",
        "HOME": str(log_dir),
        "XDG_RUNTIME_DIR": str(log_dir),
    }
    briefing = Path(sys.executable).parent / "briefing"
    server = Process("briefing serve", [str(briefing), "serve"], env, port, log_dir / "serve.log")
    server.wait_ready("/healthz", timeout=600)
    return server


def ready(page) -> None:
    page.wait_for_selector("body[data-ready=true]", timeout=120_000)


def wait_for_measure(page, name: str, timeout: float = 120) -> None:
    """Until the page has recorded `name` (polled from here: the page's CSP forbids the
    string evaluation that Playwright's wait_for_function would use)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(f"performance.getEntriesByName('{name}').length"):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{name} not measured within {timeout} s")
        time.sleep(0.05)


def measure(page, name: str) -> float:
    entries = page.evaluate(f"performance.getEntriesByName('{name}').map(e => e.duration)")
    return entries[-1]


def slowest_requests(page, since: float = 0, count: int = 3) -> list[str]:
    """The API requests that took longest (Resource Timing), as 'ms path'."""
    entries = page.evaluate(
        "performance.getEntriesByType('resource').filter(e => e.name.includes('/v1/'))"
        ".map(e => [e.startTime, e.duration, new URL(e.name).pathname + new URL(e.name).search])"
    )
    later = sorted((e for e in entries if e[0] >= since), key=lambda e: -e[1])[:count]
    return [f"{round(duration)} ms {path}" for _, duration, path in later]


def one_round(browser, base: str) -> dict:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        page.goto(f"{base}/explore")
        ready(page)
        first = measure(page, "explorer:first-render")
        slowest = slowest_requests(page)
        status = page.locator("#map ~ p.status, #map + p.status").first.inner_text()
        facet = page.locator("section.facet").nth(1).locator("a").first
        actor = facet.inner_text()
        facet.click()
        wait_for_measure(page, "explorer:navigation")
        change = measure(page, "explorer:navigation")
        slowest_after = slowest_requests(page, since=first)
        return {
            "first_render_ms": round(first),
            "filter_change_ms": round(change),
            "actor": actor,
            "map": status,
            "slowest": slowest,
            "slowest_after_filter": slowest_after,
        }
    finally:
        context.close()


def screenshots(browser, base: str, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    views = [
        ("explorer-overview.png", "/explore", True),
        (
            "explorer-citation.png",
            "/explore/sources/al-monitor-2020-04-07-us-iran-showdown-iraq"
            "?excerpt=Tensions%20are%20rising%20once%20again%20between%20the%20United%20States"
            "%20and%20Iran",
            False,
        ),
        ("explorer-network.png", "/explore/actors/kataib-hezbollah/network?depth=2", False),
    ]
    for name, path, full in views:
        page.goto(base + path)
        ready(page)
        page.wait_for_load_state("networkidle")
        if name == "explorer-network.png":  # a tie's evidence open beside the graph
            page.get_by_role("button", name="Kataib Hezbollah — backed by — Iran").click()
        page.wait_for_timeout(500)
        page.screenshot(path=str(folder / name), full_page=full)
        print(f"wrote {folder / name}")
    context.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.explorer", description=__doc__)
    parser.add_argument("--events", type=int, default=DEFAULT_EVENTS * 10)
    parser.add_argument(
        "--database", help="a DATABASE_URL (default: the SQLite corpus of --events)"
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--base", help="measure a server already running here instead")
    parser.add_argument("--screenshots", type=Path, help="write the README's screenshots here")
    parser.add_argument("--chromium", default=os.environ.get("CHROMIUM", "/usr/bin/chromium"))
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    url = args.database or sqlite_url(args.events)
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        server = None if args.base else serve(url, Path(folder))
        base = args.base or server.base
        browser = playwright.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
        try:
            if args.screenshots:
                screenshots(browser, base, ROOT / args.screenshots)
                return 0
            rounds = [one_round(browser, base) for _ in range(args.rounds)]
        finally:
            browser.close()
            if server:
                server.stop()
    for number, result in enumerate(rounds, 1):
        print(f"round {number}: {json.dumps(result)}")
    for key in ("first_render_ms", "filter_change_ms"):
        warm = [r[key] for r in rounds[1:]] or [rounds[0][key]]
        print(f"{key}: cold server {rounds[0][key]} ms; warm median {statistics.median(warm)} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
