"""Retention: deliveries, in-page notifications and the personal details of security events are
purged once past their periods; the log and what was submitted stay, and the log verifies."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.conf import settings as django_settings
from django.test import RequestFactory
from django.utils import timezone

from proposals import accounts, retention, tasks
from proposals.security import security_event_record
from tests.factories import Group
from tests.proposals.web.helpers import endorsed, fresh, run
from workflow.integrity import log_verify
from workflow.models import AuditEvent, Delivery, TransitionLog

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def delivery(key: str, days_ago: int, group: Group, **fields: Any) -> Delivery:
    values: dict[str, Any] = {
        "kind": Delivery.Kind.NOTIFICATION,
        "channel": Delivery.Channel.EMAIL,
        "event": "proposal.approved",
        "recipient": group.drafter,
        "template": "proposals/email/approved",
        "status": Delivery.Status.SENT,
        "created_at": NOW - dt.timedelta(days=days_ago),
    }
    values.update(fields)
    return Delivery.objects.create(key=key, **values)


def test_what_is_past_its_period_is_purged_and_the_rest_stays(group: Group, settings: Any) -> None:
    settings.DELIVERY_RETENTION_DAYS = 30
    settings.PAGE_NOTIFICATION_RETENTION_DAYS = 60
    settings.SECURITY_EVENT_RETENTION_DAYS = 90
    old_email = delivery("old-email", 31, group)
    old_pending = delivery("old-pending", 31, group, status=Delivery.Status.PENDING)
    new_email = delivery("new-email", 29, group)
    old_page = delivery("old-page", 61, group, channel=Delivery.Channel.PAGE)
    new_page = delivery("new-page", 59, group, channel=Delivery.Channel.PAGE)
    request = RequestFactory().post("/", REMOTE_ADDR="203.0.113.9")
    old_event = security_event_record(
        action="password.changed",
        subject=group.drafter,
        actor=group.drafter,
        request=request,
        now=NOW - dt.timedelta(days=91),
        notify=False,
    )
    accounts.login_failed_record(sender=None, credentials={"username": "claire"}, request=request)
    old_login = AuditEvent.objects.get(action="login.failed")
    new_event = security_event_record(
        action="password.changed",
        subject=group.drafter,
        actor=group.drafter,
        request=request,
        now=NOW - dt.timedelta(days=89),
        notify=False,
    )
    AccessAttempt.objects.create(
        username="claire",
        ip_address="203.0.113.9",
        user_agent="Firefox",
        http_accept="*/*",
        path_info="/accounts/login/",
        get_data="",
        post_data="",
        failures_since_start=1,
    )
    AccessAttempt.objects.update(attempt_time=NOW - dt.timedelta(days=91))
    proposal = endorsed(group)
    run(fresh(proposal), "submit", group.secretariat, reference="A/81/1")
    log_rows = TransitionLog.objects.count()

    # The failed login is recent: only a later purge redacts it.
    purged = retention.retention_purge(now=NOW)
    assert purged == {
        "deliveries": 1,
        "page_notifications": 1,
        "security_events_redacted": 1,
        "login_attempts": 1,
    }
    remaining = set(Delivery.objects.values_list("key", flat=True))
    assert {old_pending.key, new_email.key, new_page.key} <= remaining
    assert not {old_email.key, old_page.key} & remaining
    old_event.refresh_from_db()
    new_event.refresh_from_db()
    assert old_event.ip_address is None
    assert new_event.ip_address == "203.0.113.9"
    assert TransitionLog.objects.count() == log_rows
    assert fresh(proposal).submission.reference == "A/81/1"
    assert AuditEvent.objects.filter(action="retention.purged").count() == 1

    later = retention.retention_purge(now=NOW + dt.timedelta(days=91))
    assert later["security_events_redacted"] >= 2
    old_login.refresh_from_db()
    assert old_login.ip_address is None
    assert "username" not in old_login.after
    assert log_verify(now=NOW + dt.timedelta(days=92)).valid


def test_the_purge_runs_from_the_beat_schedule() -> None:
    entry = django_settings.CELERY_BEAT_SCHEDULE["retention-purge"]
    assert entry["task"] == tasks.retention_purge.name == "proposals.retention_purge"
    assert tasks.retention_purge.apply().get() == {
        "deliveries": 0,
        "page_notifications": 0,
        "security_events_redacted": 0,
        "login_attempts": 0,
    }
