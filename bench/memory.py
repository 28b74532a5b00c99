"""Issue 16's target 7 (the worker): the Celery worker's resident memory while it sends many
emails to a local SMTP sink, sampled every second from /proc/<pid>/status (VmRSS) of the worker
and its child processes.

The emails are copies of the reminders the scan writes (`bench.mail.reminders_copied`), sent
as the mail phase sends them: dispatched with `workflow.delivery.deliveries_dispatch` to one
worker (`--pool=solo`, Redis broker) that sends them to `bench.sink`.

Flat means: over the second half of the sending, the RSS grows by less than FLAT_GROWTH of
its value when that half began, both read from a least-squares line through the samples (so
one noisy sample does not decide).
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench import db, processes

MEMORY_RUN = 1000
"""The run number of the copies' keys (bench-mail:1000:...), apart from the mail phase's."""
FLAT_GROWTH = 0.10
SAMPLE_SECONDS = 1.0


def descendants(pid: int) -> list[int]:
    """The process and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, waiting = [], [pid]
    while waiting:
        current = waiting.pop()
        found.append(current)
        waiting.extend(children.get(current, []))
    return found


def rss_kib(pid: int) -> int:
    """VmRSS of one process in KiB (0 once it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_rss_kib(pid: int) -> int:
    return sum(rss_kib(each) for each in descendants(pid))


class Sampler(threading.Thread):
    """Reads the worker tree's RSS every SAMPLE_SECONDS, with how many emails were sent."""

    def __init__(self, pid: int, sent: Any) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.sent = sent
        self.samples: list[tuple[float, int, int]] = []  # (seconds, KiB, emails sent)
        self.stopping = threading.Event()
        self.started_at = time.perf_counter()

    def run(self) -> None:
        while not self.stopping.is_set():
            self.samples.append(
                (time.perf_counter() - self.started_at, tree_rss_kib(self.pid), self.sent())
            )
            self.stopping.wait(SAMPLE_SECONDS)


def fitted_growth(points: list[tuple[float, float]]) -> tuple[float, float, float]:
    """Least squares through (x, y): the slope, and the line's value at the first and last x."""
    count = len(points)
    mean_x = sum(x for x, _y in points) / count
    mean_y = sum(y for _x, y in points) / count
    spread_x = sum((x - mean_x) ** 2 for x, _y in points)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / spread_x if spread_x else 0.0
    first, last = points[0][0], points[-1][0]
    return slope, mean_y + slope * (first - mean_x), mean_y + slope * (last - mean_x)


def summary(samples: list[tuple[float, int, int]], emails: int) -> dict[str, Any]:
    """Start, peak and end, and the fitted growth over the second half of the sending."""
    sending = [s for s in samples if 0 < s[2]] or samples
    half = [s for s in sending if s[2] >= emails / 2] or sending[len(sending) // 2 :]
    slope, at_half, at_end = fitted_growth([(t, kib / 1024) for t, kib, _sent in half])
    growth = (at_end - at_half) / at_half if at_half else 0.0
    mib = [kib / 1024 for _t, kib, _sent in samples]
    marks: list[dict[str, Any]] = []
    for tenth in range(11):
        wanted = emails * tenth / 10
        sample = next((s for s in samples if s[2] >= wanted), samples[-1])
        if marks and marks[-1]["seconds"] == round(sample[0], 1):
            continue
        marks.append(
            {"sent": sample[2], "seconds": round(sample[0], 1), "mib": round(sample[1] / 1024, 1)}
        )
    return {
        "start_mib": round(mib[0], 1),
        "peak_mib": round(max(mib), 1),
        "end_mib": round(mib[-1], 1),
        "second_half_slope_mib_per_minute": round(slope * 60, 3),
        "second_half_fitted_mib": [round(at_half, 1), round(at_end, 1)],
        "second_half_growth": round(growth, 4),
        "flat": growth < FLAT_GROWTH,
        "marks": marks,
        "samples": len(samples),
    }


def run(config: dict[str, Any]) -> dict[str, Any]:
    from django.db.models import Count

    from bench.mail import reminders_copied
    from bench.scan import reset
    from bench.transitions import redis_flush
    from workflow.delivery import deliveries_dispatch
    from workflow.models import Delivery
    from workflow.reminders import reminders_scan

    emails = config["memory_emails"]
    reset()
    reminders_scan()
    redis_flush()  # the scan queued its own reminders: only the copies are sent
    port = processes.free_port()
    logs = Path(tempfile.mkdtemp(prefix="policy-bench-memory-"))
    env = db.process_env(config["database_url"], EMAIL_URL=f"smtp://127.0.0.1:{port}")
    worker = processes.celery_worker()
    prefix = f"bench-mail:{MEMORY_RUN}:"
    try:
        ids = reminders_copied(emails, MEMORY_RUN)
        rows = Delivery.objects.filter(pk__gte=min(ids), pk__lte=max(ids), key__startswith=prefix)

        def sent() -> int:
            return rows.filter(status="sent").count()

        with (
            processes.started(
                processes.python("-m", "bench.sink", str(port)),
                env=env,
                log=logs / "sink.log",
                ready="ready",
            ),
            processes.started(
                worker, env=env, log=logs / "worker.log", ready="ready.", timeout=90
            ) as process,
        ):
            settle = config.get("memory_settle_seconds", 2.0)
            time.sleep(settle)  # the worker settles after saying it is ready
            sampler = Sampler(process.pid, sent)
            sampler.start()
            time.sleep(settle)  # its memory before any email
            started = time.perf_counter()
            deliveries_dispatch(ids)
            while time.perf_counter() - started < config["memory_timeout"]:
                time.sleep(1)
                if not rows.filter(status__in=["pending", "sending"]).exists():
                    break
            elapsed = time.perf_counter() - started
            time.sleep(settle)
            sampler.stopping.set()
            sampler.join()
        statuses = dict(rows.values_list("status").annotate(count=Count("id")).order_by())
    finally:
        shutil.rmtree(logs, ignore_errors=True)
        Delivery.objects.filter(key__startswith=prefix).delete()
        redis_flush()
        reset()
    return {
        "emails": emails,
        "seconds": round(elapsed, 1),
        "per_second": round(emails / elapsed, 1) if elapsed else None,
        "statuses": statuses,
        "flat_growth_limit": FLAT_GROWTH,
        **summary(sampler.samples, emails),
    }
