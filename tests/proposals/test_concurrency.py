"""Two people acting on one proposal at the same moment never both win (PostgreSQL row locks)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from proposals.models import Person, ProposalState
from proposals.selectors import proposals_with_rule_data
from tests.factories import group_setup, proposal_draft
from tests.proposals.api.helpers import run_at_once
from workflow.errors import RefusalKind, Refused
from workflow.models import TransitionLog
from workflow.services import transition_run


def test_conflicting_transitions_at_once_one_wins_the_others_are_told_it_changed(
    django_db_serialized_rollback: None, postgres: None
) -> None:
    group = group_setup()
    proposal = proposal_draft(group)
    transition_run(
        obj=proposals_with_rule_data().get(pk=proposal.pk),
        name="submit_for_review",
        actor=group.drafter,
    )
    logged_before = TransitionLog.objects.for_object(proposal).count()
    attempts: list[tuple[str, Person, str, dict[str, str]]] = [
        ("approve", group.reviewer, "", {}),
        ("request_changes", group.second_reviewer, "Shorten it.", {}),
        ("withdraw", group.drafter, "Not now.", {}),
        ("approve", group.secretariat, "", {}),
    ]
    # Each person has read the proposal in review before any of them acts.
    seen = [proposals_with_rule_data().get(pk=proposal.pk) for _ in attempts]

    def attempt(index: int) -> Callable[[], Any]:
        name, actor, comment, arguments = attempts[index]
        return lambda: transition_run(
            obj=seen[index], name=name, actor=actor, comment=comment, arguments=arguments
        )

    outcomes = run_at_once([attempt(i) for i in range(len(attempts))])

    won = [o for o in outcomes if not isinstance(o, Exception)]
    refused = [o for o in outcomes if isinstance(o, Refused)]
    assert len(won) == 1, outcomes
    assert len(refused) == len(attempts) - 1, outcomes
    assert {r.kind for r in refused} == {RefusalKind.CONFLICT}
    assert all("Reload it and try again" in r.reasons[0] for r in refused)
    assert TransitionLog.objects.for_object(proposal).count() == logged_before + 1
    proposal.refresh_from_db()
    assert proposal.state != ProposalState.IN_REVIEW
