"""A proposal's version: every write that changes what it shows raises it by one, and a write
made on an older version than the one stored is refused as a conflict, writing nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from proposals.models import Endorsement, Proposal, ProposalState, Review
from proposals.selectors import proposals_with_rule_data
from proposals.services import (
    endorsement_create,
    endorsement_withdraw,
    occasion_move_deadline,
    proposal_create,
    proposal_transition_run,
    proposal_update,
)
from tests.factories import Group, OccasionFactory, proposal_draft
from workflow.errors import RefusalKind, Refused
from workflow.models import AuditEvent, Delivery, TransitionLog

pytestmark = pytest.mark.django_db


def fresh(proposal: Proposal) -> Proposal:
    return proposals_with_rule_data().get(pk=proposal.pk)


def version_of(proposal: Proposal) -> int:
    return Proposal.objects.values_list("version", flat=True).get(pk=proposal.pk)


def run(proposal: Proposal, name: str, actor: Any, comment: str = "", **arguments: Any) -> Proposal:
    return proposal_transition_run(
        proposal=fresh(proposal), name=name, actor=actor, comment=comment, arguments=arguments
    ).obj


def in_endorsement(group: Group) -> Proposal:
    return run(
        run(proposal_draft(group), "submit_for_review", group.drafter), "approve", group.reviewer
    )


def written(proposal: Proposal) -> tuple[int, ...]:
    """What a write leaves: log rows, outbox rows, audit rows, reviews, endorsements."""
    return (
        TransitionLog.objects.for_object(proposal).count(),
        Delivery.objects.count(),
        AuditEvent.objects.count(),
        Review.objects.filter(proposal=proposal).count(),
        Endorsement.objects.filter(proposal=proposal, withdrawn_at__isnull=True).count(),
    )


# Each kind of write raises the version once.


def test_a_new_proposal_is_at_version_1(group: Group) -> None:
    proposal = proposal_create(author=group.drafter, title="Decent work")
    assert version_of(proposal) == 1


def test_each_edit_raises_the_version_once(group: Group) -> None:
    proposal = proposal_draft(group)
    updated = proposal_update(proposal=fresh(proposal), editor=group.drafter, title="New title")
    assert updated.version == version_of(proposal) == 2
    proposal_update(proposal=fresh(proposal), editor=group.drafter, language="fr")
    assert version_of(proposal) == 3


def test_each_transition_raises_the_version_once(group: Group) -> None:
    proposal = proposal_draft(group)
    decided_on = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    steps: list[tuple[str, Any, str, dict[str, Any]]] = [
        ("submit_for_review", group.drafter, "", {}),
        ("approve", group.reviewer, "", {}),  # a review, and open for endorsement
    ]
    for name, actor, comment, arguments in steps:
        before = version_of(proposal)
        assert run(proposal, name, actor, comment, **arguments).version == before + 1
        assert version_of(proposal) == before + 1, name
    for person in (group.representative_fr, group.representative_ma):
        endorsement_create(proposal=fresh(proposal), person=person)
    for name, arguments in (
        ("submit", {"reference": "A/81/1"}),  # a submission
        ("record_outcome", {"outcome": "adopted", "decided_on": decided_on}),  # an outcome
    ):
        before = version_of(proposal)
        run(proposal, name, group.secretariat, **arguments)
        assert version_of(proposal) == before + 1, name
    assert fresh(proposal).state == ProposalState.CLOSED


def test_an_approval_that_leaves_the_proposal_in_review_raises_the_version_once(
    group: Group,
) -> None:
    occasion = OccasionFactory.create(required_approvals=2)
    proposal = run(proposal_draft(group, occasion=occasion), "submit_for_review", group.drafter)
    before = version_of(proposal)
    assert run(proposal, "approve", group.reviewer).state == ProposalState.IN_REVIEW
    assert version_of(proposal) == before + 1


def test_requesting_changes_raises_the_version_once(group: Group) -> None:
    proposal = run(proposal_draft(group), "submit_for_review", group.drafter)
    before = version_of(proposal)
    assert run(proposal, "request_changes", group.reviewer, "Shorten it.").version == before + 1
    assert version_of(proposal) == before + 1


def test_withdrawing_a_proposal_raises_the_version_once(group: Group) -> None:
    proposal = proposal_draft(group)
    run(proposal, "withdraw", group.drafter)
    assert version_of(proposal) == 2


def test_an_endorsement_and_its_withdrawal_each_raise_the_version_once(group: Group) -> None:
    proposal = in_endorsement(group)
    before = version_of(proposal)
    endorsement = endorsement_create(proposal=fresh(proposal), person=group.representative_ma)
    assert version_of(proposal) == before + 1
    endorsement_withdraw(endorsement=endorsement, person=group.representative_ma)
    assert version_of(proposal) == before + 2


def test_a_deadline_move_raises_the_version_of_the_occasions_proposals_once(
    group: Group,
) -> None:
    timed = proposal_draft(group)
    elsewhere = proposal_draft(group, occasion=OccasionFactory.create())
    untimed = proposal_draft(group, occasion=None)
    occasion = group.occasion
    occasion_move_deadline(
        occasion=occasion,
        new_deadline=occasion.submission_deadline + dt.timedelta(days=1),
        actor=group.secretariat,
    )
    assert [version_of(p) for p in (timed, elsewhere, untimed)] == [2, 1, 1]
    occasion.refresh_from_db()
    occasion_move_deadline(  # the same deadline again: nothing moves
        occasion=occasion, new_deadline=occasion.submission_deadline, actor=group.secretariat
    )
    assert version_of(timed) == 2


# A write on a stale version is refused and writes nothing.


def test_a_transition_on_a_stale_version_is_a_conflict_and_writes_nothing(group: Group) -> None:
    occasion = OccasionFactory.create(required_approvals=2)
    proposal = run(proposal_draft(group, occasion=occasion), "submit_for_review", group.drafter)
    seen = version_of(proposal)
    run(proposal, "approve", group.reviewer)  # still in review, one version further
    before = written(proposal)
    with pytest.raises(Refused) as caught:
        proposal_transition_run(
            proposal=fresh(proposal),
            name="request_changes",
            actor=group.second_reviewer,
            comment="Shorten it.",
            seen_version=seen,
        )
    assert caught.value.kind == RefusalKind.CONFLICT
    assert caught.value.codes == ["changed_meanwhile"]
    assert caught.value.reasons == [
        "Someone changed this proposal while you were acting: it is now in review. "
        "Reload it and try again."
    ]
    assert written(proposal) == before
    assert (fresh(proposal).state, version_of(proposal)) == (ProposalState.IN_REVIEW, seen + 1)
    result = proposal_transition_run(  # on the version stored, it runs
        proposal=fresh(proposal),
        name="request_changes",
        actor=group.second_reviewer,
        comment="Shorten it.",
        seen_version=seen + 1,
    )
    assert (result.obj.state, result.obj.version) == (ProposalState.DRAFT, seen + 2)


def test_an_endorsement_on_a_stale_version_is_a_conflict_and_writes_nothing(group: Group) -> None:
    proposal = in_endorsement(group)
    seen = version_of(proposal)
    endorsement_create(proposal=fresh(proposal), person=group.representative_ma)
    before = written(proposal)
    with pytest.raises(Refused) as caught:  # it would reach the quorum and tell the secretariat
        endorsement_create(
            proposal=fresh(proposal), person=group.representative_fr, seen_version=seen
        )
    assert caught.value.kind == RefusalKind.CONFLICT
    assert caught.value.codes == ["changed_meanwhile"]
    assert written(proposal) == before
    assert version_of(proposal) == seen + 1


def test_withdrawing_an_endorsement_on_a_stale_version_is_a_conflict_and_writes_nothing(
    group: Group,
) -> None:
    proposal = in_endorsement(group)
    endorsement = endorsement_create(proposal=fresh(proposal), person=group.representative_ma)
    seen = version_of(proposal)
    endorsement_create(proposal=fresh(proposal), person=group.representative_fr)
    before = written(proposal)
    with pytest.raises(Refused) as caught:
        endorsement_withdraw(
            endorsement=endorsement, person=group.representative_ma, seen_version=seen
        )
    assert caught.value.kind == RefusalKind.CONFLICT
    assert written(proposal) == before
    assert Endorsement.objects.get(pk=endorsement.pk).withdrawn_at is None


def test_a_write_that_cannot_run_anyway_says_why_rather_than_conflict(group: Group) -> None:
    """The reason it cannot run says more than "reload"; nothing is written either way."""
    proposal = in_endorsement(group)
    endorsement = endorsement_create(proposal=fresh(proposal), person=group.representative_ma)
    endorsement_create(proposal=fresh(proposal), person=group.representative_fr)
    seen = version_of(proposal)
    endorsement_withdraw(endorsement=endorsement, person=group.representative_ma)
    with pytest.raises(Refused) as caught:
        proposal_transition_run(
            proposal=fresh(proposal), name="submit", actor=group.secretariat, seen_version=seen
        )
    assert caught.value.kind == RefusalKind.CONDITION
    assert caught.value.reasons == ["1 endorsement of 2 needed."]


def test_a_change_of_state_since_the_actor_saw_it_is_a_conflict_without_a_version(
    group: Group,
) -> None:
    """Callers that pass no version keep the comparison of states (seen_state, by default the
    state of the object passed)."""
    proposal = in_endorsement(group)
    run(proposal, "withdraw", group.drafter)
    with pytest.raises(Refused) as caught:
        proposal_transition_run(
            proposal=fresh(proposal),
            name="submit",
            actor=group.secretariat,
            seen_state=ProposalState.ENDORSEMENT,
        )
    assert caught.value.kind == RefusalKind.CONFLICT
    assert "it is now withdrawn" in caught.value.reasons[0]
