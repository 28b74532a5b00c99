"""Webhook endpoints in the admin: written through the audited services, the secret shown once."""

from __future__ import annotations

import pytest
from django.test import Client

from proposals.models import Person, WebhookEndpoint
from tests.factories import Group, client_signed_in
from workflow.models import AuditEvent

pytestmark = pytest.mark.django_db

ADD = "/admin/proposals/webhookendpoint/add/"


@pytest.fixture
def admin_client_(group: Group) -> Client:
    admin = Person.objects.create_superuser(username="admin", password="x", email="a@b.org")
    return client_signed_in(Client(), admin)


def form(group: Group, **changes: str) -> dict:
    return {
        "name": "Ministry registry",
        "url": "https://93.184.215.14/hooks",
        "organization": str(group.morocco.pk),
        "events": ["proposal.transitioned", "proposal.outcome_recorded"],
        "active": "on",
        **changes,
    }


def test_an_endpoint_added_in_the_admin_is_audited_and_its_secret_shown_once(
    admin_client_: Client, group: Group
) -> None:
    response = admin_client_.post(ADD, form(group), follow=True)
    assert response.status_code == 200
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.events == ["proposal.transitioned", "proposal.outcome_recorded"]
    shown = [str(message) for message in response.context["messages"]]
    assert any(endpoint.secret in message for message in shown)
    assert AuditEvent.objects.filter(action="webhook_endpoint.created").count() == 1
    page = admin_client_.get(f"/admin/proposals/webhookendpoint/{endpoint.pk}/change/")
    assert page.status_code == 200
    assert endpoint.secret not in page.content.decode()


def test_a_private_target_is_refused_in_the_admin_with_the_reason(
    admin_client_: Client, group: Group
) -> None:
    response = admin_client_.post(ADD, form(group, url="http://192.168.0.10/hook"))
    assert response.status_code == 200
    assert "public addresses" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_the_secret_is_renewed_by_an_admin_action(admin_client_: Client, group: Group) -> None:
    admin_client_.post(ADD, form(group))
    endpoint = WebhookEndpoint.objects.get()
    response = admin_client_.post(
        "/admin/proposals/webhookendpoint/",
        {"action": "secret_renew", "_selected_action": [str(endpoint.pk)]},
        follow=True,
    )
    endpoint.refresh_from_db()
    shown = [str(message) for message in response.context["messages"]]
    assert any(endpoint.secret in message for message in shown)
    assert AuditEvent.objects.filter(action="webhook_endpoint.secret_renewed").count() == 1


def test_a_change_and_a_deletion_go_through_the_services(
    admin_client_: Client, group: Group
) -> None:
    admin_client_.post(ADD, form(group))
    endpoint = WebhookEndpoint.objects.get()
    change = f"/admin/proposals/webhookendpoint/{endpoint.pk}/change/"
    response = admin_client_.post(change, form(group, name="Renamed", active=""))
    assert response.status_code == 302, response.content.decode()[:2000]
    endpoint.refresh_from_db()
    assert (endpoint.name, endpoint.active) == ("Renamed", False)
    admin_client_.post(f"/admin/proposals/webhookendpoint/{endpoint.pk}/delete/", {"post": "yes"})
    assert not WebhookEndpoint.objects.exists()
    assert list(
        AuditEvent.objects.filter(action__startswith="webhook_endpoint.")
        .order_by("at", "id")
        .values_list("action", flat=True)
    ) == ["webhook_endpoint.created", "webhook_endpoint.changed", "webhook_endpoint.deleted"]
