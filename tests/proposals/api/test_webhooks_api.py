"""/api/webhooks/: the secretariat registers endpoints; the secret is answered only once."""

from __future__ import annotations

import pytest
from django.urls import reverse

from proposals.models import WebhookEndpoint
from tests.factories import Group
from tests.proposals.api.helpers import client_for
from workflow.models import AuditEvent

pytestmark = pytest.mark.django_db

PUBLIC_URL = "https://93.184.215.14/hooks/policy"


def register(group: Group, **changes):
    body = {
        "name": "Moroccan registry",
        "url": PUBLIC_URL,
        "organization": group.morocco.pk,
        "events": ["proposal.transitioned", "proposal.outcome_recorded"],
        **changes,
    }
    return client_for(group.secretariat).post(reverse("webhook-list"), body, format="json")


def test_the_secretariat_registers_an_endpoint_and_reads_its_secret_once(group: Group) -> None:
    response = register(group)
    assert response.status_code == 201, response.json()
    created = response.json()
    endpoint = WebhookEndpoint.objects.get()
    assert created["secret"] == endpoint.secret
    assert created["events"] == ["proposal.transitioned", "proposal.outcome_recorded"]
    assert created["created_by"] == group.secretariat.pk
    client = client_for(group.secretariat)
    listed = client.get(reverse("webhook-list")).json()
    read = client.get(reverse("webhook-detail", args=[endpoint.pk])).json()
    assert endpoint.secret not in str(listed) + str(read)
    assert "secret" not in read
    assert "secret" not in listed["results"][0]
    assert AuditEvent.objects.filter(action="webhook_endpoint.created").count() == 1


def test_renewing_the_secret_answers_the_new_one(group: Group) -> None:
    old = register(group).json()
    response = client_for(group.secretariat).post(reverse("webhook-secret", args=[old["id"]]))
    assert response.status_code == 200
    assert response.json()["secret"] not in ("", old["secret"])
    assert WebhookEndpoint.objects.get().secret == response.json()["secret"]


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"url": "http://127.0.0.1:8000/hook"}, "url", "public addresses"),
        ({"url": "http://169.254.169.254/"}, "url", "public addresses"),
        ({"url": "file:///etc/passwd"}, "url", "https://"),
        ({"events": []}, "events", ""),
        ({"events": ["proposal.deleted"]}, "events", ""),
        ({"name": "   "}, "name", ""),
    ],
)
def test_a_refused_registration_is_a_400_that_says_what_to_fix(
    group: Group, changes: dict, field: str, words: str
) -> None:
    response = register(group, **changes)
    assert response.status_code == 400, response.json()
    body = response.json()
    assert field in str(body)
    assert words in str(body)
    assert not WebhookEndpoint.objects.exists()


def test_a_change_and_a_removal_go_through_the_services(group: Group) -> None:
    endpoint = register(group).json()
    client = client_for(group.secretariat)
    url = reverse("webhook-detail", args=[endpoint["id"]])
    changed = client.patch(url, {"active": False, "events": ["proposal.revised"]}, format="json")
    assert changed.status_code == 200, changed.json()
    assert (changed.json()["active"], changed.json()["events"]) == (False, ["proposal.revised"])
    refused = client.patch(url, {"url": "http://10.0.0.1/"}, format="json")
    assert refused.status_code == 400
    assert client.delete(url).status_code == 204
    assert list(
        AuditEvent.objects.filter(action__startswith="webhook_endpoint.")
        .order_by("at", "id")
        .values_list("action", flat=True)
    ) == ["webhook_endpoint.created", "webhook_endpoint.changed", "webhook_endpoint.deleted"]


def test_the_schema_declares_the_webhook_operations(group: Group) -> None:
    response = client_for(group.secretariat).get(reverse("schema"), {"format": "json"})
    schema = response.json()
    assert "/api/webhooks/" in schema["paths"]
    assert "/api/webhooks/{id}/secret/" in schema["paths"]
    created = schema["paths"]["/api/webhooks/"]["post"]["responses"]["201"]
    assert "WithSecret" in str(created)
