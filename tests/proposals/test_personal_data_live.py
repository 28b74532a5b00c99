"""Personal data with the real parts: a Celery worker on Redis and PostgreSQL shared with it,
an SMTP sink. The request for erasure reaches the secretariat's mailbox; the beat's tasks
(the purge, the log's seal) run in the worker, and the log the worker wrote verifies here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from proposals import personal_data
from proposals import tasks as proposal_tasks
from tests.conftest import skip_or_fail
from tests.factories import group_setup
from tests.workflow.live_services import (
    SmtpSink,
    Worker,
    celery_queue_clear,
    redis_reachable,
    settings_redis_url,
    shared_database_url,
    wait_until,
)
from workflow import tasks
from workflow.integrity import log_verify
from workflow.models import AuditEvent, Delivery, LogSeal, TransitionLog

pytestmark = pytest.mark.services


@pytest.fixture
def worker(transactional_db: None, tmp_path: Path) -> Iterator[tuple[Worker, SmtpSink]]:
    if connection.vendor != "postgresql":
        skip_or_fail("this test needs PostgreSQL, shared with a worker (DATABASE_URL=postgres://)")
    redis_url = settings_redis_url()
    if not redis_url or not redis_reachable(redis_url):
        skip_or_fail("this test needs Redis as the Celery broker (REDIS_URL=redis://...)")
    celery_queue_clear(redis_url)
    sink = SmtpSink().start()
    process = Worker(
        database_url=shared_database_url(),
        redis_url=redis_url,
        email_url=sink.url,
        log_dir=tmp_path,
    )
    try:
        yield process.start(), sink
    finally:
        process.stop()
        sink.stop()
        celery_queue_clear(redis_url)


def test_the_request_is_emailed_and_the_scheduled_tasks_run_in_the_worker(
    worker: tuple[Worker, SmtpSink],
) -> None:
    process, sink = worker
    group = group_setup()
    personal_data.erasure_request(person=group.drafter)
    wait_until(
        lambda: (
            Delivery.objects.filter(
                template=personal_data.ERASURE_REQUESTED_TEMPLATE, status=Delivery.Status.SENT
            ).exists()
            and sink.snapshot()
        ),
        60,
        "the request's email to reach the sink",
        process.log,
    )
    assert [message.to for message in sink.snapshot()] == [(group.secretariat.email,)]

    old = timezone.now() - dt.timedelta(days=400)
    Delivery.objects.filter(template=personal_data.ERASURE_REQUESTED_TEMPLATE).update(
        created_at=old
    )
    proposal_tasks.retention_purge.delay()
    wait_until(
        lambda: AuditEvent.objects.filter(action="retention.purged").exists(),
        60,
        "the purge to run in the worker",
        process.log,
    )
    assert not Delivery.objects.filter(template=personal_data.ERASURE_REQUESTED_TEMPLATE).exists()

    # The worker seals the rows it and this process wrote (as if an hour later: past the margin).
    tasks.log_seal.delay(now=(timezone.now() + dt.timedelta(hours=1)).isoformat())
    wait_until(lambda: LogSeal.objects.exists() or None, 60, "a seal", process.log)
    report = log_verify(now=timezone.now() + dt.timedelta(hours=1))
    assert report.valid, report.problems
    assert report.seals >= 1
    assert report.rows == AuditEvent.objects.count() + TransitionLog.objects.count() >= 2
