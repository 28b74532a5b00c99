"""Endorsements over the API: one per organisation, withdrawn while open for endorsement."""

from __future__ import annotations

import pytest

from proposals.models import Endorsement, Role
from tests.factories import Group, MembershipFactory
from tests.proposals.api.helpers import client_for, proposal_in

pytestmark = pytest.mark.django_db


def url(proposal_id: int, endorsement_id: int | None = None) -> str:
    base = f"/api/proposals/{proposal_id}/endorsements/"
    return f"{base}{endorsement_id}/" if endorsement_id else base


def test_a_representative_endorses_for_their_organisation(group: Group) -> None:
    proposal = proposal_in(group, "endorsement")
    response = client_for(group.representative_fr).post(
        url(proposal.pk), {"password": "demo"}, format="json"
    )
    assert response.status_code == 201
    data = response.json()
    assert {"id", "organization", "endorsed_by", "at"} <= set(data)
    assert (data["organization"], data["endorsed_by"]) == (group.france.pk, "marianne")


def test_an_organisation_endorses_once_and_a_repeat_is_a_409(group: Group) -> None:
    proposal = proposal_in(group, "endorsement")
    response = client_for(group.representative_ma).post(url(proposal.pk), {}, format="json")
    assert response.status_code == 409
    assert response.json()["reasons"] == ["Your organisation has already endorsed this proposal."]
    assert Endorsement.objects.filter(proposal=proposal, organization=group.morocco).count() == 1


def test_observers_may_never_endorse(group: Group) -> None:
    proposal = proposal_in(group, "endorsement")
    response = client_for(group.observer).post(url(proposal.pk), {}, format="json")
    assert response.status_code == 403
    assert response.json()["reasons"] == ["Observers cannot endorse."]


def test_a_proposal_in_review_cannot_be_endorsed_yet(group: Group) -> None:
    proposal = proposal_in(group, "in_review")
    response = client_for(group.representative_fr).post(url(proposal.pk), {}, format="json")
    assert response.status_code == 409
    assert response.json()["reasons"] == [
        "Only a proposal open for endorsement can be endorsed; this one is in review."
    ]


def test_a_representative_of_several_organisations_says_which_one_endorses(group: Group) -> None:
    proposal = proposal_in(group, "endorsement")
    MembershipFactory(
        person=group.representative_lu, organization=group.france, role=Role.REPRESENTATIVE
    )
    client = client_for(group.representative_lu)
    unsaid = client.post(url(proposal.pk), {}, format="json")
    assert unsaid.status_code == 400
    assert unsaid.json()["organization"] == ["Choose the organisation that endorses."]
    other = client.post(url(proposal.pk), {"organization": group.morocco.pk}, format="json")
    assert other.status_code == 403
    assert other.json()["reasons"] == ["You do not represent that organisation."]
    said = client.post(
        url(proposal.pk), {"organization": group.france.pk, "password": "demo"}, format="json"
    )
    assert said.status_code == 201
    assert said.json()["organization"] == group.france.pk


def test_an_unknown_organisation_is_a_400(group: Group) -> None:
    proposal = proposal_in(group, "endorsement")
    response = client_for(group.representative_fr).post(
        url(proposal.pk), {"organization": 99999}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["organization"]


def test_a_withdrawal_keeps_the_endorsement_as_history_and_allows_a_new_one(group: Group) -> None:
    proposal = proposal_in(group, "endorsement")
    endorsement = Endorsement.objects.get(proposal=proposal, organization=group.morocco)
    client = client_for(group.representative_ma)
    assert client.delete(url(proposal.pk, endorsement.pk)).status_code == 204
    listed = client.get(url(proposal.pk)).json()["results"]
    withdrawn = next(row for row in listed if row["id"] == endorsement.pk)
    assert withdrawn["active"] is False
    assert withdrawn["withdrawn_by"] == "youssef"
    again = client.post(url(proposal.pk), {"password": "demo"}, format="json")
    assert again.status_code == 201
    assert Endorsement.objects.filter(proposal=proposal, organization=group.morocco).count() == 2


def test_a_withdrawn_endorsement_cannot_be_withdrawn_again(group: Group) -> None:
    proposal = proposal_in(group, "endorsement")
    endorsement = Endorsement.objects.get(proposal=proposal, organization=group.morocco)
    client = client_for(group.representative_ma)
    client.delete(url(proposal.pk, endorsement.pk))
    response = client.delete(url(proposal.pk, endorsement.pk))
    assert response.status_code == 409
    assert response.json()["reasons"] == ["This endorsement was already withdrawn."]


def test_only_the_endorsing_organisation_withdraws_its_endorsement(group: Group) -> None:
    proposal = proposal_in(group, "endorsement")
    endorsement = Endorsement.objects.get(proposal=proposal, organization=group.morocco)
    response = client_for(group.representative_lu).delete(url(proposal.pk, endorsement.pk))
    assert response.status_code == 403


def test_an_endorsement_is_not_withdrawn_after_submission(group: Group) -> None:
    proposal = proposal_in(group, "submitted")
    endorsement = Endorsement.objects.get(proposal=proposal, organization=group.morocco)
    response = client_for(group.representative_ma).delete(url(proposal.pk, endorsement.pk))
    assert response.status_code == 409


def test_an_endorsement_of_another_proposal_is_not_found_here(group: Group) -> None:
    proposal = proposal_in(group, "endorsement")
    other = proposal_in(group, "endorsement")
    endorsement = Endorsement.objects.get(proposal=other, organization=group.morocco)
    response = client_for(group.representative_ma).delete(url(proposal.pk, endorsement.pk))
    assert response.status_code == 404


def test_a_script_token_endorses_only_with_the_password_or_a_code(group: Group) -> None:
    proposal = proposal_in(group, "endorsement")
    client = client_for(group.representative_fr)
    unconfirmed = client.post(url(proposal.pk), {}, format="json")
    assert unconfirmed.status_code == 403
    assert "recent confirmation" in unconfirmed.json()["reasons"][0]
    wrong = client.post(url(proposal.pk), {"password": "guess"}, format="json")
    assert wrong.status_code == 400
    assert wrong.json()["reasons"] == ["The password or the code is wrong."]
    assert not Endorsement.objects.filter(proposal=proposal, organization=group.france).exists()
    assert client.post(url(proposal.pk), {"password": "demo"}, format="json").status_code == 201


def test_a_token_from_a_recent_login_endorses_without_the_password(group: Group) -> None:
    from rest_framework.test import APIClient

    proposal = proposal_in(group, "endorsement")
    client = APIClient()
    login = client.post(
        "/api/auth/token/", {"username": "marianne", "password": "demo"}, format="json"
    )
    assert login.status_code == 200, login.json()
    client.credentials(HTTP_AUTHORIZATION=f"Token {login.json()['token']}")
    assert client.post(url(proposal.pk), {}, format="json").status_code == 201
