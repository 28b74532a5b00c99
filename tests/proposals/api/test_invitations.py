"""The invitations API: the secretariat lists, sends, resends and revokes; the same refusals as
the rest of the API; a constant number of queries for the list."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from proposals import invitations
from proposals.models import Invitation, Role
from tests.factories import Group
from tests.proposals.api.helpers import client_for
from workflow.models import AuditEvent, Delivery

pytestmark = pytest.mark.django_db

URL = "/api/invitations/"


def body(group: Group, **kwargs: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "email": "amina@ministry.example",
        "organization": group.morocco.pk,
        "roles": [Role.DRAFTER],
        "language": "es",
    }
    values.update(kwargs)
    return values


def test_the_secretariat_invites_and_the_answer_holds_no_token(group: Group) -> None:
    response = client_for(group.secretariat).post(URL, body(group), format="json")
    assert response.status_code == 201, response.json()
    answer = response.json()
    assert answer["status"] == "pending" and answer["roles"] == ["drafter"]
    invitation = Invitation.objects.get(pk=answer["id"])
    assert invitation.digest not in str(answer)
    assert Delivery.objects.filter(address="amina@ministry.example").count() == 1
    assert AuditEvent.objects.filter(action="invitation.created").count() == 1


def test_resend_and_revoke(group: Group) -> None:
    client = client_for(group.secretariat)
    pk = client.post(URL, body(group), format="json").json()["id"]
    digest = Invitation.objects.get(pk=pk).digest
    resent = client.post(f"{URL}{pk}/resend/")
    assert resent.status_code == 200 and resent.json()["status"] == "pending"
    assert Invitation.objects.get(pk=pk).digest != digest
    assert client.delete(f"{URL}{pk}/").status_code == 204
    assert client.get(URL, {"status": "revoked"}).json()["results"][0]["id"] == pk
    actions = AuditEvent.objects.filter(action__startswith="invitation.").values_list(
        "action", flat=True
    )
    assert sorted(actions) == ["invitation.created", "invitation.resent", "invitation.revoked"]


def test_refusals_have_the_apis_shape_in_the_requesters_language(group: Group) -> None:
    client = client_for(group.secretariat)
    wrong = client.post(
        URL, body(group, email=group.drafter.email), format="json", HTTP_ACCEPT_LANGUAGE="fr"
    )
    assert wrong.status_code == 400
    assert set(wrong.json()) >= {"detail", "reasons", "code", "reason_codes"}
    secretariat_role = client.post(
        URL,
        body(group, organization=group.secretariat_org.pk, roles=[Role.SECRETARIAT]),
        format="json",
    )
    assert secretariat_role.status_code == 403
    assert "superuser" in secretariat_role.json()["reasons"][0]
    unknown_role = client.post(URL, body(group, roles=["king"]), format="json")
    assert unknown_role.status_code == 400
    assert client.get(URL, {"status": "lost"}).status_code == 400
    assert client_for(group.drafter).get(URL).status_code == 403
    assert client_for(None).get(URL).status_code == 401
    assert client.post(f"{URL}999999/resend/").status_code == 404


def test_an_accepted_invitation_cannot_be_revoked(group: Group) -> None:
    invitation = invitations.invitation_create(
        actor=group.secretariat,
        email="amina@ministry.example",
        organization=group.morocco,
        roles=[Role.DRAFTER],
    )
    row = Delivery.objects.get(address="amina@ministry.example")
    invitations.invitation_accept(
        token=invitations.invitation_token(row.context["nonce"]),
        username="amina",
        password="Long enough passphrase 42",
        language="en",
        timezone_name="UTC",
    )
    response = client_for(group.secretariat).delete(f"{URL}{invitation.pk}/")
    assert response.status_code == 409
    assert response.json()["code"] == "conflict"


def test_the_list_runs_a_constant_number_of_queries(group: Group) -> None:
    client = client_for(group.secretariat)
    client.get(URL)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(URL).status_code == 200
        return len(queries)

    invitations.invitation_create(
        actor=group.secretariat,
        email="one@ministry.example",
        organization=group.morocco,
        roles=[Role.DRAFTER],
    )
    one = count()
    for index in range(5):
        invitations.invitation_create(
            actor=group.secretariat,
            email=f"more{index}@ministry.example",
            organization=group.france,
            roles=[Role.DRAFTER],
        )
    assert count() == one
