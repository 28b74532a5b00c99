"""The invitation pages in English, French and Spanish: the secretariat's list and form, the page
of the link (reachable without being signed in, in the invitation's language), a clear page for
a link that no longer works, and the first visit."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from proposals import invitations
from proposals.models import Invitation, Person, Role
from tests.factories import Group, client_signed_in
from workflow.models import Delivery

pytestmark = pytest.mark.django_db

PASSWORD = "Long enough passphrase 42"

# What each page says, in each language (the catalogue's words, checked here by hand).
JOIN = {"en": "Join the policy tracker", "fr": "Rejoindre le suivi des propositions",
        "es": "Unirse al seguimiento de propuestas"}  # fmt: skip
EXPIRED = {"en": "This invitation expired on", "fr": "Cette invitation a expiré le",
           "es": "Esta invitación caducó el"}  # fmt: skip
WELCOME = {"en": "What you can do", "fr": "Ce que vous pouvez faire", "es": "Lo que puede hacer"}
INVITATIONS = {"en": "Invitations", "fr": "Invitations", "es": "Invitaciones"}


def invite(group: Group, language: str = "en", **kwargs: Any) -> tuple[Invitation, str]:
    values: dict[str, Any] = {
        "actor": group.secretariat,
        "email": "amina@ministry.example",
        "organization": group.morocco,
        "roles": [Role.DRAFTER],
        "language": language,
    }
    values.update(kwargs)
    invitation = invitations.invitation_create(**values)
    row = Delivery.objects.filter(
        template=invitations.EMAIL_TEMPLATE, object_id=invitation.pk
    ).latest("pk")
    return invitation, invitations.invitation_token(row.context["nonce"])


def secretariat(group: Group, language: str = "en") -> Client:
    Person.objects.filter(pk=group.secretariat.pk).update(language=language)
    group.secretariat.refresh_from_db()
    return client_signed_in(Client(), group.secretariat)


@pytest.mark.parametrize("language", ["en", "fr", "es"])
def test_the_page_of_the_link_speaks_the_invitations_language(group: Group, language: str) -> None:
    _invitation, token = invite(group, language)
    response = Client().get(f"/invitations/accept/{token}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert JOIN[language] in page
    assert f'<html lang="{language}"' in page


@pytest.mark.parametrize("language", ["en", "fr", "es"])
def test_an_expired_link_gets_a_clear_page_in_the_invitations_language(
    group: Group, language: str
) -> None:
    invitation, token = invite(group, language)
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - dt.timedelta(minutes=1)
    )
    response = Client().get(f"/invitations/accept/{token}/")
    assert response.status_code == 410
    assert EXPIRED[language] in response.content.decode()
    assert Client().post(f"/invitations/accept/{token}/", {}).status_code == 410


def test_an_unknown_link_is_a_404_page_that_says_why(group: Group) -> None:
    response = Client().get("/invitations/accept/nothing-like-a-token/")
    assert response.status_code == 404
    assert "not known" in response.content.decode()


def test_accepting_signs_in_and_the_first_visit_shows_what_awaits(group: Group) -> None:
    _invitation, token = invite(group, "es", roles=[Role.REPRESENTATIVE])
    client = Client()
    wrong = client.post(
        f"/invitations/accept/{token}/",
        {
            "username": "amina",
            "password1": PASSWORD,
            "password2": "another one",
            "language": "es",
            "timezone": "Africa/Casablanca",
        },
    )
    assert wrong.status_code == 400
    assert "Las dos contraseñas son distintas" in wrong.content.decode()
    done = client.post(
        f"/invitations/accept/{token}/",
        {
            "username": "amina",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "language": "es",
            "timezone": "Africa/Casablanca",
        },
    )
    assert done.status_code == 302 and done["Location"] == "/"
    first = client.get("/")
    page = first.content.decode()
    assert WELCOME["es"] in page
    assert "respaldar" in page.lower()  # what a representative does
    assert "Casablanca" in page
    assert Person.objects.get(username="amina").welcomed_at is not None
    second = client.get("/")
    assert WELCOME["es"] not in second.content.decode()


def test_a_secretariat_invitation_leads_to_setting_up_two_factor_first(group: Group) -> None:
    root = Person.objects.create_superuser("root", "root@example.org", "x")
    _invitation, token = invite(
        group, actor=root, organization=group.secretariat_org, roles=[Role.SECRETARIAT]
    )
    client = Client()
    client.post(
        f"/invitations/accept/{token}/",
        {
            "username": "newsec",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "language": "en",
            "timezone": "UTC",
        },
    )
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/settings/two-factor/enrol/?next=")


@pytest.mark.parametrize("language", ["en", "fr", "es"])
def test_the_secretariat_invites_from_its_pages(group: Group, language: str) -> None:
    client = secretariat(group, language)
    form = client.get("/invitations/new/")
    assert form.status_code == 200
    refused = client.post(
        "/invitations/new/",
        {
            "email": group.drafter.email,
            "organization": group.morocco.pk,
            "roles": [Role.DRAFTER],
            "language": "fr",
        },
    )
    assert refused.status_code == 400
    sent = client.post(
        "/invitations/new/",
        {
            "email": "amina@ministry.example",
            "organization": group.morocco.pk,
            "roles": [Role.DRAFTER],
            "language": "fr",
        },
    )
    assert sent.status_code == 302
    listing = client.get("/invitations/").content.decode()
    assert INVITATIONS[language] in listing and "amina@ministry.example" in listing
    invitation = Invitation.objects.get()
    digest = invitation.digest
    client.post(f"/invitations/{invitation.pk}/resend/")
    invitation.refresh_from_db()
    assert invitation.digest != digest
    client.post(f"/invitations/{invitation.pk}/revoke/")
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None


def test_only_the_secretariat_reaches_the_invitation_pages(group: Group) -> None:
    client = client_signed_in(Client(), group.representative_ma)
    assert client.get("/invitations/").status_code == 403
    assert client.get("/invitations/new/").status_code == 403
    assert Client().get("/invitations/")["Location"].startswith("/accounts/login/")


def test_the_invitation_list_runs_a_constant_number_of_queries(group: Group) -> None:
    client = secretariat(group)
    invite(group)
    client.get("/invitations/")
    with CaptureQueriesContext(connection) as one:
        client.get("/invitations/")
    for index in range(6):
        invite(group, email=f"more{index}@ministry.example", organization=group.france)
    with CaptureQueriesContext(connection) as seven:
        response = client.get("/invitations/")
    assert len(re.findall("@ministry.example", response.content.decode())) >= 7
    assert len(seven) == len(one)


@pytest.mark.parametrize("language", ["en", "fr", "es"])
def test_the_first_visit_speaks_the_persons_language_and_names_their_zone(
    group: Group, language: str
) -> None:
    Person.objects.filter(pk=group.reviewer.pk).update(
        welcomed_at=None, language=language, timezone="America/New_York"
    )
    group.reviewer.refresh_from_db()
    client = client_signed_in(Client(), group.reviewer)
    page = client.get("/").content.decode()
    assert f'<html lang="{language}"' in page
    assert WELCOME[language] in page
    assert {"en": "New York", "fr": "New York", "es": "Nueva York"}[language] in page
    assert "/settings/" in page
    group.reviewer.refresh_from_db()
    assert group.reviewer.welcomed_at is not None


def test_a_weak_password_is_refused_beside_its_field_in_the_invitations_language(
    group: Group,
) -> None:
    _invitation, token = invite(group, "fr")
    response = Client().post(
        f"/invitations/accept/{token}/",
        {
            "username": "amina",
            "password1": "12345678",
            "password2": "12345678",
            "language": "fr",
            "timezone": "UTC",
        },
    )
    assert response.status_code == 400
    field = re.search(
        r'<div class="field has-error">\s*<label for="id_password1">.*?</div>',
        response.content.decode(),
        re.S,
    )
    assert field is not None and "Ce mot de passe" in field.group(0)
    assert not Person.objects.filter(username="amina").exists()
