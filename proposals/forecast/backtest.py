"""The forecast's back-test: at each past moment, forecast every proposal then open with only
what was known then, and compare with what happened.

At each moment t (weekly), the durations are learned from the steps completed before t
(`durations_from(..., before=t)`), and each proposal open at t (created before t, neither
submitted nor withdrawn by t) whose deadline is after t gets its forecast as the pages would
have shown it at t. What happened: submitted at or before its deadline (1) or not (0).

Figures: the Brier score (mean squared gap between the probability and what happened; 0 is
perfect), against the naive forecast "everything is on time" (probability 1) and against the
base rate (the share on time over the whole history, known only in hindsight: a bar the
forecast should come near without that knowledge); calibration in ten bins of the predicted
probability (mean predicted and share observed on time in each); and how many forecasts said
"not enough history" instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from proposals.forecast import (
    ALL_KINDS,
    Milestones,
    durations_from,
    forecast_one,
    milestones_all,
)
from proposals.models import Proposal

BINS = 10


@dataclass(frozen=True)
class CalibrationBin:
    low: float
    high: float
    count: int
    mean_predicted: float | None
    observed: float | None


@dataclass
class BacktestReport:
    moments: int = 0
    forecasts: int = 0
    without_probability: int = 0
    on_time: int = 0
    brier: float | None = None
    brier_all_on_time: float | None = None
    brier_base_rate: float | None = None
    base_rate: float | None = None
    bins: list[CalibrationBin] = field(default_factory=list)
    first: datetime | None = None
    last: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "moments": self.moments,
            "forecasts": self.forecasts,
            "without_probability": self.without_probability,
            "on_time": self.on_time,
            "brier": self.brier,
            "brier_all_on_time": self.brier_all_on_time,
            "brier_base_rate": self.brier_base_rate,
            "base_rate": self.base_rate,
            "first": self.first.isoformat() if self.first else None,
            "last": self.last.isoformat() if self.last else None,
            "bins": [bin.__dict__ for bin in self.bins],
        }


def _open_at(reached: Milestones, at: float) -> bool:
    created = reached.draft
    if created is None or created >= at:
        return False
    return not any(
        moment is not None and moment <= at for moment in (reached.submitted, reached.withdrawn)
    )


def backtest(
    *,
    step: timedelta = timedelta(days=7),
    start: datetime | None = None,
    end: datetime | None = None,
    warmup: timedelta = timedelta(days=60),
) -> BacktestReport:
    """Forecast every open proposal at each moment from `start` (the first log row plus
    `warmup`) to `end` (the last log row), every `step`; three queries, then memory."""
    milestones = milestones_all()
    facts = {
        pk: (kind or ALL_KINDS, deadline)
        for pk, kind, deadline in Proposal.objects.filter(occasion__isnull=False)
        .order_by()
        .values_list("pk", "occasion__kind", "occasion__submission_deadline")
        .iterator(chunk_size=20000)
    }
    report = BacktestReport()
    known = [m.draft for m in milestones.values() if m.draft is not None]
    if not known:
        return report
    latest = max(moment for m in milestones.values() for moment in m if moment is not None)
    moment = start or datetime.fromtimestamp(min(known), UTC) + warmup
    end = end or datetime.fromtimestamp(latest, UTC)
    pairs: list[tuple[float, int]] = []
    kinds = {pk: kind for pk, (kind, _deadline) in facts.items()}
    while moment <= end:
        learned = durations_from(milestones, kinds, before=moment)
        report.moments += 1
        for pk, reached in milestones.items():
            if pk not in facts or not _open_at(reached, moment.timestamp()):
                continue
            kind, deadline = facts[pk]
            if deadline <= moment:
                continue
            forecast = forecast_one(
                learned, kind=kind, deadline=deadline, reached=reached, now=moment
            )
            report.forecasts += 1
            happened = int(
                reached.submitted is not None and reached.submitted <= deadline.timestamp()
            )
            if forecast.probability is None:
                report.without_probability += 1
                continue
            pairs.append((forecast.probability, happened))
        report.first = report.first or moment
        report.last = moment
        moment += step
    if not pairs:
        return report
    count = len(pairs)
    report.on_time = sum(y for _p, y in pairs)
    report.base_rate = report.on_time / count
    report.brier = sum((p - y) ** 2 for p, y in pairs) / count
    report.brier_all_on_time = sum((1 - y) ** 2 for _p, y in pairs) / count
    rate = report.base_rate
    report.brier_base_rate = sum((rate - y) ** 2 for _p, y in pairs) / count
    for index in range(BINS):
        low, high = index / BINS, (index + 1) / BINS
        inside = [(p, y) for p, y in pairs if low <= p < high or (index == BINS - 1 and p == 1)]
        report.bins.append(
            CalibrationBin(
                low=low,
                high=high,
                count=len(inside),
                mean_predicted=sum(p for p, _y in inside) / len(inside) if inside else None,
                observed=sum(y for _p, y in inside) / len(inside) if inside else None,
            )
        )
    return report


def calibration_svg(report: BacktestReport, *, title: str = "") -> str:
    """A reliability diagram: predicted probability (x) against the share observed on time
    (y) per bin, each point's area by its count, and the diagonal of a perfect forecast."""
    size, margin = 420, 50
    plot = size - 2 * margin

    def x(value: float) -> float:
        return margin + value * plot

    def y(value: float) -> float:
        return size - margin - value * plot

    largest = max((b.count for b in report.bins), default=1) or 1
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size + 30}" '
        f'viewBox="0 0 {size} {size + 30}" font-family="sans-serif" font-size="12">',
        f'<rect width="{size}" height="{size + 30}" fill="#ffffff"/>',
        f'<text x="{size / 2}" y="20" text-anchor="middle" font-size="14">{title}</text>',
        f'<rect x="{margin}" y="{margin}" width="{plot}" height="{plot}" fill="none" '
        'stroke="#9aa5b1"/>',
        f'<line x1="{x(0)}" y1="{y(0)}" x2="{x(1)}" y2="{y(1)}" stroke="#9aa5b1" '
        'stroke-dasharray="4 4"/>',
    ]
    for tick in range(0, 11, 2):
        value = tick / 10
        parts.append(
            f'<text x="{x(value)}" y="{size - margin + 18}" text-anchor="middle">{value:.1f}</text>'
        )
        parts.append(
            f'<text x="{margin - 8}" y="{y(value) + 4}" text-anchor="end">{value:.1f}</text>'
        )
    parts.append(
        f'<text x="{size / 2}" y="{size - 12}" text-anchor="middle">'
        "predicted probability of submission in time</text>"
    )
    parts.append(
        f'<text x="14" y="{size / 2}" text-anchor="middle" '
        f'transform="rotate(-90 14 {size / 2})">observed share submitted in time</text>'
    )
    points = [b for b in report.bins if b.count and b.mean_predicted is not None]
    if points:
        path = " ".join(
            f"{'M' if i == 0 else 'L'}{x(b.mean_predicted or 0):.1f},{y(b.observed or 0):.1f}"
            for i, b in enumerate(points)
        )
        parts.append(f'<path d="{path}" fill="none" stroke="#1d4ed8" stroke-width="2"/>')
    for b in points:
        radius = 3 + 9 * (b.count / largest) ** 0.5
        parts.append(
            f'<circle cx="{x(b.mean_predicted or 0):.1f}" cy="{y(b.observed or 0):.1f}" '
            f'r="{radius:.1f}" fill="#1d4ed8" fill-opacity="0.6"><title>{b.count} forecasts'
            "</title></circle>"
        )
    legend = (
        f"Brier {report.brier:.3f} · all on time {report.brier_all_on_time:.3f} · "
        f"base rate {report.brier_base_rate:.3f}"
        if report.brier is not None
        else "no forecast"
    )
    parts.append(f'<text x="{size / 2}" y="{size + 18}" text-anchor="middle">{legend}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
