"""What a process keeps of the forecast's draws is bounded: a web worker that shows the
forecasts of many proposals, each in its step for a different number of days, does not grow
with them for the hour the learned durations last."""

from __future__ import annotations

import datetime as dt
import random

from proposals import forecast
from proposals.forecast import (
    ALL_KINDS,
    DRAWS_KEPT,
    SAMPLES,
    STEPS,
    Learned,
    Milestones,
    StepDurations,
    forecast_one,
)

NOW = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)


def learned_from_long_history() -> Learned:
    rng = random.Random(7)
    return Learned(
        steps={
            (ALL_KINDS, step): StepDurations.of([rng.uniform(0, 3000) for _ in range(2000)])
            for step in STEPS
        }
    )


def test_the_draws_kept_are_at_most_draws_kept_each_samples_doubles() -> None:
    learned = learned_from_long_history()

    for spent_days in range(DRAWS_KEPT + 50):
        forecast._draws(learned, ALL_KINDS, 0, spent_days)

    assert len(learned.draws) == DRAWS_KEPT
    assert (ALL_KINDS, 0, 0) not in learned.draws  # the oldest are forgotten first
    newest = learned.draws[(ALL_KINDS, 0, DRAWS_KEPT + 49)]
    assert len(newest.totals) == SAMPLES
    assert newest.totals.itemsize == 8  # doubles in one buffer, not a float object each


def test_a_forgotten_forecast_is_drawn_again_the_same() -> None:
    learned = learned_from_long_history()
    reached = Milestones.at(draft=NOW - dt.timedelta(days=3))
    deadline = NOW + dt.timedelta(days=900)
    first = forecast_one(learned, kind=ALL_KINDS, deadline=deadline, reached=reached, now=NOW)

    for spent_days in range(4, DRAWS_KEPT + 4):
        forecast._draws(learned, ALL_KINDS, 0, spent_days)
    assert (ALL_KINDS, 0, 3) not in learned.draws

    again = forecast_one(learned, kind=ALL_KINDS, deadline=deadline, reached=reached, now=NOW)
    assert again == first and first.probability is not None
