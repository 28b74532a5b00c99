"""Target 5: gunicorn and PostgreSQL under a constant rate of requests, on loopback only.

First the maximum throughput (closed loop: a fixed number of clients, each sending its next
request when the last one is answered), then a constant rate at half of it (open loop: each
request leaves at its planned time, whether or not earlier ones were answered, and its
latency counts from that planned time, so that a slow server cannot hide its queue).
Both runs are bounded in time. The requests cycle through the API list (page size 50 with
filters), a proposal's detail in the API, and a proposal's page.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import db, processes
from bench.pages import LIST_FILTERS

WORKERS = max(2, 2 * (os.cpu_count() or 1))


def request_bytes(path: str, headers: dict[str, str]) -> bytes:
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def fetch(port: int, request: bytes) -> int:
    """The status code of one request on a new connection, read to the end."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        status_line = await reader.readline()
        await reader.read()
    finally:
        writer.close()
    parts = status_line.split()
    return int(parts[1]) if len(parts) > 1 else 0


async def closed_loop(
    port: int, requests: list[tuple[str, bytes]], clients: int, seconds: float
) -> dict[str, Any]:
    """The throughput of `clients` clients that each wait for their answer."""
    done = errors = 0
    stop_at = time.perf_counter() + seconds

    async def client(offset: int) -> None:
        nonlocal done, errors
        index = offset
        while time.perf_counter() < stop_at:
            try:
                status = await asyncio.wait_for(fetch(port, requests[index % len(requests)][1]), 30)
            except (OSError, TimeoutError):
                status = 0
            done += 1
            errors += status != 200
            index += clients

    started = time.perf_counter()
    await asyncio.gather(*(client(n) for n in range(clients)))
    elapsed = time.perf_counter() - started
    return {"requests": done, "errors": errors, "per_second": round(done / elapsed, 1)}


async def open_loop(
    port: int, requests: list[tuple[str, bytes]], rate: float, seconds: float
) -> dict[str, Any]:
    """Requests sent at a constant rate; latencies from each request's planned start."""
    latencies: list[float] = []
    by_kind: dict[str, list[float]] = {}
    errors = 0
    total = max(1, int(rate * seconds))
    started = time.perf_counter()

    async def one(number: int) -> None:
        nonlocal errors
        planned = started + number / rate
        delay = planned - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        kind, request = requests[number % len(requests)]
        try:
            status = await asyncio.wait_for(fetch(port, request), 30)
        except (OSError, TimeoutError):
            status = 0
        latency = time.perf_counter() - planned
        latencies.append(latency)
        by_kind.setdefault(kind, []).append(latency)
        errors += status != 200

    await asyncio.gather(*(one(n) for n in range(total)))
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)

    def percentile(share: float, values: list[float] = ordered) -> float:
        return round(values[min(len(values) - 1, int(share * len(values)))] * 1000, 1)

    return {
        "rate": round(rate, 1),
        "requests": total,
        "errors": errors,
        "achieved_per_second": round(total / elapsed, 1),
        "p50_ms": percentile(0.50),
        "p95_ms": percentile(0.95),
        "p99_ms": percentile(0.99),
        "max_ms": round(ordered[-1] * 1000, 1),
        "mean_ms": round(statistics.mean(ordered) * 1000, 1),
        "by_request": {
            kind: {
                "p50_ms": percentile(0.5, sorted(values)),
                "p95_ms": percentile(0.95, sorted(values)),
            }
            for kind, values in by_kind.items()
        },
    }


def requests_prepared() -> tuple[list[tuple[str, bytes]], dict[str, str]]:
    """The request mix, authenticated as the secretariat (a token for the API, a session cookie
    for the page)."""
    from django.conf import settings
    from django.test import Client

    from bench.accounts import api_token_key, session_verified
    from proposals.models import Person, Proposal

    secretary = Person.objects.get(username="secretariat1")
    token = api_token_key(secretary)
    browser = Client()
    browser.force_login(secretary)
    session_verified(browser.session, secretary)
    session = browser.cookies[settings.SESSION_COOKIE_NAME].value
    api = {"Authorization": f"Token {token}", "Accept": "application/json"}
    page = {"Cookie": f"{settings.SESSION_COOKIE_NAME}={session}"}
    ids = list(
        Proposal.objects.filter(state__in=["in_review", "endorsement", "submitted"])
        .order_by("?")
        .values_list("id", flat=True)[:20]
    )
    kinds = {
        "list": (f"/api/proposals/?{LIST_FILTERS}&page_size=50", api),
        "detail": ("/api/proposals/{id}/", api),
        "page": ("/proposals/{id}/", page),
    }
    requests = [
        (kind, request_bytes(path.format(id=proposal_id), headers))
        for proposal_id in ids
        for kind, (path, headers) in kinds.items()
    ]
    return requests, {kind: path for kind, (path, _headers) in kinds.items()}


def run(config: dict[str, Any]) -> dict[str, Any]:
    from django.db import connections

    requests, mix = requests_prepared()
    connections.close_all()
    port = processes.free_port()
    logs = Path(tempfile.mkdtemp(prefix="policy-bench-load-"))
    env = db.process_env(config["database_url"])
    command = [
        processes.venv_tool("gunicorn"),
        "config.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(WORKERS),
        "--worker-class",
        "sync",
        "--log-level",
        "warning",
        "--timeout",
        "60",
        "--preload",
    ]
    seconds = config["load_seconds"]
    with processes.started(command, env=env, log=logs / "gunicorn.log", port=port):
        # Every worker connects to the database and warms up before measuring.
        asyncio.run(closed_loop(port, requests, WORKERS * 2, config["load_warmup_seconds"]))
        maximum = asyncio.run(closed_loop(port, requests, WORKERS * 2, seconds))
        steady = asyncio.run(
            open_loop(port, requests, maximum["per_second"] / 2, config["steady_seconds"])
        )
    shutil.rmtree(logs, ignore_errors=True)
    return {
        "workers": WORKERS,
        "clients": WORKERS * 2,
        "mix": mix,
        "maximum": maximum,
        "steady": steady,
    }
