"""Starting and stopping the servers a phase needs (an SMTP sink, a worker, gunicorn)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench import db


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


@contextmanager
def started(
    command: list[str],
    *,
    env: dict[str, str],
    log: Path,
    ready: str | None = None,
    port: int | None = None,
    timeout: float = 60,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `command` until the block ends; it is ready when `ready` is in its log or `port`
    accepts connections. It is stopped (its process group) whatever happens."""
    with log.open("wb") as output:
        process = subprocess.Popen(
            command,
            cwd=db.ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + timeout
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"{command[0]} stopped: {log.read_text()[-2000:]}")
                if ready is not None and ready in log.read_text(errors="replace"):
                    break
                if port is not None and port_open(port):
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{command[0]} not ready after {timeout} s")
                time.sleep(0.1)
            yield process
        finally:
            stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


def python(*arguments: str) -> list[str]:
    return [sys.executable, *arguments]


def venv_tool(name: str) -> str:
    """A console script of the interpreter's environment (celery, gunicorn)."""
    return str(Path(sys.executable).parent / name)


def celery_worker() -> list[str]:
    """The command of one Celery worker as the mail phases run it: one process (solo pool),
    without the cluster's chatter, so that its time and memory are its own."""
    return [
        venv_tool("celery"),
        "-A",
        "config",
        "worker",
        "--pool=solo",
        "--concurrency=1",
        "--without-heartbeat",
        "--without-gossip",
        "--without-mingle",
        "-l",
        "info",
    ]
