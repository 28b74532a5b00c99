"""Celery tasks of the domain: they take ids (or nothing), re-read the database, call a service."""

from __future__ import annotations

import datetime as dt

from celery import shared_task

from proposals import calendar_import, departures, retention
from proposals.dossiers import store as dossier_store
from proposals.models import CalendarFeed


@shared_task(name="proposals.departures_due", ignore_result=True)
def departures_due(today: str | None = None) -> int:
    """Carry out the departures whose day came; returns how many were carried out."""
    return len(departures.departures_due(dt.date.fromisoformat(today) if today else None))


@shared_task(name="proposals.retention_purge", ignore_result=True)
def retention_purge() -> dict[str, int]:
    """The daily purge of what is past its retention period."""
    return retention.retention_purge()


@shared_task(
    name="proposals.dossier_render",
    ignore_result=True,
    autoretry_for=(dossier_store.DossierRenderFailed,),
    retry_backoff=30,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=3,
)
def dossier_render(submission_id: int) -> bool:
    """Render and store one submission's dossier; False when it was stored already (a repeat)."""
    try:
        dossier_store.dossier_render(submission_id=submission_id)
    except dossier_store.DossierFrozen:
        return False
    return True


@shared_task(name="proposals.dossiers_sweep", ignore_result=True)
def dossiers_sweep() -> int:
    """Give the workers again every dossier still missing (a lost message is found again)."""
    return len(dossier_store.dossiers_sweep())


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


@shared_task(name="proposals.forecast_reminders", ignore_result=True)
def forecast_reminders() -> int:
    """The daily forecast: at-risk reminders and the weekly list; returns the proposals at risk."""
    from proposals.forecast.reminders import forecast_reminders_write

    return forecast_reminders_write().at_risk
