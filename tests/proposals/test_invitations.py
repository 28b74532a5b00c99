"""Invitations (issue 13, "Coming in"): single-use expiring links stored as digests, the rules of
roles, the announcement of a new representative, resending and revoking, each audited; and the
first visit."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.utils import timezone

from proposals import invitations
from proposals.accounts import token_digest
from proposals.models import Invitation, Membership, Person, Role
from tests.factories import Group
from workflow.emails import delivery_message
from workflow.errors import RefusalKind, Refused
from workflow.models import AuditEvent, Delivery

pytestmark = pytest.mark.django_db

PASSWORD = "Long enough passphrase 42"


def invite(group: Group, **kwargs: Any) -> Invitation:
    values: dict[str, Any] = {
        "actor": group.secretariat,
        "email": "amina@ministry.example",
        "organization": group.morocco,
        "roles": [Role.DRAFTER],
        "language": "fr",
        "first_name": "Amina",
    }
    values.update(kwargs)
    return invitations.invitation_create(**values)


def sent_emails(invitation: Invitation) -> list[Delivery]:
    return list(
        Delivery.objects.filter(template=invitations.EMAIL_TEMPLATE, object_id=invitation.pk)
        .select_related("recipient")
        .order_by("pk")
    )


def link_token(row: Delivery) -> str:
    """The token of the link in the email as it is sent."""
    message = delivery_message(row)
    found = re.search(r"/invitations/accept/([0-9a-f]+)/", str(message.body))
    assert found, message.body
    return found.group(1)


def accept(token: str, username: str = "amina", **kwargs: Any) -> Person:
    values: dict[str, Any] = {
        "token": token,
        "username": username,
        "password": PASSWORD,
        "language": "fr",
        "timezone_name": "Africa/Casablanca",
    }
    values.update(kwargs)
    return invitations.invitation_accept(**values)


def test_the_email_goes_to_the_address_in_the_invitations_language_and_only_a_digest_is_kept(
    group: Group,
) -> None:
    invitation = invite(group)
    (row,) = sent_emails(invitation)
    assert row.address == "amina@ministry.example"
    assert row.essential and row.kind == Delivery.Kind.SECURITY
    message = delivery_message(row)
    assert message.to == ["amina@ministry.example"]
    assert "Bonjour Amina" in message.body
    assert "Morocco" in message.body or "Maroc" in message.body
    token = link_token(row)
    assert invitation.digest == token_digest(token)
    assert token not in str(row.context) and token not in invitation.digest
    event = AuditEvent.objects.get(action="invitation.created")
    assert event.actor_id == group.secretariat.pk and event.after["roles"] == ["drafter"]
    assert invitation.expires_at == invitation.sent_at + dt.timedelta(days=14)


def test_accepting_makes_the_account_with_its_roles_password_language_and_zone(
    group: Group,
) -> None:
    invitation = invite(group)
    person = accept(link_token(sent_emails(invitation)[0]))
    assert person.check_password(PASSWORD)
    assert (person.email, person.language, person.timezone) == (
        "amina@ministry.example",
        "fr",
        "Africa/Casablanca",
    )
    assert person.first_name == "Amina" and person.welcomed_at is None
    assert set(Membership.objects.filter(person=person).values_list("organization", "role")) == {
        (group.morocco.pk, Role.DRAFTER)
    }
    invitation.refresh_from_db()
    assert invitation.person == person and invitation.accepted_at is not None
    actions = set(AuditEvent.objects.filter(subject_id=person.pk).values_list("action", flat=True))
    assert {"person.created", "person.roles_changed", "invitation.accepted"} <= actions


def test_a_link_works_once(group: Group) -> None:
    token = link_token(sent_emails(invite(group))[0])
    accept(token)
    with pytest.raises(invitations.InvitationUnusable) as refused:
        accept(token, username="amina2")
    assert "déjà été acceptée" in refused.value.reasons[0]
    assert Person.objects.filter(email="amina@ministry.example").count() == 1


def test_a_link_expires(group: Group) -> None:
    invitation = invite(group, language="es")
    token = link_token(sent_emails(invitation)[0])
    later = invitation.expires_at + dt.timedelta(seconds=1)
    with pytest.raises(invitations.InvitationUnusable) as refused:
        accept(token, now=later)
    assert refused.value.language == "es"
    assert "caducó" in refused.value.reasons[0] or "expired" in refused.value.reasons[0]
    assert invitations.invitation_status(invitation, later) == invitations.Status.EXPIRED
    assert not Person.objects.filter(email="amina@ministry.example").exists()


def test_an_unknown_link_says_so(group: Group) -> None:
    with pytest.raises(invitations.InvitationUnusable) as refused:
        invitations.invitation_by_token("0" * 64)
    assert not refused.value.found


def test_a_revoked_link_stops_working_and_the_revocation_is_audited(group: Group) -> None:
    invitation = invite(group)
    token = link_token(sent_emails(invitation)[0])
    invitations.invitation_revoke(actor=group.secretariat, invitation=invitation)
    with pytest.raises(invitations.InvitationUnusable):
        accept(token)
    event = AuditEvent.objects.get(action="invitation.revoked")
    assert event.actor_id == group.secretariat.pk and event.object_id == str(invitation.pk)


def test_resending_kills_the_former_link_and_the_new_one_works(group: Group) -> None:
    invitation = invite(group)
    old = link_token(sent_emails(invitation)[0])
    later = timezone.now() + dt.timedelta(days=20)  # the first link has expired by then
    resent = invitations.invitation_resend(
        actor=group.secretariat, invitation=invitation, now=later
    )
    assert resent.expires_at == later + dt.timedelta(days=14)
    first, second = sent_emails(invitation)
    new = link_token(second)
    assert new != old
    with pytest.raises(invitations.InvitationUnusable):
        invitations.invitation_by_token(old, now=later)
    assert accept(new, now=later).email == "amina@ministry.example"
    assert AuditEvent.objects.filter(action="invitation.resent").count() == 1


def test_an_accepted_invitation_is_neither_resent_nor_revoked(group: Group) -> None:
    invitation = invite(group)
    accept(link_token(sent_emails(invitation)[0]))
    for write in (invitations.invitation_resend, invitations.invitation_revoke):
        with pytest.raises(Refused) as refused:
            write(actor=group.secretariat, invitation=invitation)
        assert refused.value.kind == RefusalKind.CONFLICT


def test_only_the_secretariat_invites(group: Group) -> None:
    with pytest.raises(Refused) as refused:
        invite(group, actor=group.representative_ma)
    assert refused.value.kind == RefusalKind.PERMISSION
    assert not Invitation.objects.exists()


def test_the_rules_of_roles_apply_to_an_invitation(group: Group) -> None:
    with pytest.raises(Refused) as refused:
        invite(group, organization=group.secretariat_org, roles=[Role.SECRETARIAT])
    assert refused.value.kind == RefusalKind.PERMISSION
    assert "Only the superuser" in refused.value.reasons[0]
    with pytest.raises(Refused) as refused:
        invite(group, organization=group.quebec, roles=[Role.REPRESENTATIVE])
    assert refused.value.kind == RefusalKind.INVALID
    assert "not a full member" in refused.value.errors["roles"][0]
    with pytest.raises(Refused) as refused:
        invite(group, organization=group.france, roles=[Role.SECRETARIAT])
    assert "secretariat organisation" in refused.value.errors["roles"][0]
    with pytest.raises(Refused) as refused:
        invite(group, roles=[])
    assert "roles" in refused.value.errors
    assert not Invitation.objects.exists()


def test_an_address_in_use_or_already_invited_is_refused(group: Group) -> None:
    with pytest.raises(Refused) as refused:
        invite(group, email=group.drafter.email.upper())
    assert "already uses this address" in refused.value.errors["email"][0]
    invite(group)
    with pytest.raises(Refused) as refused:
        invite(group)
    assert "resend that invitation" in refused.value.errors["email"][0]


def test_a_representatives_invitation_is_announced_to_the_other_representatives(
    group: Group,
) -> None:
    invitation = invite(group, roles=[Role.REPRESENTATIVE, Role.DRAFTER])
    person = accept(link_token(sent_emails(invitation)[0]))
    announced = Delivery.objects.filter(
        template="proposals/email/account/representative_added"
    ).values_list("recipient_id", "context")
    assert [
        (recipient, context["representative_username"]) for recipient, context in announced
    ] == [(group.representative_ma.pk, person.username)]
    event = AuditEvent.objects.get(action="person.representative_added", subject_id=person.pk)
    assert event.actor_id == group.secretariat.pk


def test_a_superusers_invitation_to_the_secretariat_is_accepted(group: Group) -> None:
    root = Person.objects.create_superuser("root", "root@example.org", "x")
    invitation = invite(
        group, actor=root, organization=group.secretariat_org, roles=[Role.SECRETARIAT]
    )
    person = accept(link_token(sent_emails(invitation)[0]))
    assert Membership.objects.filter(person=person, role=Role.SECRETARIAT).exists()


def test_the_choices_at_acceptance_are_checked_and_nothing_is_made_when_one_is_wrong(
    group: Group,
) -> None:
    token = link_token(sent_emails(invite(group))[0])
    with pytest.raises(Refused) as refused:
        accept(
            token,
            username=group.drafter.username,
            password="amina",
            language="de",
            timezone_name="Mars/Olympus",
        )
    assert set(refused.value.errors) == {"username", "password", "language", "timezone"}
    assert not Person.objects.filter(email="amina@ministry.example").exists()
    assert accept(token).username == "amina"


def test_an_invitation_whose_inviter_lost_the_right_cannot_be_accepted(group: Group) -> None:
    token = link_token(sent_emails(invite(group))[0])
    Membership.objects.filter(person=group.secretariat).delete()
    with pytest.raises(Refused) as refused:
        accept(token)
    assert refused.value.kind == RefusalKind.PERMISSION
    assert not Person.objects.filter(email="amina@ministry.example").exists()


def test_the_invitations_are_listed_by_status(group: Group) -> None:
    pending = invite(group)
    revoked = invite(group, email="other@ministry.example")
    invitations.invitation_revoke(actor=group.secretariat, invitation=revoked)
    accepted = invite(group, email="third@ministry.example")
    accept(link_token(sent_emails(accepted)[0]), username="third")
    statuses = {
        status: list(invitations.invitations_with_status(status))
        for status in invitations.STATUS_LABELS
    }
    assert statuses == {
        "pending": [pending],
        "accepted": [accepted],
        "expired": [],
        "revoked": [revoked],
    }


def test_the_first_visit_is_recorded_once(group: Group) -> None:
    person = accept(link_token(sent_emails(invite(group))[0]))
    invitations.person_welcome(person=person)
    invitations.person_welcome(person=person)
    person.refresh_from_db()
    assert person.welcomed_at is not None
    assert AuditEvent.objects.filter(action="person.welcomed", subject_id=person.pk).count() == 1


def test_the_migration_welcomes_the_people_already_there(group: Group) -> None:
    import importlib

    from django.apps import apps as django_apps

    migration = importlib.import_module("proposals.migrations.0015_people_lifecycle")
    Person.objects.update(welcomed_at=None)
    migration.welcome_people_already_there(django_apps, None)
    assert not Person.objects.filter(welcomed_at__isnull=True).exists()
