"""The at-risk forecast: how likely each open proposal is to be submitted before its deadline.

Learning (`durations_learn`): each proposal's row gives when it first reached each
milestone (created (draft), first sent to review, first opened for endorsement, submitted), as
the transition log has it: the transition entering a state writes it (`Proposal.reached_*_at`,
`ProposalPolicy.entered`). A *step* is the time between two milestones, so a proposal sent back to draft
keeps its loop inside the review step ("review" is from the first request for review until
the approval that opened endorsement): loops are counted implicitly, by the observed
durations. Only completed steps are observations. They are learned per occasion kind where a
kind has at least MIN_OBSERVATIONS of a step, over every kind otherwise; with fewer, the
forecast says "not enough history" instead of guessing. One query whatever the number of
proposals (their milestones and their occasions' kinds; no GROUP BY over the log).

Forecasting (`forecasts_for`, `open_forecasts`): for an open proposal in step k, which has
spent `s` days in it, the time left until submission is sampled (Monte-Carlo, SAMPLES draws,
seeded from the step, its groups and `s`, so deterministic) as (d − s) + the durations of the
later steps, where d is drawn among the past durations of step k longer than `s` (the
conditioning on time already spent), each later step's duration among its past durations.
The probability is the share of draws that end before the deadline; the expected submission
is the median draw. Draws depend on the step, the groups and whole days spent only, so they
are made once per such key and shared by every proposal with it: the whole pass is a few
queries and a few hundred keys, whatever the number of proposals.
"""

from __future__ import annotations

import math
import random
from array import array
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from babel.numbers import format_percent
from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.db.models import FloatField, Func
from django.utils import timezone

from proposals.localized import babel_locale
from proposals.models import MILESTONE_FIELDS, OPEN_STATES, Occasion, Proposal, ProposalState

STEPS = (ProposalState.DRAFT.value, ProposalState.IN_REVIEW.value, ProposalState.ENDORSEMENT.value)
"""The steps before submission, in order; each starts when its state is first reached."""
SUBMITTED = ProposalState.SUBMITTED.value
WITHDRAWN = ProposalState.WITHDRAWN.value

MIN_OBSERVATIONS = 20
"""Completed steps needed to learn a step's duration (per occasion kind, or over all kinds)."""
MIN_TAIL = 5
"""Past durations longer than the time already spent needed to condition on it."""
SAMPLES = 1000
"""Monte-Carlo draws per (step, groups, whole days spent)."""
DRAWS_KEPT = 1024
"""Draws kept per learned version in a process (8 kB each), the oldest forgotten first: a pass
over every open proposal needs a few hundred, and the days spent would otherwise add keys all
hour long in every web worker."""
KEPT = 1000
"""Order statistics kept of a step's durations (its quantiles when there are more)."""
SEED = "policy-tracker-forecast"
CACHE_SECONDS = 3600
ALL_KINDS = ""

# Why a forecast has no probability: stable codes (pages and the API translate or show them).
NOT_ENOUGH_HISTORY = "not_enough_history"
BEYOND_HISTORY = "beyond_history"
DEADLINE_PASSED = "deadline_passed"
NO_DEADLINE = "no_deadline"
REASONS = (NOT_ENOUGH_HISTORY, BEYOND_HISTORY, DEADLINE_PASSED, NO_DEADLINE)

DAY = 86400.0


def at_risk_below() -> float:
    """The probability under which a proposal is at risk (settings.FORECAST_AT_RISK_BELOW)."""
    return float(getattr(settings, "FORECAST_AT_RISK_BELOW", 0.5))


@dataclass(frozen=True)
class StepDurations:
    """Past durations of one step, in days, sorted (at most KEPT of them: order statistics),
    and how many were observed."""

    values: tuple[float, ...]
    count: int

    @property
    def median(self) -> float:
        return self.values[len(self.values) // 2]

    @property
    def mean(self) -> float:
        return sum(self.values) / len(self.values)

    @classmethod
    def of(cls, durations: list[float]) -> StepDurations:
        durations.sort()
        count = len(durations)
        if count > KEPT:
            durations = [durations[round(i * (count - 1) / (KEPT - 1))] for i in range(KEPT)]
        return cls(values=tuple(durations), count=count)


@dataclass
class Learned:
    """Durations of each step by (occasion kind, step); ALL_KINDS is every kind together."""

    steps: dict[tuple[str, str], StepDurations]
    version: str = ""
    draws: dict[tuple[Any, ...], Any] = field(default_factory=dict, repr=False, compare=False)

    def durations(self, kind: str, step: str) -> tuple[str, StepDurations] | None:
        """The durations used for a step of an occasion kind: the kind's if there are enough,
        else every kind's if there are enough, else None."""
        for group in (kind, ALL_KINDS):
            found = self.steps.get((group, step))
            if found is not None and found.count >= MIN_OBSERVATIONS:
                return group, found
        return None

    def __getstate__(self) -> dict[str, Any]:
        return {"steps": self.steps, "version": self.version}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.steps, self.version, self.draws = state["steps"], state["version"], {}


class Milestones(NamedTuple):
    """When a proposal first reached each state of its path, in seconds since the epoch (None:
    not yet). Numbers, not datetimes: 100k proposals' milestones are read in a tenth of the time."""

    draft: float | None = None
    in_review: float | None = None
    endorsement: float | None = None
    submitted: float | None = None
    withdrawn: float | None = None

    @classmethod
    def at(cls, **moments: datetime | None) -> Milestones:
        return cls(**{name: m.timestamp() if m else None for name, m in moments.items()})

    def current_step(self, at: float | None = None) -> tuple[int, float] | None:
        """The step the proposal is in (index in STEPS) and when it started, as of `at`."""
        for index in range(len(STEPS) - 1, -1, -1):
            started = self[index]
            if started is not None and (at is None or started < at):
                return index, started
        return None


class Epoch(Func):
    """A moment as seconds since the epoch (PostgreSQL and SQLite)."""

    output_field = FloatField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            template="EXTRACT(EPOCH FROM %(expressions)s)::double precision",
            **extra,
        )

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            template="((julianday(%(expressions)s) - 2440587.5) * 86400.0)",
            **extra,
        )


MILESTONE_STATES = (*STEPS, SUBMITTED, WITHDRAWN)
MILESTONE_COLUMNS = tuple(f"m_{state}" for state in MILESTONE_STATES)


def _with_milestones(queryset: Any) -> Any:
    """The proposals with their milestones as seconds since the epoch (MILESTONE_COLUMNS),
    read from their rows (Proposal.reached_*_at, written by the transitions)."""
    return queryset.order_by().annotate(
        **{
            column: Epoch(MILESTONE_FIELDS[state])
            for column, state in zip(MILESTONE_COLUMNS, MILESTONE_STATES, strict=True)
        }
    )


def _fetched(queryset: Any) -> list[tuple[Any, ...]]:
    """The rows of a `values_list` queryset as the database gives them, without Django's
    converters (which cost more than the query itself at 100,000 rows): numbers, text and
    the milestones as floats (Epoch), on PostgreSQL and SQLite."""
    sql, params = queryset.query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def milestones_of(proposal_ids: Iterable[int] | Any) -> dict[int, Milestones]:
    """Each proposal's milestones, in one query (ids, or a queryset of ids)."""
    ids = proposal_ids if hasattr(proposal_ids, "query") else list(proposal_ids)
    selected = _with_milestones(Proposal.objects.filter(pk__in=ids))
    return {
        row[0]: Milestones._make(row[1:])
        for row in _fetched(selected.values_list("pk", *MILESTONE_COLUMNS))
    }


def milestones_loaded(proposal: Proposal) -> Milestones | None:
    """The milestones of a proposal read with its row, None when a query selected it without
    them (reading a deferred field would cost a query each)."""
    if not proposal.get_deferred_fields().isdisjoint(MILESTONE_FIELDS.values()):
        return None
    return Milestones.at(
        **{state: getattr(proposal, MILESTONE_FIELDS[state]) for state in MILESTONE_STATES}
    )


def _milestones_and_kinds() -> tuple[dict[int, Milestones], dict[int, str]]:
    """Every proposal's milestones and its occasion's kind, in one query over the proposals
    (an index-only scan of `proposal_milestones` on PostgreSQL)."""
    rows = _fetched(
        _with_milestones(Proposal.objects.all()).values_list(
            "pk", "occasion__kind", *MILESTONE_COLUMNS
        )
    )
    milestones = {row[0]: Milestones._make(row[2:]) for row in rows}
    kinds = {row[0]: row[1] for row in rows if row[1] is not None}
    return milestones, kinds


def milestones_all() -> dict[int, Milestones]:
    """Every proposal's milestones, in one query over the proposals."""
    return _milestones_and_kinds()[0]


def durations_from(
    milestones: dict[int, Milestones], kinds: dict[int, str], before: datetime | None = None
) -> Learned:
    """Learn each step's durations from milestones, counting only the steps completed before
    `before` (all of them without it)."""
    limit = before.timestamp() if before is not None else math.inf
    by_kind: dict[str, list[list[float]]] = {}
    for pk, reached in milestones.items():
        found = None
        start = reached[0]
        for index in range(len(STEPS)):
            end = reached[index + 1]
            if start is not None and end is not None and end < limit:
                if found is None:
                    kind = kinds.get(pk, ALL_KINDS)
                    found = by_kind.get(kind) or by_kind.setdefault(kind, [[] for _ in STEPS])
                found[index].append((end - start) / DAY if end > start else 0.0)
            start = end
    collected: dict[tuple[str, str], list[float]] = {}
    every: list[list[float]] = [[] for _ in STEPS]
    for kind, lists in by_kind.items():
        for index, values in enumerate(lists):
            every[index].extend(values)
            if values:
                collected[(kind, STEPS[index])] = values
    for index, values in enumerate(every):
        if values:
            # A proposal without an occasion is of ALL_KINDS itself: it counts there twice.
            own = collected.get((ALL_KINDS, STEPS[index]), [])
            collected[(ALL_KINDS, STEPS[index])] = own + values
    return Learned(steps={key: StepDurations.of(values) for key, values in collected.items()})


def durations_learn(before: datetime | None = None) -> Learned:
    """Learn the steps' durations from every proposal's milestones (one query)."""
    return durations_from(*_milestones_and_kinds(), before)


_memory: dict[str, Learned] = {}


def durations_forget() -> None:
    """Forget what this process learned (tests that write a history and learn from it)."""
    _memory.clear()
    cache.delete_many([f"forecast:learned:{_window(timezone.now())}"])


def _window(now: datetime) -> str:
    return f"w{int(now.timestamp() // CACHE_SECONDS)}"


def durations_learned() -> Learned:
    """The learned durations, learned again once an hour (CACHE_SECONDS) and kept for that
    hour in the process and in the cache; no query when known.

    Not after every transition: learning reads every proposal's milestones (100,000 rows at
    100,000 proposals), and a group's history changes by a few steps a day, which an hour's
    delay does not change in any forecast that matters."""
    known = durations_known()
    return known if known is not None else durations_keep(durations_learn())


def durations_known() -> Learned | None:
    """The durations learned this hour, from the process or the cache; None if not learned."""
    version = _window(timezone.now())
    if version in _memory:
        return _memory[version]
    learned = cache.get(f"forecast:learned:{version}")
    if not isinstance(learned, Learned):
        return None
    _memory.clear()  # one version kept in the process, with its draws
    _memory[version] = learned
    return learned


def durations_keep(learned: Learned) -> Learned:
    """Keep what was just learned for the hour, in the process and in the cache."""
    version = _window(timezone.now())
    learned.version = version
    cache.set(f"forecast:learned:{version}", learned, CACHE_SECONDS)
    _memory.clear()
    _memory[version] = learned
    return learned


@dataclass(frozen=True)
class Forecast:
    """The forecast of one proposal: the chance it is submitted before its deadline."""

    probability: float | None
    expected_submission: date | None = None
    weighing_step: str | None = None
    typical_days: int | None = None
    days_left: int | None = None
    at_risk: bool = False
    reason: str = ""
    step: str | None = None

    @property
    def percent_text(self) -> str:
        """The probability as the current language writes a percentage ("23 %" in French)."""
        if self.probability is None:
            return ""
        return format_percent(self.probability, locale=babel_locale())


@dataclass(frozen=True)
class _Draws:
    totals: array[float]  # sorted days until submission: SAMPLES doubles, not float objects
    weighing_step: str
    typical_days: int


def _draws(learned: Learned, kind: str, index: int, spent_days: int) -> _Draws | str:
    """The Monte-Carlo draws of the days left until submission, or why there are none."""
    key = (kind, index, spent_days)
    found = learned.draws.get(key)
    if found is not None:
        return found
    groups: list[tuple[str, StepDurations]] = []
    for step in STEPS[index:]:
        durations = learned.durations(kind, step)
        if durations is None:
            return _kept(learned, key, NOT_ENOUGH_HISTORY)
        groups.append(durations)
    current = groups[0][1]
    tail = current.values[bisect_right(current.values, spent_days) :]
    if len(tail) * current.count / len(current.values) < MIN_TAIL:
        return _kept(learned, key, BEYOND_HISTORY)
    # Seeded from what the draws depend on: the same key always gives the same draws.
    rng = random.Random(f"{SEED}:{index}:{spent_days}:{[g for g, _d in groups]}")  # noqa: S311
    columns = [[value - spent_days for value in rng.choices(tail, k=SAMPLES)]]
    columns.extend(rng.choices(d.values, k=SAMPLES) for _g, d in groups[1:])
    totals = array("d", sorted(map(sum, zip(*columns, strict=True))))
    expected = [sum(tail) / len(tail) - spent_days] + [d.mean for _g, d in groups[1:]]
    heaviest = max(range(len(expected)), key=lambda i: expected[i])
    typical = groups[heaviest][1].median
    result = _Draws(
        totals=totals,
        weighing_step=STEPS[index + heaviest],
        typical_days=max(1, math.ceil(typical - 0.5)) if typical > 0.5 else 1,
    )
    return _kept(learned, key, result)


def _kept(learned: Learned, key: tuple[Any, ...], draws: _Draws | str) -> _Draws | str:
    """Keep the draws of `key`, forgetting the oldest beyond DRAWS_KEPT."""
    if len(learned.draws) >= DRAWS_KEPT:
        del learned.draws[next(iter(learned.draws))]
    learned.draws[key] = draws
    return draws


def _position(reached: Milestones | None, moment: float) -> tuple[int, int]:
    """The step a proposal is in at `moment` (index in STEPS) and the whole days spent in it:
    with its occasion, all a forecast depends on."""
    current = reached.current_step(moment) if reached is not None else None
    index, started = current if current is not None else (0, moment)
    return index, max(int((moment - started) // DAY), 0)


def forecast_one(
    learned: Learned,
    *,
    kind: str,
    deadline: datetime | None,
    reached: Milestones | None,
    now: datetime,
    zone: Any = None,
) -> Forecast:
    """The forecast of one open proposal from what is known at `now`."""
    if deadline is None:
        return Forecast(probability=None, reason=NO_DEADLINE)
    if deadline <= now:
        return Forecast(probability=None, reason=DEADLINE_PASSED, days_left=0)
    left = (deadline - now).total_seconds() / DAY
    index, spent = _position(reached, now.timestamp())
    draws = _draws(learned, kind, index, spent)
    step = STEPS[index]
    if isinstance(draws, str):
        return Forecast(probability=None, reason=draws, days_left=int(left), step=step)
    probability = bisect_right(draws.totals, left) / len(draws.totals)
    median = draws.totals[len(draws.totals) // 2]
    expected = now + timedelta(days=median)
    if zone is not None:
        expected = timezone.localtime(expected, zone)
    return Forecast(
        probability=round(probability, 3),
        expected_submission=expected.date(),
        weighing_step=draws.weighing_step,
        typical_days=draws.typical_days,
        days_left=int(left),
        at_risk=probability < at_risk_below(),
        step=step,
    )


OPEN = [state.value for state in OPEN_STATES]


def forecasts_for(
    proposals: Sequence[Proposal], *, now: datetime | None = None, learned: Learned | None = None
) -> dict[int, Forecast]:
    """The forecast of each open proposal given (their occasions selected with them), from the
    milestones on their rows: no query when the learned durations are cached, one for those
    whose milestones were not loaded with them. Proposals that are not open have none."""
    now = now or timezone.now()
    open_ones = [p for p in proposals if p.state in OPEN]
    if not open_ones:
        return {}
    learned = learned or durations_learned()
    reached = {p.pk: m for p in open_ones if (m := milestones_loaded(p)) is not None}
    missing = [p.pk for p in open_ones if p.pk not in reached]
    if missing:
        reached.update(milestones_of(missing))
    forecasts = {}
    for proposal in open_ones:
        occasion: Occasion | None = proposal.occasion
        forecasts[proposal.pk] = forecast_one(
            learned,
            kind=occasion.kind if occasion else ALL_KINDS,
            deadline=occasion.submission_deadline if occasion else None,
            reached=reached.get(proposal.pk),
            now=now,
            zone=occasion.zone if occasion else None,
        )
    return forecasts


@dataclass(frozen=True)
class OpenForecast:
    """An open proposal with an upcoming deadline and its forecast."""

    proposal_id: int
    occasion_id: int
    deadline_version: int
    forecast: Forecast


def open_forecasts(
    *, now: datetime | None = None, learned: Learned | None = None
) -> list[OpenForecast]:
    """The forecast of every open proposal whose deadline is ahead, in one pass: the learned
    durations (cached) and two queries (the occasions whose deadline is ahead, their open
    proposals with their milestones). When the durations must be learned first, one query
    more (every proposal's milestones and occasion kind)."""
    now = now or timezone.now()
    learned = learned or durations_known()
    if learned is None:
        learned = durations_keep(durations_learn())
    occasions = {
        pk: (kind, deadline, version)
        for pk, kind, deadline, version in Occasion.objects.filter(
            submission_deadline__gt=now
        ).values_list("pk", "kind", "submission_deadline", "deadline_version")
    }
    # The deadlines read once per occasion, not once per proposal.
    selected = _with_milestones(
        Proposal.objects.filter(state__in=OPEN, occasion_id__in=list(occasions))
    ).values_list("pk", "occasion_id", *MILESTONE_COLUMNS)
    moment = now.timestamp()
    # Proposals of one occasion in the same step for as many days share their forecast.
    shared: dict[tuple[int, int, int], Forecast] = {}
    forecasts = []
    for pk, occasion_id, *moments in _fetched(selected):
        kind, deadline, version = occasions[occasion_id]
        reached = Milestones._make(moments)
        key = (occasion_id, *_position(reached, moment))
        found = shared.get(key)
        if found is None:
            found = shared[key] = forecast_one(
                learned, kind=kind, deadline=deadline, reached=reached, now=now
            )
        forecasts.append(
            OpenForecast(
                proposal_id=pk, occasion_id=occasion_id, deadline_version=version, forecast=found
            )
        )
    return forecasts


def proposal_forecast(proposal: Proposal, *, now: datetime | None = None) -> Forecast | None:
    """The forecast of one proposal (its occasion selected with it); None when it is not open."""
    return forecasts_for([proposal], now=now).get(proposal.pk)


def at_risk_first(
    proposals: Iterable[Proposal], forecasts: dict[int, Forecast]
) -> list[tuple[Proposal, Forecast]]:
    """The proposals at risk among these, least likely first."""
    found = {p.pk: p for p in proposals if forecasts.get(p.pk) and forecasts[p.pk].at_risk}
    return sorted(
        ((proposal, forecasts[pk]) for pk, proposal in found.items()),
        key=lambda pair: (pair[1].probability or 0, pair[0].pk),
    )
