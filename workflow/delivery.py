"""Turning the outbox's email rows into messages and sending them, each once where SMTP allows.

A delivery goes pending → sending (claimed by one worker, row locked) → sent or failed.
Rows to people who chose the daily digest wait in `digest` (the outbox decides, when it writes
them); a reminder whose deadline
moved on is `superseded`. The broker only carries ids: a lost message or a killed worker is
found again by the sweep, which re-queues what waits and releases what was stuck in sending.
The `sent` marks of a batch are committed together once the batch is over (one UPDATE, not
one per email): a worker that dies in the middle of a batch leaves the emails it had sent as
`sending`, and the sweep gives them out again. That is the only way an email goes twice, and
at most the batch a worker had in flight (BATCH_SIZE) goes twice.
"""

from __future__ import annotations

import logging
import smtplib
import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from celery import current_app
from django.conf import settings
from django.core.mail import get_connection
from django.db import transaction
from django.db.models import F, Min, Q, Value
from django.utils import timezone

from workflow.deadlines import superseded_ids
from workflow.emails import (
    delivery_address,
    delivery_message,
    digest_message,
    email_recipient,
    recipient_timezone_field,
)
from workflow.models import Delivery
from workflow.webhooks import webhooks_sweep

logger = logging.getLogger(__name__)

BATCH_SIZE = 50
"""Deliveries sent by one task over one SMTP connection, and marked sent together: the most
emails that a worker killed in the middle of a batch sends twice."""
MAX_ATTEMPTS = 8
"""Claims of one delivery before it is marked failed."""
STUCK_AFTER = timedelta(minutes=10)
"""A claim older than this was lost with its worker: the sweep releases it."""
REQUEUE_AFTER = timedelta(minutes=5)
"""A pending delivery queued longer ago than this is queued again by the sweep."""
SEND_TASK = "workflow.deliveries_send"

Status = Delivery.Status
EMAIL = Delivery.Channel.EMAIL
"""The channel these workers send; rows of another channel are not theirs."""


class DeliveryInterrupted(Exception):
    """The SMTP server or the connection failed; the unsent deliveries wait for a retry."""


@dataclass(frozen=True)
class SendReport:
    sent: int = 0
    failed: int = 0


def _chunks(ids: Sequence[int], size: int = BATCH_SIZE) -> Iterable[list[int]]:
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


def deliveries_dispatch(ids: Sequence[int]) -> bool:
    """Give the ids to the workers in batches; False when the broker is unreachable.

    Nothing is lost when it is: the rows wait in the database for the sweep.
    """
    # Looked up by name, so that this module and the tasks that call it do not import each other.
    deliveries_send = current_app.tasks[SEND_TASK]
    try:
        for chunk in _chunks(sorted(set(ids))):
            deliveries_send.delay(chunk)
    except Exception:  # the broker is down or refused: the sweep finds the rows again
        logger.warning("Broker unavailable; %d deliveries wait for the sweep.", len(ids))
        return False
    return True


def deliveries_claim(ids: Sequence[int], now: datetime | None = None) -> list[Delivery]:
    """Lock the pending deliveries among `ids` and mark them sending, so that no one else sends them.

    On the way, reminders that a later one replaced become superseded.
    """
    now = now or timezone.now()
    with transaction.atomic():
        rows = list(
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(pk__in=list(ids), channel=EMAIL, status=Status.PENDING)
            .select_related("recipient")
            .order_by("id")
        )
        stale = superseded_ids(rows, now)
        superseded = [row.pk for row in rows if row.pk in stale]
        claimed = [row for row in rows if row.pk not in stale]
        if superseded:
            Delivery.objects.filter(pk__in=superseded).update(status=Status.SUPERSEDED)
        if claimed:
            Delivery.objects.filter(pk__in=[row.pk for row in claimed]).update(
                status=Status.SENDING, claimed_at=now, attempts=F("attempts") + 1
            )
        for row in claimed:
            row.status = Status.SENDING
            row.claimed_at = now
            row.attempts += 1
    return claimed


def _is_transient(error: BaseException) -> bool:
    """True for errors that another try may overcome: a lost connection, a 4xx answer."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _message in error.recipients.values()]
        return bool(codes) and all(400 <= code < 500 for code in codes)
    if isinstance(error, smtplib.SMTPResponseException):
        return 400 <= error.smtp_code < 500
    return isinstance(error, smtplib.SMTPServerDisconnected | ConnectionError | TimeoutError) or (
        isinstance(error, OSError) and not isinstance(error, smtplib.SMTPException)
    )


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:2000]


def _mark_sent(ids: Sequence[int], now: datetime) -> None:
    if ids:
        Delivery.objects.filter(pk__in=ids, status=Status.SENDING).update(
            status=Status.SENT, sent_at=now, last_error=""
        )


def _mark_failed(row: Delivery, error: str) -> None:
    Delivery.objects.filter(pk=row.pk, status=Status.SENDING).update(
        status=Status.FAILED, last_error=error
    )


def _release(rows: Sequence[Delivery], error: str, now: datetime, status: str) -> int:
    """Put unsent rows back to wait (or fail those out of attempts); returns how many wait."""
    exhausted = [row.pk for row in rows if row.attempts >= MAX_ATTEMPTS]
    waiting = [row.pk for row in rows if row.attempts < MAX_ATTEMPTS]
    Delivery.objects.filter(pk__in=exhausted, status=Status.SENDING).update(
        status=Status.FAILED, last_error=error
    )
    Delivery.objects.filter(pk__in=waiting, status=Status.SENDING).update(
        status=status, last_error=error, queued_at=now
    )
    return len(waiting)


def deliveries_send(ids: Sequence[int], now: datetime | None = None) -> SendReport:
    """Send the pending deliveries among `ids` over one connection; each ends sent or failed.

    A refused message fails at once with the server's answer kept; a lost connection or a
    temporary refusal puts the unsent rows back to pending and raises DeliveryInterrupted,
    so that the task retries with backoff. The emails the server accepted are marked sent
    together when the batch ends, however it ends: a constant number of queries per batch.
    """
    rows = deliveries_claim(ids, now)
    if not rows:
        return SendReport()
    sent: list[int] = []
    failed = 0
    connection = get_connection(fail_silently=False)
    try:
        connection.open()
    except Exception as error:  # no message went: every row waits for the retry
        logger.warning("Could not open the email connection: %s", error)
        waiting = _release(rows, _describe(error), timezone.now(), Status.PENDING)
        if waiting:
            raise DeliveryInterrupted(_describe(error)) from error
        return SendReport(failed=len(rows))
    try:
        for index, row in enumerate(rows):
            if not delivery_address(row):
                _mark_failed(row, "The recipient has no email address.")
                failed += 1
                continue
            try:
                message = delivery_message(row, now)
            except Exception as error:  # a template error is a bug: it will not heal by retrying
                logger.exception("Delivery %s could not be rendered", row.pk)
                _mark_failed(row, _describe(error))
                failed += 1
                continue
            try:
                connection.send_messages([message])
            except Exception as error:
                if not _is_transient(error):
                    logger.warning("Delivery %s refused: %s", row.pk, error)
                    _mark_failed(row, _describe(error))
                    failed += 1
                    continue
                waiting = _release(rows[index:], _describe(error), timezone.now(), Status.PENDING)
                logger.warning("Sending interrupted after %d emails: %s", len(sent), error)
                if waiting:
                    raise DeliveryInterrupted(_describe(error)) from error
                return SendReport(sent=len(sent), failed=failed + len(rows) - index)
            sent.append(row.pk)
    finally:
        try:
            _mark_sent(sent, timezone.now())
        finally:
            try:
                connection.close()
            except Exception:  # closing a broken connection may fail; the rows are settled
                logger.debug("Closing the email connection failed", exc_info=True)
    logger.info("Sent %d emails of %d claimed (%d failed)", len(sent), len(rows), failed)
    return SendReport(sent=len(sent), failed=failed)


def digest_morning(now: datetime, zone: str) -> datetime:
    """The latest DIGEST_HOUR o'clock in the zone at or before `now` (the zone's time, DST
    included; an unknown zone counts as the site's)."""
    try:
        tz = zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    local = now.astimezone(tz)
    morning = datetime.combine(local.date(), time(settings.DIGEST_HOUR), tzinfo=tz)
    if morning > local:
        morning = datetime.combine(local.date() - timedelta(days=1), morning.time(), tzinfo=tz)
    return morning


def digest_recipients_due(now: datetime) -> list[int]:
    """The people whose digest is due: a morning (DIGEST_HOUR in their own time zone) has come
    since the oldest delivery waiting for it. One query, whatever the number of people."""
    zone_field = recipient_timezone_field()
    waiting = Delivery.objects.filter(channel=EMAIL, status=Status.DIGEST)
    if zone_field:
        rows = waiting.values("recipient_id", zone=F(f"recipient__{zone_field}"))
    else:
        rows = waiting.values("recipient_id", zone=Value(settings.TIME_ZONE))
    return sorted(
        row["recipient_id"]
        for row in rows.annotate(oldest=Min("created_at")).order_by()
        if row["oldest"] <= digest_morning(now, row["zone"] or settings.TIME_ZONE)
    )


def digests_send(now: datetime | None = None) -> SendReport:
    """Send each person whose morning has come one email with every delivery waiting for their
    digest (beat runs this every quarter of an hour: each person gets it soon after DIGEST_HOUR
    o'clock in their own zone, or when the system is back if it was down then)."""
    now = now or timezone.now()
    recipient_ids = digest_recipients_due(now)
    if not recipient_ids:
        return SendReport()
    sent = failed = 0
    connection = get_connection(fail_silently=False)
    try:
        connection.open()
    except Exception as error:  # nothing was claimed yet: the digests wait for the retry
        raise DeliveryInterrupted(_describe(error)) from error
    try:
        for recipient_id in recipient_ids:
            with transaction.atomic():
                rows = list(
                    Delivery.objects.select_for_update(skip_locked=True, of=("self",))
                    .filter(recipient_id=recipient_id, channel=EMAIL, status=Status.DIGEST)
                    .select_related("recipient")
                    .order_by("created_at", "id")
                )
                stale = superseded_ids(rows, now)
                for row in rows:
                    if row.pk in stale:
                        row.status = Status.SUPERSEDED
                    else:
                        row.status = Status.SENDING
                        row.claimed_at = now
                        row.attempts += 1
                Delivery.objects.bulk_update(rows, ["status", "claimed_at", "attempts"])
            rows = [row for row in rows if row.status == Status.SENDING]
            if not rows:
                continue
            recipient = email_recipient(rows[0])
            ids = [row.pk for row in rows]
            try:
                if not recipient.email:
                    raise ValueError("The recipient has no email address.")
                connection.send_messages([digest_message(recipient, rows, now)])
            except Exception as error:
                if _is_transient(error):
                    _release(rows, _describe(error), timezone.now(), Status.DIGEST)
                    raise DeliveryInterrupted(_describe(error)) from error
                logger.warning("Digest to person %s failed: %s", recipient_id, error)
                Delivery.objects.filter(pk__in=ids, status=Status.SENDING).update(
                    status=Status.FAILED, last_error=_describe(error)
                )
                failed += len(ids)
                continue
            Delivery.objects.filter(pk__in=ids, status=Status.SENDING).update(
                status=Status.SENT, sent_at=timezone.now(), last_error=""
            )
            logger.info("Sent a digest of %d to %s", len(ids), recipient.email)
            sent += len(ids)
    finally:
        try:
            connection.close()
        except Exception:  # closing a broken connection may fail; the rows are settled
            logger.debug("Closing the email connection failed", exc_info=True)
    return SendReport(sent=sent, failed=failed)


def deliveries_sweep(now: datetime | None = None) -> list[int]:
    """Release deliveries stuck in sending and queue again those that wait; returns the ids queued
    (email rows, then webhook rows: `workflow.webhooks.webhooks_sweep`).

    A claim older than STUCK_AFTER belongs to a worker that died: its rows wait again (or
    fail, once out of attempts). A pending row queued longer ago than REQUEUE_AFTER, or
    never, is given to the workers again; the claim makes a repeat harmless.
    """
    now = now or timezone.now()
    stuck = Delivery.objects.filter(
        channel=EMAIL, status=Status.SENDING, claimed_at__lt=now - STUCK_AFTER
    )
    lost = "The worker sending it stopped before it finished."
    stuck.filter(attempts__gte=MAX_ATTEMPTS).update(status=Status.FAILED, last_error=lost)
    stuck.filter(attempts__lt=MAX_ATTEMPTS).update(
        status=Status.PENDING, last_error=lost, queued_at=None
    )
    waiting = Q(queued_at__lt=now - REQUEUE_AFTER) | Q(
        queued_at__isnull=True, created_at__lt=now - timedelta(minutes=1)
    )
    ids = list(
        Delivery.objects.filter(waiting, channel=EMAIL, status=Status.PENDING)
        .order_by("id")
        .values_list("id", flat=True)[:5000]
    )
    if ids and deliveries_dispatch(ids):
        Delivery.objects.filter(pk__in=ids, status=Status.PENDING).update(queued_at=now)
    return ids + webhooks_sweep(now, STUCK_AFTER, REQUEUE_AFTER)
