"""Target 5: gunicorn and PostgreSQL under a constant rate of requests, on loopback only.

gunicorn runs as in production (`config/gunicorn.py`, the production throttle rates), and the
requests are spread over many people, each with their own token, session and calendar link, so
that no person sends more than people do. The mix cycles through six requests: the API list
(page size 50 with filters), a proposal's detail in the API, a proposal's page, a transition
through the API (a draft submitted for review by its author, each on its own draft), a
person's calendar feed, and a person's in-page notifications.

First the maximum throughput (closed loop: a fixed number of clients, each sending its next
request when the last one is answered), then a constant rate at half of it (open loop: each
request leaves at its planned time, whether or not earlier ones were answered, and its
latency counts from that planned time, so that a slow server cannot hide its queue).
Both runs are bounded in time. The generator shares the machine's cores with the server: the
CPU time each of them used (from /proc) is reported beside the run, as is each gunicorn
worker's resident memory once the load is over.
"""

from __future__ import annotations

import asyncio
import os
import resource
import shutil
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench import db, processes
from bench.pages import LIST_FILTERS

CORES = os.cpu_count() or 1
KINDS = ("list", "detail", "page", "transition", "calendar", "notifications")
TRANSITION = "submit_for_review"
READERS = 48
"""People the reads are spread over: at the maximum rate each sends a few requests a second,
well under the production read rate (API_THROTTLE_READ_RATE, 600/minute)."""
AUTHORS = 120
"""Authors whose drafts are submitted: each submits a few a minute, under the write rate."""
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def request_bytes(
    path: str, headers: dict[str, str], *, method: str = "GET", body: bytes = b""
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if method != "GET":
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


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


class RequestMix:
    """The n-th request of the mix: its kind, and its bytes as one of the people sends it.
    Each transition takes a draft of its own; once the drafts run out, a transition's turn
    reads a detail instead (counted in `transitions_missing`)."""

    def __init__(
        self,
        readers: list[dict[str, str]],
        visible_ids: list[int],
        drafts: list[tuple[int, str]],
    ) -> None:
        self.readers = readers
        self.visible_ids = visible_ids
        self.drafts: Iterator[tuple[int, str]] = iter(drafts)
        self.transitions_missing = 0

    def request(self, number: int) -> tuple[str, bytes]:
        kind = KINDS[number % len(KINDS)]
        turn = number // len(KINDS)
        reader = self.readers[turn % len(self.readers)]
        proposal_id = self.visible_ids[turn % len(self.visible_ids)]
        api = {"Authorization": f"Token {reader['token']}", "Accept": "application/json"}
        if kind == "transition":
            draft = next(self.drafts, None)
            if draft is not None:
                draft_id, author_token = draft
                path = f"/api/proposals/{draft_id}/transitions/{TRANSITION}/"
                headers = {"Authorization": f"Token {author_token}", "Accept": "application/json"}
                return kind, request_bytes(path, headers, method="POST", body=b"{}")
            self.transitions_missing += 1
            kind = "detail"
        if kind == "list":
            return kind, request_bytes(f"/api/proposals/?{LIST_FILTERS}&page_size=50", api)
        if kind == "detail":
            return kind, request_bytes(f"/api/proposals/{proposal_id}/", api)
        if kind == "page":
            cookie = {"Cookie": reader["cookie"]}
            return kind, request_bytes(f"/proposals/{proposal_id}/", cookie)
        if kind == "calendar":
            return kind, request_bytes(f"/calendar/{reader['calendar']}.ics", {})
        return kind, request_bytes("/api/notifications/", api)


MIX_PATHS = {
    "list": f"/api/proposals/?{LIST_FILTERS}&page_size=50",
    "detail": "/api/proposals/{id}/",
    "page": "/proposals/{id}/",
    "transition": f"POST /api/proposals/{{id}}/transitions/{TRANSITION}/",
    "calendar": "/calendar/{token}.ics",
    "notifications": "/api/notifications/",
}


async def closed_loop(port: int, mix: RequestMix, clients: int, seconds: float) -> dict[str, Any]:
    """The throughput of `clients` clients that each wait for their answer."""
    statuses: Counter[str] = Counter()
    stop_at = time.perf_counter() + seconds
    sent = 0

    async def client() -> None:
        nonlocal sent
        while time.perf_counter() < stop_at:
            kind, request = mix.request(sent)
            sent += 1
            try:
                status = await asyncio.wait_for(fetch(port, request), 30)
            except (OSError, TimeoutError):
                status = 0
            statuses[f"{kind} {status}"] += 1

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    elapsed = time.perf_counter() - started
    done = sum(statuses.values())
    errors = {key: count for key, count in statuses.items() if not key.endswith(" 200")}
    return {
        "requests": done,
        "errors": sum(errors.values()),
        "errors_by_status": errors,
        "per_second": round(done / elapsed, 1),
        "seconds": round(elapsed, 1),
    }


async def open_loop(
    port: int, mix: RequestMix, rate: float, seconds: float, first: int
) -> dict[str, Any]:
    """Requests sent at a constant rate; latencies from each request's planned start."""
    latencies: list[float] = []
    by_kind: dict[str, list[float]] = {}
    statuses: Counter[str] = Counter()
    total = max(1, int(rate * seconds))
    prepared = [mix.request(first + number) for number in range(total)]
    started = time.perf_counter()

    async def one(number: int) -> None:
        planned = started + number / rate
        delay = planned - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        kind, request = prepared[number]
        try:
            status = await asyncio.wait_for(fetch(port, request), 30)
        except (OSError, TimeoutError):
            status = 0
        latency = time.perf_counter() - planned
        latencies.append(latency)
        by_kind.setdefault(kind, []).append(latency)
        statuses[f"{kind} {status}"] += 1

    await asyncio.gather(*(one(n) for n in range(total)))
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)

    def percentile(share: float, values: list[float] = ordered) -> float:
        return round(values[min(len(values) - 1, int(share * len(values)))] * 1000, 1)

    errors = {key: count for key, count in statuses.items() if not key.endswith(" 200")}
    return {
        "rate": round(rate, 1),
        "requests": total,
        "errors": sum(errors.values()),
        "errors_by_status": errors,
        "achieved_per_second": round(total / elapsed, 1),
        "seconds": round(elapsed, 1),
        "p50_ms": percentile(0.50),
        "p95_ms": percentile(0.95),
        "p99_ms": percentile(0.99),
        "max_ms": round(ordered[-1] * 1000, 1),
        "mean_ms": round(statistics.mean(ordered) * 1000, 1),
        "by_request": {
            kind: {
                "requests": len(values),
                "p50_ms": percentile(0.5, sorted(values)),
                "p95_ms": percentile(0.95, sorted(values)),
            }
            for kind, values in by_kind.items()
        },
    }


def mix_prepared(drafts_needed: int) -> RequestMix:
    """Tokens, page sessions and calendar links of many people of the group (every role in
    turn), proposals they all see, and drafts to submit with their authors' tokens; written in
    one transaction."""
    from django.db import transaction

    with transaction.atomic():
        return _mix_prepared(drafts_needed)


def _mix_prepared(drafts_needed: int) -> RequestMix:
    from django.conf import settings
    from django.db.models import Count
    from django.utils import timezone

    from bench.accounts import api_token_key
    from proposals.models import Membership, Organization, Person, Proposal

    by_role: dict[str, list[int]] = {}
    for person_id, role in (
        Membership.objects.filter(person__is_active=True)
        .exclude(organization__status=Organization.Status.FORMER)
        .order_by("role", "person_id")
        .values_list("person_id", "role")
    ):
        by_role.setdefault(role, []).append(person_id)
    chosen: list[int] = []
    while len(chosen) < READERS and any(by_role.values()):
        for people in by_role.values():
            while people and people[0] in chosen:
                people.pop(0)
            if people and len(chosen) < READERS:
                chosen.append(people.pop(0))
    readers = []
    for person in Person.objects.filter(pk__in=chosen).order_by("id"):
        readers.append(
            {
                "token": api_token_key(person),
                "cookie": f"{settings.SESSION_COOKIE_NAME}={page_session(person)}",
                "calendar": person.calendar_token,
            }
        )
    visible_ids = list(
        Proposal.objects.filter(state__in=["in_review", "endorsement", "submitted"])
        .order_by("?")
        .values_list("id", flat=True)[:200]
    )
    open_drafts = Proposal.objects.filter(
        state="draft", occasion__submission_deadline__gt=timezone.now()
    )
    author_ids = [
        row["created_by_id"]
        for row in open_drafts.values("created_by_id")
        .annotate(drafts=Count("id"))
        .order_by("-drafts", "created_by_id")[:AUTHORS]
    ]
    author_tokens = {
        author.pk: api_token_key(author) for author in Person.objects.filter(pk__in=author_ids)
    }
    per_author = max(1, -(-drafts_needed // max(1, len(author_tokens))))
    lists = [
        list(
            open_drafts.filter(created_by_id=author_id)
            .order_by("-id")
            .values_list("id", flat=True)[:per_author]
        )
        for author_id in author_tokens
    ]
    # Authors in turns, so that consecutive transitions come from different people.
    drafts = [
        (ids[index], author_tokens[author_id])
        for index in range(per_author)
        for author_id, ids in zip(author_tokens, lists, strict=True)
        if index < len(ids)
    ]
    return RequestMix(readers, visible_ids, drafts[:drafts_needed])


def page_session(person: Any) -> str:
    """The key of a new signed-in page session of the person, as a login leaves it (verified
    by a second factor for those who must use one), written without the login's side effects."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.utils.module_loading import import_string

    from bench.accounts import session_verified
    from proposals.accounts import two_factor_required

    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = person._meta.pk.value_to_string(person)
    session[BACKEND_SESSION_KEY] = next(
        path
        for path in settings.AUTHENTICATION_BACKENDS
        if hasattr(import_string(path), "get_user")
    )
    session[HASH_SESSION_KEY] = person.get_session_auth_hash()
    if two_factor_required(person):
        session_verified(session, person)
    session.save()
    return str(session.session_key)


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process, from /proc (0 once it has ended)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def children_of(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(child) for child in text.split()]


def resident_mb(pid: int) -> float | None:
    """A process's resident memory (VmRSS, which /proc gives in KiB) in megabytes."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) * 1024 / 1_000_000, 1)
    except OSError:
        return None
    return None


def database_backends(url: str) -> list[int]:
    """The PostgreSQL server processes serving the benchmark's database (same machine)."""
    with db.connect(url, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        ).fetchall()
    return [row[0] for row in rows]


class CpuMeter:
    """CPU seconds of the generator (this process), gunicorn (its master and workers) and the
    database's server processes over one run, as shares of the machine's cores."""

    def __init__(self, master: int, url: str) -> None:
        self.master, self.url = master, url

    def snapshot(self) -> dict[str, Any]:
        own = resource.getrusage(resource.RUSAGE_SELF)
        return {
            "generator": {0: own.ru_utime + own.ru_stime},
            "gunicorn": {pid: cpu_seconds(pid) for pid in [self.master, *children_of(self.master)]},
            "postgresql": {pid: cpu_seconds(pid) for pid in database_backends(self.url)},
            "wall": time.perf_counter(),
        }

    @staticmethod
    def shares(before: dict[str, Any], after: dict[str, Any], requests: int) -> dict[str, Any]:
        """Per process, the CPU time since `before` (a process that ended in between is not
        counted: gunicorn's workers and their database connections live through a run)."""
        wall = after["wall"] - before["wall"]
        capacity = wall * CORES
        used = {
            name: round(
                sum(seconds - before[name].get(pid, 0.0) for pid, seconds in after[name].items()),
                2,
            )
            for name in ("generator", "gunicorn", "postgresql")
        }
        return {
            "seconds": round(wall, 1),
            "cpu_seconds": used,
            "share_of_cores": {
                name: round(value / capacity, 3) if capacity else None
                for name, value in used.items()
            },
            # What a request costs the cores, whatever else runs on the machine.
            "cpu_ms_per_request": {
                name: round(value * 1000 / requests, 2) if requests else None
                for name, value in used.items()
            },
        }


def run(config: dict[str, Any]) -> dict[str, Any]:
    from django.db import connections

    # Enough drafts for a transition in every sixth request at up to 250 requests a second.
    busy_seconds = config["load_warmup_seconds"] + config["load_seconds"]
    drafts_needed = int((busy_seconds * 250 + config["steady_seconds"] * 125) / len(KINDS)) + 1
    mix = mix_prepared(drafts_needed)
    connections.close_all()
    port = processes.free_port()
    logs = Path(tempfile.mkdtemp(prefix="policy-bench-load-"))
    # gunicorn as production runs it; the throttles at their production rates.
    env = db.process_env(
        config["database_url"],
        GUNICORN_BIND=f"127.0.0.1:{port}",
        BENCH_PRODUCTION_THROTTLES="1",
        PROMETHEUS_MULTIPROC_DIR=str(logs / "metrics"),
    )
    command = [
        processes.venv_tool("gunicorn"),
        "-c",
        "config/gunicorn.py",
        "config.wsgi",
        "--access-logfile",
        "/dev/null",
        "--log-level",
        "warning",
    ]
    seconds = config["load_seconds"]
    with processes.started(command, env=env, log=logs / "gunicorn.log", port=port) as server:
        meter = CpuMeter(server.pid, config["database_url"])
        # Every worker starts, connects to the database and warms up before measuring.
        asyncio.run(closed_loop(port, mix, 8, config["load_warmup_seconds"]))
        worker_pids = children_of(server.pid)
        clients = 2 * len(worker_pids) + 2
        before = meter.snapshot()
        maximum = asyncio.run(closed_loop(port, mix, clients, seconds))
        maximum["cpu"] = meter.shares(before, meter.snapshot(), maximum["requests"])
        first = maximum["requests"] * 2 + 10_000
        before = meter.snapshot()
        steady = asyncio.run(
            open_loop(port, mix, maximum["per_second"] / 2, config["steady_seconds"], first)
        )
        steady["cpu"] = meter.shares(before, meter.snapshot(), steady["requests"])
        memory = {str(pid): resident_mb(pid) for pid in children_of(server.pid)}
    shutil.rmtree(logs, ignore_errors=True)
    from bench.transitions import redis_flush

    redis_flush()
    return {
        "server": "gunicorn -c config/gunicorn.py config.wsgi",
        "workers": len(worker_pids),
        "worker_class": "sync",
        "clients": clients,
        "cores": CORES,
        "people": len(mix.readers),
        "transitions_missing": mix.transitions_missing,
        "mix": MIX_PATHS,
        "maximum": maximum,
        "steady": steady,
        "worker_rss_mb_after": memory,
    }
