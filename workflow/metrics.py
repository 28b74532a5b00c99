"""Prometheus gauges of the outbox and the reminder scan, read from the database at scrape time.

They describe the whole deployment, not one process, so they are computed when /metrics is
scraped (three index-backed queries) rather than kept in any process's memory.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from datetime import datetime

from django.db import DatabaseError
from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily, Metric

from workflow.health import REMINDER_SCAN, heartbeat_age
from workflow.models import Delivery

logger = logging.getLogger(__name__)

WAITING_STATUSES = (Delivery.Status.PENDING, Delivery.Status.SENDING, Delivery.Status.DIGEST)


class OutboxCollector:
    """Collects the outbox backlog, its oldest waiting delivery, failures and the scan's lag."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now

    def collect(self) -> Iterator[Metric]:
        now = self.now or timezone.now()
        database_up = GaugeMetricFamily(
            "policy_tracker_metrics_database_up",
            "1 when the database answered the queries of these metrics, 0 when it did not.",
        )
        try:
            metrics = list(self._from_database(now))
        except DatabaseError as error:
            logger.warning("Metrics: the database did not answer: %s", error)
            database_up.add_metric([], 0)
            yield database_up
            return
        database_up.add_metric([], 1)
        yield database_up
        yield from metrics

    def _from_database(self, now: datetime) -> Iterator[Metric]:
        waiting = {
            row["status"]: row
            for row in Delivery.objects.filter(status__in=WAITING_STATUSES)
            .order_by()
            .values("status")
            .annotate(count=Count("id"), oldest=Min("created_at"))
        }
        backlog = GaugeMetricFamily(
            "policy_tracker_outbox_waiting_deliveries",
            "Deliveries waiting in the outbox, by status (pending, sending, digest).",
            labels=["status"],
        )
        oldest = GaugeMetricFamily(
            "policy_tracker_outbox_oldest_waiting_age_seconds",
            "Age of the oldest delivery waiting in each status; 0 when none waits.",
            labels=["status"],
        )
        for status in WAITING_STATUSES:
            row = waiting.get(status)
            backlog.add_metric([status], row["count"] if row else 0)
            age = (now - row["oldest"]).total_seconds() if row else 0.0
            oldest.add_metric([status], max(age, 0.0))
        yield backlog
        yield oldest

        failed = Delivery.objects.filter(status=Delivery.Status.FAILED).count()
        yield GaugeMetricFamily(
            "policy_tracker_outbox_failed_deliveries",
            "Deliveries that failed for good (the secretariat sees them in the delivery log).",
            value=failed,
        )

        scan_age = heartbeat_age(REMINDER_SCAN, now=now)
        yield GaugeMetricFamily(
            "policy_tracker_reminder_scan_age_seconds",
            "Seconds since the reminder scan last completed; +Inf when it never did.",
            value=scan_age.total_seconds() if scan_age is not None else math.inf,
        )
