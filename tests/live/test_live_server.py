"""The real thing: `briefing seed --if-empty` then `briefing serve` (gunicorn), over a socket:
slow clients, gunicorn's own errors, a killed worker, reseeding while serving, no shared
control socket. One server for the module; each test leaves it serving."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.helpers import BRIEFING, live_server

pytestmark = pytest.mark.slow  # starts gunicorn processes

WORKERS = 2


def get(url: str, headers: dict | None = None, timeout: float = 10) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


class Live:
    def __init__(self, base: str, process: subprocess.Popen, env: dict, home: Path, seeds):
        self.base, self.process, self.env, self.home, self.seeds = base, process, env, home, seeds

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    folder = tmp_path_factory.mktemp("live")
    home = folder / "home"
    (home / "run").mkdir(parents=True)
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{folder / 'live.db'}",
        "HOME": str(home),  # where gunicorn 27 would put its control socket
        "XDG_RUNTIME_DIR": str(home / "run"),
        "RATELIMIT_ENABLED": "0",  # these tests load the server on purpose
    }
    seeds = [
        subprocess.run(
            [BRIEFING, "seed", "--if-empty"], env=env, capture_output=True, text=True, check=True
        ).stdout
        for _ in range(2)
    ]
    with live_server(env, WORKERS) as (base, server):
        yield Live(base, server, env, home, seeds)


def test_seed_if_empty_then_serve(live):
    first, second = live.seeds
    assert first.startswith("loaded ")
    assert "already seeded" in second
    status, headers, body = get(f"{live.base}/v1/events?limit=2")
    assert status == 200
    assert len(json.loads(body)) == 2
    assert headers["Link"].startswith(f"<{live.base}/v1/events?")
    status, headers, body = get(f"{live.base}/v1/events?limt=2")
    assert status == 422 and headers["Content-Type"] == "application/problem+json"


def test_forwarded_headers_are_not_trusted_without_proxy_count(live):
    """PROXY_COUNT=0: no X-Forwarded-* changes a link (gunicorn used to apply X-Forwarded-Proto
    from 127.0.0.1 itself)."""
    forged = {"X-Forwarded-Proto": "https", "X-Forwarded-Ssl": "on", "X-Forwarded-Host": "evil"}
    status, headers, _ = get(f"{live.base}/v1/events?limit=1", headers=forged)
    assert status == 200
    assert headers["Link"].startswith(f"<{live.base}/v1/events?"), headers["Link"]


def test_concurrent_requests_on_two_workers(live):
    urls = [f"{live.base}/v1/{c}?limit=5" for c in ("events", "statements", "actors", "locations")]
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda u: get(u)[0], urls * 10))
    assert statuses == [200] * 40


SLOW_CLIENTS = 32  # twice the 2 x 8 threads the threaded workers had


def test_slow_clients_do_not_take_the_service_offline(live):
    """32 slow clients, each sending one header line a second, and as many idle keep-alive
    connections: every health probe meanwhile is answered, promptly (2 x 8 threaded workers
    answered none: each slow client held a thread)."""
    port = int(live.base.rsplit(":", 1)[1])
    stop = threading.Event()

    def slow_client() -> None:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(b"GET /v1/events HTTP/1.1\r\nHost: x\r\n")
            while not stop.wait(1.0):
                sock.sendall(b"X-Slow: 1\r\n")

    def idle_client() -> None:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            sock.recv(65536)
            stop.wait(10)

    clients = [threading.Thread(target=slow_client) for _ in range(SLOW_CLIENTS)]
    clients += [threading.Thread(target=idle_client) for _ in range(SLOW_CLIENTS)]
    for client in clients:
        client.start()
    try:
        time.sleep(1.5)
        answered, slowest = [], 0.0
        for _ in range(5):
            started = time.monotonic()
            try:
                answered.append(get(f"{live.base}/healthz", timeout=2)[0])
            except OSError:
                answered.append(None)
            slowest = max(slowest, time.monotonic() - started)
            time.sleep(0.5)
    finally:
        stop.set()
        for client in clients:
            client.join()
    assert answered == [200] * 5
    assert slowest < 1.0


def raw(live: Live, request: bytes) -> tuple[int, dict, dict]:
    port = int(live.base.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, json.loads(body)


@pytest.mark.parametrize(
    "request_bytes, status",
    [
        (b"GET /v1/events?q=" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
        (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 9000 + b"\r\n\r\n", 431),
        (b"GET /healthz HTTP/1.1\r\n" + b"X-Many: 1\r\n" * 150 + b"\r\n", 431),
    ],
    ids=["long request line", "large header", "many headers"],
)
def test_requests_over_gunicorns_limits_get_problem_json(live, request_bytes, status):
    code, headers, body = raw(live, request_bytes)
    assert code == status
    assert headers["Content-Type"] == "application/problem+json"
    assert body["status"] == status and body["detail"]
    assert body["errors"] == []  # the one shape, though the app never saw the request
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_no_control_socket_is_shared_between_instances(live):
    made = [p for p in live.home.rglob("*") if "gunicorn" in p.name]
    assert made == [], "gunicorn wrote a control socket at a fixed per-user path"


def test_a_killed_worker_is_replaced_and_requests_go_on(live):
    victim = live.worker_pids()[0]
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        pids = live.worker_pids()
        if victim not in pids and len(pids) == WORKERS:
            break
        time.sleep(0.2)
    assert victim not in live.worker_pids() and len(live.worker_pids()) == WORKERS
    statuses = [get(f"{live.base}/v1/events?limit=5")[0] for _ in range(20)]
    assert statuses == [200] * 20


def test_reseeding_while_serving_loses_no_request(live):
    stop = threading.Event()
    statuses: list[int] = []

    def reader() -> None:
        while not stop.is_set():
            statuses.append(get(f"{live.base}/v1/events?limit=50")[0])

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for thread in threads:
        thread.start()
    try:
        subprocess.run([BRIEFING, "seed"], env=live.env, capture_output=True, check=True)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert statuses and set(statuses) == {200}


def test_keys_and_imports_run_off_the_loop(live):
    """An import and key verifications run in the worker's thread pool: they answer as they
    would in place, with a connection of their own, and /healthz answers meanwhile."""
    from tests.import_helpers import ANDES, with_text

    key = subprocess.run(
        [BRIEFING, "keys", "create", "live-importer", "--scope", "write"],
        env=live.env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()[-1]
    body = json.dumps(with_text(ANDES)).encode()

    def post(token: str, path: str = "/v1/briefings") -> int:
        request = urllib.request.Request(
            f"{live.base}{path}",
            data=body,
            method="POST",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=20) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    with ThreadPoolExecutor(max_workers=6) as pool:
        wrong = [pool.submit(post, key + "x") for _ in range(4)]
        imported = pool.submit(post, key)
        probes = [get(f"{live.base}/healthz", timeout=2)[0] for _ in range(5)]
        assert imported.result() == 201
        assert [w.result() for w in wrong] == [401] * 4
    assert probes == [200] * 5
    assert post(key, "/v1/briefings?dry_run=true") == 200
