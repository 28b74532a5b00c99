"""Every write on the group's reference data: organisations, presidency terms, bodies,
occasions and reminder rules. One transaction each, and each leaves its audit row:
`<kind>.created` with the values, `<kind>.changed` with the changed fields before and after,
`<kind>.deleted` with the values it had.

Faces validate the input (serializers, admin forms) and decide who may write (the API lets
the secretariat; the admin, staff with the model's permission); a deadline move is refused
here to anyone but the secretariat (proposals.services.occasion_move_deadline). Themes are
the 17 goals a migration writes; nothing changes them. `actor=None` is the system (the demo
loader): its rows name no actor.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, TypeVar

from django.db import IntegrityError, models, transaction
from django.http import HttpRequest
from django.utils import timezone as django_timezone
from django.utils.translation import gettext as _

from proposals.audited import audited
from proposals.models import Body, Occasion, Organization, Person, PresidencyTerm, ReminderRule
from proposals.search import search_document_refresh
from proposals.services import occasion_move_deadline
from workflow.audit import audit_record, changed_fields
from workflow.errors import RefusalKind, Refused

Model = TypeVar("Model", bound=models.Model)

ORGANIZATION_FIELDS = (
    "name",
    "short_name",
    "kind",
    "status",
    "country",
    "joined_on",
    "left_on",
    "parent",
    "is_secretariat",
)
PRESIDENCY_FIELDS = ("organization", "starts_on", "ends_on")
BODY_FIELDS = ("name", "level", "country")
OCCASION_FIELDS = (
    "name",
    "kind",
    "location",
    "timezone",
    "starts_on",
    "ends_on",
    "submission_deadline",
    "required_approvals",
    "endorsement_quorum",
    "accepts_late_submissions",
)
OCCASION_CALENDAR_FIELDS = ("name", "kind", "location", "timezone", "starts_on", "ends_on")
"""What calendars show of an occasion besides its deadline: a change raises dates_version, and
with it the SEQUENCE of its calendar events."""
OCCASION_IMPORTED_FIELDS = (
    "name",
    "kind",
    "location",
    "timezone",
    "starts_on",
    "ends_on",
    "submission_deadline",
)
"""What an occasion's calendar feed writes (proposals.calendar_import): a person's edit of one
of them pins it."""
REMINDER_RULE_FIELDS = ("occasion_kind", "occasion", "offsets")


def _facts(obj: models.Model, names: tuple[str, ...] | list[str]) -> dict[str, Any]:
    """The values the audit trail keeps, a related object by its id (read without a query)."""
    return {
        name: getattr(obj, getattr(obj._meta.get_field(name), "attname", name)) for name in names
    }


def _unknown_check(changes: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = set(changes) - set(allowed)
    if unknown:
        raise TypeError(f"Cannot change {', '.join(sorted(unknown))}.")


def _create(
    obj: Model, *, action: str, fields: tuple[str, ...], actor: Person | None, request: Any
) -> Model:
    with transaction.atomic():
        obj.save(force_insert=True)
        audit_record(
            action=action, actor=actor, obj=obj, after=_facts(obj, fields), request=request
        )
    return obj


def _update(
    obj: Model,
    *,
    action: str,
    changes: Mapping[str, Any],
    actor: Person | None,
    request: Any,
    also: Mapping[str, Any] | None = None,
    versions: Mapping[str, tuple[str, ...]] | None = None,
) -> Model:
    """Lock the row, apply the changes and save the fields that differ, audited; `also` are
    fields saved with them that the audit row does not show (a time of update); `versions`
    name counters raised by one when any of their fields changed."""
    locked = type(obj)._default_manager.select_for_update().get(pk=obj.pk)
    before = _facts(locked, list(changes))
    for name, value in changes.items():
        setattr(locked, name, value)
    changed_before, changed_after = changed_fields(before, _facts(locked, list(changes)))
    if not changed_after:
        return locked
    for name, value in (also or {}).items():
        setattr(locked, name, value)
    raised = [
        version
        for version, fields in (versions or {}).items()
        if any(name in changed_after for name in fields)
    ]
    for version in raised:
        setattr(locked, version, getattr(locked, version) + 1)
    locked.save(update_fields=[*changed_after, *(also or {}), *raised])
    audit_record(
        action=action,
        actor=actor,
        obj=locked,
        before=changed_before,
        after=changed_after,
        request=request,
    )
    return locked


def _delete(
    obj: models.Model,
    *,
    action: str,
    fields: tuple[str, ...],
    actor: Person | None,
    request: Any,
) -> None:
    """Delete the row and record what it held; a row still in use stays (ProtectedError), and
    so does nothing of its audit row."""
    with transaction.atomic():
        locked = type(obj)._default_manager.select_for_update().get(pk=obj.pk)
        audit_record(
            action=action, actor=actor, obj=locked, before=_facts(locked, fields), request=request
        )
        locked.delete()


# Organisations


@audited("organization.created")
def organization_create(
    *,
    actor: Person | None,
    name: str,
    kind: str,
    short_name: str = "",
    status: str = Organization.Status.MEMBER,
    country: str = "",
    joined_on: dt.date | None = None,
    left_on: dt.date | None = None,
    parent: Organization | None = None,
    is_secretariat: bool = False,
    request: HttpRequest | None = None,
) -> Organization:
    """A new member, observer, former member or agency of the group."""
    organization = Organization(
        name=name,
        kind=kind,
        short_name=short_name,
        status=status,
        country=country,
        joined_on=joined_on,
        left_on=left_on,
        parent=parent,
        is_secretariat=is_secretariat,
    )
    return _create(
        organization,
        action="organization.created",
        fields=ORGANIZATION_FIELDS,
        actor=actor,
        request=request,
    )


@audited("organization.changed")
def organization_update(
    *,
    actor: Person | None,
    organization: Organization,
    changes: Mapping[str, Any],
    request: HttpRequest | None = None,
) -> Organization:
    """Change an organisation's name, kind, status, dates or parent; nothing is recorded when
    nothing differs."""
    _unknown_check(changes, ORGANIZATION_FIELDS)
    with transaction.atomic():
        updated = _update(
            organization,
            action="organization.changed",
            changes=changes,
            actor=actor,
            request=request,
        )
        if {"name", "short_name"} & set(changes):
            search_document_refresh(proposal_ids=updated.led_proposals.values_list("pk", flat=True))
        return updated


@audited("organization.deleted")
def organization_delete(
    *, actor: Person | None, organization: Organization, request: HttpRequest | None = None
) -> None:
    """Delete an organisation that nothing protects (proposals, presidencies, parts keep it)."""
    _delete(
        organization,
        action="organization.deleted",
        fields=ORGANIZATION_FIELDS,
        actor=actor,
        request=request,
    )


# Presidency terms


@audited("presidency.created")
def presidency_create(
    *,
    actor: Person | None,
    organization: Organization,
    starts_on: dt.date,
    ends_on: dt.date,
    request: HttpRequest | None = None,
) -> PresidencyTerm:
    """A State chairs the group from `starts_on` to `ends_on`."""
    term = PresidencyTerm(organization=organization, starts_on=starts_on, ends_on=ends_on)
    return _create(
        term, action="presidency.created", fields=PRESIDENCY_FIELDS, actor=actor, request=request
    )


@audited("presidency.changed")
def presidency_update(
    *,
    actor: Person | None,
    term: PresidencyTerm,
    changes: Mapping[str, Any],
    request: HttpRequest | None = None,
) -> PresidencyTerm:
    """Change who chairs in a term, or its dates."""
    _unknown_check(changes, PRESIDENCY_FIELDS)
    with transaction.atomic():
        return _update(
            term, action="presidency.changed", changes=changes, actor=actor, request=request
        )


@audited("presidency.deleted")
def presidency_delete(
    *, actor: Person | None, term: PresidencyTerm, request: HttpRequest | None = None
) -> None:
    _delete(
        term, action="presidency.deleted", fields=PRESIDENCY_FIELDS, actor=actor, request=request
    )


# Bodies


@audited("body.created")
def body_create(
    *,
    actor: Person | None,
    name: str,
    level: str,
    country: str = "",
    request: HttpRequest | None = None,
) -> Body:
    """A parliament, ministry or UN organ that proposals may be addressed to."""
    body = Body(name=name, level=level, country=country)
    return _create(body, action="body.created", fields=BODY_FIELDS, actor=actor, request=request)


@audited("body.changed")
def body_update(
    *,
    actor: Person | None,
    body: Body,
    changes: Mapping[str, Any],
    request: HttpRequest | None = None,
) -> Body:
    _unknown_check(changes, BODY_FIELDS)
    with transaction.atomic():
        return _update(body, action="body.changed", changes=changes, actor=actor, request=request)


@audited("body.deleted")
def body_delete(*, actor: Person | None, body: Body, request: HttpRequest | None = None) -> None:
    _delete(body, action="body.deleted", fields=BODY_FIELDS, actor=actor, request=request)


# Occasions


@audited("occasion.created")
def occasion_create(
    *,
    actor: Person | None,
    name: str,
    kind: str,
    starts_on: dt.date,
    ends_on: dt.date,
    submission_deadline: dt.datetime,
    location: str = "",
    timezone: str = "UTC",
    required_approvals: int = 1,
    endorsement_quorum: int = 2,
    accepts_late_submissions: bool = False,
    request: HttpRequest | None = None,
) -> Occasion:
    """A new occasion; its first deadline is version 1 and no move is recorded."""
    occasion = Occasion(
        name=name,
        kind=kind,
        starts_on=starts_on,
        ends_on=ends_on,
        submission_deadline=submission_deadline,
        location=location,
        timezone=timezone,
        required_approvals=required_approvals,
        endorsement_quorum=endorsement_quorum,
        accepts_late_submissions=accepts_late_submissions,
    )
    return _create(
        occasion, action="occasion.created", fields=OCCASION_FIELDS, actor=actor, request=request
    )


@audited("occasion.changed", "occasion.deadline_moved")
def occasion_update(
    *,
    actor: Person | None,
    occasion: Occasion,
    changes: Mapping[str, Any],
    deadline_change_reason: str = "",
    request: HttpRequest | None = None,
) -> Occasion:
    """Change an occasion in one transaction: a new submission deadline is a recorded move
    (occasion.deadline_moved, refused to anyone but the secretariat, and then nothing else
    changes either), the other fields one occasion.changed row; a change of what calendars
    show (its name, kind, place, zone or dates) raises its dates_version."""
    _unknown_check(changes, OCCASION_FIELDS)
    others = {name: value for name, value in changes.items() if name != "submission_deadline"}
    with transaction.atomic():
        pins = _pins_by_hand(occasion, changes, actor)
        if "submission_deadline" in changes:
            occasion = occasion_move_deadline(
                occasion=occasion,
                new_deadline=changes["submission_deadline"],
                actor=actor,
                reason=deadline_change_reason,
            )
        updated = _update(
            occasion,
            action="occasion.changed",
            changes=others,
            actor=actor,
            request=request,
            versions={"dates_version": OCCASION_CALENDAR_FIELDS},
        )
        if pins:
            updated.pinned_fields = pins
            Occasion.objects.filter(pk=updated.pk).update(pinned_fields=pins)
        return updated


def _pins_by_hand(occasion: Occasion, changes: Mapping[str, Any], actor: Any) -> list[str]:
    """The pinned fields of an imported occasion after a person's edit: the fields its
    calendar feed writes that this edit changes join them (docs/calendar-import.md), so the
    feed no longer overwrites them. Empty when nothing is to be pinned."""
    if not occasion.feed_id or getattr(actor, "pk", None) is None:
        return []
    current = Occasion.objects.select_for_update().get(pk=occasion.pk)
    names = [name for name in changes if name in OCCASION_IMPORTED_FIELDS]

    def instant(value: Any) -> Any:
        return (
            value.astimezone(dt.UTC) if isinstance(value, dt.datetime) and value.tzinfo else value
        )

    _before, changed = changed_fields(
        {name: instant(value) for name, value in _facts(current, names).items()},
        {name: instant(changes[name]) for name in names},
    )
    if not changed:
        return []
    return sorted(set(current.pinned_fields or []) | set(changed))


@audited("occasion.deleted")
def occasion_delete(
    *, actor: Person | None, occasion: Occasion, request: HttpRequest | None = None
) -> None:
    """Delete an occasion no proposal is timed to; its deadline moves and rule go with it."""
    _delete(
        occasion, action="occasion.deleted", fields=OCCASION_FIELDS, actor=actor, request=request
    )


# Reminder rules


def _rule_conflict() -> Refused:
    reason = _("Someone saved a rule for the same kind or occasion meanwhile; reload.")
    return Refused(RefusalKind.INVALID, [reason])


@audited("reminder_rule.created")
def reminder_rule_create(
    *,
    actor: Person | None,
    offsets: list[int],
    occasion_kind: str = "",
    occasion: Occasion | None = None,
    request: HttpRequest | None = None,
) -> ReminderRule:
    """When reminders go out for a kind of occasion, or for one occasion (which overrides its
    kind's rule)."""
    rule = ReminderRule(
        occasion_kind=occasion_kind,
        occasion=occasion,
        offsets=list(offsets),
        updated_at=django_timezone.now(),
    )
    try:
        return _create(
            rule,
            action="reminder_rule.created",
            fields=REMINDER_RULE_FIELDS,
            actor=actor,
            request=request,
        )
    except IntegrityError:
        raise _rule_conflict() from None


@audited("reminder_rule.changed")
def reminder_rule_update(
    *,
    actor: Person | None,
    rule: ReminderRule,
    changes: Mapping[str, Any],
    request: HttpRequest | None = None,
) -> ReminderRule:
    """Change a rule's days, or what it is for; its time of update follows."""
    _unknown_check(changes, REMINDER_RULE_FIELDS)
    try:
        with transaction.atomic():
            return _update(
                rule,
                action="reminder_rule.changed",
                changes=changes,
                actor=actor,
                request=request,
                also={"updated_at": django_timezone.now()},
            )
    except IntegrityError:
        raise _rule_conflict() from None


@audited("reminder_rule.deleted")
def reminder_rule_delete(
    *, actor: Person | None, rule: ReminderRule, request: HttpRequest | None = None
) -> None:
    """Without the rule, its kind's rule or the default days apply again."""
    _delete(
        rule,
        action="reminder_rule.deleted",
        fields=REMINDER_RULE_FIELDS,
        actor=actor,
        request=request,
    )
