"""Streams under gunicorn's gevent workers: twenty open streams hold no database connection
(the worker has two), so the API goes on answering, and a change committed reaches every
stream at once."""

from __future__ import annotations

import json
import os
import subprocess
import time

import pytest
import sseclient
import urllib3

from tests.helpers import BRIEFING, live_server

pytestmark = pytest.mark.slow  # starts gunicorn

STREAMS = 20


def test_open_streams_do_not_starve_the_worker_and_all_see_a_change(tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'live.db'}",
        "HOME": str(tmp_path),
        "RATELIMIT_ENABLED": "0",
        "DB_POOL_SIZE": "2",  # fewer connections than streams, by far
        "STREAMS_PER_CLIENT": str(STREAMS),
        "STREAM_POLL_SECONDS": "0.1",
    }
    subprocess.run([BRIEFING, "seed"], env=env, capture_output=True, check=True)
    key = subprocess.run(
        [BRIEFING, "keys", "create", "streamer", "--scope", "write"],
        env=env, capture_output=True, text=True, check=True,
    ).stdout.strip().splitlines()[-1]  # fmt: skip
    http = urllib3.PoolManager(maxsize=STREAMS + 5, retries=False)
    with live_server(env, workers=1) as (base, _):
        responses = [
            http.request("GET", f"{base}/v1/changes/stream", preload_content=False, timeout=10.0)
            for _ in range(STREAMS)
        ]
        assert {r.status for r in responses} == {200}
        streams = [sseclient.SSEClient(r).events() for r in responses]
        for _ in range(10):  # the API answers beside them, each at once
            started = time.monotonic()
            page = http.request("GET", f"{base}/v1/events?limit=5", timeout=5.0)
            assert page.status == 200 and time.monotonic() - started < 2
        refused = http.request("GET", f"{base}/v1/changes/stream", timeout=5.0)
        assert refused.status == 429  # the client's bound
        body = {
            "id": "live-streamed",
            "name": "Live",
            "kind": "person",
            "citations": [
                {
                    "source": "al-monitor-2020-04-07-us-iran-showdown-iraq",
                    "excerpt": "Kataib Hezbollah spokesman Mohammad Mohyee warned against four "
                    "possible moves by the United States.",
                }
            ],
        }
        created = http.request(
            "POST",
            f"{base}/v1/actors",
            body=json.dumps(body),
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        )
        assert created.status == 201
        for events in streams:
            event = next(events)
            assert json.loads(event.data)["id"] == "live-streamed"
        for response in responses:
            response.release_conn()
            response.close()
