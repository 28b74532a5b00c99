"""The hourly reading through a real Celery worker on Redis and PostgreSQL: the beat task
queues one reading per active feed, the worker reads the feed from a server on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection

from proposals import calendar_import
from proposals.models import CalendarFeed, Occasion
from proposals.tasks import calendar_feeds_read
from tests.conftest import skip_or_fail
from tests.factories import group_setup
from tests.proposals.feed_server import event, feed_server, ics
from tests.workflow.live_services import (
    SmtpSink,
    Worker,
    celery_queue_clear,
    redis_reachable,
    settings_redis_url,
    shared_database_url,
    wait_until,
)

pytestmark = pytest.mark.services


def test_the_beat_task_reads_each_active_feed_through_a_worker(
    transactional_db: None, tmp_path: Path, settings
) -> None:
    if connection.vendor != "postgresql":
        skip_or_fail("this test needs PostgreSQL, shared with a worker process")
    redis_url = settings_redis_url()
    if not redis_url or not redis_reachable(redis_url):
        skip_or_fail("this test needs Redis as the Celery broker (set REDIS_URL=redis://...)")
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    celery_queue_clear(redis_url)
    group = group_setup()
    sink = SmtpSink().start()
    worker = Worker(
        database_url=shared_database_url(),
        redis_url=redis_url,
        email_url=sink.url,
        log_dir=tmp_path,
    )
    worker.env["WEBHOOK_ALLOW_PRIVATE_TARGETS"] = "1"
    try:
        with feed_server() as server:
            url = server.serve(
                "/feed.ics",
                ics(event("h1@body.example", "Hearing", ";VALUE=DATE:20270510")),
            )
            feed = CalendarFeed.objects.create(body=group.body, url=url, occasion_kind="summit")
            CalendarFeed.objects.create(
                body=group.body, url=server.url("/off.ics"), occasion_kind="summit", active=False
            )
            worker.start()
            assert calendar_feeds_read() == 1  # the inactive feed is not read
            wait_until(
                lambda: Occasion.objects.filter(feed=feed).exists(),
                60,
                "the worker to import the feed",
                worker.log,
            )
            feed.refresh_from_db()
            assert feed.status == CalendarFeed.Status.OK
            assert [path for path, _etag in server.requests] == ["/feed.ics"]
            assert calendar_import.feed_report(feed.last_error).reason == ""
    finally:
        worker.stop()
        sink.stop()
        celery_queue_clear(redis_url)
