"""Every write on a person: identity, roles, active flag, email address, account flags, groups
and the person's own settings, each audited.

Separation of duties lives here: nobody changes their own roles, the secretariat never
touches a superuser or another person of the secretariat, only the superuser names the
secretariat, a person acts for one organisation, and a new representative is announced to
the organisation's other representatives. The system (proposals.audited.SYSTEM: the demo
loader) may do what a superuser may, and its writes are audited and told to nobody.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import Group, Permission
from django.core import signing
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from proposals import rules
from proposals.audited import SYSTEM, audited
from proposals.models import Membership, Organization, Person, Role
from proposals.search import search_document_refresh
from proposals.security import ACCOUNT_EMAIL_PREFIX, security_event_record
from workflow.audit import audit_record, changed_fields
from workflow.errors import RefusalKind, Refused
from workflow.models import Delivery
from workflow.policy import Notice
from workflow.services import deliveries_enqueue

IDENTITY_FIELDS = ("username", "email")
PROFILE_FIELDS = ("first_name", "last_name", "language", "timezone")
# Changed by the secretariat in the admin; the staff flags are security events.
ACCOUNT_FIELDS = (
    "daily_digest",
    "optional_notifications",
    "is_staff",
    "is_superuser",
    "last_login",
    "date_joined",
)
STAFF_FIELDS = ("is_staff", "is_superuser")
# What a person chooses for themself on their settings page.
SETTINGS_FIELDS = ("language", "timezone", "daily_digest", "optional_notifications")
EMAIL_CHANGE_SALT = "proposals.people.email-change"
EMAIL_CHANGE_MAX_AGE = 60 * 60 * 48  # seconds: the confirmation link lasts two days

RolePairs = set[tuple[Organization, str]]


def _refuse(kind: RefusalKind, reasons: list[str]) -> None:
    if reasons:
        raise Refused(kind, reasons)


def _roles_check(actor: Any, target: Person | None, wanted: RolePairs, current: RolePairs) -> None:
    if actor is not SYSTEM:
        _refuse(
            RefusalKind.PERMISSION,
            rules.person_roles_permission_reasons(actor, target, wanted, current),
        )
    reasons = rules.person_roles_invalid_reasons(wanted)
    if reasons:
        raise Refused(RefusalKind.INVALID, reasons, {"organizations": reasons})


def roles_change_reasons(
    actor: Any, person: Person | None, wanted: RolePairs, current: RolePairs
) -> list[str]:
    """Every reason the change of roles is refused, for forms that show them together."""
    return rules.person_roles_permission_reasons(
        actor, person, wanted, current
    ) + rules.person_roles_invalid_reasons(wanted)


def person_roles(person: Person) -> RolePairs:
    return {(m.organization, m.role) for m in person.memberships.select_related("organization")}


def _roles_as_data(pairs: Iterable[tuple[Organization, str]]) -> list[list[Any]]:
    return sorted([organization.pk, role] for organization, role in pairs)


def _representative_announce(
    *, person: Person, organization: Organization, actor: Any, request: HttpRequest | None
) -> None:
    """The organisation's other representatives learn of the new one (and it is audited)."""
    event = security_event_record(
        action="person.representative_added",
        subject=person,
        actor=actor,
        obj=person,
        after={"organization": organization.pk, "role": Role.REPRESENTATIVE},
        request=request,
        notify=False,
    )
    if actor is SYSTEM:
        return
    others = (
        Membership.objects.filter(organization=organization, role=Role.REPRESENTATIVE)
        .exclude(person=person)
        .filter(person__is_active=True)
        .values_list("person_id", flat=True)
    )
    deliveries_enqueue(
        [
            Notice(
                recipient_id=other_id,
                template=f"{ACCOUNT_EMAIL_PREFIX}representative_added",
                event="account.representative_added",
                context={
                    "representative": str(person),
                    "representative_username": person.username,
                    "organization": organization.name,
                    "actor_name": str(actor) if actor else "",
                },
                essential=True,
            )
            for other_id in others
        ],
        key_prefix=f"representative:{event.pk}",
        kind=Delivery.Kind.SECURITY,
    )


def _roles_apply(
    *,
    actor: Any,
    person: Person,
    wanted: RolePairs,
    current: RolePairs,
    request: HttpRequest | None,
) -> None:
    """Write the difference between the current roles and the wanted ones, audited."""
    if wanted == current:
        return
    for organization, role in current - wanted:
        Membership.objects.filter(person=person, organization=organization, role=role).delete()
    Membership.objects.bulk_create(
        [
            Membership(person=person, organization=organization, role=role)
            for organization, role in sorted(
                wanted - current, key=lambda pair: (pair[0].pk, pair[1])
            )
        ]
    )
    person.__dict__.pop("_roles", None)
    security_event_record(
        action="person.roles_changed",
        subject=person,
        actor=actor,
        before={"roles": _roles_as_data(current)},
        after={"roles": _roles_as_data(wanted)},
        request=request,
    )
    for organization, role in wanted - current:
        if role == Role.REPRESENTATIVE:
            _representative_announce(
                person=person, organization=organization, actor=actor, request=request
            )


@audited("person.created", "person.roles_changed")
def person_create(
    *,
    actor: Any,
    username: str,
    email: str,
    roles: Iterable[tuple[Organization, str]] = (),
    password: str | None = None,
    request: HttpRequest | None = None,
    **profile: Any,
) -> Person:
    """A new person and their roles; without a password (they set their own through the reset
    link) unless a superuser (or the system) gives one."""
    if actor is not SYSTEM:
        _refuse(RefusalKind.PERMISSION, rules.person_manage_reasons(actor, None))
    unknown = set(profile) - set(PROFILE_FIELDS)
    if unknown:
        raise TypeError(f"Cannot set {', '.join(sorted(unknown))}.")
    if password is not None and not (actor is SYSTEM or getattr(actor, "is_superuser", False)):
        raise Refused(RefusalKind.PERMISSION, [_("Only a superuser can set a password.")])
    wanted = set(roles)
    _roles_check(actor, None, wanted, set())
    with transaction.atomic():
        person = Person(username=username, email=email, **profile)
        if password is None:
            person.set_unusable_password()
        else:
            person.set_password(password)
        person.save()
        audit_record(
            action="person.created",
            actor=actor,
            obj=person,
            subject=person,
            after={"username": username, "email": email, **profile},
            security=True,
            request=request,
        )
        _roles_apply(actor=actor, person=person, wanted=wanted, current=set(), request=request)
    return person


@audited(
    "person.updated",
    "person.email_changed",
    "person.username_changed",
    "person.activated",
    "person.deactivated",
    "person.roles_changed",
)
def person_update(
    *,
    actor: Any,
    person: Person,
    changes: dict[str, Any],
    roles: Iterable[tuple[Organization, str]] | None = None,
    two_factor_verified: bool = False,
    request: HttpRequest | None = None,
) -> Person:
    """Change a person's profile, account flags, identity, active flag or roles, each change
    audited.

    Identity (username, email) is corrected only by a verified superuser, and both
    addresses are told of an email correction; only a superuser makes or unmakes one.
    """
    allowed = {*PROFILE_FIELDS, *ACCOUNT_FIELDS, *IDENTITY_FIELDS, "is_active"}
    unknown = set(changes) - allowed
    if unknown:
        raise TypeError(f"Cannot change {', '.join(sorted(unknown))}.")
    changes = {name: value for name, value in changes.items() if getattr(person, name) != value}
    if actor is not SYSTEM:
        _person_update_check(actor, person, changes, two_factor_verified)
    wanted = set(roles) if roles is not None else None
    with transaction.atomic():
        locked = Person.objects.select_for_update().get(pk=person.pk)
        current = person_roles(locked)
        if wanted is not None:
            _roles_check(actor, locked, wanted, current)
        before = {name: getattr(locked, name) for name in changes}
        for name, value in changes.items():
            setattr(locked, name, value)
        if changes:
            locked.save(update_fields=list(changes))
        if {"first_name", "last_name", "username"} & set(changes):
            search_document_refresh(
                proposal_ids=locked.authored_proposals.values_list("pk", flat=True)
            )
        _audit_person_changes(actor=actor, person=locked, before=before, request=request)
        if wanted is not None:
            _roles_apply(
                actor=actor, person=locked, wanted=wanted, current=current, request=request
            )
    return locked


def _person_update_check(
    actor: Any, person: Person, changes: dict[str, Any], two_factor_verified: bool
) -> None:
    _refuse(RefusalKind.PERMISSION, rules.person_manage_reasons(actor, person))
    if any(name in IDENTITY_FIELDS for name in changes):
        _refuse(RefusalKind.PERMISSION, rules.person_identity_reasons(actor, person))
        if not two_factor_verified:
            raise Refused(
                RefusalKind.PERMISSION,
                [_("Confirm your identity with two-factor authentication before correcting it.")],
            )
    if "is_active" in changes and person.pk == getattr(actor, "pk", None):
        raise Refused(RefusalKind.PERMISSION, [_("Nobody can deactivate their own account.")])
    if "is_superuser" in changes and not getattr(actor, "is_superuser", False):
        raise Refused(RefusalKind.PERMISSION, [_("Only a superuser can change a superuser.")])


def _audit_person_changes(
    *, actor: Any, person: Person, before: dict[str, Any], request: HttpRequest | None
) -> None:
    """One audit row per kind of change: a security event for identity, the active flag and
    the staff flags."""
    after = {name: getattr(person, name) for name in before}
    updated = (*PROFILE_FIELDS, *ACCOUNT_FIELDS)
    profile_before, profile_after = changed_fields(
        {k: v for k, v in before.items() if k in updated},
        {k: v for k, v in after.items() if k in updated},
    )
    if profile_after:
        audit_record(
            action="person.updated",
            actor=actor,
            obj=person,
            subject=person,
            before=profile_before,
            after=profile_after,
            security=any(name in STAFF_FIELDS for name in profile_after),
            request=request,
        )
    if "email" in before:
        security_event_record(
            action="person.email_changed",
            subject=person,
            actor=actor,
            before={"email": before["email"]},
            after={"email": person.email},
            request=request,
            addresses=(before["email"],),
        )
    if "username" in before:
        security_event_record(
            action="person.username_changed",
            subject=person,
            actor=actor,
            before={"username": before["username"]},
            after={"username": person.username},
            request=request,
        )
    if "is_active" in before:
        if not person.is_active:
            from proposals.accounts import person_tokens_revoke

            person_tokens_revoke(person=person, reason="deactivated", actor=actor, request=request)
        security_event_record(
            action="person.activated" if person.is_active else "person.deactivated",
            subject=person,
            actor=actor,
            before={"is_active": before["is_active"]},
            after={"is_active": person.is_active},
            request=request,
        )


def _email_change_token(person: Person, new_email: str) -> str:
    return signing.dumps(
        {"person": person.pk, "from": person.email, "to": new_email}, salt=EMAIL_CHANGE_SALT
    )


@audited("person.permissions_changed")
def person_permissions_set(
    *,
    actor: Any,
    person: Person,
    groups: Iterable[Group] | None = None,
    permissions: Iterable[Permission] | None = None,
    request: HttpRequest | None = None,
) -> Person:
    """Set the admin groups and permissions of a person: only a superuser (or the system)
    does, and it is a security event."""
    if not (actor is SYSTEM or getattr(actor, "is_superuser", False)):
        raise Refused(
            RefusalKind.PERMISSION, [_("Only a superuser can change groups and permissions.")]
        )
    with transaction.atomic():
        locked = Person.objects.select_for_update().get(pk=person.pk)
        before: dict[str, Any] = {}
        after: dict[str, Any] = {}
        if groups is not None:
            before["groups"] = sorted(locked.groups.values_list("pk", flat=True))
            after["groups"] = sorted(group.pk for group in groups)
        if permissions is not None:
            before["permissions"] = sorted(locked.user_permissions.values_list("pk", flat=True))
            after["permissions"] = sorted(permission.pk for permission in permissions)
        changed_before, changed_after = changed_fields(before, after)
        if not changed_after:
            return locked
        if "groups" in changed_after:
            locked.groups.set(changed_after["groups"])
        if "permissions" in changed_after:
            locked.user_permissions.set(changed_after["permissions"])
        security_event_record(
            action="person.permissions_changed",
            subject=locked,
            actor=actor,
            before=changed_before,
            after=changed_after,
            request=request,
            notify=False,
        )
    return locked


@audited("permission_group.created", "permission_group.changed")
def permission_group_set(
    *,
    actor: Any,
    name: str,
    permissions: Iterable[Permission],
    request: HttpRequest | None = None,
) -> Group:
    """The admin group `name`, made if missing, grants exactly `permissions`: only a superuser
    (or the system) sets it, and it is a security event (nothing is recorded when nothing
    changes)."""
    if not (actor is SYSTEM or getattr(actor, "is_superuser", False)):
        raise Refused(
            RefusalKind.PERMISSION, [_("Only a superuser can change groups and permissions.")]
        )
    wanted = sorted({permission.pk for permission in permissions})
    with transaction.atomic():
        group = Group.objects.select_for_update().filter(name=name).first()
        if group is None:
            group = Group.objects.create(name=name)
            group.permissions.set(wanted)
            audit_record(
                action="permission_group.created",
                actor=actor,
                obj=group,
                after={"name": name, "permissions": wanted},
                security=True,
                request=request,
            )
            return group
        current = sorted(group.permissions.values_list("pk", flat=True))
        if current == wanted:
            return group
        group.permissions.set(wanted)
        audit_record(
            action="permission_group.changed",
            actor=actor,
            obj=group,
            before={"permissions": current},
            after={"permissions": wanted},
            security=True,
            request=request,
        )
    return group


@audited("person.deleted")
def person_delete(*, actor: Any, person: Person, request: HttpRequest | None = None) -> None:
    """Delete a person who left no trace (the audit trail, proposals and logs protect anyone
    who did: deactivate them instead). The audit row names them by id and username only."""
    _refuse(RefusalKind.PERMISSION, rules.person_manage_reasons(actor, person))
    if person.pk == getattr(actor, "pk", None):
        raise Refused(RefusalKind.PERMISSION, [_("Nobody can delete their own account.")])
    with transaction.atomic():
        locked = Person.objects.select_for_update().get(pk=person.pk)
        audit_record(
            action="person.deleted",
            actor=actor,
            obj=locked,
            before={"username": locked.username, "email": locked.email},
            security=True,
            request=request,
        )
        locked.delete()


@audited("person.settings_changed")
def person_settings_update(
    *,
    person: Person,
    language: str | None = None,
    timezone: str | None = None,
    daily_digest: bool | None = None,
    optional_notifications: bool | None = None,
    request: HttpRequest | None = None,
) -> Person:
    """A person's own choices: language, time zone, one digest a day, optional notifications.
    The values given that differ are saved and recorded (person.settings_changed)."""
    wanted = {
        name: value
        for name, value in (
            ("language", language),
            ("timezone", timezone),
            ("daily_digest", daily_digest),
            ("optional_notifications", optional_notifications),
        )
        if value is not None
    }
    with transaction.atomic():
        locked = Person.objects.select_for_update().get(pk=person.pk)
        changed_before, changed_after = changed_fields(
            {name: getattr(locked, name) for name in wanted}, wanted
        )
        if not changed_after:
            return locked
        for name, value in changed_after.items():
            setattr(locked, name, value)
        locked.save(update_fields=list(changed_after))
        audit_record(
            action="person.settings_changed",
            actor=person,
            obj=locked,
            subject=locked,
            before=changed_before,
            after=changed_after,
            request=request,
        )
    return locked


# A person's own change of email address: confirmed from the new address.


@audited("person.email_change_requested")
def email_change_request(
    *, person: Person, new_email: str, password: str, request: HttpRequest | None = None
) -> None:
    """Send a confirmation link to the new address and tell the current one; nothing changes
    until the link is opened."""
    errors: dict[str, list[str]] = {}
    if not person.check_password(password):
        errors["password"] = [_("This is not your current password.")]
    new_email = new_email.strip()
    if new_email.lower() == (person.email or "").lower():
        errors["email"] = [_("This is already your email address.")]
    elif Person.objects.filter(email__iexact=new_email).exclude(pk=person.pk).exists():
        errors["email"] = [_("Another person of the group already uses this address.")]
    if errors:
        raise Refused(
            RefusalKind.INVALID, [r for reasons in errors.values() for r in reasons], errors
        )
    with transaction.atomic():
        event = security_event_record(
            action="person.email_change_requested",
            subject=person,
            actor=person,
            after={"email": new_email},
            request=request,
        )
        deliveries_enqueue(
            [
                Notice(
                    recipient_id=person.pk,
                    template=f"{ACCOUNT_EMAIL_PREFIX}email_confirm",
                    event="account.email_confirm",
                    context={
                        "token": _email_change_token(person, new_email),
                        "new_email": new_email,
                    },
                    essential=True,
                    address=new_email,
                )
            ],
            key_prefix=f"email-confirm:{event.pk}",
            kind=Delivery.Kind.SECURITY,
        )


def email_change_pending(token: str, person: Person) -> tuple[Person, str]:
    """The person and new address a confirmation link is for, if it is still good and it is
    `person`'s own link."""
    invalid = Refused(
        RefusalKind.INVALID,
        [_("This confirmation link is not valid any more: ask for the change again.")],
    )
    try:
        payload = signing.loads(token, salt=EMAIL_CHANGE_SALT, max_age=EMAIL_CHANGE_MAX_AGE)
    except signing.BadSignature:
        raise invalid from None
    pending = Person.objects.filter(pk=payload.get("person"), is_active=True).first()
    if pending is None or pending.email != payload.get("from"):
        raise invalid
    if pending.pk != person.pk:
        raise Refused(
            RefusalKind.PERMISSION,
            [_("This link is for another person: sign in as that person to confirm it.")],
        )
    return pending, str(payload["to"])


@audited("person.email_changed")
def email_change_confirm(
    *, token: str, person: Person, request: HttpRequest | None = None
) -> Person:
    """The address changes once its owner opens the link, signed in as the same person."""
    pending_person, new_email = email_change_pending(token, person)
    if Person.objects.filter(email__iexact=new_email).exclude(pk=person.pk).exists():
        raise Refused(
            RefusalKind.CONFLICT, [_("Another person of the group already uses this address.")]
        )
    with transaction.atomic():
        locked = Person.objects.select_for_update().get(pk=person.pk)
        if locked.email != pending_person.email:
            raise Refused(
                RefusalKind.CONFLICT,
                [_("This confirmation link is not valid any more: ask for the change again.")],
            )
        before = {"email": locked.email}
        locked.email = new_email
        locked.save(update_fields=["email"])
        _audit_person_changes(actor=person, person=locked, before=before, request=request)
    return locked
