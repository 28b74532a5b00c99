"""Whether this deployment can serve: the database, the broker and the reminder scan's heartbeat.

Each check returns a CheckResult whose detail names what failed without any address, user name
or password, so the readiness answer can be public.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone

from workflow.models import Heartbeat

logger = logging.getLogger(__name__)

REMINDER_SCAN = "reminders_scan"
BROKER_TIMEOUT_SECONDS = 2


@dataclass(frozen=True)
class CheckResult:
    """One readiness check: its name, whether it passed and, when it did not, why."""

    name: str
    ok: bool
    detail: str = ""


def heartbeat_record(job: str, *, at: datetime | None = None) -> None:
    """Note that `job` completed now: one UPDATE, and an INSERT only the first time."""
    at = at or timezone.now()
    if not Heartbeat.objects.filter(job=job).update(completed_at=at):
        Heartbeat.objects.update_or_create(job=job, defaults={"completed_at": at})


def heartbeat_age(job: str, *, now: datetime | None = None) -> timedelta | None:
    """How long ago `job` last completed, or None when it never did."""
    completed_at = Heartbeat.objects.filter(job=job).values_list("completed_at", flat=True).first()
    if completed_at is None:
        return None
    return (now or timezone.now()) - completed_at


def database_check() -> CheckResult:
    """The database answers a query."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        logger.warning("Readiness: the database does not answer: %s", error)
        return CheckResult("database", False, "the database does not answer")
    return CheckResult("database", True)


def broker_check() -> CheckResult:
    """The broker answers: Redis replies to PING, or the filesystem broker's folder is writable."""
    if settings.REDIS_URL:
        return _redis_check(settings.REDIS_URL)
    return _folder_check(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])


def _redis_check(url: str) -> CheckResult:
    import redis

    client = redis.Redis.from_url(
        url,
        socket_connect_timeout=BROKER_TIMEOUT_SECONDS,
        socket_timeout=BROKER_TIMEOUT_SECONDS,
    )
    try:
        client.ping()
    except redis.RedisError as error:
        logger.warning("Readiness: Redis does not answer: %s", error)
        return CheckResult("broker", False, "Redis does not answer PING")
    finally:
        client.close()
    return CheckResult("broker", True)


def _folder_check(folder: str) -> CheckResult:
    """The folder can take a message: made first if missing, as the Celery app makes it when
    it first sends a task (a fresh deployment has not yet)."""
    try:
        Path(folder).mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".ready-", delete=True):
            pass
    except OSError as error:
        logger.warning("Readiness: the broker folder %s is not writable: %s", folder, error)
        return CheckResult("broker", False, "the filesystem broker's folder is not writable")
    return CheckResult("broker", True)


def reminder_scan_check(*, now: datetime | None = None) -> CheckResult:
    """The reminder scan completed within READINESS_SCAN_MAX_AGE seconds."""
    limit = timedelta(seconds=settings.READINESS_SCAN_MAX_AGE)
    try:
        age = heartbeat_age(REMINDER_SCAN, now=now)
    except DatabaseError:
        return CheckResult("reminder_scan", False, "the scan's heartbeat cannot be read")
    if age is None:
        return CheckResult("reminder_scan", False, "no reminder scan has completed yet")
    if age > limit:
        return CheckResult(
            "reminder_scan",
            False,
            f"the last reminder scan completed {int(age.total_seconds())} s ago, "
            f"more than {int(limit.total_seconds())} s",
        )
    return CheckResult("reminder_scan", True)


def readiness_checks(*, now: datetime | None = None) -> list[CheckResult]:
    """Every readiness check, each run even when an earlier one failed."""
    return [database_check(), broker_check(), reminder_scan_check(now=now)]
