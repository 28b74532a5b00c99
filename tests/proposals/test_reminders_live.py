"""Reminders and notifications end to end: a real Celery worker on Redis, PostgreSQL, an SMTP sink.

Time is controlled by passing `now` to the scan, never by freezing the clock around the worker:
deadlines are set relative to the real clock, so that the worker and the test agree on what
is due. Each test starts its own worker(s) and sink and stops them, with timeouts.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from proposals.models import Proposal
from proposals.selectors import proposals_with_rule_data
from proposals.services import endorsement_create, occasion_move_deadline
from tests.conftest import skip_or_fail
from tests.factories import Group, PersonFactory, group_setup, proposal_draft
from tests.workflow.live_services import (
    PROJECT,
    SmtpSink,
    Worker,
    celery_queue_clear,
    free_port,
    redis_reachable,
    settings_redis_url,
    shared_database_url,
    wait_until,
)
from workflow import tasks
from workflow.delivery import BATCH_SIZE, STUCK_AFTER, deliveries_sweep
from workflow.emails import delivery_message_id
from workflow.models import Delivery, ReminderStage
from workflow.reminders import reminders_scan
from workflow.services import transition_run

pytestmark = pytest.mark.services

DAY = dt.timedelta(days=1)
SETTLED = [Delivery.Status.SENT, Delivery.Status.FAILED, Delivery.Status.SUPERSEDED]


@dataclass
class Live:
    sink: SmtpSink
    workers: list[Worker]
    start_worker: Callable[[], Worker]
    database_url: str
    redis_url: str

    def log(self) -> str:
        return "\n".join(worker.log()[-4000:] for worker in self.workers)


@pytest.fixture
def live(transactional_db: None, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Live]:
    """PostgreSQL shared with worker processes, Redis as the broker, an SMTP sink."""
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
    celery_queue_clear(redis_url)
    delay = getattr(request, "param", 0.0)
    sink = SmtpSink(delay=delay).start()
    workers: list[Worker] = []
    database_url = shared_database_url()

    def start_worker() -> Worker:
        worker = Worker(
            database_url=database_url, redis_url=redis_url, email_url=sink.url, log_dir=tmp_path
        )
        workers.append(worker)
        return worker.start()

    try:
        yield Live(sink, workers, start_worker, database_url, redis_url)
    finally:
        for worker in workers:
            worker.stop()
        sink.stop()
        celery_queue_clear(redis_url)


def fresh(proposal: Proposal) -> Proposal:
    return proposals_with_rule_data().get(pk=proposal.pk)


def run(proposal: Proposal, name: str, actor, comment: str = "") -> Proposal:
    return transition_run(obj=fresh(proposal), name=name, actor=actor, comment=comment).obj


def group_with_deadline_in(delta: dt.timedelta) -> Group:
    group = group_setup()
    type(group.occasion).objects.filter(pk=group.occasion.pk).update(
        submission_deadline=timezone.now() + delta
    )
    group.occasion.refresh_from_db()
    return group


def settle(live: Live, timeout: float = 60) -> list[Delivery]:
    """Wait until every email is sent, failed or superseded, and every sent one arrived (the
    in-page copies of the notices are delivered as they are written)."""

    def settled() -> list[Delivery] | None:
        rows = list(
            Delivery.objects.filter(channel=Delivery.Channel.EMAIL)
            .select_related("recipient")
            .order_by("id")
        )
        if any(row.status not in SETTLED for row in rows):
            return None
        sent = sum(row.status == Delivery.Status.SENT for row in rows)
        if len(live.sink.snapshot()) < sent:
            return None
        return rows or None

    return wait_until(settled, timeout, "every delivery to be sent", live.log)


def arrivals(live: Live) -> Counter[str]:
    """How many times each email (by its Message-ID) reached the sink."""
    return Counter(message.message_id for message in live.sink.snapshot())


def assert_each_sent_delivery_arrived_exactly_once(live: Live, rows: list[Delivery]) -> None:
    sent = {delivery_message_id(row) for row in rows if row.status == Delivery.Status.SENT}
    received = arrivals(live)
    assert set(received) == sent
    assert [mid for mid, count in received.items() if count > 1] == []


def reminder_rows(**filters) -> list[tuple[str, str, str, str]]:
    """The reminders' emails: who, which, which stage, in what status."""
    rows = Delivery.objects.filter(
        kind=Delivery.Kind.REMINDER, channel=Delivery.Channel.EMAIL, **filters
    ).values_list("recipient__username", "template", "stage", "status")
    return sorted(
        (user, template.rsplit("/", 1)[-1], stage, status) for user, template, stage, status in rows
    )


def test_each_person_gets_each_reminder_once_when_scans_run_at_once(live: Live) -> None:
    group = group_with_deadline_in(6 * DAY + dt.timedelta(hours=12))
    proposal_draft(group, title="Still a draft")
    run(proposal_draft(group, title="In review"), "submit_for_review", group.drafter)
    endorsing = run(
        run(
            proposal_draft(group, title="Open for endorsement"), "submit_for_review", group.drafter
        ),
        "approve",
        group.reviewer,
    )
    ready = run(
        run(proposal_draft(group, title="Ready to submit"), "submit_for_review", group.drafter),
        "approve",
        group.reviewer,
    )
    for person in (group.representative_ma, group.representative_lu):
        endorsement_create(proposal=fresh(ready), person=person)
    assert fresh(endorsing).state == "endorsement"
    live.start_worker()
    live.start_worker()

    now = timezone.now()
    barrier = threading.Barrier(3)
    errors: list[BaseException] = []

    def scan() -> None:
        try:
            barrier.wait(timeout=10)
            reminders_scan(now=now)
        except BaseException as error:  # reported by the test below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=scan) for _ in range(2)]
    for thread in threads:
        thread.start()
    barrier.wait(timeout=10)
    # Beat running twice: the same scan queued twice, run by the two workers.
    tasks.reminders_scan.delay(now.isoformat())
    tasks.reminders_scan.delay(now.isoformat())
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []

    wait_until(lambda: ReminderStage.objects.exists(), 30, "the scan", live.log)
    rows = settle(live)
    assert ReminderStage.objects.count() == 1
    assert reminder_rows() == [
        ("claire", "reminder_draft", "v1:d7", "sent"),
        ("claire", "reminder_endorsements_missing", "v1:d7", "sent"),
        ("ines", "reminder_review", "v1:d7", "sent"),
        ("lena", "reminder_endorse", "v1:d7", "sent"),
        ("marianne", "reminder_endorse", "v1:d7", "sent"),
        ("marianne", "reminder_submit", "v1:d7", "sent"),
        ("rita", "reminder_review", "v1:d7", "sent"),
        ("sam", "reminder_submit", "v1:d7", "sent"),
        ("youssef", "reminder_endorse", "v1:d7", "sent"),
    ]
    assert_each_sent_delivery_arrived_exactly_once(live, rows)
    assert not any("gabriel" in message.to[0] for message in live.sink.snapshot())


def test_after_a_downtime_only_the_latest_offset_is_sent(live: Live) -> None:
    group = group_with_deadline_in(6 * DAY + dt.timedelta(hours=12))
    proposal_draft(group, title="Forgotten draft")
    now = timezone.now()
    # The 14-day reminder was written a week ago, but its message never reached a worker...
    reminders_scan(now=now - 7 * DAY)
    # ...and the system came back after the 7-day one came due.
    reminders_scan(now=now)
    live.start_worker()
    deliveries_sweep(now=now + dt.timedelta(minutes=10))
    rows = settle(live)
    assert reminder_rows() == [
        ("claire", "reminder_draft", "v1:d14", "superseded"),
        ("claire", "reminder_draft", "v1:d7", "sent"),
    ]
    assert_each_sent_delivery_arrived_exactly_once(live, rows)
    (message,) = live.sink.snapshot()
    assert message.to == ("claire@example.org",)
    assert "“Forgotten draft” is still a draft" in message.subject


def test_a_moved_deadline_sends_new_reminders(live: Live) -> None:
    group = group_with_deadline_in(6 * DAY + dt.timedelta(hours=12))
    proposal_draft(group, title="Moving target")
    live.start_worker()
    now = timezone.now()
    reminders_scan(now=now)
    settle(live)
    occasion_move_deadline(
        occasion=group.occasion,
        new_deadline=group.occasion.submission_deadline + 7 * DAY,
        actor=group.secretariat,
    )
    reminders_scan(now=now + dt.timedelta(minutes=1))
    rows = settle(live)
    assert reminder_rows() == [
        ("claire", "reminder_draft", "v1:d7", "sent"),
        ("claire", "reminder_draft", "v2:d14", "sent"),
    ]
    assert_each_sent_delivery_arrived_exactly_once(live, rows)
    first, second = live.sink.snapshot()
    assert first.subject.startswith("Deadline in 6 days, 11 hours: “Moving target”")
    assert second.subject.startswith("Deadline in 13 days: “Moving target”")


@pytest.mark.parametrize("live", [0.3], indirect=True)
def test_a_worker_killed_in_the_middle_of_a_batch_loses_nothing(live: Live) -> None:
    group = group_with_deadline_in(6 * DAY + dt.timedelta(hours=12))
    authors = [PersonFactory(username=f"author{index}") for index in range(11)]
    proposal_draft(group, title="Many authors", authors=[group.drafter, *authors])
    worker = live.start_worker()
    ids = reminders_scan(now=timezone.now())
    assert len(ids) == 12
    wait_until(lambda: len(live.sink.snapshot()) >= 3, 30, "the batch to be under way", live.log)
    worker.kill()
    statuses = Counter(Delivery.objects.values_list("status", flat=True))
    # What the dead worker had in flight: the batch it had claimed and not marked sent.
    in_flight = statuses[Delivery.Status.SENDING]
    assert in_flight > 0, statuses

    live.start_worker()
    # The sweep, run later by beat, releases what the dead worker had claimed.
    deliveries_sweep(now=timezone.now() + STUCK_AFTER + dt.timedelta(minutes=1))
    rows = settle(live)
    assert {row.status for row in rows} == {Delivery.Status.SENT}
    received = arrivals(live)
    assert set(received) == {delivery_message_id(row) for row in rows}
    # Only the emails in flight when the worker died (accepted by the server, not yet
    # committed as sent) may arrive twice. A batch's sent marks are committed together when
    # it ends (one query per batch instead of one per email, workflow.delivery), so that is
    # at most the batch: BATCH_SIZE, no longer one email.
    duplicates = sum(count - 1 for count in received.values())
    assert duplicates <= in_flight <= BATCH_SIZE


def test_with_the_broker_down_transitions_and_moves_succeed_and_everything_goes_out_later(
    live: Live,
) -> None:
    group = group_with_deadline_in(6 * DAY + dt.timedelta(hours=12))
    proposal = proposal_draft(group, title="Written while Redis was down")
    new_deadline = group.occasion.submission_deadline + 7 * DAY
    down = f"redis://127.0.0.1:{free_port()}/3"
    script = (
        "from proposals.models import Occasion, Person, Proposal\n"
        "from proposals.selectors import proposals_with_rule_data\n"
        "from proposals.services import occasion_move_deadline\n"
        "from workflow.services import transition_run\n"
        "from django.utils.dateparse import parse_datetime\n"
        f"proposal = proposals_with_rule_data().get(pk={proposal.pk})\n"
        f"claire = Person.objects.get(pk={group.drafter.pk})\n"
        f"sam = Person.objects.get(pk={group.secretariat.pk})\n"
        "transition_run(obj=proposal, name='submit_for_review', actor=claire)\n"
        f"occasion = Occasion.objects.get(pk={group.occasion.pk})\n"
        f"occasion_move_deadline(occasion=occasion, new_deadline=parse_datetime('{new_deadline.isoformat()}'), actor=sam)\n"
        "print('done')\n"
    )
    env = {
        "DATABASE_URL": live.database_url,
        "REDIS_URL": down,
        "EMAIL_URL": live.sink.url,
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    for command in (
        [sys.executable, "manage.py", "shell", "-c", script],
        [sys.executable, "manage.py", "send_due_reminders"],
    ):
        result = subprocess.run(
            command,
            cwd=PROJECT,
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
    assert fresh(proposal).state == "in_review"
    group.occasion.refresh_from_db()
    assert group.occasion.deadline_version == 2
    waiting = Counter(
        Delivery.objects.filter(channel=Delivery.Channel.EMAIL).values_list("kind", "status")
    )
    assert waiting == {("notification", "pending"): 2, ("reminder", "pending"): 2}

    # The broker is back: a worker starts, and beat's sweep queues what waits.
    live.start_worker()
    deliveries_sweep(now=timezone.now() + dt.timedelta(minutes=10))
    rows = settle(live)
    assert_each_sent_delivery_arrived_exactly_once(live, rows)
    received = sorted((m.to[0], m.subject) for m in live.sink.snapshot())
    assert received == [
        (
            "ines@example.org",
            "Deadline in 13 days: “Written while Redis was down” awaits your review",
        ),
        ("ines@example.org", "Review requested: “Written while Redis was down”"),
        (
            "rita@example.org",
            "Deadline in 13 days: “Written while Redis was down” awaits your review",
        ),
        ("rita@example.org", "Review requested: “Written while Redis was down”"),
    ]
    # Sweeping and scanning again sends nothing more.
    deliveries_sweep(now=timezone.now() + dt.timedelta(minutes=20))
    reminders_scan(now=timezone.now())
    assert_each_sent_delivery_arrived_exactly_once(live, settle(live))
