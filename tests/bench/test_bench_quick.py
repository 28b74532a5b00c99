"""The benchmarks' quick mode runs every phase and writes a report with every section."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import skip_or_fail

ROOT = Path(__file__).resolve().parents[2]
SECTIONS = [
    "## How to reproduce",
    "## Machine",
    "## Sizes",
    "## Summary",
    "## 1. Pages and API",
    "## 2. Transitions",
    "## 3. Reminder scan",
    "## 4. Mail",
    "## 5. Under load",
    "## 7. New capabilities",
    "## 8. Fan-out of a transition's notice",
    "## 9. Worker memory",
]


def services_missing() -> list[str]:
    from bench.__main__ import services_missing as missing

    return missing()


@pytest.mark.bench
@pytest.mark.services
def test_quick_benchmark_writes_a_report_with_every_section(tmp_path: Path) -> None:
    missing = services_missing()
    if missing:
        skip_or_fail("the benchmarks need " + "; ".join(missing))
    completed = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--output", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        # A guard against a hang, not a speed check: the quick run took 80 s on this 2-core
        # machine in the morning of 2026-12-02 and about 200 s when the host ran 2.5x slower.
        timeout=600,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    report = (tmp_path / "REPORT.md").read_text()
    for section in SECTIONS:
        assert section in report, f"{section} is missing from the report"
    assert "This phase failed" not in report, report
    assert "Quick mode" in report
    assert (tmp_path / "chart.svg").read_text().startswith("<svg")
    assert "<details>" in report, "the reminder scan shows its query plans"
