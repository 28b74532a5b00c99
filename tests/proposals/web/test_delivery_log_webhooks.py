"""The delivery log shows webhook deliveries beside emails: their channel, their endpoint, their
event and when they are tried again, in a constant number of queries."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from proposals.models import ProposalState, WebhookEvent
from proposals.webhooks import webhook_endpoint_create
from tests.factories import Group, client_signed_in
from tests.proposals.api.helpers import client_for, proposal_in
from workflow.models import Delivery

pytestmark = pytest.mark.django_db


@pytest.fixture
def with_webhooks(group: Group, settings) -> Group:
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    for organization in (group.morocco, group.luxembourg):
        webhook_endpoint_create(
            actor=group.secretariat,
            name=f"{organization} registry",
            url="http://127.0.0.1:9/hook",
            organization=organization,
            events=list(WebhookEvent.values),
        )
    return group


def test_the_page_lists_webhooks_with_their_endpoint_and_channel(with_webhooks: Group) -> None:
    group = with_webhooks
    proposal_in(group, ProposalState.IN_REVIEW, title="Clean oceans")
    client = client_signed_in(Client(), group.secretariat)
    page = client.get(reverse("proposals:delivery_log"), {"channel": "webhook"})
    text = page.content.decode()
    assert page.status_code == 200
    assert "Endpoint “Morocco registry”" in text
    assert "Endpoint “Luxembourg registry”" in text
    assert "A proposal changed state" in text
    assert "Clean oceans" in text
    assert text.count('data-label="Channel">Webhook</td>') == 2
    emails = client.get(reverse("proposals:delivery_log"), {"channel": "email"}).content.decode()
    assert ">Webhook</td>" not in emails


def test_the_page_reads_the_endpoints_of_a_page_in_one_query(
    with_webhooks: Group, django_assert_max_num_queries
) -> None:
    group = with_webhooks
    client = client_signed_in(Client(), group.secretariat)
    proposal_in(group, ProposalState.IN_REVIEW)
    client.get(reverse("proposals:delivery_log"))
    with django_assert_max_num_queries(9) as few:  # 8, and the header's unread count
        client.get(reverse("proposals:delivery_log"))
    for index in range(5):
        proposal_in(group, ProposalState.IN_REVIEW, title=f"Proposal {index}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("proposals:delivery_log"))


def test_the_api_log_names_the_channel_and_the_endpoint(with_webhooks: Group) -> None:
    group = with_webhooks
    proposal_in(group, ProposalState.IN_REVIEW)
    client = client_for(group.secretariat)
    answer = client.get(reverse("delivery-list"), {"channel": "webhook"}).json()
    rows = answer["results"]
    assert len(rows) == 2
    row = rows[0]
    assert (row["channel"], row["recipient"], row["event"], row["event_kind"]) == (
        "webhook",
        None,
        "proposal.transitioned",
        "proposal.transitioned",
    )
    assert row["endpoint"]["name"] in ("Morocco registry", "Luxembourg registry")
    assert row["event_id"] == str(Delivery.objects.get(pk=row["id"]).event_id)
    emails = client.get(reverse("delivery-list"), {"channel": "email"}).json()["results"]
    assert emails and all(item["endpoint"] is None for item in emails)


@pytest.mark.parametrize("value", ["y", "1.5", "0", "99999999999999999999999"])
def test_the_api_log_refuses_a_proposal_filter_that_is_no_id(group: Group, value: str) -> None:
    answer = client_for(group.secretariat).get(reverse("delivery-list"), {"proposal": value})
    assert answer.status_code == 400
    assert "proposal" in answer.json()


def test_the_api_log_filters_by_proposal(with_webhooks: Group) -> None:
    group = with_webhooks
    proposal = proposal_in(group, ProposalState.IN_REVIEW)
    rows = client_for(group.secretariat).get(
        reverse("delivery-list"), {"proposal": str(proposal.pk), "channel": "webhook"}
    )
    assert rows.status_code == 200
    assert {row["about"]["id"] for row in rows.json()["results"]} == {proposal.pk}
