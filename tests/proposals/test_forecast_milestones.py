"""Each proposal's milestones kept on its row (migration 0022): the transitions write them in
their own UPDATE, the migration fills them from the log, the demo and the history generator
write them, and the forecast read from them is the one read from the log before."""

from __future__ import annotations

import datetime as dt
import importlib
import math
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import Min, Q
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from proposals import forecast
from proposals.forecast import (
    ALL_KINDS,
    MILESTONE_STATES,
    STEPS,
    Epoch,
    Learned,
    Milestones,
    OpenForecast,
    StepDurations,
    durations_learn,
    forecast_one,
    milestones_all,
    open_forecasts,
)
from proposals.forecast.history import Cast, history_generate
from proposals.models import MILESTONE_FIELDS, Proposal
from proposals.services import proposal_transition_run, proposal_update
from tests.factories import Group, proposal_draft
from workflow.models import TransitionLog

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)
fill = importlib.import_module("proposals.migrations.0022_proposal_milestones")


# The forecast as it was before 0022, from the log: the reference the new one must equal.


def log_milestones() -> dict[int, Milestones]:
    """Every proposal's milestones grouped from the log (the GROUP BY the forecast ran)."""
    rows = (
        TransitionLog.objects.filter(content_type=ContentType.objects.get_for_model(Proposal))
        .order_by()
        .values("object_id")
        .annotate(
            **{f"m_{state}": Epoch(Min("at", filter=Q(target=state))) for state in MILESTONE_STATES}
        )
        .values_list("object_id", *(f"m_{state}" for state in MILESTONE_STATES))
    )
    return {
        row[0]: Milestones(*(float(v) if v is not None else None for v in row[1:])) for row in rows
    }


def log_durations(milestones: dict[int, Milestones], kinds: dict[int, str]) -> Learned:
    """The learning as it was written before 0022."""
    collected: dict[tuple[str, str], list[float]] = {}
    for pk, reached in milestones.items():
        kind = kinds.get(pk, ALL_KINDS)
        for index, step in enumerate(STEPS):
            start, end = reached[index], reached[index + 1]
            if start is None or end is None:
                continue
            days = max((end - start) / 86400.0, 0.0)
            collected.setdefault((kind, step), []).append(days)
            collected.setdefault((ALL_KINDS, step), []).append(days)
    return Learned(steps={key: StepDurations.of(values) for key, values in collected.items()})


def log_open_forecasts(now: dt.datetime) -> tuple[Learned, list[OpenForecast]]:
    """open_forecasts as it was before 0022: learned from the log, the open ones' milestones
    from the log."""
    reached = log_milestones()
    kinds = dict(
        Proposal.objects.filter(occasion__isnull=False).values_list("pk", "occasion__kind")
    )
    learned = log_durations(reached, kinds)
    rows = Proposal.objects.filter(
        state__in=forecast.OPEN, occasion__submission_deadline__gt=now
    ).values_list(
        "pk",
        "occasion_id",
        "occasion__kind",
        "occasion__submission_deadline",
        "occasion__deadline_version",
    )
    return learned, [
        OpenForecast(
            proposal_id=pk,
            occasion_id=occasion_id,
            deadline_version=version,
            forecast=forecast_one(
                learned, kind=kind, deadline=deadline, reached=reached.get(pk), now=now
            ),
        )
        for pk, occasion_id, kind, deadline, version in rows.order_by("pk")
    ]


def kept_milestones() -> dict[int, Milestones]:
    """The milestones on the proposals' rows, of the proposals that have any."""
    return {pk: reached for pk, reached in milestones_all().items() if any(reached)}


def same_moments(a: dict[int, Milestones], b: dict[int, Milestones]) -> bool:
    """Equal to the microsecond (seconds since the epoch computed by the database)."""
    if a.keys() != b.keys():
        return False
    return all(
        (x is None and y is None) or (x is not None and y is not None and math.isclose(x, y))
        for pk in a
        for x, y in zip(a[pk], b[pk], strict=True)
    )


def assert_the_forecast_is_the_logs(now: dt.datetime) -> list[OpenForecast]:
    learned_before, before = log_open_forecasts(now)
    learned = durations_learn()
    assert learned.steps.keys() == learned_before.steps.keys()
    for key, durations in learned.steps.items():
        expected = learned_before.steps[key]
        assert durations.count == expected.count, key
        assert all(
            math.isclose(x, y, abs_tol=1e-9)
            for x, y in zip(durations.values, expected.values, strict=True)
        ), key
    forecast.durations_forget()
    after = sorted(open_forecasts(now=now), key=lambda item: item.proposal_id)
    assert after == before
    return after


def history(group: Group, seed: int) -> None:
    now = timezone.now()
    history_generate(
        cast=Cast(author=group.drafter, organization=group.france, body=group.body),
        seed=seed,
        end=now,
        first_deadline=now - 400 * DAY,
        # Deadlines up to two months ahead: some proposals are still on their way.
        last_deadline=now + 60 * DAY,
        occasions_per_kind=5,
        proposals_per_occasion=12,
    )


def test_the_demos_proposals_keep_the_milestones_their_log_has(demo_loaded: None) -> None:
    kept = kept_milestones()
    assert same_moments(kept, log_milestones())
    # Proposals of the demo went through every milestone, some back to draft on the way.
    for index, _state in enumerate(MILESTONE_STATES):
        assert any(reached[index] is not None for reached in kept.values())
    forecasts = assert_the_forecast_is_the_logs(timezone.now())
    assert any(item.forecast.probability is not None for item in forecasts)


def test_generated_history_keeps_the_milestones_its_log_has(group: Group) -> None:
    history(group, seed=5)

    assert same_moments(kept_milestones(), log_milestones())
    forecasts = assert_the_forecast_is_the_logs(timezone.now())
    assert sum(item.forecast.probability is not None for item in forecasts) > 5


def test_the_migration_fills_the_milestones_from_the_log(group: Group) -> None:
    history(group, seed=8)
    proposal_draft(group)  # no log row: no milestone
    expected = kept_milestones()
    Proposal.objects.update(**dict.fromkeys(MILESTONE_FIELDS.values()))
    assert not kept_milestones()

    with connection.cursor() as cursor:
        cursor.execute(fill.milestones_fill_sql())

    assert same_moments(kept_milestones(), expected)
    assert same_moments(kept_milestones(), log_milestones())


def proposal_updates(captured: CaptureQueriesContext) -> list[str]:
    return [
        query["sql"]
        for query in captured.captured_queries
        if query["sql"].startswith('UPDATE "proposals_proposal"')
    ]


def run(proposal: Proposal, name: str, actor: Any, comment: str = "") -> tuple[Proposal, str]:
    """The transition through the audited service, and its one UPDATE of the proposal."""
    with CaptureQueriesContext(connection) as captured:
        result = proposal_transition_run(proposal=proposal, name=name, actor=actor, comment=comment)
    (update,) = proposal_updates(captured)
    return result.obj, update


def logged(proposal: Proposal, transition: str) -> dt.datetime:
    return (
        TransitionLog.objects.for_object(proposal).filter(transition=transition).earliest("at").at
    )


def test_a_transition_writes_its_milestone_in_its_own_update_once(group: Group) -> None:
    proposal = proposal_draft(group)  # made by the factory: no log row, no milestone yet

    proposal, update = run(proposal, "submit_for_review", group.drafter)
    first = logged(proposal, "submit_for_review")
    assert proposal.reached_in_review_at == first and '"reached_in_review_at"' in update
    proposal, update = run(proposal, "request_changes", group.reviewer, comment="More data.")
    assert proposal.reached_draft_at == logged(proposal, "request_changes")
    assert '"reached_draft_at"' in update
    proposal = proposal_update(proposal=proposal, editor=group.drafter, text="More data.")
    proposal, update = run(proposal, "submit_for_review", group.drafter)
    assert "reached_" not in update  # in review again: the first time stays
    proposal, update = run(proposal, "approve", group.reviewer)
    assert '"reached_endorsement_at"' in update

    stored = Proposal.objects.get(pk=proposal.pk)
    assert (stored.reached_in_review_at, stored.reached_endorsement_at) == (
        first,
        logged(proposal, "approve"),
    )
    assert same_moments(forecast.milestones_of([proposal.pk]), log_milestones())
