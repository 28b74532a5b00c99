"""/api/people/{id}/departure/: the plan (GET), recording (POST), a representative's request;
refusals in the API's one error shape, nothing changed."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from proposals.models import Person
from tests.factories import Group, api_token_key, proposal_draft
from tests.proposals.api.helpers import client_for, fresh

pytestmark = pytest.mark.django_db


def url(person: Person) -> str:
    return reverse("person-departure", kwargs={"person_id": person.pk})


def today() -> str:
    return timezone.localdate().isoformat()


def test_the_plan_lists_drafts_candidates_and_warnings(group: Group) -> None:
    proposal = proposal_draft(group, title="Loi ESS")
    response = client_for(group.secretariat).get(url(group.drafter))
    assert response.status_code == 200
    body = response.json()
    assert body["person"]["id"] == group.drafter.pk
    assert body["left_on"] is None and body["active"] is True
    [handover] = body["handovers"]
    assert handover["proposal"] == proposal.pk and handover["needs_successor"] is True
    assert [c["id"] for c in handover["candidates"]] == [group.co_drafter.pk]
    assert body["warnings"] == []
    lu = client_for(group.secretariat).get(url(group.representative_lu)).json()
    assert lu["unrepresented_organizations"] == [group.luxembourg.pk]
    assert "Luxembourg" in lu["warnings"][0]


def test_recording_hands_the_draft_on_and_the_token_stops_working(group: Group) -> None:
    proposal = proposal_draft(group)
    leaver = client_for(group.drafter)
    assert leaver.get(reverse("proposal-list")).status_code == 200
    response = client_for(group.secretariat).post(
        url(group.drafter),
        {
            "left_on": today(),
            "handovers": [{"proposal": proposal.pk, "successor": group.co_drafter.pk}],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["left_on"] == today() and response.json()["active"] is False
    assert {a.pk for a in fresh(proposal).authors.all()} == {group.co_drafter.pk}
    assert leaver.get(reverse("proposal-list")).status_code == 401


def test_bad_input_is_a_400_in_the_error_shape_and_nothing_changes(group: Group) -> None:
    proposal = proposal_draft(group, title="Loi ESS")
    client = client_for(group.secretariat)
    cases = [
        {"left_on": today()},  # the draft is left without an author
        {
            "left_on": today(),
            "handovers": [{"proposal": proposal.pk, "successor": group.representative_ma.pk}],
        },
        {"left_on": (timezone.localdate() - dt.timedelta(days=2)).isoformat()},
        {"left_on": "not a day"},
        {
            "left_on": today(),
            "handovers": [
                {"proposal": proposal.pk, "successor": group.co_drafter.pk},
                {"proposal": proposal.pk, "successor": group.co_drafter.pk},
            ],
        },
    ]
    for body in cases:
        response = client.post(url(group.drafter), body, format="json")
        assert response.status_code == 400, body
        error = response.json()
        assert {"detail", "reasons", "code", "reason_codes"} <= set(error)
        assert error["code"] == "validation_error"
    drafter = Person.objects.get(pk=group.drafter.pk)
    assert drafter.left_on is None and drafter.is_active
    assert {a.pk for a in fresh(proposal).authors.all()} == {group.drafter.pk}


def test_a_person_who_already_left_is_a_409(group: Group) -> None:
    client = client_for(group.secretariat)
    assert client.post(url(group.reviewer), {"left_on": today()}, format="json").status_code == 201
    response = client.post(url(group.reviewer), {"left_on": today()}, format="json")
    assert response.status_code == 409
    assert "already recorded" in response.json()["reasons"][0]


def test_the_refusal_speaks_the_callers_language(group: Group) -> None:
    Person.objects.filter(pk=group.secretariat.pk).update(language="fr")
    client = client_for(Person.objects.get(pk=group.secretariat.pk))
    response = client.post(
        url(group.reviewer),
        {"left_on": (timezone.localdate() - dt.timedelta(days=1)).isoformat()},
        format="json",
    )
    assert response.status_code == 400
    assert "Le jour du départ ne peut pas être passé" in response.json()["reasons"][0]


def test_a_representative_asks_and_gets_a_202(group: Group) -> None:
    response = client_for(group.representative_fr).post(
        reverse("person-departure-request", kwargs={"person_id": group.drafter.pk}),
        {"left_on": today(), "note": "Moves to another ministry."},
        format="json",
    )
    assert response.status_code == 202
    assert Person.objects.get(pk=group.drafter.pk).left_on is None


def test_an_unknown_person_is_a_404(group: Group) -> None:
    response = client_for(group.secretariat).get(
        reverse("person-departure", kwargs={"person_id": 999_999})
    )
    assert response.status_code == 404


def test_a_script_token_of_someone_who_left_no_longer_authenticates(group: Group) -> None:
    key = api_token_key(group.reviewer)
    client_for(group.secretariat).post(url(group.reviewer), {"left_on": today()}, format="json")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get(reverse("proposal-list")).status_code == 401


def test_the_plan_reads_a_constant_number_of_queries(group: Group) -> None:
    client = client_for(group.secretariat)
    client.get(url(group.drafter))  # the token's first use is bookkeeping

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url(group.drafter)).status_code == 200
        return len(captured)

    proposal_draft(group)
    one = queries()
    for _ in range(6):
        proposal_draft(group, authors=[group.drafter, group.co_drafter])
    assert queries() == one
