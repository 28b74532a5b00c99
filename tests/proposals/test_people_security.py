"""People's identity and roles change only as separation of duties allows, and each change is
in the audit trail (issue 9, findings 1 and 5)."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse

from proposals.models import Membership, Person, Role
from tests.factories import Group, PersonFactory, api_token_key, totp_device_for
from tests.proposals.api.helpers import client_for
from tests.proposals.web.helpers import signed_in
from workflow.delivery import deliveries_send
from workflow.models import AuditEvent, Delivery

pytestmark = pytest.mark.django_db


def superuser() -> Person:
    admin = PersonFactory.create(username="admin", is_superuser=True, is_staff=True)
    totp_device_for(admin)
    return admin


def person_url(person: Person) -> str:
    return f"/api/people/{person.pk}/"


def send_all() -> None:
    deliveries_send(list(Delivery.objects.values_list("pk", flat=True)))


# Finding 1: the account takeover through the API.


def test_the_secretariat_cannot_change_a_superusers_email(group: Group) -> None:
    admin = superuser()
    response = client_for(group.secretariat).patch(
        person_url(admin), {"email": "attacker@example.org"}, format="json"
    )
    assert response.status_code == 403
    assert Person.objects.get(pk=admin.pk).email == "admin@example.org"


@pytest.mark.parametrize("field", ["email", "username"])
def test_the_secretariat_cannot_change_anyones_email_or_username(group: Group, field: str) -> None:
    before = getattr(group.drafter, field)
    response = client_for(group.secretariat).patch(
        person_url(group.drafter), {field: "attacker@example.org"}, format="json"
    )
    assert response.status_code == 403
    assert "superuser corrects" in response.json()["reasons"][0]
    assert getattr(Person.objects.get(pk=group.drafter.pk), field) == before


def test_the_secretariat_cannot_change_another_person_of_the_secretariat(group: Group) -> None:
    colleague = PersonFactory.create(username="colleague")
    Membership.objects.create(
        person=colleague, organization=group.secretariat_org, role=Role.SECRETARIAT
    )
    response = client_for(group.secretariat).patch(
        person_url(colleague), {"first_name": "Mallory"}, format="json"
    )
    assert response.status_code == 403
    assert Person.objects.get(pk=colleague.pk).first_name == "Colleague"


def test_a_person_cannot_change_their_own_email_by_patch(group: Group) -> None:
    response = client_for(group.secretariat).patch(
        person_url(group.secretariat), {"email": "sam@elsewhere.org"}, format="json"
    )
    assert response.status_code == 403
    assert "confirm it from the new address" in response.json()["reasons"][0]


def test_a_superuser_with_two_factor_corrects_a_lost_address_and_both_are_told(
    group: Group,
) -> None:
    admin = superuser()
    client = client_for(None)
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_key(admin)}")
    response = client.patch(
        person_url(group.drafter), {"email": "claire@new.example.org"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert Person.objects.get(pk=group.drafter.pk).email == "claire@new.example.org"
    event = AuditEvent.objects.get(action="person.email_changed")
    assert (event.actor, event.subject, event.security) == (admin, group.drafter, True)
    assert event.before == {"email": "claire@example.org"}
    assert event.after == {"email": "claire@new.example.org"}
    send_all()
    assert sorted(m.to[0] for m in mail.outbox) == [
        "claire@example.org",
        "claire@new.example.org",
    ]


def test_a_superuser_without_two_factor_cannot_correct_an_address(group: Group) -> None:
    admin = PersonFactory.create(username="admin", is_superuser=True, is_staff=True)
    client = client_for(None)
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_key(admin)}")
    response = client.patch(person_url(group.drafter), {"email": "x@example.org"}, format="json")
    assert response.status_code == 403
    assert Person.objects.get(pk=group.drafter.pk).email == "claire@example.org"


def test_a_person_changes_their_address_only_by_the_link_sent_to_it(group: Group) -> None:
    client = client_for(group.drafter)
    wrong = client.post(
        "/api/people/me/email/", {"email": "c@new.org", "password": "guess"}, format="json"
    )
    assert wrong.status_code == 400
    assert "password" in wrong.json()
    asked = client.post(
        "/api/people/me/email/", {"email": "c@new.org", "password": "demo"}, format="json"
    )
    assert asked.status_code == 202, asked.json()
    assert Person.objects.get(pk=group.drafter.pk).email == "claire@example.org"
    send_all()
    by_address = {m.to[0]: m for m in mail.outbox}
    assert set(by_address) == {"c@new.org", "claire@example.org"}
    link = re.search(r"/settings/email/confirm/(\S+)/", str(by_address["c@new.org"].body))
    assert link
    token = link.group(1)
    other = client_for(group.co_drafter).post(
        "/api/people/me/email/confirm/", {"token": token}, format="json"
    )
    assert other.status_code == 403
    confirmed = client.post("/api/people/me/email/confirm/", {"token": token}, format="json")
    assert confirmed.status_code == 200, confirmed.json()
    assert Person.objects.get(pk=group.drafter.pk).email == "c@new.org"
    again = client.post("/api/people/me/email/confirm/", {"token": token}, format="json")
    assert again.status_code == 400
    assert AuditEvent.objects.filter(action="person.email_changed", subject=group.drafter).exists()


def test_the_email_change_pages_ask_and_confirm(group: Group) -> None:
    client = signed_in(group.drafter)
    asked = client.post(
        reverse("proposals:email_change"), {"email": "c@new.org", "password": "demo"}
    )
    assert asked.status_code == 302
    send_all()
    message = next(m for m in mail.outbox if m.to == ["c@new.org"])
    path = re.search(r"https?://[^/]+(/settings/email/confirm/\S+/)", str(message.body))
    assert path
    page = client.get(path.group(1))
    assert b"c@new.org" in page.content
    client.post(path.group(1))
    assert Person.objects.get(pk=group.drafter.pk).email == "c@new.org"


# Finding 5: separation of duties.


def test_nobody_changes_their_own_roles(group: Group) -> None:
    response = client_for(group.secretariat).patch(
        person_url(group.secretariat),
        {"organizations": [{"id": group.secretariat_org.pk, "roles": ["secretariat", "reviewer"]}]},
        format="json",
    )
    assert response.status_code == 403
    assert set(
        Membership.objects.filter(person=group.secretariat).values_list("role", flat=True)
    ) == {Role.SECRETARIAT}


def test_the_secretariat_cannot_make_itself_a_states_representative(group: Group) -> None:
    response = client_for(group.secretariat).patch(
        person_url(group.secretariat),
        {
            "organizations": [
                {"id": group.secretariat_org.pk, "roles": ["secretariat"]},
                {"id": group.france.pk, "roles": ["representative"]},
            ]
        },
        format="json",
    )
    assert response.status_code == 403
    assert not Membership.objects.filter(person=group.secretariat, organization=group.france)


def test_a_person_acts_for_one_organisation_only(group: Group) -> None:
    response = client_for(group.secretariat).patch(
        person_url(group.drafter),
        {
            "organizations": [
                {"id": group.france.pk, "roles": ["drafter"]},
                {"id": group.morocco.pk, "roles": ["representative"]},
            ]
        },
        format="json",
    )
    assert response.status_code == 400
    assert "one organisation only" in str(response.json()["organizations"])


def test_only_the_superuser_grants_the_secretariat_role(group: Group) -> None:
    newcomer = PersonFactory.create(username="newcomer")
    Membership.objects.create(
        person=newcomer, organization=group.secretariat_org, role=Role.REVIEWER
    )
    body = {"organizations": [{"id": group.secretariat_org.pk, "roles": ["secretariat"]}]}
    refused = client_for(group.secretariat).patch(person_url(newcomer), body, format="json")
    assert refused.status_code == 403
    assert refused.json()["reasons"] == [
        "Only the superuser can grant or remove the secretariat role."
    ]
    admin = superuser()
    client = client_for(None)
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_key(admin)}")
    assert client.patch(person_url(newcomer), body, format="json").status_code == 200


def test_a_new_representative_is_announced_to_the_others_and_audited(group: Group) -> None:
    response = client_for(group.secretariat).patch(
        person_url(group.co_drafter),
        {"organizations": [{"id": group.france.pk, "roles": ["drafter", "representative"]}]},
        format="json",
    )
    assert response.status_code == 200, response.json()
    roles = AuditEvent.objects.get(action="person.roles_changed")
    assert roles.actor == group.secretariat
    assert roles.before == {"roles": [[group.france.pk, "drafter"]]}
    assert roles.after == {
        "roles": [[group.france.pk, "drafter"], [group.france.pk, "representative"]]
    }
    assert AuditEvent.objects.filter(action="person.representative_added").exists()
    send_all()
    announced = [m for m in mail.outbox if "now represents France" in m.subject]
    assert [m.to for m in announced] == [[group.representative_fr.email]]


def test_a_representative_only_for_a_full_member(group: Group) -> None:
    response = client_for(group.secretariat).patch(
        person_url(group.co_drafter),
        {"organizations": [{"id": group.quebec.pk, "roles": ["representative"]}]},
        format="json",
    )
    assert response.status_code == 400
    assert "not a full member" in str(response.json())


# Security events: the secretariat reads all, each person their own.


def test_security_events_are_read_by_the_secretariat_and_by_the_person_concerned(
    group: Group,
) -> None:
    client_for(group.secretariat).patch(
        person_url(group.co_drafter),
        {"organizations": [{"id": group.france.pk, "roles": ["drafter", "reviewer"]}]},
        format="json",
    )
    everyone = client_for(group.secretariat).get("/api/security-events/").json()
    assert "person.roles_changed" in {row["action"] for row in everyone["results"]}
    own = client_for(group.co_drafter).get("/api/security-events/").json()
    assert {row["subject"] for row in own["results"]} == {"pierre"}
    others = client_for(group.drafter).get("/api/security-events/").json()
    assert others["count"] == 0
    page = signed_in(group.secretariat).get(reverse("proposals:security_events"))
    assert b"The roles were changed" in page.content
    mine = signed_in(group.co_drafter).get(reverse("proposals:security_events_mine"))
    assert b"The roles were changed" in mine.content
    assert signed_in(group.drafter).get(reverse("proposals:security_events")).status_code == 403
