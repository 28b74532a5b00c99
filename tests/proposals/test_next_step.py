"""Who acts next on a proposal (proposals.lifecycle.next_step): one function for every face,
at most one query, and the quorum that moves a proposal from the representatives to the
secretariat."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from proposals.lifecycle import next_step
from proposals.models import Organization, Proposal
from proposals.selectors import proposals_awaiting_endorsement_by, proposals_ready_to_submit
from proposals.services import endorsement_create
from tests.factories import Group, MembershipFactory, PersonFactory, proposal_draft
from tests.proposals.web.helpers import endorsed, fresh, in_endorsement, in_review, run

pytestmark = pytest.mark.django_db


def queries_of(proposal: Proposal) -> int:
    proposal = fresh(proposal)
    with CaptureQueriesContext(connection) as captured:
        next_step(proposal)
    return len(captured)


def test_in_review_the_reviewers_who_have_not_decided_are_named(group: Group) -> None:
    group.occasion.required_approvals = 2
    group.occasion.save()
    proposal = run(in_review(group), "approve", group.reviewer)
    step = next_step(fresh(proposal))
    assert step is not None
    assert (step.who, step.missing) == ("reviewers", 1)
    assert [person.username for person in step.people] == ["ines"]


def test_a_reviewer_who_wrote_the_proposal_is_not_named(group: Group) -> None:
    MembershipFactory.create(person=group.drafter, organization=group.france, role="reviewer")
    step = next_step(fresh(in_review(group)))
    assert step is not None
    assert group.drafter not in step.people


def test_with_no_reviewer_left_the_secretariat_is_told(group: Group) -> None:
    group.occasion.required_approvals = 3
    group.occasion.save()
    proposal = run(in_review(group), "approve", group.reviewer)
    proposal = run(proposal, "approve", group.second_reviewer)
    step = next_step(fresh(proposal))
    assert step is not None
    assert (step.who, step.missing, step.people) == ("secretariat", 1, ())
    assert step.sentence == (
        "Next: 1 more approval is needed, and no reviewer is left to give it: the secretariat "
        "reviews it or names a reviewer."
    )


def test_in_endorsement_the_members_still_missing_are_named_with_their_representatives(
    group: Group,
) -> None:
    proposal = endorsed(group, group.representative_ma)
    step = next_step(fresh(proposal))
    assert step is not None
    assert step.who == "representatives"
    assert step.missing == 1
    assert [o.name for o in step.organizations] == ["France", "Luxembourg"]
    assert {p.username for p in step.people} == {"marianne", "lena"}


def test_with_no_full_member_left_to_endorse_the_secretariat_is_told(group: Group) -> None:
    group.occasion.endorsement_quorum = 4
    group.occasion.save()
    proposal = endorsed(
        group, group.representative_fr, group.representative_ma, group.representative_lu
    )
    step = next_step(fresh(proposal))
    assert step is not None
    assert (step.who, step.missing, step.organizations) == ("secretariat", 1, ())
    assert step.sentence == (
        "Next: 1 more endorsement is needed, and no full member is left to give it: the "
        "secretariat decides what to do."
    )


def test_an_observer_and_a_former_member_are_never_awaited(group: Group) -> None:
    former = Organization.objects.create(
        name="Former", kind=Organization.Kind.STATE, status=Organization.Status.FORMER
    )
    MembershipFactory.create(
        person=PersonFactory.create(username="gone"), organization=former, role="representative"
    )
    step = next_step(fresh(in_endorsement(group)))
    assert step is not None
    assert "Former" not in {o.name for o in step.organizations}
    assert "Québec" not in {o.name for o in step.organizations}


def test_past_its_quorum_the_secretariat_submits(group: Group) -> None:
    step = next_step(fresh(endorsed(group)))
    assert step is not None
    assert (step.who, step.sentence) == (
        "secretariat",
        "Quorum reached: the secretariat will submit.",
    )


def test_a_closed_or_withdrawn_proposal_awaits_nobody(group: Group) -> None:
    withdrawn = run(proposal_draft(group), "withdraw", group.drafter)
    assert next_step(fresh(withdrawn)) is None


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda g: proposal_draft(g), 0),
        (lambda g: in_review(g), 1),
        (lambda g: in_endorsement(g), 1),
        (lambda g: endorsed(g), 0),
        (lambda g: run(endorsed(g), "submit", g.secretariat), 0),
    ],
)
def test_next_step_reads_one_query_at_most(group: Group, make: object, expected: int) -> None:
    assert queries_of(make(group)) == expected  # type: ignore[operator]


def test_a_proposal_past_its_quorum_awaits_the_secretariat_not_the_representatives(
    group: Group,
) -> None:
    reached = endorsed(group)
    short = endorsed(group, group.representative_ma)
    awaiting = set(
        proposals_awaiting_endorsement_by(group.representative_lu).values_list("pk", flat=True)
    )
    assert awaiting == {short.pk}
    assert set(proposals_ready_to_submit().values_list("pk", flat=True)) == {reached.pk}
    endorsement_create(proposal=fresh(reached), person=group.representative_lu)  # still may
