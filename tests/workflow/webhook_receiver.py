"""A real HTTP receiver of webhooks for the tests: a server in a thread on the loopback address.

It verifies each request's signature as a receiver would (the README's example), keeps what
it received, and answers 500 to the first `failures` requests, or redirects when told to.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

REPLAY_WINDOW_SECONDS = 300


def signature_valid(secret: str, timestamp: str, body: bytes, header: str) -> bool:
    """The receiver's check: HMAC-SHA256 of "<timestamp>.<body>" with the secret."""
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return hmac.compare_digest("sha256=" + expected.hexdigest(), header)


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    signature_valid: bool
    fresh: bool
    answered: int
    at: float
    """When it arrived (time.monotonic())."""

    @property
    def payload(self) -> Any:
        return json.loads(self.body)

    @property
    def event_id(self) -> str:
        return self.headers.get("X-Webhook-Event-Id", "")


class WebhookReceiver:
    """`with WebhookReceiver(secret) as receiver:` listens on 127.0.0.1 at `receiver.url`."""

    def __init__(self, secret: str = "", *, failures: int = 0, redirect_to: str = "") -> None:
        self.secret = secret
        self.failures = failures
        self.redirect_to = redirect_to
        self.delay = 0.0
        self.received: list[Received] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                if receiver.delay:
                    time.sleep(receiver.delay)
                timestamp = self.headers.get("X-Webhook-Timestamp", "")
                valid = bool(receiver.secret) and signature_valid(
                    receiver.secret, timestamp, body, self.headers.get("X-Webhook-Signature", "")
                )
                fresh = timestamp.isdigit() and abs(time.time() - int(timestamp)) <= (
                    REPLAY_WINDOW_SECONDS
                )
                with receiver._lock:
                    failing = receiver.failures > 0
                    if failing:
                        receiver.failures -= 1
                    status = 307 if receiver.redirect_to else (500 if failing else 204)
                    receiver.received.append(
                        Received(
                            self.path,
                            dict(self.headers),
                            body,
                            valid,
                            fresh,
                            status,
                            time.monotonic(),
                        )
                    )
                self.send_response(status)
                if receiver.redirect_to:
                    self.send_header("Location", receiver.redirect_to)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/policy"

    def snapshot(self) -> list[Received]:
        with self._lock:
            return list(self.received)

    def accepted(self) -> list[Received]:
        return [item for item in self.snapshot() if 200 <= item.answered < 300]

    def __enter__(self) -> WebhookReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)
