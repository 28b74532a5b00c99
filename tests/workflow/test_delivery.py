"""Sending the outbox: one connection per batch, retries on connection errors, a sweep."""

from __future__ import annotations

import datetime as dt
import smtplib
from typing import Any, ClassVar

import pytest
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone

from proposals.models import Person
from workflow import delivery, tasks
from workflow.delivery import (
    BATCH_SIZE,
    MAX_ATTEMPTS,
    DeliveryInterrupted,
    deliveries_send,
    deliveries_sweep,
)
from workflow.models import Delivery
from workflow.reminders import Deadline, stage_due

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 9, 1, 8, 0, tzinfo=dt.UTC)


class ScriptedBackend(BaseEmailBackend):
    """Records connections and messages; `failures` says what each send raises, in turn."""

    opened: ClassVar[int] = 0
    sent: ClassVar[list[str]] = []
    failures: ClassVar[list[BaseException | None]] = []
    open_error: ClassVar[BaseException | None] = None

    def open(self) -> bool:
        if ScriptedBackend.open_error is not None:
            raise ScriptedBackend.open_error
        ScriptedBackend.opened += 1
        return True

    def close(self) -> None:
        pass

    def send_messages(self, messages: Any) -> int:
        if ScriptedBackend.failures:
            error = ScriptedBackend.failures.pop(0)
            if error is not None:
                raise error
        ScriptedBackend.sent.extend(m.to[0] for m in messages)
        return len(messages)


@pytest.fixture(autouse=True)
def scripted_backend(settings) -> type[ScriptedBackend]:
    settings.EMAIL_BACKEND = f"{__name__}.ScriptedBackend"
    ScriptedBackend.opened = 0
    ScriptedBackend.sent = []
    ScriptedBackend.failures = []
    ScriptedBackend.open_error = None
    return ScriptedBackend


def outbox(count: int, **fields: Any) -> list[int]:
    """Pending notifications to `count` people, rendered with a template of the project."""
    ids = []
    for index in range(count):
        name = f"reader{index}{fields.get('key', '')}"
        person = Person.objects.create(username=name, email=f"{name}@example.org")
        row = Delivery.objects.create(
            key=f"test:{index}:{fields.get('key', '')}",
            kind=Delivery.Kind.NOTIFICATION,
            recipient=person,
            template="proposals/email/submitted",
            context={"title": f"Proposal {index}", "state": "submitted", "actor": "Sam"},
            **{k: v for k, v in fields.items() if k != "key"},
        )
        ids.append(row.pk)
    return ids


def statuses() -> list[str]:
    return list(Delivery.objects.order_by("id").values_list("status", flat=True))


# When reminders come due


def test_the_current_stage_is_the_latest_offset_that_came_due() -> None:
    deadline = Deadline(topic="occasion:1", version=2, at=NOW, offsets=(30, 14, 7, 2, 1))

    def label(moment: dt.datetime) -> str | None:
        stage = stage_due(deadline, moment)
        return stage.label if stage else None

    assert label(NOW - dt.timedelta(days=31)) is None
    assert label(NOW - dt.timedelta(days=30)) == "v2:d30"
    assert label(NOW - dt.timedelta(days=8)) == "v2:d14"
    assert label(NOW - dt.timedelta(hours=1)) == "v2:d1"
    late = stage_due(deadline, NOW)
    assert late is not None
    assert late.label == "v2:late" and late.is_late and late.due_at == NOW


# Sending


def test_a_batch_goes_over_one_connection_and_each_ends_sent(scripted_backend) -> None:
    ids = outbox(3)
    report = deliveries_send(ids, now=NOW)
    assert report.sent == 3
    assert scripted_backend.opened == 1
    assert statuses() == ["sent"] * 3
    assert all(row.attempts == 1 and row.sent_at for row in Delivery.objects.all())


SEND_QUERIES = 5
"""A batch of notifications: the claim (lock and read with the recipients, mark sending,
inside a savepoint here: the transaction's two statements) and one mark of the sent."""


def test_a_batch_runs_the_same_queries_whatever_its_size(
    scripted_backend, django_assert_num_queries
) -> None:
    small, large = outbox(2, key="small"), outbox(BATCH_SIZE, key="large")
    with django_assert_num_queries(SEND_QUERIES):
        deliveries_send(small, now=NOW)
    with django_assert_num_queries(SEND_QUERIES):
        deliveries_send(large, now=NOW)
    assert statuses() == ["sent"] * (2 + BATCH_SIZE)


def test_a_delivery_already_sent_or_claimed_is_not_sent_again(scripted_backend) -> None:
    ids = outbox(2)
    deliveries_send(ids[:1])
    Delivery.objects.filter(pk=ids[1]).update(status=Delivery.Status.SENDING)
    assert deliveries_send(ids).sent == 0
    assert scripted_backend.sent == ["reader0@example.org"]


def test_a_refused_message_fails_with_the_servers_answer_and_the_batch_goes_on(
    scripted_backend,
) -> None:
    ids = outbox(3)
    scripted_backend.failures = [
        None,
        smtplib.SMTPRecipientsRefused({"reader1@example.org": (550, b"No such user")}),
    ]
    report = deliveries_send(ids)
    assert (report.sent, report.failed) == (2, 1)
    assert statuses() == ["sent", "failed", "sent"]
    assert "No such user" in Delivery.objects.get(pk=ids[1]).last_error


def test_a_lost_connection_puts_the_unsent_back_to_wait_and_asks_for_a_retry(
    scripted_backend,
) -> None:
    ids = outbox(3)
    scripted_backend.failures = [
        None,
        smtplib.SMTPServerDisconnected("Connection unexpectedly closed"),
    ]
    with pytest.raises(DeliveryInterrupted):
        deliveries_send(ids)
    assert statuses() == ["sent", "pending", "pending"]
    assert "SMTPServerDisconnected" in Delivery.objects.get(pk=ids[1]).last_error
    assert deliveries_send(ids).sent == 2
    assert statuses() == ["sent"] * 3
    assert scripted_backend.sent.count("reader0@example.org") == 1


def test_a_temporary_refusal_is_retried(scripted_backend) -> None:
    ids = outbox(1)
    scripted_backend.failures = [smtplib.SMTPDataError(451, b"Try again later")]
    with pytest.raises(DeliveryInterrupted):
        deliveries_send(ids)
    assert statuses() == ["pending"]


def test_an_unreachable_server_leaves_everything_waiting(scripted_backend) -> None:
    ids = outbox(2)
    scripted_backend.open_error = ConnectionRefusedError(111, "Connection refused")
    with pytest.raises(DeliveryInterrupted):
        deliveries_send(ids)
    assert statuses() == ["pending", "pending"]


def test_a_delivery_out_of_attempts_ends_failed_with_the_error_kept(scripted_backend) -> None:
    ids = outbox(1)
    Delivery.objects.filter(pk__in=ids).update(attempts=MAX_ATTEMPTS - 1)
    scripted_backend.open_error = ConnectionRefusedError(111, "Connection refused")
    report = deliveries_send(ids)
    assert report.failed == 1
    row = Delivery.objects.get()
    assert (row.status, row.attempts) == ("failed", MAX_ATTEMPTS)
    assert "Connection refused" in row.last_error


def test_the_send_task_retries_connection_errors_with_backoff() -> None:
    task: Any = tasks.deliveries_send
    assert delivery.DeliveryInterrupted in task.autoretry_for
    assert task.retry_backoff and task.retry_backoff_max <= 600
    assert task.max_retries == MAX_ATTEMPTS


# The sweep


def recording(queued: list[list[int]]) -> Any:
    """A dispatch that records the ids it is given instead of reaching a broker."""

    def dispatch(ids: Any) -> bool:
        queued.append(list(ids))
        return True

    return dispatch


def test_the_sweep_releases_deliveries_stuck_in_sending_and_queues_them(monkeypatch) -> None:
    queued: list[list[int]] = []
    monkeypatch.setattr(delivery, "deliveries_dispatch", recording(queued))
    ids = outbox(2)
    Delivery.objects.filter(pk=ids[0]).update(
        status=Delivery.Status.SENDING, claimed_at=NOW - dt.timedelta(minutes=30), attempts=1
    )
    Delivery.objects.filter(pk=ids[1]).update(
        status=Delivery.Status.SENDING, claimed_at=NOW - dt.timedelta(minutes=1), attempts=1
    )
    Delivery.objects.update(created_at=NOW - dt.timedelta(hours=1))
    swept = deliveries_sweep(now=NOW)
    assert swept == [ids[0]] and queued == [[ids[0]]]
    assert statuses() == ["pending", "sending"]
    assert Delivery.objects.get(pk=ids[0]).queued_at == NOW


def test_the_sweep_fails_a_stuck_delivery_out_of_attempts(monkeypatch) -> None:
    monkeypatch.setattr(delivery, "deliveries_dispatch", lambda ids: True)
    ids = outbox(1)
    Delivery.objects.filter(pk__in=ids).update(
        status=Delivery.Status.SENDING,
        claimed_at=NOW - dt.timedelta(hours=1),
        attempts=MAX_ATTEMPTS,
    )
    deliveries_sweep(now=NOW)
    row = Delivery.objects.get()
    assert row.status == "failed"
    assert row.last_error == "The worker sending it stopped before it finished."


def test_the_sweep_queues_pending_deliveries_that_were_never_dispatched(monkeypatch) -> None:
    queued: list[list[int]] = []
    monkeypatch.setattr(delivery, "deliveries_dispatch", recording(queued))
    old = outbox(1, key="old", created_at=NOW - dt.timedelta(minutes=10))
    outbox(1, key="new", created_at=NOW)
    recently_queued = outbox(1, key="queued", created_at=NOW - dt.timedelta(hours=1))
    Delivery.objects.filter(pk__in=recently_queued).update(queued_at=NOW - dt.timedelta(minutes=1))
    assert deliveries_sweep(now=NOW) == old
    assert queued == [old]


def test_the_sweep_leaves_rows_waiting_when_the_broker_is_down(monkeypatch) -> None:
    monkeypatch.setattr(delivery, "deliveries_dispatch", lambda ids: False)
    ids = outbox(1, created_at=NOW - dt.timedelta(minutes=10))
    assert deliveries_sweep(now=NOW) == ids
    row = Delivery.objects.get()
    assert (row.status, row.queued_at) == ("pending", None)


def test_dispatching_to_an_unreachable_broker_loses_nothing(settings, monkeypatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(tasks.deliveries_send, "delay", refuse)
    ids = outbox(2)
    assert delivery.deliveries_dispatch(ids) is False
    assert statuses() == ["pending", "pending"]
    assert timezone.now()
