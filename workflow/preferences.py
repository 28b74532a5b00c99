"""People's notification preferences: per event kind, how it reaches them besides the pages.

Every notice to a person reaches the pages (security notices aside, which go by email at once).
By email, each kind comes one email each (the default), in the daily digest (the default of a
person who chose the daily digest), or not at all ("in the pages only"). A preference holds
back only notices that do not ask to act: essential notices and reminders are emailed
whatever it says, singly or in the digest as chosen; the choice for reminders is kept under
one kind, `REMINDERS`. Changing a choice is a write with its audit row, in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from workflow.audit import audit_record
from workflow.errors import RefusalKind, Refused
from workflow.events import event_name_valid
from workflow.models import Delivery, NotificationPreference

PREFERENCE_CHANGED = "notification_preference.changed"
"""The audit action of a preference turned on or off."""

REMINDERS = "reminder.any"
"""The kind under which a person's choice for every deadline reminder is kept."""

EMAIL = Delivery.Channel.EMAIL


class Mode(models.TextChoices):
    """How one kind of notice reaches a person: always in the pages, and by email or not."""

    PAGE = "page", gettext_lazy("In the pages only")
    EMAIL = "email", gettext_lazy("By email too")
    DIGEST = "digest", gettext_lazy("In the daily digest")


def preference_event(event: str, kind: str) -> str:
    """The kind under which the choice for a delivery's event is kept (reminders: one)."""
    return REMINDERS if kind == Delivery.Kind.REMINDER else event


@dataclass(frozen=True)
class Standing:
    """What a person's settings say of every notice to them."""

    active: bool = True
    daily_digest: bool = False
    optional_by_email: bool = True


@dataclass(frozen=True)
class RecipientSettings:
    """What the outbox reads of one recipient, when the caller read it already: their standing,
    and their email choices by preference kind, (enabled, digest); a kind not listed is on, in
    the digest if they chose the daily digest."""

    standing: Standing
    chosen: Mapping[str, tuple[bool, bool | None]]


def people_standing(person_ids: Iterable[int]) -> dict[int, Standing]:
    """Per person: whether their account is active, whether they chose the daily digest and
    whether their news may be emailed (`optional_notifications`); one query. A person model
    without one of those fields: active, no digest, news by email."""
    ids = set(person_ids)
    if not ids:
        return {}
    model = get_user_model()
    fields = {"is_active": "active", "daily_digest": "daily_digest"}
    fields["optional_notifications"] = "optional_by_email"
    present = {}
    for name, attribute in fields.items():
        try:
            model._meta.get_field(name)
        except FieldDoesNotExist:
            continue
        present[name] = attribute
    return {
        row["pk"]: Standing(**{present[name]: bool(row[name]) for name in present})
        for row in model._default_manager.filter(pk__in=ids).values("pk", *present)
    }


def mode_of(enabled: bool, digest: bool | None, daily_digest: bool) -> str:
    """The mode a stored choice (or its absence: on, digest as the person's default) says."""
    if not enabled:
        return Mode.PAGE
    chosen = daily_digest if digest is None else digest
    return Mode.DIGEST if chosen else Mode.EMAIL


def email_modes(
    wanted: Iterable[tuple[int, str]],
    known: Mapping[int, RecipientSettings] | None = None,
) -> tuple[dict[tuple[int, str], str], dict[int, Standing]]:
    """The mode of each (person id, preference kind) asked, as chosen or by default, and each
    person's standing; two queries, none when `known` holds the settings of every person."""
    wanted = set(wanted)
    if not wanted:
        return {}, {}
    if known is not None and all(person_id in known for person_id, _event in wanted):
        return {
            (person_id, event): mode_of(
                *known[person_id].chosen.get(event, (True, None)),
                known[person_id].standing.daily_digest,
            )
            for person_id, event in wanted
        }, {person_id: known[person_id].standing for person_id, _event in wanted}
    standing = people_standing({person_id for person_id, _event in wanted})
    chosen = {
        (person_id, event): (enabled, digest)
        for person_id, event, enabled, digest in NotificationPreference.objects.filter(
            person_id__in={person_id for person_id, _event in wanted},
            event__in={event for _person, event in wanted},
            channel=EMAIL,
        ).values_list("person_id", "event", "enabled", "digest")
    }
    modes = {}
    for person_id, event in wanted:
        enabled, digest = chosen.get((person_id, event), (True, None))
        daily_digest = standing.get(person_id, Standing()).daily_digest
        modes[(person_id, event)] = mode_of(enabled, digest, daily_digest)
    return modes, standing


def notification_preferences_of(person: Any) -> dict[tuple[str, str], bool]:
    """The person's choices, (event kind, channel) → wanted; a kind not listed is wanted."""
    return {
        (event, channel): enabled
        for event, channel, enabled in NotificationPreference.objects.filter(
            person_id=getattr(person, "pk", person)
        ).values_list("event", "channel", "enabled")
    }


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


def notification_modes_of(person: Any, events: Iterable[str]) -> dict[str, str]:
    """The person's mode of each kind named, as chosen or by default: one query for a person
    read already (their daily digest is known), two for an id."""
    events = list(events)
    person_id = getattr(person, "pk", person)
    if not hasattr(person, "daily_digest"):
        modes, _standing = email_modes((person_id, event) for event in events)
        return {event: modes[(person_id, event)] for event in events}
    chosen = {
        event: (enabled, digest)
        for event, enabled, digest in NotificationPreference.objects.filter(
            person_id=person_id, event__in=events, channel=EMAIL
        ).values_list("event", "enabled", "digest")
    }
    return {
        event: mode_of(*chosen.get(event, (True, None)), bool(person.daily_digest))
        for event in events
    }


def notification_mode_set(
    *,
    person: Any,
    event: str,
    mode: str,
    actor: Any,
    request: Any = None,
    now: datetime | None = None,
) -> NotificationPreference | None:
    """Choose how one kind reaches the person (a Mode), with its audit row.

    Nothing is written when the mode is the one the person has now (chosen, or by default:
    by email, or in the digest for a person who chose the daily digest). A mode that does not
    exist, or a kind that is not a dotted name, is refused as invalid input.
    """
    errors: dict[str, list[str]] = {}
    if not event_name_valid(event):
        errors["event"] = [_("This is not a kind of notification.")]
    if mode not in Mode.values:
        errors["mode"] = [_("Choose in the pages only, by email too, or in the daily digest.")]
    if errors:
        raise Refused(
            RefusalKind.INVALID,
            [reason for reasons in errors.values() for reason in reasons],
            errors,
        )
    now = now or timezone.now()
    with transaction.atomic():
        preference = (
            NotificationPreference.objects.select_for_update()
            .filter(person=person, event=event, channel=EMAIL)
            .first()
        )
        before = notification_modes_of(getattr(person, "pk", person), [event])[event]
        if before == mode:
            return preference
        enabled = mode != Mode.PAGE
        digest = None if mode == Mode.PAGE else mode == Mode.DIGEST
        if preference is None:
            preference, _created = NotificationPreference.objects.get_or_create(
                person=person,
                event=event,
                channel=EMAIL,
                defaults={"enabled": enabled, "digest": digest, "updated_at": now},
            )
        preference.enabled = enabled
        preference.digest = digest if enabled else preference.digest
        preference.updated_at = now
        preference.save(update_fields=["enabled", "digest", "updated_at"])
        audit_record(
            action=PREFERENCE_CHANGED,
            actor=actor,
            obj=preference,
            subject=person,
            before={"event": event, "channel": EMAIL, "mode": before},
            after={"event": event, "channel": EMAIL, "mode": mode},
            request=request,
            now=now,
        )
    return preference
