"""The real thing: `briefing seed --if-empty` then `briefing serve` (gunicorn), over a socket."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # starts gunicorn processes

BRIEFING = str(Path(sys.executable).parent / "briefing")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str) -> tuple[int, dict, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.fixture
def live_server(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'live.db'}"}
    first = subprocess.run(
        [BRIEFING, "seed", "--if-empty"], env=env, capture_output=True, text=True, check=True
    )
    second = subprocess.run(
        [BRIEFING, "seed", "--if-empty"], env=env, capture_output=True, text=True, check=True
    )
    port = free_port()
    server = subprocess.Popen(
        [BRIEFING, "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if get(f"{base}/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("gunicorn did not answer: " + server.stderr.read().decode()[-2000:])
        yield base, first.stdout, second.stdout
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_seed_if_empty_then_serve(live_server):
    base, first, second = live_server
    assert first.startswith("loaded ")
    assert "already seeded" in second
    status, headers, body = get(f"{base}/v1/events?limit=2")
    assert status == 200
    assert len(json.loads(body)) == 2
    assert headers["Link"].startswith(f"<{base}/v1/events?")
    status, headers, body = get(f"{base}/v1/events?limt=2")
    assert status == 422 and headers["Content-Type"] == "application/problem+json"


def test_concurrent_requests_on_two_workers(live_server):
    base, _, _ = live_server
    urls = [f"{base}/v1/{c}?limit=5" for c in ("events", "statements", "actors", "locations")]
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda u: get(u)[0], urls * 10))
    assert statuses == [200] * 40
