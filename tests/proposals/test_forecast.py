"""The at-risk forecast: learning from the milestones the log has, conditioning on the time
spent, honesty with too little history, the back-test (proposals/forecast)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db.models import Min
from django.utils import timezone

from proposals import forecast
from proposals.forecast import (
    ALL_KINDS,
    BEYOND_HISTORY,
    DEADLINE_PASSED,
    MIN_OBSERVATIONS,
    NOT_ENOUGH_HISTORY,
    Learned,
    Milestones,
    StepDurations,
    durations_learn,
    forecast_one,
    forecasts_for,
)
from proposals.forecast.backtest import backtest, calibration_svg
from proposals.forecast.history import Cast, history_generate
from proposals.models import MILESTONE_FIELDS, Occasion, Proposal
from tests.factories import Group, OccasionFactory, proposal_draft
from workflow.models import TransitionLog

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


def log(proposal: Proposal, rows: list[tuple[str, str, dt.datetime]]) -> None:
    """Log rows written for the proposal, and its milestones as the transitions that write
    them keep them (the first time it entered each state)."""
    content_type = ContentType.objects.get_for_model(Proposal)
    for source, target, at in rows:
        TransitionLog.objects.create(
            content_type=content_type,
            object_id=proposal.pk,
            transition="t",
            source=source,
            target=target,
            at=at,
        )
    firsts = (
        TransitionLog.objects.for_object(proposal)
        .order_by()
        .values("target")
        .annotate(first=Min("at"))
    )
    Proposal.objects.filter(pk=proposal.pk).update(
        **{
            MILESTONE_FIELDS[row["target"]]: row["first"]
            for row in firsts
            if row["target"] in MILESTONE_FIELDS
        }
    )


def past_proposal(
    group: Group,
    occasion: Occasion,
    start: dt.datetime,
    draft: float,
    review: float,
    endorse: float,
) -> Proposal:
    proposal = proposal_draft(group, occasion=occasion)
    in_review = start + dt.timedelta(days=draft)
    endorsement = in_review + dt.timedelta(days=review)
    log(
        proposal,
        [
            ("", "draft", start),
            ("draft", "in_review", in_review),
            ("in_review", "endorsement", endorsement),
            ("endorsement", "submitted", endorsement + dt.timedelta(days=endorse)),
        ],
    )
    return proposal


def steps(**durations: list[float]) -> Learned:
    return Learned(
        steps={
            (ALL_KINDS, step): StepDurations.of(list(values)) for step, values in durations.items()
        }
    )


def test_learning_reads_each_steps_duration_from_the_log_by_occasion_kind(group: Group) -> None:
    summit = OccasionFactory.create(kind=Occasion.Kind.SUMMIT)
    law = OccasionFactory.create(kind=Occasion.Kind.LAW_CONSULTATION)
    start = NOW - dt.timedelta(days=200)
    for _ in range(MIN_OBSERVATIONS):
        past_proposal(group, summit, start, draft=10, review=6, endorse=3)
    for _ in range(3):
        past_proposal(group, law, start, draft=2, review=1, endorse=1)
    # A proposal sent back once: its review step runs from the first request for review to
    # the approval, the loop included (8 days), not the second review alone.
    looped = proposal_draft(group, occasion=law)
    log(
        looped,
        [
            ("", "draft", start),
            ("draft", "in_review", start + 2 * DAY),
            ("in_review", "draft", start + 4 * DAY),
            ("draft", "in_review", start + 7 * DAY),
            ("in_review", "endorsement", start + 10 * DAY),
        ],
    )

    learned = durations_learn()

    summit_draft = learned.steps[(Occasion.Kind.SUMMIT, "draft")]
    assert (summit_draft.count, summit_draft.median) == (MIN_OBSERVATIONS, 10.0)
    assert learned.steps[(Occasion.Kind.SUMMIT, "in_review")].median == 6.0
    assert learned.steps[(Occasion.Kind.SUMMIT, "endorsement")].median == 3.0
    law_review = learned.steps[(Occasion.Kind.LAW_CONSULTATION, "in_review")]
    assert sorted(law_review.values) == [1.0, 1.0, 1.0, 8.0]
    assert learned.steps[(ALL_KINDS, "in_review")].count == MIN_OBSERVATIONS + 4
    # Enough summits to use their own durations; too few law consultations: every kind's.
    assert learned.durations(Occasion.Kind.SUMMIT, "draft")[0] == Occasion.Kind.SUMMIT  # type: ignore[index]
    assert learned.durations(Occasion.Kind.LAW_CONSULTATION, "in_review")[0] == ALL_KINDS  # type: ignore[index]
    # Only what was completed before a moment is learned at that moment.
    early = durations_learn(before=start + 5 * DAY).steps
    assert (Occasion.Kind.SUMMIT, "draft") not in early
    assert early[(Occasion.Kind.LAW_CONSULTATION, "draft")].count == 4


def test_the_forecast_is_conditioned_on_the_time_already_spent_in_the_step() -> None:
    learned = steps(in_review=[float(d) for d in range(1, 31)], endorsement=[1.0] * 30)
    started = NOW - dt.timedelta(days=20, hours=3)
    reached = Milestones.at(draft=NOW - 40 * DAY, in_review=started)
    deadline = NOW + dt.timedelta(days=5, hours=12)

    spent = forecast_one(learned, kind="summit", deadline=deadline, reached=reached, now=NOW)
    fresh = forecast_one(
        learned,
        kind="summit",
        deadline=deadline,
        reached=Milestones.at(draft=NOW - 40 * DAY, in_review=NOW - dt.timedelta(hours=1)),
        now=NOW,
    )

    draws = learned.draws[("summit", 1, 20)]
    # Only reviews longer than the 20 days spent are drawn, less what is spent: 1 to 10 days
    # left in review, plus one day of endorsement.
    assert min(draws.totals) >= 2 and max(draws.totals) <= 11
    assert 0.3 < spent.probability < 0.55  # type: ignore[operator]
    assert fresh.probability is not None and fresh.probability < 0.25
    assert spent.step == "in_review" and spent.weighing_step == "in_review"
    assert spent.days_left == 5 and spent.typical_days == 16
    assert spent.at_risk
    # Seeded: the same question gives the same answer.
    learned.draws.clear()
    assert (
        forecast_one(learned, kind="summit", deadline=deadline, reached=reached, now=NOW) == spent
    )


def test_with_too_little_history_the_forecast_says_so_instead_of_guessing() -> None:
    few = steps(
        draft=[3.0] * (MIN_OBSERVATIONS - 1),
        in_review=[3.0] * MIN_OBSERVATIONS,
        endorsement=[3.0] * MIN_OBSERVATIONS,
    )
    reached = Milestones.at(draft=NOW - DAY)
    deadline = NOW + 30 * DAY
    answer = forecast_one(few, kind="summit", deadline=deadline, reached=reached, now=NOW)
    assert (answer.probability, answer.reason, answer.at_risk) == (None, NOT_ENOUGH_HISTORY, False)

    # In review for longer than nearly every past review: no tail to draw from.
    long = steps(in_review=[float(d) for d in range(1, 31)], endorsement=[1.0] * 30)
    stuck = Milestones.at(draft=NOW - 90 * DAY, in_review=NOW - 28 * DAY)
    answer = forecast_one(long, kind="summit", deadline=deadline, reached=stuck, now=NOW)
    assert (answer.probability, answer.reason) == (None, BEYOND_HISTORY)

    answer = forecast_one(long, kind="summit", deadline=NOW - DAY, reached=stuck, now=NOW)
    assert (answer.probability, answer.reason) == (None, DEADLINE_PASSED)


def test_forecasts_for_a_page_of_proposals_run_a_constant_number_of_queries(
    group: Group, django_assert_num_queries: object
) -> None:
    history_generate(
        cast=Cast(author=group.drafter, organization=group.france, body=group.body),
        seed=3,
        end=timezone.now() - 30 * DAY,
        occasions_per_kind=3,
        proposals_per_occasion=8,
    )
    forecast.durations_learned()  # learned once, then kept for the hour

    def page() -> list[Proposal]:
        return list(Proposal.objects.filter(state="draft").select_related("occasion"))

    proposal_draft(group)
    one = page()
    with django_assert_num_queries(0):  # type: ignore[operator]
        first = forecasts_for(one)  # the milestones come with the rows
    for _ in range(3):
        proposal_draft(group)
    many = page()
    at = timezone.now()
    with django_assert_num_queries(0):  # type: ignore[operator]
        answers = forecasts_for(many, now=at)
    assert len(answers) == len(many) == len(first) + 3
    assert all(answer.probability is not None for answer in answers.values())
    # Rows read without their milestones: one query reads those of the whole page, and the
    # forecasts are the same.
    deferred = list(
        Proposal.objects.filter(state="draft")
        .select_related("occasion")
        .defer(*MILESTONE_FIELDS.values())
    )
    with django_assert_num_queries(1):  # type: ignore[operator]
        assert forecasts_for(deferred, now=at) == answers


def test_the_backtest_on_generated_history_gives_sane_figures(group: Group) -> None:
    generated = history_generate(
        cast=Cast(author=group.drafter, organization=group.france, body=group.body),
        seed=11,
        end=timezone.now(),
        occasions_per_kind=6,
        proposals_per_occasion=10,
    )
    assert generated.late > 0 and generated.submitted_in_time > 0

    report = backtest(step=dt.timedelta(days=14))

    assert report.moments > 10 and report.forecasts > 50
    assert report.brier is not None and 0 <= report.brier <= 1
    assert report.brier_all_on_time is not None and 0 <= report.brier_all_on_time <= 1
    assert sum(b.count for b in report.bins) == report.forecasts - report.without_probability
    assert all(0 <= (b.observed or 0) <= 1 for b in report.bins)
    # The history has late proposals the forecast can see coming: it beats "all on time".
    assert report.brier < report.brier_all_on_time
    assert calibration_svg(report, title="test").startswith("<svg")


def test_the_backtest_command_prints_its_figures(group: Group, tmp_path: object) -> None:
    import json
    from io import StringIO
    from pathlib import Path

    from django.core.management import call_command

    history_generate(
        cast=Cast(author=group.drafter, organization=group.france, body=group.body),
        seed=2,
        end=timezone.now(),
        occasions_per_kind=4,
        proposals_per_occasion=8,
    )
    out = StringIO()
    svg = Path(str(tmp_path)) / "plot.svg"
    call_command("forecast_backtest", "--json", "--svg", str(svg), stdout=out)
    figures = json.loads(out.getvalue())
    assert 0 <= figures["brier"] <= 1
    assert sum(b["count"] for b in figures["bins"]) == (
        figures["forecasts"] - figures["without_probability"]
    )
    assert svg.read_text().startswith("<svg")
