"""Releases served by the real thing: `briefing release create`, then `briefing serve` (one
gevent worker) answering reads of a release and of the live data at once, streamed bodies
included, each from its own database (the binding is per request, not per process)."""

from __future__ import annotations

import os
import subprocess
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.helpers import BRIEFING, fixture_files, live_server

pytestmark = pytest.mark.slow  # starts gunicorn


def body(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.status == 200
        return response.read()


def test_a_worker_serves_a_release_and_the_live_data_at_once(tmp_path):
    home = tmp_path / "home"
    (home / "run").mkdir(parents=True)
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'live.db'}",
        "HOME": str(home),
        "XDG_RUNTIME_DIR": str(home / "run"),
        "RATELIMIT_ENABLED": "0",
    }

    def briefing(*args: str) -> str:
        done = subprocess.run([BRIEFING, *args], env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout

    briefing("seed")
    assert "made release 'seed-only'" in briefing("release", "create", "seed-only")
    briefing("seed", *map(str, fixture_files()))  # the live data changes after the release
    assert "seed-only" in briefing("release", "list")
    paths = ["/v1/events?format=ndjson", "/v1/sources", "/v1/timeline?limit=500&sort=-date"]
    with live_server(env, workers=1) as (base, _):
        expected = {
            (prefix, path): body(base + prefix + path)
            for prefix in ("", "/releases/seed-only")
            for path in paths
        }
        for path in paths:
            assert expected[("", path)] != expected[("/releases/seed-only", path)], path
        asked = list(expected) * 10
        with ThreadPoolExecutor(max_workers=16) as pool:
            answers = list(pool.map(lambda key: body(base + key[0] + key[1]), asked))
        for key, answer in zip(asked, answers, strict=True):
            assert answer == expected[key], key
