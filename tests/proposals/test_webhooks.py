"""Webhooks: endpoints registered by the secretariat, events written with what happened, only
about proposals the endpoint's organisation may see, posted signed to a real receiver."""

from __future__ import annotations

import datetime as dt
import json
import re
import socket
import time
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from celery import current_app
from django.db import transaction
from django.utils import timezone

from proposals import webhooks
from proposals.models import Organization, ProposalState, WebhookEndpoint, WebhookEvent
from proposals.services import (
    endorsement_create,
    endorsement_withdraw,
    occasion_move_deadline,
    proposal_update,
)
from tests.factories import Group, proposal_draft
from tests.proposals.api.helpers import fresh, proposal_in, run
from tests.workflow.webhook_receiver import WebhookReceiver, signature_valid
from workflow import webhooks as engine
from workflow.errors import RefusalKind, Refused
from workflow.models import AuditEvent, Delivery

pytestmark = pytest.mark.django_db

ALL_EVENTS = list(WebhookEvent.values)


@pytest.fixture(autouse=True)
def loopback_allowed(settings) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    settings.WEBHOOK_RETRY_SECONDS = 30
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    settings.SITE_URL = "https://policy.example.org"


def endpoint_for(
    group: Group,
    organization: Organization,
    *,
    url: str = "http://127.0.0.1:9/hooks",
    events: list[str] | None = None,
) -> WebhookEndpoint:
    return webhooks.webhook_endpoint_create(
        actor=group.secretariat,
        name=f"{organization} registry",
        url=url,
        organization=organization,
        events=ALL_EVENTS if events is None else events,
    )


def webhook_rows(**filters) -> list[Delivery]:
    return list(Delivery.objects.filter(channel=Delivery.Channel.WEBHOOK, **filters).order_by("id"))


def events_by_endpoint(endpoint: WebhookEndpoint) -> list[tuple[str, str]]:
    return [(row.event, row.context["state"]) for row in webhook_rows(target_id=endpoint.pk)]


# Registration


def test_the_secretariat_registers_an_endpoint_with_a_generated_secret_and_an_audit_row(
    group: Group,
) -> None:
    endpoint = endpoint_for(group, group.morocco, events=[WebhookEvent.OUTCOME])
    assert len(endpoint.secret) >= 40
    assert endpoint.created_by == group.secretariat
    event = AuditEvent.objects.get(action="webhook_endpoint.created")
    assert event.after["url"] == "http://127.0.0.1:9/hooks"
    assert endpoint.secret not in json.dumps(event.after)


@pytest.mark.parametrize("who", ["drafter", "reviewer", "representative_ma", "outsider"])
def test_only_the_secretariat_may_register_change_or_remove_endpoints(
    group: Group, who: str
) -> None:
    person = getattr(group, who)
    with pytest.raises(Refused) as refused:
        webhooks.webhook_endpoint_create(
            actor=person,
            name="Mine",
            url="http://127.0.0.1:9/",
            organization=group.morocco,
            events=ALL_EVENTS,
        )
    assert refused.value.kind == RefusalKind.PERMISSION
    endpoint = endpoint_for(group, group.morocco)
    for attempt in (
        lambda: webhooks.webhook_endpoint_update(endpoint=endpoint, actor=person, active=False),
        lambda: webhooks.webhook_endpoint_secret_renew(endpoint=endpoint, actor=person),
        lambda: webhooks.webhook_endpoint_delete(endpoint=endpoint, actor=person),
    ):
        with pytest.raises(Refused):
            attempt()
    assert WebhookEndpoint.objects.get().active


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("ftp://example.org/hook", "https://"),
        ("http://user:pw@127.0.0.1/hook", "user name"),
        ("not a url", "https://"),
        ("https://registry.example.invalid/hook", "cannot be resolved"),
    ],
)
def test_a_url_that_cannot_be_a_target_is_refused_with_the_reason(
    group: Group, url: str, words: str, monkeypatch
) -> None:
    def unknown_host(host: str, *args: Any, **kwargs: Any) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    # No name server is asked: the host is unknown here, as it would be anywhere.
    monkeypatch.setattr(socket, "getaddrinfo", unknown_host)
    with pytest.raises(Refused) as refused:
        endpoint_for(group, group.morocco, url=url)
    assert refused.value.kind == RefusalKind.INVALID
    assert words in " ".join(refused.value.errors["url"])
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://localhost:8000/hook",
        "http://10.1.2.3/hook",
        "http://192.168.1.1/hook",
        "http://172.16.0.1/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://[fe80::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://0.0.0.0/hook",
    ],
)
def test_private_loopback_and_link_local_targets_are_refused_without_the_setting(
    group: Group, settings, url: str
) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    with pytest.raises(Refused) as refused:
        endpoint_for(group, group.morocco, url=url)
    assert "public addresses" in " ".join(refused.value.errors["url"])


def test_a_public_address_is_accepted_without_the_setting(settings) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    assert engine.target_addresses("https://93.184.215.14/hook") == ["93.184.215.14"]


def test_events_must_be_known_and_at_least_one(group: Group) -> None:
    for events in ([], ["proposal.deleted"]):
        with pytest.raises(Refused) as refused:
            endpoint_for(group, group.morocco, events=events)
        assert "proposal.transitioned" in refused.value.errors["events"][0]


def test_renewing_the_secret_changes_it_and_is_audited(group: Group) -> None:
    endpoint = endpoint_for(group, group.morocco)
    old = endpoint.secret
    new = webhooks.webhook_endpoint_secret_renew(endpoint=endpoint, actor=group.secretariat)
    assert new != old
    assert WebhookEndpoint.objects.get().secret == new
    assert AuditEvent.objects.filter(action="webhook_endpoint.secret_renewed").count() == 1


def test_an_update_that_changes_nothing_writes_nothing(group: Group) -> None:
    endpoint = endpoint_for(group, group.morocco)
    webhooks.webhook_endpoint_update(endpoint=endpoint, actor=group.secretariat, active=True)
    assert not AuditEvent.objects.filter(action="webhook_endpoint.changed").exists()
    webhooks.webhook_endpoint_update(endpoint=endpoint, actor=group.secretariat, active=False)
    event = AuditEvent.objects.get(action="webhook_endpoint.changed")
    assert (event.before, event.after) == ({"active": True}, {"active": False})


# Events: written with what happened, only for those who may see


def test_a_transition_writes_a_webhook_row_in_its_transaction_with_the_payload(
    group: Group,
) -> None:
    endpoint = endpoint_for(group, group.morocco)
    proposal = proposal_draft(group, title="Clean oceans")
    proposal = run(proposal, "submit_for_review", group.drafter)
    (row,) = webhook_rows()
    assert row.recipient_id is None
    assert (row.target_id, row.event, row.status) == (
        endpoint.pk,
        "proposal.transitioned",
        "pending",
    )
    assert row.context == {
        "event_id": str(row.event_id),
        "event": "proposal.transitioned",
        "occurred_at": row.context["occurred_at"],
        "proposal_id": proposal.pk,
        "state": "in_review",
        "title": "Clean oceans",
        "version": proposal.version,
        "link": f"https://policy.example.org/proposals/{proposal.pk}/",
        "details": {"transition": "submit_for_review", "from": "draft", "to": "in_review"},
    }
    assert row.context["occurred_at"].endswith("Z")


def test_a_refused_write_leaves_no_webhook_row(group: Group) -> None:
    endpoint_for(group, group.morocco)
    proposal = proposal_in(group, ProposalState.IN_REVIEW)
    before = len(webhook_rows())
    with pytest.raises(Refused):
        run(proposal, "approve", group.drafter)  # an author may not review
    with pytest.raises(RuntimeError), transaction.atomic():
        run(fresh(proposal), "approve", group.reviewer)
        raise RuntimeError("the transaction rolls back")
    assert len(webhook_rows()) == before


def test_a_draft_never_reaches_an_organisation_that_cannot_see_it(group: Group) -> None:
    morocco = endpoint_for(group, group.morocco)  # neither lead nor presidency
    quebec = endpoint_for(group, group.quebec)
    france = endpoint_for(group, group.france)  # the lead (and the presidency)
    secretariat = endpoint_for(group, group.secretariat_org)
    proposal = proposal_draft(group, title="Still secret")
    proposal_update(proposal=fresh(proposal), editor=group.drafter, text="A second revision.")
    occasion_move_deadline(
        occasion=group.occasion,
        new_deadline=group.occasion.submission_deadline + dt.timedelta(days=3),
        actor=group.secretariat,
    )
    for outsider in (morocco, quebec):
        assert events_by_endpoint(outsider) == []
    for reader in (france, secretariat):
        assert events_by_endpoint(reader) == [
            ("proposal.revised", "draft"),
            ("proposal.deadline_moved", "draft"),
        ]
    run(proposal, "submit_for_review", group.drafter)
    assert events_by_endpoint(morocco) == [("proposal.transitioned", "in_review")]
    run(fresh(proposal), "request_changes", group.reviewer, "Say more.")
    # Back in draft: the change itself is news of a draft, kept from those who cannot see it.
    assert events_by_endpoint(morocco) == [("proposal.transitioned", "in_review")]
    assert events_by_endpoint(france)[-1] == ("proposal.transitioned", "draft")


def test_a_draft_led_by_another_organisation_is_kept_from_a_former_member(group: Group) -> None:
    endpoint = endpoint_for(group, group.luxembourg)
    Organization.objects.filter(pk=group.luxembourg.pk).update(
        status=Organization.Status.FORMER, left_on=timezone.localdate()
    )
    proposal_in(group, ProposalState.IN_REVIEW)
    assert events_by_endpoint(endpoint) == []


def test_each_kind_of_event_reaches_only_the_endpoints_subscribed_to_it(group: Group) -> None:
    outcomes = endpoint_for(group, group.morocco, events=[WebhookEvent.OUTCOME])
    endorsements = endpoint_for(group, group.morocco, events=[WebhookEvent.ENDORSEMENT])
    everything = endpoint_for(group, group.morocco)
    proposal = proposal_in(group, ProposalState.CLOSED)
    assert [event for event, _state in events_by_endpoint(outcomes)] == [
        "proposal.outcome_recorded"
    ]
    (outcome,) = webhook_rows(target_id=outcomes.pk)
    assert outcome.context["details"]["outcome"] == "adopted"
    assert [event for event, _state in events_by_endpoint(endorsements)] == [
        "proposal.endorsed",
        "proposal.endorsed",
    ]
    assert [event for event, _state in events_by_endpoint(everything)] == [
        "proposal.transitioned",  # submitted for review
        "proposal.transitioned",  # approved: open for endorsement
        "proposal.endorsed",
        "proposal.endorsed",
        "proposal.transitioned",  # submitted
        "proposal.transitioned",  # outcome recorded
        "proposal.outcome_recorded",
    ]
    assert fresh(proposal).state == ProposalState.CLOSED


def test_a_withdrawn_endorsement_is_an_endorsement_event(group: Group) -> None:
    endpoint = endpoint_for(group, group.morocco, events=[WebhookEvent.ENDORSEMENT])
    proposal = proposal_in(group, ProposalState.IN_REVIEW)
    proposal = run(proposal, "approve", group.reviewer)
    endorsement = endorsement_create(proposal=fresh(proposal), person=group.representative_ma)
    endorsement_withdraw(endorsement=endorsement, person=group.representative_ma)
    details = [row.context["details"] for row in webhook_rows(target_id=endpoint.pk)]
    assert [(d["action"], d["organization_id"]) for d in details] == [
        ("endorse", group.morocco.pk),
        ("withdraw_endorsement", group.morocco.pk),
    ]


def test_an_inactive_endpoint_gets_nothing(group: Group) -> None:
    endpoint = endpoint_for(group, group.morocco)
    webhooks.webhook_endpoint_update(endpoint=endpoint, actor=group.secretariat, active=False)
    proposal_in(group, ProposalState.IN_REVIEW)
    assert webhook_rows() == []


def test_a_deadline_move_writes_its_rows_in_a_constant_number_of_queries(
    group: Group, django_assert_max_num_queries
) -> None:
    endpoint_for(group, group.morocco)
    endpoint_for(group, group.france)
    for index in range(6):
        proposal_in(group, ProposalState.IN_REVIEW, title=f"Proposal {index}")
    Delivery.objects.all().delete()
    # 16 with 6 proposals as with 12: the followers told of the move are read at once too.
    with django_assert_max_num_queries(16):
        occasion_move_deadline(
            occasion=group.occasion,
            new_deadline=group.occasion.submission_deadline + dt.timedelta(days=3),
            actor=group.secretariat,
        )
    assert len(webhook_rows()) == 12
    assert len({row.event_id for row in webhook_rows()}) == 6


# Posting: the engine, against a real receiver


def test_a_webhook_is_posted_signed_with_a_stable_event_id(group: Group) -> None:
    with WebhookReceiver() as receiver:
        endpoint = endpoint_for(group, group.morocco, url=receiver.url)
        receiver.secret = endpoint.secret
        proposal_in(group, ProposalState.IN_REVIEW)
        (row,) = webhook_rows()
        report = engine.webhooks_send([row.pk])
        (received,) = receiver.snapshot()
    assert report.sent == 1
    assert received.signature_valid and received.fresh
    assert received.path == "/hooks/policy"
    assert received.headers["X-Webhook-Event-Id"] == str(row.event_id)
    assert received.headers["Content-Type"] == "application/json"
    assert received.payload == row.context
    timestamp = received.headers["X-Webhook-Timestamp"]
    assert abs(int(timestamp) - time.time()) < 60
    assert signature_valid(
        endpoint.secret, timestamp, received.body, received.headers["X-Webhook-Signature"]
    )
    assert not signature_valid(
        "another secret", timestamp, received.body, received.headers["X-Webhook-Signature"]
    )
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == ("sent", 1, "")


def test_a_failed_try_waits_with_backoff_then_succeeds_with_the_same_event_id(
    group: Group,
) -> None:
    with WebhookReceiver(failures=2) as receiver:
        endpoint = endpoint_for(group, group.morocco, url=receiver.url)
        receiver.secret = endpoint.secret
        proposal_in(group, ProposalState.IN_REVIEW)
        (row,) = webhook_rows()
        first = engine.webhooks_send([row.pk])
        row.refresh_from_db()
        assert (first.waiting, row.status, row.attempts) == (1, "pending", 1)
        assert row.last_error.startswith("HTTP 500")
        assert row.next_attempt_at is not None
        wait = row.next_attempt_at - timezone.now()
        assert dt.timedelta(seconds=25) < wait <= dt.timedelta(seconds=30)
        # Not due yet: nothing is posted.
        assert engine.webhooks_send([row.pk]).sent == 0
        assert len(receiver.snapshot()) == 1
        engine.webhooks_send([row.pk], now=row.next_attempt_at)
        row.refresh_from_db()
        assert row.next_attempt_at is not None
        wait = row.next_attempt_at - timezone.now()
        assert dt.timedelta(seconds=55) < wait <= dt.timedelta(seconds=60)  # doubled
        engine.webhooks_send([row.pk], now=row.next_attempt_at)
        row.refresh_from_db()
        received = receiver.snapshot()
    assert (row.status, row.attempts) == ("sent", 3)
    assert [item.answered for item in received] == [500, 500, 204]
    assert {item.event_id for item in received} == {str(row.event_id)}
    assert all(item.signature_valid for item in received)


def test_out_of_attempts_a_webhook_fails_in_the_log(group: Group) -> None:
    with WebhookReceiver(failures=10) as receiver:
        endpoint_for(group, group.morocco, url=receiver.url)
        proposal_in(group, ProposalState.IN_REVIEW)
        (row,) = webhook_rows()
        for _try in range(3):
            engine.webhooks_send([row.pk], now=timezone.now() + dt.timedelta(hours=1))
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("failed", 3)
    assert row.last_error.startswith("HTTP 500")


def test_a_redirect_is_not_followed(group: Group) -> None:
    with WebhookReceiver() as elsewhere, WebhookReceiver(redirect_to=elsewhere.url) as receiver:
        endpoint_for(group, group.morocco, url=receiver.url)
        proposal_in(group, ProposalState.IN_REVIEW)
        (row,) = webhook_rows()
        engine.webhooks_send([row.pk])
        assert elsewhere.snapshot() == []
    row.refresh_from_db()
    assert row.status == "pending"
    assert row.last_error.startswith("HTTP 307")


def test_a_receiver_that_does_not_answer_in_time_is_a_failed_try(group: Group, settings) -> None:
    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    with WebhookReceiver() as receiver:
        receiver.delay = 2
        endpoint_for(group, group.morocco, url=receiver.url)
        proposal_in(group, ProposalState.IN_REVIEW)
        (row,) = webhook_rows()
        engine.webhooks_send([row.pk])
    row.refresh_from_db()
    assert row.status == "pending"
    assert "timed out" in row.last_error.lower()


def test_a_connection_refused_is_a_failed_try(group: Group) -> None:
    endpoint_for(group, group.morocco, url="http://127.0.0.1:9/nobody-listens")
    proposal_in(group, ProposalState.IN_REVIEW)
    (row,) = webhook_rows()
    engine.webhooks_send([row.pk])
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("pending", 1)
    assert "ConnectionRefusedError" in row.last_error


def test_a_target_that_became_private_is_refused_at_send_time(group: Group, settings) -> None:
    with WebhookReceiver() as receiver:
        endpoint_for(group, group.morocco, url=receiver.url)
        proposal_in(group, ProposalState.IN_REVIEW)
        (row,) = webhook_rows()
        settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
        engine.webhooks_send([row.pk])
        assert receiver.snapshot() == []
    row.refresh_from_db()
    assert row.status == "pending"
    assert "public addresses" in row.last_error


def test_rows_of_a_removed_or_inactive_endpoint_fail_without_a_request(group: Group) -> None:
    with WebhookReceiver() as receiver:
        removed = endpoint_for(group, group.morocco, url=receiver.url)
        inactive = endpoint_for(group, group.luxembourg, url=receiver.url)
        proposal_in(group, ProposalState.IN_REVIEW)
        webhooks.webhook_endpoint_delete(endpoint=removed, actor=group.secretariat)
        webhooks.webhook_endpoint_update(endpoint=inactive, actor=group.secretariat, active=False)
        report = engine.webhooks_send([row.pk for row in webhook_rows()])
        assert receiver.snapshot() == []
    assert report.failed == 2
    assert {row.status for row in webhook_rows()} == {"failed"}


def test_the_sweep_releases_a_webhook_stuck_in_sending_and_queues_it_again(group: Group) -> None:
    endpoint_for(group, group.morocco)
    proposal_in(group, ProposalState.IN_REVIEW)
    (row,) = webhook_rows()
    claimed = engine.webhooks_claim([row.pk], timezone.now())
    assert [item.pk for item in claimed] == [row.pk]
    queued = engine.webhooks_sweep(
        timezone.now() + dt.timedelta(minutes=11),
        stuck_after=dt.timedelta(minutes=10),
        requeue_after=dt.timedelta(minutes=5),
    )
    assert queued == [row.pk]
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("pending", 1)
    assert "stopped" in row.last_error


# The receiver of docs/webhooks.md, run as written


def documented_receiver(secret: str) -> tuple[Any, list[dict]]:
    text = (Path(__file__).resolve().parents[2] / "docs" / "webhooks.md").read_text()
    code = re.search(r"```python\n(.*?)```", text, re.S)
    assert code is not None
    handled_events: list[dict] = []
    namespace: dict[str, Any] = {}
    exec(code.group(1), namespace)  # noqa: S102 (the documentation's own example)
    namespace["SECRET"] = secret.encode()
    namespace["handle"] = handled_events.append
    return namespace["receive"], handled_events


def test_the_documented_receiver_verifies_a_real_webhook_and_refuses_replays(
    group: Group,
) -> None:
    with WebhookReceiver() as receiver:
        endpoint = endpoint_for(group, group.morocco, url=receiver.url)
        proposal_in(group, ProposalState.IN_REVIEW)
        (row,) = webhook_rows()
        engine.webhooks_send([row.pk])
        (received,) = receiver.snapshot()
    receive, handled_events = documented_receiver(endpoint.secret)
    headers = Message()
    for name, value in received.headers.items():
        headers[name] = value
    assert receive(headers, received.body) == 204
    assert handled_events == [row.context]
    assert receive(headers, received.body) == 204  # a retry: acknowledged, not handled again
    assert len(handled_events) == 1
    assert receive(headers, received.body.replace(b"in_review", b"submitted")) == 401
    old = Message()
    for name, value in received.headers.items():
        old[name] = value
    del old["X-Webhook-Timestamp"]
    stale = str(int(time.time()) - 301)
    old["X-Webhook-Timestamp"] = stale
    del old["X-Webhook-Signature"]
    old["X-Webhook-Signature"] = engine.signature(endpoint.secret, stale, received.body)
    assert receive(old, received.body) == 400


# The broker carries ids only: what it loses, the sweep finds again


def test_with_the_broker_down_the_change_succeeds_and_its_webhook_waits_for_the_sweep(
    group: Group, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    endpoint_for(group, group.morocco)
    task = current_app.tasks[engine.SEND_TASK]
    queued: list[tuple[Any, Any]] = []

    def broker_down(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("the broker does not answer")

    monkeypatch.setattr(task, "apply_async", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        proposal = run(proposal_draft(group), "submit_for_review", group.drafter)
    assert fresh(proposal).state == ProposalState.IN_REVIEW
    (row,) = webhook_rows()
    assert (row.status, row.queued_at) == ("pending", None)

    monkeypatch.setattr(task, "apply_async", lambda args, **kwargs: queued.append((args, kwargs)))
    queued_ids = engine.webhooks_sweep(
        timezone.now() + dt.timedelta(minutes=2),
        stuck_after=dt.timedelta(minutes=10),
        requeue_after=dt.timedelta(minutes=5),
    )
    assert queued_ids == [row.pk]
    assert queued == [(([row.pk],), {})]


def test_the_task_queues_a_failed_webhook_again_for_its_next_try(group: Group, monkeypatch) -> None:
    from workflow import tasks

    queued: list[tuple[Any, Any]] = []
    task = current_app.tasks[engine.SEND_TASK]
    monkeypatch.setattr(task, "apply_async", lambda args, **kwargs: queued.append((args, kwargs)))
    with WebhookReceiver(failures=1) as receiver:
        endpoint_for(group, group.morocco, url=receiver.url)
        proposal_in(group, ProposalState.IN_REVIEW)
        (row,) = webhook_rows()
        assert tasks.webhooks_send([row.pk]) == 0
    ((args, options),) = queued
    assert args == ([row.pk],)
    assert 25 < options["countdown"] <= 30  # WEBHOOK_RETRY_SECONDS, then doubling
