"""The dashboard's SQL preselections agree with the rules that decide on the proposal page."""

from __future__ import annotations

from typing import Any

import pytest
from django.db.models import QuerySet
from django.utils import timezone

from proposals import rules
from proposals.models import (
    Endorsement,
    Occasion,
    Organization,
    Proposal,
    Role,
)
from proposals.selectors import (
    proposals_authored_by,
    proposals_awaiting_endorsement_by,
    proposals_awaiting_review_by,
    proposals_ready_to_submit,
    proposals_with_rule_data,
    roles_of,
)
from proposals.services import endorsement_create, endorsement_withdraw, proposal_update
from tests.factories import Group, MembershipFactory, PersonFactory, proposal_draft
from tests.proposals.web.helpers import endorsed, fresh, in_endorsement, in_review, run
from workflow.services import transition_options

pytestmark = pytest.mark.django_db


def ids(queryset: QuerySet[Proposal]) -> set[int]:
    return set(queryset.values_list("pk", flat=True))


def allowed(proposal: Proposal, person: Any, name: str) -> bool:
    """What the proposal page offers this person: the transition service's own verdict."""
    return any(o.name == name and o.allowed for o in transition_options(obj=proposal, actor=person))


def approvable_by(person: Any) -> set[int]:
    return {p.pk for p in proposals_with_rule_data() if allowed(p, person, "approve")}


def endorsable_by(person: Any) -> set[int]:
    """Proposals one of the person's organisations may endorse now, by the rules."""
    if rules.representative(None, person):
        return set()
    organization_ids = roles_of(person).representative_organization_ids
    return {
        p.pk
        for p in proposals_with_rule_data()
        if any(
            not rules.open_for_endorsement_by(p, person, timezone.now(), org)
            for org in organization_ids
        )
    }


def submittable_by(person: Any) -> set[int]:
    return {p.pk for p in proposals_with_rule_data() if allowed(p, person, "submit")}


def test_authored_proposals_are_those_the_person_wrote_or_co_wrote(group: Group) -> None:
    own = proposal_draft(group)
    shared = proposal_draft(
        group, created_by=group.co_drafter, authors=[group.co_drafter, group.drafter]
    )
    proposal_draft(group, created_by=group.co_drafter)
    assert ids(proposals_authored_by(group.drafter)) == {own.pk, shared.pk}


def test_review_awaits_until_the_reviewer_reviews_the_current_revision(group: Group) -> None:
    Occasion.objects.filter(pk=group.occasion.pk).update(required_approvals=2)
    untouched = in_review(group, title="Never reviewed")
    approved_now = run(in_review(group), "approve", group.second_reviewer)
    sent_back = run(in_review(group), "request_changes", group.second_reviewer, comment="Shorter.")
    proposal_update(proposal=fresh(sent_back), editor=group.drafter, text="A shorter text.")
    resubmitted = run(sent_back, "submit_for_review", group.drafter)
    co_written = in_review(group, authors=[group.drafter, group.second_reviewer])
    proposal_draft(group, title="Still a draft")

    assert resubmitted.revision == 2
    expected = {untouched.pk, resubmitted.pk}
    assert ids(proposals_awaiting_review_by(group.second_reviewer)) == expected
    assert approvable_by(group.second_reviewer) == expected
    everything_in_review = {untouched.pk, approved_now.pk, resubmitted.pk, co_written.pk}
    for person in (group.reviewer, group.secretariat):
        assert ids(proposals_awaiting_review_by(person)) == everything_in_review
        assert approvable_by(person) == everything_in_review


def test_review_awaits_nobody_who_may_not_review(group: Group) -> None:
    in_review(group)
    for person in (group.drafter, group.representative_ma, group.observer, group.outsider):
        assert ids(proposals_awaiting_review_by(person)) == set()
        assert approvable_by(person) == set()


def test_endorsement_awaits_an_organisation_until_it_endorses_and_again_once_withdrawn(
    group: Group,
) -> None:
    open_to_all = in_endorsement(group)
    signed = endorsed(group, group.representative_ma)
    withdrawn = endorsed(group, group.representative_ma)
    endorsement = Endorsement.objects.get(proposal=withdrawn, organization=group.morocco)
    endorsement_withdraw(endorsement=endorsement, person=group.representative_ma)
    in_review(group)

    morocco = ids(proposals_awaiting_endorsement_by(group.representative_ma))
    assert morocco == endorsable_by(group.representative_ma) == {open_to_all.pk, withdrawn.pk}
    luxembourg = ids(proposals_awaiting_endorsement_by(group.representative_lu))
    everything = {open_to_all.pk, signed.pk, withdrawn.pk}
    assert luxembourg == endorsable_by(group.representative_lu) == everything


def test_endorsement_awaits_a_person_of_two_members_until_both_endorsed(group: Group) -> None:
    both = PersonFactory.create(username="dual")
    for organization in (group.france, group.morocco):
        MembershipFactory.create(person=both, organization=organization, role=Role.REPRESENTATIVE)
    by_morocco = endorsed(group, group.representative_ma)
    by_both = endorsed(group, group.representative_fr, group.representative_ma)

    assert ids(proposals_awaiting_endorsement_by(both)) == endorsable_by(both) == {by_morocco.pk}
    assert by_both.pk not in endorsable_by(both)


def test_an_observer_never_has_anything_to_endorse(group: Group) -> None:
    in_endorsement(group)
    endorsed(group, group.representative_ma)
    for person in (group.observer, group.drafter, group.reviewer, group.outsider):
        assert ids(proposals_awaiting_endorsement_by(person)) == set()
        assert endorsable_by(person) == set()


def test_ready_to_submit_needs_the_quorum_of_full_members(group: Group) -> None:
    reached = endorsed(group, group.representative_fr, group.representative_ma)
    one_short = endorsed(group, group.representative_ma)
    with_withdrawn = endorsed(group, group.representative_fr, group.representative_ma)
    endorsement = Endorsement.objects.get(proposal=with_withdrawn, organization=group.france)
    endorsement_withdraw(endorsement=endorsement, person=group.representative_fr)
    with_observer = endorsed(group, group.representative_lu, group.representative_ma)
    three_of_three = endorsed(
        group, group.representative_fr, group.representative_ma, group.representative_lu
    )
    Organization.objects.filter(pk=group.luxembourg.pk).update(status=Organization.Status.OBSERVER)

    ready = ids(proposals_ready_to_submit())
    assert ready == submittable_by(group.secretariat) == {reached.pk, three_of_three.pk}
    assert not ready & {one_short.pk, with_withdrawn.pk, with_observer.pk}
    assert rules.endorsements_counted(fresh(three_of_three)) == 2


def test_ready_to_submit_follows_the_occasions_quorum(group: Group) -> None:
    proposal = endorsed(group, group.representative_fr, group.representative_ma)
    Occasion.objects.filter(pk=group.occasion.pk).update(endorsement_quorum=3)
    assert ids(proposals_ready_to_submit()) == submittable_by(group.secretariat) == set()
    endorsement_create(proposal=fresh(proposal), person=group.representative_lu)
    assert ids(proposals_ready_to_submit()) == submittable_by(group.secretariat) == {proposal.pk}
