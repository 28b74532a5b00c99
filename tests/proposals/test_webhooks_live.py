"""Webhooks end to end: a real Celery worker on Redis, PostgreSQL, and a real HTTP receiver on
the loopback address that checks each signature as the README's example does.

The worker is told by its environment that loopback targets are allowed here
(WEBHOOK_ALLOW_PRIVATE_TARGETS=1) and to wait one second after a first failure
(WEBHOOK_RETRY_SECONDS=1), except where a test shows what production settings refuse.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from proposals.models import Organization, ProposalState, WebhookEndpoint, WebhookEvent
from proposals.services import occasion_move_deadline, proposal_update
from proposals.webhooks import webhook_endpoint_create
from tests.conftest import skip_or_fail
from tests.factories import Group, group_setup, proposal_draft
from tests.proposals.api.helpers import fresh, proposal_in, run
from tests.workflow.live_services import (
    SmtpSink,
    Worker,
    celery_queue_clear,
    redis_reachable,
    settings_redis_url,
    shared_database_url,
    wait_until,
)
from tests.workflow.webhook_receiver import WebhookReceiver
from workflow.delivery import STUCK_AFTER, deliveries_sweep
from workflow.models import Delivery

pytestmark = pytest.mark.services

SETTLED = {Delivery.Status.SENT, Delivery.Status.FAILED}


@dataclass
class Live:
    workers: list[Worker]
    start_worker: Callable[..., Worker]

    def log(self) -> str:
        rows = [
            f"{row.pk} {row.status} attempts={row.attempts} next={row.next_attempt_at} "
            f"queued={row.queued_at} {row.last_error[:100]}"
            for row in webhook_rows()
        ]
        workers = "\n".join(worker.log()[-4000:] for worker in self.workers)
        return "\n".join(["--- webhook rows ---", *rows, "--- workers ---", workers])


@pytest.fixture
def live(transactional_db: None, tmp_path: Path, settings) -> Iterator[Live]:
    """PostgreSQL shared with worker processes, Redis as the broker, an SMTP sink for the
    emails the same events send."""
    if connection.vendor != "postgresql":
        skip_or_fail(
            "this test needs PostgreSQL, shared with a worker process "
            "(set DATABASE_URL=postgres://...)"
        )
    redis_url = settings_redis_url()
    if not redis_url:
        skip_or_fail("this test needs Redis as the Celery broker (set REDIS_URL=redis://...)")
    if not redis_reachable(redis_url):
        skip_or_fail(f"this test needs Redis, and {redis_url} does not answer")
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True  # registering the loopback receiver
    celery_queue_clear(redis_url)
    sink = SmtpSink().start()
    workers: list[Worker] = []
    database_url = shared_database_url()

    def start_worker(**environment: str) -> Worker:
        worker = Worker(
            database_url=database_url, redis_url=redis_url, email_url=sink.url, log_dir=tmp_path
        )
        worker.env.update(
            {
                "WEBHOOK_ALLOW_PRIVATE_TARGETS": "1",
                "WEBHOOK_RETRY_SECONDS": "1",
                "WEBHOOK_MAX_ATTEMPTS": "8",
                **environment,
            }
        )
        workers.append(worker)
        return worker.start()

    try:
        yield Live(workers, start_worker)
    finally:
        for worker in workers:
            worker.stop()
        sink.stop()
        celery_queue_clear(redis_url)


def endpoint_at(
    group: Group, organization: Organization, receiver: WebhookReceiver, events=None
) -> WebhookEndpoint:
    endpoint = webhook_endpoint_create(
        actor=group.secretariat,
        name=f"{organization} registry",
        url=receiver.url,
        organization=organization,
        events=events or list(WebhookEvent.values),
    )
    receiver.secret = endpoint.secret
    return endpoint


def webhook_rows() -> list[Delivery]:
    return list(Delivery.objects.filter(channel=Delivery.Channel.WEBHOOK).order_by("id"))


def settle(live: Live, count: int, timeout: float = 120) -> list[Delivery]:
    """Wait until `count` webhook rows exist and each is sent or failed."""

    def settled() -> list[Delivery] | None:
        rows = webhook_rows()
        if len(rows) < count or any(row.status not in SETTLED for row in rows):
            return None
        return rows

    return wait_until(settled, timeout, f"{count} webhook deliveries to settle", live.log)


def test_events_reach_a_real_receiver_signed_once_each(live: Live) -> None:
    group = group_setup()
    with WebhookReceiver() as receiver:
        endpoint_at(group, group.morocco, receiver)
        live.start_worker()
        proposal = proposal_in(group, ProposalState.ENDORSEMENT, title="Clean oceans")
        rows = settle(live, 4)
        received = receiver.snapshot()
    assert {row.status for row in rows} == {Delivery.Status.SENT}
    assert all(item.signature_valid and item.fresh for item in received)
    assert sorted(item.event_id for item in received) == sorted(str(row.event_id) for row in rows)
    assert [(item.payload["event"], item.payload["state"]) for item in received] == [
        ("proposal.transitioned", "in_review"),
        ("proposal.transitioned", "endorsement"),
        ("proposal.endorsed", "endorsement"),
        ("proposal.endorsed", "endorsement"),
    ]
    assert {item.payload["proposal_id"] for item in received} == {proposal.pk}
    assert {item.payload["title"] for item in received} == {"Clean oceans"}


def test_a_receiver_failing_three_times_gets_the_event_on_the_fourth_try(live: Live) -> None:
    group = group_setup()
    with WebhookReceiver(failures=3) as receiver:
        endpoint_at(group, group.morocco, receiver, events=[WebhookEvent.TRANSITION])
        live.start_worker()
        run(proposal_draft(group), "submit_for_review", group.drafter)
        (row,) = settle(live, 1)
        received = receiver.snapshot()
    assert (row.status, row.attempts, row.last_error) == (Delivery.Status.SENT, 4, "")
    assert [item.answered for item in received] == [500, 500, 500, 204]
    assert {item.event_id for item in received} == {str(row.event_id)}
    assert all(item.signature_valid for item in received)
    # WEBHOOK_RETRY_SECONDS=1: the waits double, 1, 2 and 4 seconds.
    waits = [later.at - earlier.at for earlier, later in zip(received, received[1:], strict=False)]
    assert all(
        expected - 0.2 <= wait < expected + 3
        for wait, expected in zip(waits, [1, 2, 4], strict=True)
    ), waits


def test_a_worker_killed_in_the_middle_of_a_batch_loses_no_webhook(live: Live) -> None:
    group = group_setup()
    with WebhookReceiver() as receiver:
        receiver.delay = 0.4
        endpoint_at(group, group.morocco, receiver, events=[WebhookEvent.DEADLINE_MOVED])
        for index in range(8):
            proposal_in(group, ProposalState.IN_REVIEW, title=f"Proposal {index}")
        worker = live.start_worker()
        occasion_move_deadline(
            occasion=group.occasion,
            new_deadline=group.occasion.submission_deadline + dt.timedelta(days=2),
            actor=group.secretariat,
        )
        wait_until(lambda: len(receiver.snapshot()) >= 3, 30, "the batch to be under way", live.log)
        worker.kill()
        statuses = Counter(row.status for row in webhook_rows())
        assert statuses[Delivery.Status.SENDING] > 0, statuses

        live.start_worker()
        # The sweep, run later by beat, releases what the dead worker had claimed.
        deliveries_sweep(now=timezone.now() + STUCK_AFTER + dt.timedelta(minutes=1))
        rows = settle(live, 8)
        received = receiver.accepted()
    assert {row.status for row in rows} == {Delivery.Status.SENT}
    arrivals = Counter(item.event_id for item in received)
    assert set(arrivals) == {str(row.event_id) for row in rows}
    # Only the webhook in flight when the worker died may arrive twice: receivers
    # de-duplicate by X-Webhook-Event-Id.
    assert sum(count - 1 for count in arrivals.values()) <= 1


def test_a_drafts_events_never_reach_an_organisation_that_cannot_see_it(live: Live) -> None:
    group = group_setup()
    with WebhookReceiver() as morocco, WebhookReceiver() as france:
        endpoint_at(group, group.morocco, morocco)
        endpoint_at(group, group.france, france)  # the lead organisation
        live.start_worker()
        proposal = proposal_draft(group, title="Not yet public")
        proposal_update(proposal=fresh(proposal), editor=group.drafter, text="Second revision.")
        occasion_move_deadline(
            occasion=group.occasion,
            new_deadline=group.occasion.submission_deadline + dt.timedelta(days=2),
            actor=group.secretariat,
        )
        run(proposal, "submit_for_review", group.drafter)
        settle(live, 4)
        seen_by_morocco = [item.payload for item in morocco.snapshot()]
        seen_by_france = [item.payload for item in france.snapshot()]
    assert [(p["event"], p["state"]) for p in seen_by_morocco] == [
        ("proposal.transitioned", "in_review")
    ]
    assert [(p["event"], p["state"]) for p in seen_by_france] == [
        ("proposal.revised", "draft"),
        ("proposal.deadline_moved", "draft"),
        ("proposal.transitioned", "in_review"),
    ]
    assert "Not yet public" not in str(seen_by_morocco[:-1])


def test_a_worker_with_production_settings_refuses_a_loopback_target(live: Live) -> None:
    group = group_setup()
    with WebhookReceiver() as receiver:
        endpoint_at(group, group.morocco, receiver, events=[WebhookEvent.TRANSITION])
        live.start_worker(WEBHOOK_ALLOW_PRIVATE_TARGETS="0", WEBHOOK_MAX_ATTEMPTS="1")
        run(proposal_draft(group), "submit_for_review", group.drafter)
        (row,) = settle(live, 1)
        assert receiver.snapshot() == []
    assert row.status == Delivery.Status.FAILED
    assert "public addresses" in row.last_error
