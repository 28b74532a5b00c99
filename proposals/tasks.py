"""Celery tasks of the domain: they take ids (or nothing), re-read the database, call a service."""

from __future__ import annotations

import datetime as dt

from celery import shared_task

from proposals import calendar_import, departures, retention
from proposals.models import CalendarFeed


@shared_task(name="proposals.departures_due", ignore_result=True)
def departures_due(today: str | None = None) -> int:
    """Carry out the departures whose day came; returns how many were carried out."""
    return len(departures.departures_due(dt.date.fromisoformat(today) if today else None))


@shared_task(name="proposals.retention_purge", ignore_result=True)
def retention_purge() -> dict[str, int]:
    """The daily purge of what is past its retention period."""
    return retention.retention_purge()


@shared_task(name="proposals.calendar_feeds_read", ignore_result=True)
def calendar_feeds_read() -> int:
    """Queue a reading of every active feed that has a URL; returns how many."""
    ids = list(
        CalendarFeed.objects.filter(active=True)
        .exclude(url="")
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for feed_id in ids:
        calendar_feed_read.delay(feed_id)
    return len(ids)


@shared_task(name="proposals.calendar_feed_read", ignore_result=True)
def calendar_feed_read(feed_id: int) -> str:
    """Read one feed (re-read from the database: gone or turned off, nothing happens)."""
    if not CalendarFeed.objects.filter(pk=feed_id).exists():
        return "gone"
    return str(calendar_import.calendar_feed_read(feed_id=feed_id).status)
