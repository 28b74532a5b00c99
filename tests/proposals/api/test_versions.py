"""The proposal's version over the API: shown in every representation, and sent back with a
transition or an endorsement to say what the client acted on (409 if it moved on)."""

from __future__ import annotations

import pytest

from proposals.models import Endorsement, Proposal, ProposalState
from tests.factories import Group, OccasionFactory
from tests.proposals.api.helpers import client_for, fresh, proposal_in, run
from workflow.models import Delivery, TransitionLog

pytestmark = pytest.mark.django_db


def version_of(proposal: Proposal) -> int:
    return Proposal.objects.values_list("version", flat=True).get(pk=proposal.pk)


def transition_url(proposal: Proposal, name: str) -> str:
    return f"/api/proposals/{proposal.pk}/transitions/{name}/"


def test_the_representation_shows_the_version_which_a_client_cannot_set(group: Group) -> None:
    proposal = proposal_in(group, "draft")
    client = client_for(group.drafter)
    shown = client.get(f"/api/proposals/{proposal.pk}/").json()
    assert shown["version"] == version_of(proposal) == 1
    edited = client.patch(
        f"/api/proposals/{proposal.pk}/", {"title": "Shorter", "version": 99}, format="json"
    )
    assert edited.status_code == 200
    assert edited.json()["version"] == version_of(proposal) == 2
    listed = client.get("/api/proposals/").json()["results"]
    assert [row["version"] for row in listed if row["id"] == proposal.pk] == [2]


def test_a_transition_on_a_stale_version_answers_409_and_changes_nothing(group: Group) -> None:
    occasion = OccasionFactory.create(required_approvals=2)
    proposal = proposal_in(group, "in_review", occasion=occasion)
    seen = client_for(group.second_reviewer).get(f"/api/proposals/{proposal.pk}/").json()
    run(proposal, "approve", group.reviewer)  # still in review, one version further
    logged, queued = TransitionLog.objects.for_object(proposal).count(), Delivery.objects.count()

    body = {"comment": "Shorten it.", "version": seen["version"]}
    response = client_for(group.second_reviewer).post(
        transition_url(proposal, "request_changes"), body, format="json"
    )

    assert response.status_code == 409
    assert response.json()["reasons"] == [
        "Someone changed this proposal while you were acting: it is now in review. "
        "Reload it and try again."
    ]
    assert TransitionLog.objects.for_object(proposal).count() == logged
    assert Delivery.objects.count() == queued
    assert fresh(proposal).state == ProposalState.IN_REVIEW
    body["version"] = version_of(proposal)
    response = client_for(group.second_reviewer).post(
        transition_url(proposal, "request_changes"), body, format="json"
    )
    assert response.status_code == 200
    assert (response.json()["state"], response.json()["version"]) == ("draft", body["version"] + 1)


def test_an_endorsement_on_a_stale_version_answers_409_and_writes_nothing(group: Group) -> None:
    proposal = run(proposal_in(group, "in_review"), "approve", group.reviewer)
    seen = version_of(proposal)
    assert (
        client_for(group.representative_ma)
        .post(f"/api/proposals/{proposal.pk}/endorsements/", {"password": "demo"}, format="json")
        .status_code
        == 201
    )
    client = client_for(group.representative_fr)
    stale = client.post(
        f"/api/proposals/{proposal.pk}/endorsements/",
        {"password": "demo", "version": seen},
        format="json",
    )
    assert stale.status_code == 409
    assert stale.json()["reasons"][0].startswith("Someone changed this proposal")
    assert not Endorsement.objects.filter(proposal=proposal, organization=group.france).exists()
    current = client.post(
        f"/api/proposals/{proposal.pk}/endorsements/",
        {"password": "demo", "version": version_of(proposal)},
        format="json",
    )
    assert current.status_code == 201


@pytest.mark.parametrize("version", [0, -1, "two", 2**31, None, 1.5])
def test_a_version_that_is_no_positive_integer_is_a_400(group: Group, version: object) -> None:
    proposal = proposal_in(group, "draft")
    response = client_for(group.drafter).post(
        transition_url(proposal, "submit_for_review"), {"version": version}, format="json"
    )
    assert response.status_code == 400
    assert "version" in response.json()
    assert fresh(proposal).state == ProposalState.DRAFT


def test_a_proposal_sent_back_to_draft_meanwhile_is_not_found_by_the_other_reviewers(
    group: Group,
) -> None:
    """A draft is hidden from the group (docs/visibility.md): a reviewer acting on a proposal
    that another reviewer sent back to draft meanwhile gets 404, as for any proposal they
    cannot see, not 409; the secretariat, who sees drafts, gets the 409. (This is the 404 that
    test_concurrency_http.py meets when `request_changes` wins the race.)"""
    proposal = proposal_in(group, "in_review")
    seen = version_of(proposal)
    run(proposal, "request_changes", group.second_reviewer, "Shorten it.")
    body = {"version": seen}
    hidden = client_for(group.reviewer).post(transition_url(proposal, "approve"), body)
    assert hidden.status_code == 404
    seen_by_all = client_for(group.secretariat).post(transition_url(proposal, "approve"), body)
    assert seen_by_all.status_code == 409
