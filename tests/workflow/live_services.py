"""Real services for the tests that need them: a Celery worker process and an SMTP sink.

Each is started by a test and always stopped by it, with timeouts everywhere.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aiosmtpd.controller import Controller
from django.conf import settings
from django.db import connection

PROJECT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(condition: Callable[[], Any], timeout: float, what: str, log: Any = None) -> Any:
    """Poll `condition` until it is true; fail with `what` (and the worker log) on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.1)
    details = f"\n--- worker log ---\n{log()}" if log else ""
    raise AssertionError(f"Timed out after {timeout:.0f} s waiting for {what}.{details}")


def shared_database_url() -> str:
    """The URL of the database this test runs on, for processes that must share it."""
    db = connection.settings_dict
    user = quote(db.get("USER") or "", safe="")
    password = quote(db.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{credentials}{host}:{port}/{db['NAME']}"


def redis_reachable(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


def celery_queue_clear(url: str) -> None:
    """Drop the messages a previous run may have left in the broker (the queue keys only)."""
    import redis

    redis.Redis.from_url(url, socket_connect_timeout=2).delete(
        "celery", "unacked", "unacked_index", "unacked_mutex"
    )


@dataclass(frozen=True)
class SinkMessage:
    to: tuple[str, ...]
    subject: str
    message_id: str
    text: str


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if self.sink.delay:
            await asyncio.sleep(self.sink.delay)
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        body = parsed.get_body(preferencelist=("plain",))
        self.sink.received(
            SinkMessage(
                to=tuple(envelope.rcpt_tos),
                subject=str(parsed["Subject"]).strip(),
                message_id=str(parsed["Message-ID"]),
                text=body.get_content() if body is not None else "",
            )
        )
        return "250 Message accepted for delivery"


class SmtpSink:
    """An SMTP server in a thread that keeps what it receives; `delay` slows each message."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.port = free_port()
        self.messages: list[SinkMessage] = []
        self._lock = threading.Lock()
        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def received(self, message: SinkMessage) -> None:
        with self._lock:
            self.messages.append(message)

    def snapshot(self) -> list[SinkMessage]:
        with self._lock:
            return list(self.messages)

    def start(self, attempts: int = 5) -> SmtpSink:
        """Start on the free port found; on another if a process took it meanwhile (another
        pytest-xdist worker's sink or server may ask for a free port at the same moment)."""
        for attempt in range(attempts):
            try:
                self._controller.start()
                return self
            except OSError:
                if attempt == attempts - 1:
                    raise
                self.port = free_port()
                self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)
        return self

    def stop(self) -> None:
        self._controller.stop()


class Worker:
    """`celery -A config worker --pool=solo` on the test's database, broker and SMTP sink."""

    def __init__(self, *, database_url: str, redis_url: str, email_url: str, log_dir: Path) -> None:
        self.name = f"reminders-test-{uuid.uuid4().hex[:8]}"
        self.log_path = log_dir / f"{self.name}.log"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "EMAIL_URL": email_url,
            "LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
        }
        self.process: subprocess.Popen[bytes] | None = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def start(self, timeout: float = 60) -> Worker:
        command = [
            sys.executable, "-m", "celery", "-A", "config", "worker",
            "--pool=solo", "--loglevel=INFO", "-n", f"{self.name}@%h",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
        ]  # fmt: skip
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command, cwd=PROJECT, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        wait_until(
            lambda: " ready." in self.log() or self.process.poll() is not None,  # type: ignore[union-attr]
            timeout,
            f"worker {self.name} to start",
            self.log,
        )
        if self.process.poll() is not None:
            raise AssertionError(f"The worker exited at start:\n{self.log()}")
        return self

    def kill(self) -> None:
        """SIGKILL: the worker dies at once, mid-batch if it was sending."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()


def settings_redis_url() -> str:
    return getattr(settings, "REDIS_URL", "") or ""
