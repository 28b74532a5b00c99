"""Target 3: the reminder scan at growing numbers of open proposals, with the same reminders
due at every size (about 1,000), and the query plan of each of its queries.

The phase first makes a group with its history (proposals in every state, with their log,
submissions, outcomes and sent notifications) holding the first number of open proposals,
then grows it to each next size with open proposals timed to occasions more than 30 days
away, and scans at each size: each run starts from no reminder written. At each size it also
measures the list API read by cursor and the dashboards (bench/million.py, target 2).
"""

from __future__ import annotations

import re
import statistics
import time
from typing import Any

from bench.generate import DUE_MIX, OPEN, STATE_MIX, generate
from bench.report_text import shorten

WATCHED_TABLES = ("proposals_proposal", "workflow_delivery")
DUE_PROPOSALS = sum(DUE_MIX.values())
OPEN_SHARE = sum(STATE_MIX[state] for state in OPEN)


def open_count() -> int:
    from proposals.models import Proposal

    return Proposal.objects.filter(state__in=OPEN).count()


def reset() -> None:
    """Forget every reminder written, so that the next scan writes them all again."""
    from workflow.models import Delivery, ReminderStage

    Delivery.objects.filter(kind=Delivery.Kind.REMINDER).delete()
    ReminderStage.objects.all().delete()


def scan_once() -> tuple[float, int]:
    from workflow.models import Delivery
    from workflow.reminders import reminders_scan

    reset()
    started = time.perf_counter()
    reminders_scan()
    elapsed = time.perf_counter() - started
    return elapsed, Delivery.objects.filter(kind=Delivery.Kind.REMINDER).count()


def plans() -> list[dict[str, Any]]:
    """EXPLAIN ANALYZE of every SELECT and plain EXPLAIN of every UPDATE the scan runs."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from workflow.reminders import reminders_scan

    reset()
    with CaptureQueriesContext(connection) as captured:
        reminders_scan()
    statements = [q["sql"] for q in captured.captured_queries]
    reset()
    explained = []
    with connection.cursor() as cursor:
        for statement in statements:
            verb = statement.lstrip().split(None, 1)[0].upper()
            if verb not in ("SELECT", "UPDATE"):
                continue
            prefix = (
                "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) "
                if verb == "SELECT"
                else "EXPLAIN (COSTS OFF) "
            )
            cursor.execute(prefix + statement)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            explained.append(
                {
                    "sql": shorten(statement),
                    "plan": plan,
                    "seq_scans": sorted(set(re.findall(r"Seq Scan on (\w+)", plan))),
                }
            )
    return explained


def run(config: dict[str, Any]) -> dict[str, Any]:
    from bench import million
    from bench.transitions import redis_flush
    from proposals.models import Proposal

    repeat = config["repeat_scan"]
    sizes: list[dict[str, Any]] = []
    for number, target in enumerate(config["scan_sizes"]):
        started = time.perf_counter()
        if number == 0:
            # A group with its history (proposals in every state) holding `target` open ones.
            generate(round((target - DUE_PROPOSALS) / OPEN_SHARE))
        current = open_count()
        if target > current:
            generate(target - current, append=True, open_only=True)
        generated = time.perf_counter() - started
        scan_once()  # warm the caches of this size
        times = []
        written = 0
        for _ in range(repeat):
            elapsed, written = scan_once()
            times.append(elapsed)
        explained = plans()
        last = number == len(config["scan_sizes"]) - 1
        pages_at_size = (
            million.measure(config, explain=last)
            if last or target == million.growth_base(config["scan_sizes"])
            else {}
        )
        sizes.append(
            {
                "target": target,
                "open_proposals": open_count(),
                "proposals": Proposal.objects.count(),
                "pages_at_size": pages_at_size,
                "scan_ms": round(statistics.median(times) * 1000, 1),
                "spread_ms": [round(min(times) * 1000, 1), round(max(times) * 1000, 1)],
                "reminders_written": written,
                "queries": len(explained),
                "seq_scans": sorted({t for plan in explained for t in plan["seq_scans"]}),
                "generate_seconds": round(generated, 1),
                "plans": explained,
            }
        )
        reset()
        redis_flush()
    first, last = sizes[0]["scan_ms"], sizes[-1]["scan_ms"]
    return {
        "sizes": sizes,
        "growth": round(last / first, 2) if first else None,
        "pages_growth": million.growth(sizes),
        "repeat": repeat,
        "watched_tables": list(WATCHED_TABLES),
    }
