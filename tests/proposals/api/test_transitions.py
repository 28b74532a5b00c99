"""Transitions over the API: what the requester can do now, and each kind of refusal."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from proposals.forecast import durations_learned
from proposals.models import Outcome, ProposalState
from tests.factories import Group, proposal_draft
from tests.proposals.api.helpers import client_for, proposal_in
from workflow.models import TransitionLog

pytestmark = pytest.mark.django_db


def transition_url(proposal_id: int, name: str = "") -> str:
    return f"/api/proposals/{proposal_id}/transitions/" + (f"{name}/" if name else "")


def test_the_options_say_what_the_requester_can_do_now_and_why_not(group: Group) -> None:
    proposal = proposal_in(group, "in_review")
    options = client_for(group.reviewer).get(transition_url(proposal.pk)).json()
    by_name = {option["name"]: option for option in options}
    assert set(options[0]) == {"name", "label", "target", "allowed", "reasons"}
    assert by_name["approve"] == {
        "name": "approve",
        "label": "Approve",
        "target": "endorsement",
        "allowed": True,
        "reasons": [],
    }
    assert by_name["submit"]["allowed"] is False
    assert by_name["submit"]["reasons"] == [
        "Only the secretariat can submit a proposal to its body."
    ]


def test_a_transition_answers_with_the_proposal(group: Group) -> None:
    proposal = proposal_draft(group)
    response = client_for(group.drafter).post(
        transition_url(proposal.pk, "submit_for_review"), {"comment": "Ready."}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["state"] == "in_review"
    assert response.json()["id"] == proposal.pk
    log = TransitionLog.objects.for_object(proposal).get(transition="submit_for_review")
    assert (log.actor, log.comment) == (group.drafter, "Ready.")


def test_a_person_who_may_never_do_it_gets_403_with_the_reason(group: Group) -> None:
    proposal = proposal_in(group, "in_review")
    response = client_for(group.drafter).post(
        transition_url(proposal.pk, "approve"), {}, format="json"
    )
    assert response.status_code == 403
    assert response.json() == {
        "detail": "Only reviewers named by the secretariat can review proposals.",
        "reasons": ["Only reviewers named by the secretariat can review proposals."],
        "code": "permission_denied",
        "reason_codes": ["not_reviewer"],
    }


def test_the_wrong_state_is_a_409_that_says_which_state_it_needs(group: Group) -> None:
    proposal = proposal_draft(group)
    response = client_for(group.secretariat).post(
        transition_url(proposal.pk, "submit"), {}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["reasons"] == [
        "“Submit to body” is possible only when the proposal is open for endorsement; it is draft."
    ]


def test_an_unmet_condition_is_a_409_with_each_reason(group: Group) -> None:
    proposal = proposal_draft(group, text=" ", target_body=None)
    response = client_for(group.drafter).post(
        transition_url(proposal.pk, "submit_for_review"), {}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["reasons"] == [
        "The proposal needs a text.",
        "Choose the body the proposal is addressed to.",
    ]


def test_a_missing_quorum_says_how_many_endorsements_are_needed(group: Group) -> None:
    proposal = proposal_in(group, "in_review")
    client_for(group.reviewer).post(transition_url(proposal.pk, "approve"), {}, format="json")
    response = client_for(group.secretariat).post(
        transition_url(proposal.pk, "submit"), {}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["reasons"] == ["0 endorsements of 2 needed."]


def test_requesting_changes_without_a_comment_is_a_400_on_the_comment(group: Group) -> None:
    proposal = proposal_in(group, "in_review")
    response = client_for(group.reviewer).post(
        transition_url(proposal.pk, "request_changes"), {"comment": "  "}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["comment"] == ["Say what should change: a comment is required."]
    assert response.json()["reasons"] == ["Say what should change: a comment is required."]


def test_recording_an_outcome_takes_its_arguments(group: Group) -> None:
    proposal = proposal_in(group, "submitted")
    decided_on = (timezone.localdate() - dt.timedelta(days=2)).isoformat()
    response = client_for(group.secretariat).post(
        transition_url(proposal.pk, "record_outcome"),
        {
            "comment": "Adopted in plenary.",
            "outcome": "adopted_in_part",
            "decided_on": decided_on,
            "note": "Articles 1 to 3.",
            "link": "https://example.org/decision",
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["state"] == ProposalState.CLOSED
    assert response.json()["outcome"]["result"] == "adopted_in_part"
    outcome = Outcome.objects.get(proposal=proposal)
    assert (outcome.decided_on.isoformat(), outcome.link) == (
        decided_on,
        "https://example.org/decision",
    )


def test_an_outcome_that_is_not_one_is_a_400(group: Group) -> None:
    proposal = proposal_in(group, "submitted")
    response = client_for(group.secretariat).post(
        transition_url(proposal.pk, "record_outcome"), {"outcome": "maybe"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["outcome"] == [
        "maybe is not an outcome; choose adopted, adopted_in_part, not_adopted or no_response."
    ]


def test_a_decision_date_in_the_future_is_a_400(group: Group) -> None:
    proposal = proposal_in(group, "submitted")
    tomorrow = (timezone.localdate() + dt.timedelta(days=2)).isoformat()
    response = client_for(group.secretariat).post(
        transition_url(proposal.pk, "record_outcome"),
        {"outcome": "adopted", "decided_on": tomorrow},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["decided_on"] == ["The decision date cannot be in the future."]


def test_an_unknown_transition_is_a_404(group: Group) -> None:
    proposal = proposal_draft(group)
    response = client_for(group.drafter).post(
        transition_url(proposal.pk, "publish"), {}, format="json"
    )
    assert response.status_code == 404
    assert response.json()["reasons"] == ["There is no action named “publish”."]


def test_a_transition_on_an_invisible_proposal_is_a_404(group: Group) -> None:
    proposal = proposal_draft(group)
    response = client_for(group.reviewer).post(
        transition_url(proposal.pk, "approve"), {}, format="json"
    )
    assert response.status_code == 404


def test_refusals_are_in_the_requesters_language(group: Group) -> None:
    group.drafter.language = "fr"
    group.drafter.save()
    proposal = proposal_in(group, "in_review")
    with_french = client_for(group.drafter).post(
        transition_url(proposal.pk, "approve"), {}, format="json"
    )
    assert with_french.status_code == 403
    assert with_french["Content-Language"] == "fr"
    english = client_for(group.co_drafter).post(
        transition_url(proposal.pk, "approve"), {}, format="json"
    )
    assert english["Content-Language"] == "en"
    assert english.json()["reasons"] == [
        "Only reviewers named by the secretariat can review proposals."
    ]


def test_a_transition_answers_with_what_it_changed_in_a_constant_number_of_queries(
    group: Group, django_assert_num_queries: object
) -> None:
    """The answer is the proposal the transition ran on, as the row lock read it with what
    the rules read, and the transition's writes (an approval adds a review, which decides what
    can be done next): nothing is read again, the forecast's milestones included."""
    proposal = proposal_in(group, "in_review")
    client = client_for(group.reviewer)
    client.get(transition_url(proposal.pk))  # the token and the content types are warm
    durations_learned()  # learned once an hour, not in a transition's queries
    with django_assert_num_queries(TRANSITION_QUERIES):  # type: ignore[operator]
        response = client.post(transition_url(proposal.pk, "approve"), format="json")
    assert response.status_code == 200, response.json()
    answer = response.json()
    assert answer["state"] == "endorsement"
    assert "approve" not in answer["transitions"]
    assert answer["authors"] == [group.drafter.pk]


TRANSITION_QUERIES = 10
"""An approval through the API, notices and outbox included (the token with the person's roles
in one query), and the SAVEPOINT and RELEASE of the test's transaction (two: in production it
is 8)."""
