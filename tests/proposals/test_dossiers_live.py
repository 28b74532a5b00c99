"""The dossier end to end: a real Celery worker on Redis renders it after the submission commits,
and the authors' "submitted" email, held until then, reaches a real SMTP sink with the very
bytes stored attached. PostgreSQL is shared with the worker process."""

from __future__ import annotations

import email
import email.policy
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings
from django.db import connection

from proposals.models import ProposalState, Submission
from tests.conftest import skip_or_fail
from tests.factories import group_setup
from tests.proposals.api.helpers import proposal_in, run
from tests.workflow.live_services import (
    SmtpSink,
    Worker,
    celery_queue_clear,
    redis_reachable,
    settings_redis_url,
    shared_database_url,
    wait_until,
)
from workflow.models import Delivery

pytestmark = pytest.mark.services


class RawHandler:
    """Keeps each message whole, attachments included."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)
        )
        return "250 Message accepted for delivery"


@pytest.fixture
def live(transactional_db: None, tmp_path: Path) -> Iterator[tuple[RawHandler, Worker]]:
    if connection.vendor != "postgresql":
        skip_or_fail("this test needs PostgreSQL, shared with a worker process")
    redis_url = settings_redis_url()
    if not redis_url or not redis_reachable(redis_url):
        skip_or_fail("this test needs Redis as the Celery broker (set REDIS_URL=redis://...)")
    celery_queue_clear(redis_url)
    handler = RawHandler()
    sink = SmtpSink()
    sink._controller = Controller(handler, hostname="127.0.0.1", port=sink.port)
    sink.start()
    worker = Worker(
        database_url=shared_database_url(),
        redis_url=redis_url,
        email_url=sink.url,
        log_dir=tmp_path,
    )
    # The worker stores the dossier where this test reads it (the run's own files folder).
    worker.env["FILES_ROOT"] = settings.STORAGES["default"]["OPTIONS"]["location"]
    try:
        yield handler, worker.start()
    finally:
        worker.stop()
        sink.stop()
        celery_queue_clear(redis_url)


def test_the_submitted_email_leaves_after_the_dossier_and_carries_its_bytes(
    live: tuple[RawHandler, Worker],
) -> None:
    handler, worker = live
    group = group_setup()
    proposal = proposal_in(group, ProposalState.ENDORSEMENT, language="fr", title="Loi ESS")
    run(proposal, "submit", group.secretariat)
    submission = wait_until(
        lambda: Submission.objects.filter(proposal=proposal).exclude(dossier="").first(),
        60,
        "the worker to store the dossier",
        worker.log,
    )
    wait_until(
        lambda: any(
            message["To"] == group.drafter.email and list(message.iter_attachments())
            for message in handler.messages
        ),
        60,
        "the submitted email to reach the sink",
        worker.log,
    )
    row = wait_until(
        lambda: Delivery.objects.filter(
            event="proposal.submitted",
            channel=Delivery.Channel.EMAIL,
            recipient=group.drafter,
            status=Delivery.Status.SENT,
        ).first(),
        30,
        "the submitted email to be marked sent",
        worker.log,
    )
    assert row.sent_at is not None and submission.dossier_rendered_at is not None
    assert row.sent_at >= submission.dossier_rendered_at, "the email waited for the dossier"
    (attachment,) = [
        part
        for message in handler.messages
        if message["To"] == group.drafter.email
        for part in message.iter_attachments()
        if part.get_content_type() == "application/pdf"
    ]
    assert attachment.get_filename() == f"{submission.number}.pdf"
    content = attachment.get_content()
    assert hashlib.sha256(content).hexdigest() == submission.dossier_sha256
    with submission.dossier.open("rb") as stored:
        assert stored.read() == content
