"""Retention: what is purged once older than its period (settings, docs/personal-data.md).

- Deliveries by email and webhook that are done with (sent, failed, superseded):
  DELIVERY_RETENTION_DAYS.
- In-page notifications, read or not: PAGE_NOTIFICATION_RETENTION_DAYS.
- Security events: SECURITY_EVENT_RETENTION_DAYS. The event stays in the audit trail (the log
  is kept whole) but loses the client address and the username typed at a failed login,
  through recorded redactions, so the log still verifies; the login attempts django-axes
  counted are deleted.

The transition log, the audit trail's rows, proposals, revisions, endorsements and
submissions are never purged. `retention_purge` runs every day from the beat schedule.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from proposals.audited import audited
from workflow.audit import audit_record
from workflow.integrity import log_row_redact
from workflow.models import AuditEvent, Delivery, LogName

LOGIN_EVENTS = ("login.failed", "login.locked_out")
DONE_WITH = (Delivery.Status.SENT, Delivery.Status.FAILED, Delivery.Status.SUPERSEDED)


def _cutoff(now: datetime, setting: str) -> datetime:
    return now - timedelta(days=getattr(settings, setting))


def _security_details_forget(cutoff: datetime, now: datetime) -> int:
    rows = AuditEvent.objects.filter(security=True, at__lt=cutoff).filter(
        Q(ip_address__isnull=False) | Q(action__in=LOGIN_EVENTS, after__has_key="username")
    )
    count = 0
    for row in rows.select_for_update().order_by("pk").iterator(chunk_size=500):
        changes: dict[str, Any] = {"ip_address": None}
        if row.action in LOGIN_EVENTS and isinstance(row.after, dict):
            changes["after"] = {key: value for key, value in row.after.items() if key != "username"}
        if log_row_redact(log=LogName.AUDIT, row=row, changes=changes, reason="retention", now=now):
            count += 1
    return count


def _login_attempts_delete(cutoff: datetime) -> int:
    removed = 0
    for model in apps.get_app_config("axes").get_models():
        fields = {field.name for field in model._meta.concrete_fields}
        if "attempt_time" in fields:
            removed += model._default_manager.filter(attempt_time__lt=cutoff).delete()[0]
    return removed


@audited("retention.purged")
def retention_purge(*, now: datetime | None = None) -> dict[str, int]:
    """Purge what is past its retention period, in one transaction; what went, by kind (the
    audit row records it too)."""
    now = now or timezone.now()
    with transaction.atomic():
        purged = {
            "deliveries": Delivery.objects.filter(
                channel__in=[Delivery.Channel.EMAIL, Delivery.Channel.WEBHOOK],
                status__in=DONE_WITH,
                created_at__lt=_cutoff(now, "DELIVERY_RETENTION_DAYS"),
            ).delete()[0],
            "page_notifications": Delivery.objects.filter(
                channel=Delivery.Channel.PAGE,
                created_at__lt=_cutoff(now, "PAGE_NOTIFICATION_RETENTION_DAYS"),
            ).delete()[0],
            "security_events_redacted": _security_details_forget(
                _cutoff(now, "SECURITY_EVENT_RETENTION_DAYS"), now
            ),
            "login_attempts": _login_attempts_delete(_cutoff(now, "SECURITY_EVENT_RETENTION_DAYS")),
        }
        audit_record(action="retention.purged", after=purged, now=now)
    return purged
