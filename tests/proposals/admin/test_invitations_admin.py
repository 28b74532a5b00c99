"""Invitations in the admin: listed with their status, resent and revoked through the services."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from proposals import invitations
from proposals.models import Invitation, Role
from tests.factories import Group, client_signed_in
from workflow.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_the_secretariat_resends_and_revokes_from_the_admin(group: Group) -> None:
    from django.contrib.auth.models import Permission

    group.secretariat.is_staff = True
    group.secretariat.save(update_fields=["is_staff"])
    group.secretariat.user_permissions.add(Permission.objects.get(codename="view_invitation"))
    invitation = invitations.invitation_create(
        actor=group.secretariat,
        email="amina@ministry.example",
        organization=group.morocco,
        roles=[Role.DRAFTER],
    )
    client = client_signed_in(Client(), group.secretariat)
    changelist = reverse("admin:proposals_invitation_changelist")
    page = client.get(changelist)
    assert page.status_code == 200
    assert "amina@ministry.example" in page.content.decode() and "Pending" in page.content.decode()
    assert client.get(reverse("admin:proposals_invitation_add")).status_code == 403
    digest = invitation.digest
    client.post(changelist, {"action": "resend", "_selected_action": [invitation.pk]})
    invitation.refresh_from_db()
    assert invitation.digest != digest
    client.post(changelist, {"action": "revoke", "_selected_action": [invitation.pk]})
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    assert set(
        AuditEvent.objects.filter(object_type="proposals.invitation").values_list(
            "action", flat=True
        )
    ) == {"invitation.created", "invitation.resent", "invitation.revoked"}
    assert Invitation.objects.count() == 1
