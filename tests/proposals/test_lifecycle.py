"""Each transition of the proposal: who may run it, when, and what it refuses with."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from proposals.models import Endorsement, Outcome, Proposal, ProposalState, Review, Submission
from proposals.selectors import proposals_with_rule_data
from proposals.services import endorsement_create, endorsement_withdraw, proposal_update
from tests.factories import Group, OccasionFactory, proposal_draft
from workflow.errors import RefusalKind, Refused, UnknownTransition
from workflow.models import Delivery, TransitionLog
from workflow.services import transition_options, transition_run

pytestmark = pytest.mark.django_db


def fresh(proposal: Proposal) -> Proposal:
    return proposals_with_rule_data().get(pk=proposal.pk)


def run(proposal: Proposal, name: str, actor, comment: str = "", **arguments) -> Proposal:
    return transition_run(
        obj=fresh(proposal), name=name, actor=actor, comment=comment, arguments=arguments
    ).obj


def refusal(proposal: Proposal, name: str, actor, comment: str = "", **arguments) -> Refused:
    with pytest.raises(Refused) as caught:
        run(proposal, name, actor, comment, **arguments)
    return caught.value


def in_review(group: Group, **kwargs) -> Proposal:
    return run(proposal_draft(group, **kwargs), "submit_for_review", group.drafter)


def in_endorsement(group: Group, **kwargs) -> Proposal:
    return run(in_review(group, **kwargs), "approve", group.reviewer)


def endorsed(group: Group, *people, **kwargs) -> Proposal:
    proposal = in_endorsement(group, **kwargs)
    for person in people or (group.representative_fr, group.representative_ma):
        endorsement_create(proposal=fresh(proposal), person=person)
    return fresh(proposal)


# submit_for_review


def test_an_author_submits_a_complete_draft_for_review(group: Group) -> None:
    proposal = run(proposal_draft(group), "submit_for_review", group.drafter)
    assert proposal.state == ProposalState.IN_REVIEW
    log = TransitionLog.objects.for_object(proposal).get(transition="submit_for_review")
    assert (log.source, log.target, log.actor) == ("draft", "in_review", group.drafter)


def test_reviewers_are_told_when_a_proposal_enters_review(group: Group) -> None:
    proposal = in_review(group)
    recipients = set(
        Delivery.objects.filter(object_id=proposal.pk).values_list("recipient__username", flat=True)
    )
    assert recipients == {"rita", "ines"}


def test_someone_who_is_not_an_author_may_never_submit_for_review(group: Group) -> None:
    error = refusal(proposal_draft(group), "submit_for_review", group.co_drafter)
    assert error.kind == RefusalKind.PERMISSION
    assert error.reasons == ["Only an author of this proposal can submit it for review."]


def test_an_incomplete_draft_is_refused_with_each_missing_part(group: Group) -> None:
    proposal = proposal_draft(group, text="  ", target_body=None, occasion=None)
    error = refusal(proposal, "submit_for_review", group.drafter)
    assert error.kind == RefusalKind.CONDITION
    assert error.reasons == [
        "The proposal needs a text.",
        "Choose the body the proposal is addressed to.",
        "Choose the occasion the proposal is timed to.",
    ]


def test_a_passed_deadline_is_named_in_the_occasions_own_time(group: Group) -> None:
    occasion = OccasionFactory(
        name="COP 30",
        location="Belém, Brazil",
        timezone="America/Belem",
        submission_deadline=dt.datetime(2025, 11, 11, 2, 59, tzinfo=dt.UTC),
    )
    error = refusal(proposal_draft(group, occasion=occasion), "submit_for_review", group.drafter)
    assert error.kind == RefusalKind.CONDITION
    assert error.reasons == ["The deadline of COP 30 passed on 10 Nov 2025 at 23:59 (Belém time)."]


def test_a_proposal_in_review_cannot_be_submitted_for_review_again(group: Group) -> None:
    error = refusal(in_review(group), "submit_for_review", group.drafter)
    assert error.kind == RefusalKind.STATE
    assert "in review" in error.reasons[0]


# approve and request_changes


def test_one_approval_opens_endorsement_by_default(group: Group) -> None:
    proposal = run(in_review(group), "approve", group.reviewer)
    assert proposal.state == ProposalState.ENDORSEMENT
    assert Review.objects.get(proposal=proposal).decision == Review.Decision.APPROVE


def test_the_proposal_waits_for_the_required_number_of_distinct_approvals(group: Group) -> None:
    group.occasion.required_approvals = 2
    group.occasion.save()
    proposal = run(in_review(group), "approve", group.reviewer)
    assert proposal.state == ProposalState.IN_REVIEW
    again = refusal(proposal, "approve", group.reviewer)
    assert again.kind == RefusalKind.CONDITION
    assert again.reasons == ["You already reviewed revision 1."]
    proposal = run(proposal, "approve", group.second_reviewer)
    assert proposal.state == ProposalState.ENDORSEMENT


def test_the_secretariat_may_review_too(group: Group) -> None:
    assert run(in_review(group), "approve", group.secretariat).state == ProposalState.ENDORSEMENT


def test_an_author_may_never_review_their_own_proposal(group: Group) -> None:
    proposal = in_review(group, authors=[group.drafter, group.representative_ma])
    error = refusal(proposal, "approve", group.representative_ma)
    assert error.kind == RefusalKind.PERMISSION
    # youssef is a drafter, not a reviewer: the reviewer role comes first
    assert error.reasons == ["Only reviewers named by the secretariat can review proposals."]
    proposal = in_review(group, authors=[group.drafter, group.second_reviewer])
    error = refusal(proposal, "approve", group.second_reviewer)
    assert error.kind == RefusalKind.PERMISSION
    assert error.reasons == ["You wrote this proposal, so you cannot review it."]


def test_people_who_are_not_reviewers_may_never_review(group: Group) -> None:
    for person in (group.drafter, group.representative_lu, group.observer, group.outsider):
        error = refusal(in_review(group), "approve", person)
        assert error.kind == RefusalKind.PERMISSION


def test_approving_a_draft_is_not_possible_now(group: Group) -> None:
    error = refusal(proposal_draft(group), "approve", group.reviewer)
    assert error.kind == RefusalKind.STATE
    assert error.reasons == [
        "“Approve” is possible only when the proposal is in review; it is draft."
    ]


def test_requesting_changes_needs_a_comment_and_returns_to_draft(group: Group) -> None:
    proposal = in_review(group)
    error = refusal(proposal, "request_changes", group.reviewer, comment="  ")
    assert error.kind == RefusalKind.INVALID
    assert error.errors == {"comment": ["Say what should change: a comment is required."]}
    proposal = run(proposal, "request_changes", group.reviewer, comment="Cite the ILO text.")
    assert proposal.state == ProposalState.DRAFT
    notified = Delivery.objects.filter(
        template="proposals/email/changes_requested", channel=Delivery.Channel.EMAIL
    )
    assert [d.recipient for d in notified] == [group.drafter]
    assert notified[0].context["comment"] == "Cite the ILO text."


def test_a_draft_sent_back_must_be_edited_before_it_returns_to_review(group: Group) -> None:
    proposal = run(in_review(group), "request_changes", group.reviewer, comment="More data.")
    error = refusal(proposal, "submit_for_review", group.drafter)
    assert error.reasons == [
        "Changes were requested on revision 1: change its title, summary or text (saving makes "
        "revision 2), then submit it again."
    ]
    proposal_update(proposal=fresh(proposal), editor=group.drafter, text="Better text.")
    assert run(proposal, "submit_for_review", group.drafter).state == ProposalState.IN_REVIEW


def test_an_approval_of_an_older_revision_does_not_count(group: Group) -> None:
    group.occasion.required_approvals = 2
    group.occasion.save()
    proposal = run(in_review(group), "approve", group.reviewer)
    proposal = run(proposal, "request_changes", group.second_reviewer, comment="Shorter.")
    proposal_update(proposal=fresh(proposal), editor=group.drafter, text="Shorter text.")
    proposal = run(proposal, "submit_for_review", group.drafter)
    proposal = run(proposal, "approve", group.second_reviewer)
    assert proposal.state == ProposalState.IN_REVIEW  # rita's approval was of revision 1
    proposal = run(proposal, "approve", group.reviewer)
    assert proposal.state == ProposalState.ENDORSEMENT


# endorsements and submit


def test_the_secretariat_submits_once_the_quorum_of_full_members_is_reached(group: Group) -> None:
    proposal = endorsed(group)
    proposal = run(proposal, "submit", group.secretariat, reference="A/81/123")
    assert proposal.state == ProposalState.SUBMITTED
    submission = Submission.objects.get(proposal=proposal)
    assert (submission.body, submission.reference) == (group.body, "A/81/123")


def test_submitting_short_of_the_quorum_says_how_many_are_missing(group: Group) -> None:
    group.occasion.endorsement_quorum = 3
    group.occasion.save()
    error = refusal(endorsed(group), "submit", group.secretariat)
    assert error.kind == RefusalKind.CONDITION
    assert error.reasons == ["2 endorsements of 3 needed."]


def test_a_withdrawn_endorsement_stops_counting_and_stays_as_history(group: Group) -> None:
    proposal = endorsed(group)
    endorsement = Endorsement.objects.get(proposal=proposal, organization=group.morocco)
    endorsement_withdraw(endorsement=endorsement, person=group.representative_ma)
    error = refusal(proposal, "submit", group.secretariat)
    assert error.reasons == ["1 endorsement of 2 needed."]
    endorsement_create(proposal=fresh(proposal), person=group.representative_ma)
    assert Endorsement.objects.filter(proposal=proposal, organization=group.morocco).count() == 2
    assert run(proposal, "submit", group.secretariat).state == ProposalState.SUBMITTED


def test_observers_may_never_endorse(group: Group) -> None:
    proposal = in_endorsement(group)
    with pytest.raises(Refused) as caught:
        endorsement_create(proposal=fresh(proposal), person=group.observer)
    assert caught.value.kind == RefusalKind.PERMISSION
    assert caught.value.reasons == ["Observers cannot endorse."]


def test_an_organisation_endorses_once(group: Group) -> None:
    proposal = endorsed(group)
    with pytest.raises(Refused) as caught:
        endorsement_create(proposal=fresh(proposal), person=group.representative_ma)
    assert caught.value.kind == RefusalKind.CONDITION
    assert Endorsement.objects.filter(proposal=proposal).count() == 2


def test_the_secretariat_and_presidency_learn_that_the_quorum_is_reached(group: Group) -> None:
    proposal = endorsed(group)
    told = Delivery.objects.filter(template="proposals/email/quorum_reached", object_id=proposal.pk)
    assert set(told.values_list("recipient__username", flat=True)) == {"sam", "marianne"}


def test_a_late_submission_is_refused_unless_the_occasion_accepts_it(group: Group) -> None:
    proposal = endorsed(group)
    group.occasion.submission_deadline = timezone.now() - dt.timedelta(hours=1)
    group.occasion.save()
    error = refusal(proposal, "submit", group.secretariat)
    assert error.kind == RefusalKind.CONDITION
    assert "The deadline of UNGA 81 passed on" in error.reasons[0]
    group.occasion.accepts_late_submissions = True
    group.occasion.save()
    assert run(proposal, "submit", group.secretariat).state == ProposalState.SUBMITTED


def test_only_the_secretariat_may_submit(group: Group) -> None:
    for person in (group.drafter, group.reviewer, group.representative_fr):
        assert refusal(endorsed(group), "submit", person).kind == RefusalKind.PERMISSION


# record_outcome and withdraw


def test_recording_the_outcome_closes_the_proposal(group: Group) -> None:
    proposal = run(endorsed(group), "submit", group.secretariat)
    error = refusal(proposal, "record_outcome", group.secretariat, outcome="maybe")
    assert error.kind == RefusalKind.INVALID
    assert "outcome" in error.errors
    proposal = run(
        proposal,
        "record_outcome",
        group.secretariat,
        outcome="adopted_in_part",
        note="Paragraph 4 kept.",
    )
    assert (proposal.state, proposal.outcome) == (ProposalState.CLOSED, "adopted_in_part")
    assert Outcome.objects.get(proposal=proposal).note == "Paragraph 4 kept."


def test_an_outcome_is_recorded_only_for_a_submitted_proposal(group: Group) -> None:
    error = refusal(endorsed(group), "record_outcome", group.secretariat, outcome="adopted")
    assert error.kind == RefusalKind.STATE


@pytest.mark.parametrize("stage", ["draft", "in_review", "endorsement"])
def test_an_author_or_the_secretariat_withdraws_an_open_proposal(group: Group, stage: str) -> None:
    make = {"draft": proposal_draft, "in_review": in_review, "endorsement": in_endorsement}[stage]
    assert run(make(group), "withdraw", group.drafter).state == ProposalState.WITHDRAWN
    assert run(make(group), "withdraw", group.secretariat).state == ProposalState.WITHDRAWN
    assert refusal(make(group), "withdraw", group.reviewer).kind == RefusalKind.PERMISSION


def test_a_submitted_proposal_cannot_be_withdrawn(group: Group) -> None:
    proposal = run(endorsed(group), "submit", group.secretariat)
    assert refusal(proposal, "withdraw", group.secretariat).kind == RefusalKind.STATE


# the service itself


def test_a_stale_view_of_the_proposal_is_refused_as_a_concurrent_change(group: Group) -> None:
    proposal = in_review(group)
    seen = fresh(proposal)
    run(proposal, "withdraw", group.drafter)
    with pytest.raises(Refused) as caught:
        transition_run(obj=seen, name="approve", actor=group.reviewer)
    assert caught.value.kind == RefusalKind.CONFLICT
    assert "withdrawn" in caught.value.reasons[0]


def test_an_unknown_transition_is_not_found(group: Group) -> None:
    with pytest.raises(UnknownTransition):
        transition_run(obj=proposal_draft(group), name="delete", actor=group.drafter)


def test_a_refused_transition_writes_nothing(group: Group) -> None:
    proposal = in_review(group)
    logs = TransitionLog.objects.count()
    refusal(proposal, "request_changes", group.reviewer)
    assert TransitionLog.objects.count() == logs
    assert Review.objects.count() == 0
    assert fresh(proposal).state == ProposalState.IN_REVIEW


def test_the_state_field_cannot_be_assigned(group: Group) -> None:
    proposal = proposal_draft(group)
    with pytest.raises(AttributeError):
        proposal.state = ProposalState.CLOSED


def test_options_say_what_this_person_can_do_now_and_why_not(group: Group) -> None:
    proposal = fresh(in_review(group))
    options = {o.name: o for o in transition_options(obj=proposal, actor=group.reviewer)}
    assert options["approve"].allowed and options["request_changes"].allowed
    assert options["approve"].label == "Approve"
    assert options["approve"].target == "endorsement"
    assert options["submit"].kind == RefusalKind.PERMISSION
    assert options["withdraw"].reasons == [
        "Only an author of this proposal or the secretariat can withdraw it."
    ]
    mine = {o.name: o for o in transition_options(obj=proposal, actor=group.drafter)}
    assert mine["withdraw"].allowed
    assert mine["submit_for_review"].kind == RefusalKind.STATE


def test_options_of_a_list_run_a_constant_number_of_queries(
    group: Group, django_assert_max_num_queries
) -> None:
    for _ in range(5):
        in_review(group)
    proposals = list(proposals_with_rule_data())
    with django_assert_max_num_queries(3):  # the person's roles and the presidency, once
        for proposal in proposals:
            transition_options(obj=proposal, actor=group.reviewer)
