"""People's notification preferences: per event kind and channel, on unless turned off.

A preference holds back only notices that do not ask to act: the outbox writes essential
and security notices whatever it says. Turning a kind on or off is a write with its audit
row, in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from workflow.audit import audit_record
from workflow.errors import RefusalKind, Refused
from workflow.events import event_name_valid
from workflow.models import Delivery, NotificationPreference

PREFERENCE_CHANGED = "notification_preference.changed"
"""The audit action of a preference turned on or off."""


def notification_preferences_of(person: Any) -> dict[tuple[str, str], bool]:
    """The person's choices, (event kind, channel) → wanted; a kind not listed is wanted."""
    return {
        (event, channel): enabled
        for event, channel, enabled in NotificationPreference.objects.filter(
            person_id=getattr(person, "pk", person)
        ).values_list("event", "channel", "enabled")
    }


def notifications_turned_off(
    wanted: Iterable[tuple[int, str, str]],
) -> set[tuple[int, str, str]]:
    """Which of the (person id, event kind, channel) triples their person turned off; one query."""
    wanted = set(wanted)
    if not wanted:
        return set()
    rows = NotificationPreference.objects.filter(
        person_id__in={person_id for person_id, _event, _channel in wanted},
        event__in={event for _person, event, _channel in wanted},
        enabled=False,
    ).values_list("person_id", "event", "channel")
    return {row for row in rows if row in wanted}


def notification_preference_set(
    *,
    person: Any,
    event: str,
    channel: str = Delivery.Channel.EMAIL,
    enabled: bool,
    actor: Any,
    request: Any = None,
    now: datetime | None = None,
) -> NotificationPreference | None:
    """Turn one event kind on or off for the person on one channel, with its audit row.

    Nothing is written when the choice is what it already was (a kind without a row is on);
    returns the preference row, or None when the kind stays on without one. An unknown
    channel or a kind that is not a dotted name is refused as invalid input.
    """
    errors: dict[str, list[str]] = {}
    if not event_name_valid(event):
        errors["event"] = [_("This is not a kind of notification.")]
    if channel not in Delivery.Channel.values:
        errors["channel"] = [_("This is not a way to be notified.")]
    if errors:
        raise Refused(
            RefusalKind.INVALID,
            [reason for reasons in errors.values() for reason in reasons],
            errors,
        )
    enabled = bool(enabled)
    now = now or timezone.now()
    with transaction.atomic():
        preference = (
            NotificationPreference.objects.select_for_update()
            .filter(person=person, event=event, channel=channel)
            .first()
        )
        before = preference.enabled if preference is not None else True
        if before == enabled:
            return preference
        if preference is None:
            preference, created = NotificationPreference.objects.select_for_update().get_or_create(
                person=person,
                event=event,
                channel=channel,
                defaults={"enabled": enabled, "updated_at": now},
            )
            if not created:  # written meanwhile by a concurrent request: it is locked now
                before = preference.enabled
                if before == enabled:
                    return preference
        if preference.enabled != enabled:
            preference.enabled = enabled
            preference.updated_at = now
            preference.save(update_fields=["enabled", "updated_at"])
        audit_record(
            action=PREFERENCE_CHANGED,
            actor=actor,
            obj=preference,
            subject=person,
            before={"event": event, "channel": channel, "enabled": before},
            after={"event": event, "channel": channel, "enabled": enabled},
            request=request,
            now=now,
        )
    return preference
