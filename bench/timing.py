"""Timing helpers: each figure and its lower bound measured in turns, medians of the runs."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any


def seconds(action: Callable[[], Any]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def side_by_side(
    system: Callable[[], Any],
    bound: Callable[[], Any],
    *,
    repeat: int,
    warmup: int = 1,
) -> dict[str, Any]:
    """Run the system and its lower bound in turns; medians in milliseconds and their ratio."""
    for _ in range(warmup):
        system()
        bound()
    system_times: list[float] = []
    bound_times: list[float] = []
    for _ in range(repeat):
        system_times.append(seconds(system))
        bound_times.append(seconds(bound))
    system_ms = statistics.median(system_times) * 1000
    bound_ms = statistics.median(bound_times) * 1000
    return {
        "system_ms": round(system_ms, 3),
        "bound_ms": round(bound_ms, 3),
        "ratio": round(system_ms / bound_ms, 2) if bound_ms else None,
        "runs": repeat,
        "system_spread_ms": spread(system_times),
        "bound_spread_ms": spread(bound_times),
    }


def spread(samples: list[float]) -> list[float]:
    """The fastest and slowest run, in milliseconds."""
    return [round(min(samples) * 1000, 3), round(max(samples) * 1000, 3)]
