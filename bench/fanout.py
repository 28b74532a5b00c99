"""Beside the mail (issue 16, target 4): what one transition's notice costs when many people
follow the proposal and many webhook endpoints subscribe to it.

- In-page notifications: the notices a transition writes for the proposal's followers
  (`proposals.following.followers_told_of_transition` then `deliveries_enqueue`: the outbox
  writes one in-page row per follower, delivered, and the emails the followers chose), timed
  from the followers' lookup to the commit, for N followers.
- Webhooks: the rows of one `proposal.transitioned` event for M subscribed endpoints
  (`proposals.notifications.webhook_events_write`), timed to the commit, then posted by
  `workflow.webhooks.webhooks_send` (in this process, as a worker does) to a local HTTP
  receiver that counts them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

KEY_PREFIX = "bench-fanout"
ENDPOINT_NAME = "Benchmark receiver"


class ReceiverHandler(BaseHTTPRequestHandler):
    """Reads each POST and answers 204; the server counts them."""

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with self.server.lock:  # type: ignore[attr-defined]
            self.server.received += 1  # type: ignore[attr-defined]
        self.send_response(204)
        self.end_headers()


@contextmanager
def receiver() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), ReceiverHandler)
    server.daemon_threads = True
    server.received = 0  # type: ignore[attr-defined]
    server.lock = threading.Lock()  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def the_proposal() -> Any:
    from proposals.models import Proposal

    proposal = (
        Proposal.objects.filter(state="endorsement", occasion__isnull=False)
        .select_related("occasion", "lead_organization")
        .order_by("-id")
        .first()
    )
    if proposal is None:
        raise RuntimeError("no proposal in endorsement to follow")
    return proposal


def rows_by_channel(event_ids: set[Any]) -> dict[str, int]:
    from django.db.models import Count

    from workflow.models import Delivery

    counted = (
        Delivery.objects.filter(event_id__in=event_ids)
        .values_list("channel", "status")
        .annotate(count=Count("id"))
        .order_by()
    )
    return {f"{channel} {status}": count for channel, status, count in counted}


def followers_figures(proposal: Any, followers: int, run: int) -> dict[str, Any]:
    """The notices of one transition to `followers` followers (people of the group, made to
    follow the proposal for this measure), written and committed."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from proposals.following import followers_told_of_transition
    from proposals.models import Follow, Person
    from workflow.models import Delivery
    from workflow.services import deliveries_enqueue

    people = list(
        Person.objects.filter(is_active=True)
        .exclude(follows__proposal=proposal)
        .order_by("id")
        .values_list("id", flat=True)[:followers]
    )
    Follow.objects.bulk_create(
        [Follow(person_id=person_id, proposal=proposal) for person_id in people]
    )
    try:
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            with transaction.atomic():
                notices = followers_told_of_transition(proposal, "approve", None, "", ())
                ids = deliveries_enqueue(
                    notices, key_prefix=f"{KEY_PREFIX}:{run}:{proposal.pk}", about=proposal
                )
            elapsed = time.perf_counter() - started
        event_ids = set(
            Delivery.objects.filter(key__startswith=f"{KEY_PREFIX}:{run}:").values_list(
                "event_id", flat=True
            )
        )
        rows = rows_by_channel(event_ids)
    finally:
        Follow.objects.filter(proposal=proposal, person_id__in=people).delete()
    return {
        "followers": len(people),
        "told": len(notices),
        "rows": rows,
        "rows_written": sum(rows.values()),
        "emails_pending": len(ids),
        "seconds": round(elapsed, 3),
        "followers_per_second": round(len(notices) / elapsed, 1) if elapsed else None,
        "queries": len(queries),
        "event_ids": [str(event_id) for event_id in event_ids],
    }


def webhooks_figures(proposal: Any, endpoints: int) -> dict[str, Any]:
    """One transition's webhook rows for `endpoints` endpoints of the proposal's lead
    organisation, written and committed, then posted to a local receiver."""
    from django.db import connection, transaction
    from django.test import override_settings
    from django.test.utils import CaptureQueriesContext

    from proposals.models import WebhookEndpoint, WebhookEvent
    from proposals.notifications import webhook_events_write
    from workflow.models import Delivery
    from workflow.webhooks import BATCH_SIZE, webhooks_send

    with receiver() as server:
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        WebhookEndpoint.objects.bulk_create(
            [
                WebhookEndpoint(
                    name=f"{ENDPOINT_NAME} {number}",
                    url=url,
                    organization=proposal.lead_organization,
                    events=[WebhookEvent.TRANSITION.value],
                )
                for number in range(endpoints)
            ]
        )
        event_ids: set[Any] = set()
        try:
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                with transaction.atomic():
                    ids = webhook_events_write(
                        proposals=[proposal],
                        event=WebhookEvent.TRANSITION.value,
                        details={"transition": "approve", "from": "in_review", "to": "endorsement"},
                    )
                written = time.perf_counter() - started
            event_ids = set(Delivery.objects.filter(pk__in=ids).values_list("event_id", flat=True))
            with override_settings(WEBHOOK_ALLOW_PRIVATE_TARGETS=True):
                started = time.perf_counter()
                for start in range(0, len(ids), BATCH_SIZE):
                    webhooks_send(ids[start : start + BATCH_SIZE])
                posted = time.perf_counter() - started
            rows = rows_by_channel(event_ids)
            received = server.received  # type: ignore[attr-defined]
        finally:
            Delivery.objects.filter(event_id__in=event_ids).delete()
            WebhookEndpoint.objects.filter(name__startswith=ENDPOINT_NAME).delete()
    return {
        "endpoints": endpoints,
        "rows": rows,
        "rows_written": len(ids),
        "write_seconds": round(written, 3),
        "write_queries": len(queries),
        "rows_per_second_written": round(len(ids) / written, 1) if written else None,
        "post_seconds": round(posted, 3),
        "posted_per_second": round(received / posted, 1) if posted else None,
        "received": received,
    }


def run(config: dict[str, Any]) -> dict[str, Any]:
    from django.urls import get_resolver

    from bench.transitions import redis_flush
    from workflow.models import Delivery

    get_resolver().reverse_dict  # noqa: B018 (the notices link to pages: loaded once per process)
    proposal = the_proposal()
    results: dict[str, Any] = {"proposal": proposal.pk, "followers": [], "webhooks": []}
    try:
        # The first notice of a process imports Celery's producer and connects to the broker:
        # a web process has done it long before. Measured once, not reported.
        followers_figures(proposal, 3, -1)
        for run_number, followers in enumerate(config["fanout_followers"]):
            results["followers"].append(followers_figures(proposal, followers, run_number))
        for endpoints in config["fanout_endpoints"]:
            results["webhooks"].append(webhooks_figures(proposal, endpoints))
    finally:
        event_ids = [e for entry in results["followers"] for e in entry.pop("event_ids", [])]
        Delivery.objects.filter(event_id__in=event_ids).delete()
        Delivery.objects.filter(key__startswith=KEY_PREFIX).delete()
        redis_flush()  # the emails and webhooks queued after commit: nobody sends them here
    return results
