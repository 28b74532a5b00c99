"""The data generator as a phase: fills the database it is given, returns the row counts."""

from __future__ import annotations

import time
from typing import Any

from bench.generate import generate


def run(config: dict[str, Any]) -> dict[str, Any]:
    started = time.perf_counter()
    totals = generate(
        config["proposals"],
        append=config.get("append", False),
        open_only=config.get("open_only", False),
    )
    return {"rows": totals, "seconds": round(time.perf_counter() - started, 1)}
