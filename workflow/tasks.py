"""Celery tasks of the engine: they take ids (or nothing), re-read the database, call a service.

Retries wait at most RETRY_BACKOFF_MAX seconds, far below the broker's visibility timeout;
no task is ever scheduled further ahead (no long eta or countdown).
"""

from __future__ import annotations

from datetime import datetime

from celery import shared_task
from django.utils.dateparse import parse_datetime

from workflow import delivery, integrity, reminders, webhooks

RETRY_BACKOFF_MAX = 600


def _moment(value: str | None) -> datetime | None:
    return parse_datetime(value) if value else None


@shared_task(
    name="workflow.deliveries_send",
    ignore_result=True,
    autoretry_for=(delivery.DeliveryInterrupted,),
    retry_backoff=15,
    retry_backoff_max=RETRY_BACKOFF_MAX,
    retry_jitter=True,
    max_retries=delivery.MAX_ATTEMPTS,
)
def deliveries_send(ids: list[int]) -> int:
    """Send the given pending deliveries over one connection; returns how many went out."""
    return delivery.deliveries_send(ids).sent


@shared_task(name="workflow.reminders_scan", ignore_result=True)
def reminders_scan(now: str | None = None) -> int:
    """Write and queue the reminders that came due; returns how many were written."""
    return len(reminders.reminders_scan(now=_moment(now)))


@shared_task(name="workflow.deliveries_sweep", ignore_result=True)
def deliveries_sweep(now: str | None = None) -> int:
    """Release deliveries stuck in sending and queue again those that wait."""
    return len(delivery.deliveries_sweep(now=_moment(now)))


@shared_task(
    name="workflow.digests_send",
    ignore_result=True,
    autoretry_for=(delivery.DeliveryInterrupted,),
    retry_backoff=60,
    retry_backoff_max=RETRY_BACKOFF_MAX,
    retry_jitter=True,
    max_retries=delivery.MAX_ATTEMPTS,
)
def digests_send(now: str | None = None) -> int:
    """Send each person who chose it one email with everything waiting for their digest."""
    return delivery.digests_send(now=_moment(now)).sent


@shared_task(name="workflow.webhooks_send", ignore_result=True)
def webhooks_send(ids: list[int]) -> int:
    """Post the due webhook deliveries among `ids`; those that failed and may be tried again are
    queued again for their next try. Returns how many were posted."""
    report = webhooks.webhooks_send(ids)
    webhooks.webhooks_retry_later(ids)
    return report.sent


@shared_task(name="workflow.log_seal", ignore_result=True)
def log_seal(now: str | None = None) -> int:
    """Chain the log's rows written since the last seal; returns how many seals were made."""
    return len(integrity.log_seal(now=_moment(now)))
