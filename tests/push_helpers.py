"""Push tests' helpers: a fake DNS (no test resolves a name on the network) and a loopback
webhook receiver that verifies every delivery with the `standardwebhooks` library."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from api.push.targets import UnsafeTarget


class FakeDns:
    """A resolver for tests: `localhost` and the names a test sets; any other name does not
    resolve (so a test never asks the network)."""

    def __init__(self) -> None:
        self.names: dict[str, list[str]] = {"localhost": ["127.0.0.1"]}

    def __call__(self, host: str, port: int) -> list[str]:
        if host not in self.names:
            raise UnsafeTarget(f"The host {host!r} does not resolve.")
        return list(self.names[host])


DNS = FakeDns()
# The config of every test app: loopback http targets, names resolved by DNS.
PUSH_TEST_CONFIG = {
    "WEBHOOK_RESOLVER": DNS,
    "WEBHOOK_ALLOW_HTTP": True,
    "WEBHOOK_ALLOW_LOOPBACK": True,
}


class Receiver:
    """A loopback HTTP server recording each POST: verified (or why not), parsed, when."""

    def __init__(self, status: int = 204) -> None:
        self.status = status
        self.delay = 0.0  # seconds each answer waits
        self.secrets: list[str] = []
        self.received: list[dict] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                time.sleep(receiver.delay)
                receiver.record(dict(self.headers.items()), body)
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def record(self, headers: dict, body: bytes) -> None:
        verified, error = None, None
        for secret in self.secrets:
            try:
                verified = Webhook(secret).verify(body, headers)
                break
            except WebhookVerificationError as failure:
                error = str(failure)
        with self.lock:
            self.received.append(
                {
                    "headers": {k.lower(): v for k, v in headers.items()},
                    "body": json.loads(body),
                    "raw": body,
                    "verified": verified is not None,
                    "error": error,
                    "at": time.monotonic(),
                    "wall": time.time(),
                }
            )

    def seqs(self) -> list[int]:
        with self.lock:
            return [r["body"]["data"]["seq"] for r in self.received]

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
