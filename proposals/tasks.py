"""Celery tasks of the domain: they take ids (or nothing), re-read the database, call a service."""

from __future__ import annotations

import datetime as dt

from celery import shared_task

from proposals import departures, retention


@shared_task(name="proposals.departures_due", ignore_result=True)
def departures_due(today: str | None = None) -> int:
    """Carry out the departures whose day came; returns how many were carried out."""
    return len(departures.departures_due(dt.date.fromisoformat(today) if today else None))


@shared_task(name="proposals.retention_purge", ignore_result=True)
def retention_purge() -> dict[str, int]:
    """The daily purge of what is past its retention period."""
    return retention.retention_purge()
