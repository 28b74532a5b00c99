"""Celery tasks of the engine: they take ids, re-read the database, and call a service."""

from __future__ import annotations

from celery import shared_task

from workflow import delivery


@shared_task(name="workflow.deliveries_send", ignore_result=True)
def deliveries_send(ids: list[int]) -> int:
    """Send the given pending deliveries; returns how many went out."""
    return delivery.deliveries_send(ids)
