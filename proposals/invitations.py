"""Invitations and the first visit.

The secretariat invites a person by email to one organisation with roles (the rules of a
change of roles apply, `rules.person_roles_*`). Only the digest of the link's token is
stored: the token is an HMAC, under the site's secret key, of a random nonce that the
outbox row carries, so the database alone never holds a working link. A link works once,
until `INVITATION_LIFETIME_DAYS` after it was sent; resending makes a new one and the former
one dies. Accepting makes the account through `people.person_create`, in the inviter's name
(its audit, its roles and the announcement of a new representative), with the password,
language and time zone the person chose.

A person's first visit (`Person.welcomed_at` empty) shows what awaits them; seeing it sets
`welcomed_at`.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from proposals import people, rules
from proposals.accounts import token_digest
from proposals.audited import audited
from proposals.localized import date_text
from proposals.models import (
    Invitation,
    Language,
    Membership,
    Organization,
    Person,
    ProposalState,
    Role,
    validate_timezone,
)
from proposals.selectors import (
    proposals_authored_by,
    proposals_awaiting_endorsement_by,
    proposals_awaiting_review_by,
    proposals_ready_to_submit,
    proposals_visible_to,
    roles_of,
)
from workflow import emails
from workflow.audit import audit_record
from workflow.errors import RefusalKind, Refused, refuse_invalid_fields
from workflow.models import Delivery
from workflow.policy import Notice
from workflow.services import deliveries_enqueue

EMAIL_PREFIX = "proposals/email/invitation/"
EMAIL_TEMPLATE = f"{EMAIL_PREFIX}invitation"
LINK_SALT = "proposals.invitations.link"


class Status:
    """Where an invitation stands: read from its dates, never stored."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    EXPIRED = "expired"
    REVOKED = "revoked"


STATUS_LABELS: dict[str, Any] = {
    Status.PENDING: translation.gettext_lazy("Pending"),
    Status.ACCEPTED: translation.gettext_lazy("Accepted"),
    Status.EXPIRED: translation.gettext_lazy("Expired"),
    Status.REVOKED: translation.gettext_lazy("Revoked"),
}


def invitation_lifetime() -> dt.timedelta:
    return dt.timedelta(days=settings.INVITATION_LIFETIME_DAYS)


def invitation_token(nonce: str) -> str:
    """The link's token for a nonce: an HMAC under the site's secret key, in hexadecimal."""
    return salted_hmac(LINK_SALT, nonce, algorithm="sha256").hexdigest()


def invitation_status(invitation: Invitation, now: dt.datetime | None = None) -> str:
    if invitation.accepted_at is not None:
        return Status.ACCEPTED
    if invitation.revoked_at is not None:
        return Status.REVOKED
    if invitation.expires_at <= (now or timezone.now()):
        return Status.EXPIRED
    return Status.PENDING


def invitations_with_status(
    status: str = "", now: dt.datetime | None = None
) -> QuerySet[Invitation]:
    """Every invitation, newest first, with its organisation and people; narrowed to one status
    when `status` names one."""
    queryset = Invitation.objects.select_related("organization", "invited_by", "person")
    return queryset.filter(invitation_status_condition(status, now)) if status else queryset


def invitation_status_condition(status: str, now: dt.datetime | None = None) -> Q:
    """The invitations in `status` (one of STATUS_LABELS) at `now`."""
    now = now or timezone.now()
    return {
        Status.ACCEPTED: Q(accepted_at__isnull=False),
        Status.REVOKED: Q(accepted_at__isnull=True, revoked_at__isnull=False),
        Status.EXPIRED: Q(accepted_at__isnull=True, revoked_at__isnull=True, expires_at__lte=now),
        Status.PENDING: Q(accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now),
    }[status]


def role_label(role: str) -> str:
    return str(Role(role).label) if role in Role.values else role


def roles_text(roles: Iterable[str]) -> str:
    return ", ".join(role_label(role) for role in roles)


# Checks


def _manage_check(actor: Any) -> None:
    reasons = rules.person_manage_reasons(actor, None)
    if reasons:
        raise Refused(RefusalKind.PERMISSION, reasons)


def _email_in_use(email: str, exclude_invitation: int | None = None) -> list[str]:
    if Person.objects.filter(email__iexact=email, is_active=True).exists():
        return [_("A person of the group already uses this address: they need no invitation.")]
    pending = invitations_with_status(Status.PENDING).filter(email__iexact=email)
    if exclude_invitation is not None:
        pending = pending.exclude(pk=exclude_invitation)
    if pending.exists():
        return [
            _("This address was invited already and the link still works: resend that invitation.")
        ]
    return []


def _roles_reasons(actor: Any, organization: Organization, roles: list[str]) -> dict[str, Any]:
    """Why these roles cannot be given in this organisation, by field ("permission" for what the
    actor may not grant)."""
    errors: dict[str, list[str]] = {}
    unknown = [role for role in roles if role not in Role.values]
    if not roles or unknown:
        errors["roles"] = [_("Choose one role at least among drafter, reviewer, representative.")]
        return errors
    if organization.status == Organization.Status.FORMER:
        errors["organization"] = [
            _("%(organization)s has left the group: choose an organisation of the group.")
            % {"organization": organization}
        ]
    for role in roles:
        try:
            Membership(organization=organization, role=role).clean()
        except ValidationError as error:
            errors.setdefault("roles", []).extend(error.messages)
    wanted = {(organization, role) for role in roles}
    invalid = rules.person_roles_invalid_reasons(wanted)
    if invalid:
        errors.setdefault("roles", []).extend(invalid)
    permission = rules.person_roles_permission_reasons(actor, None, wanted, set())
    if permission:
        errors["permission"] = permission
    return errors


def _send(invitation: Invitation, nonce: str, event_id: int) -> None:
    """The email with the link, to the invited address, in the invitation's language; the
    inviter is its recipient of record (the address is not yet a person's)."""
    deliveries_enqueue(
        [
            Notice(
                recipient_id=invitation.invited_by_id,
                template=EMAIL_TEMPLATE,
                event="account.invitation",
                context={
                    "invitation": invitation.pk,
                    "nonce": nonce,
                    "language": invitation.language,
                    "first_name": invitation.first_name,
                    "organization_id": invitation.organization_id,
                    "roles": list(invitation.roles),
                    "inviter": str(invitation.invited_by),
                    "expires_at": invitation.expires_at.isoformat(),
                },
                essential=True,
                address=invitation.email,
            )
        ],
        key_prefix=f"invitation:{invitation.pk}:{event_id}",
        about=invitation,
        kind=Delivery.Kind.SECURITY,
    )


def _new_link(invitation: Invitation, now: dt.datetime) -> str:
    nonce = secrets.token_urlsafe(32)
    invitation.digest = token_digest(invitation_token(nonce))
    invitation.sent_at = now
    invitation.expires_at = now + invitation_lifetime()
    return nonce


def _audit_data(invitation: Invitation) -> dict[str, Any]:
    return {
        "email": invitation.email,
        "organization": invitation.organization_id,
        "roles": list(invitation.roles),
        "language": invitation.language,
        "expires_at": invitation.expires_at,
    }


# Writes


@audited("invitation.created")
def invitation_create(
    *,
    actor: Any,
    email: str,
    organization: Organization,
    roles: Iterable[str],
    language: str = Language.ENGLISH,
    first_name: str = "",
    last_name: str = "",
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> Invitation:
    """Invite `email` to `organization` with `roles`: the secretariat does, within the rules of
    a change of roles; the email with the link leaves through the outbox."""
    _manage_check(actor)
    now = now or timezone.now()
    email = (email or "").strip()
    roles = sorted(set(roles))
    errors: dict[str, list[str]] = {}
    try:
        validate_email(email)
    except ValidationError:
        errors["email"] = [_("Enter an email address such as name@ministry.example.")]
    else:
        in_use = _email_in_use(email)
        if in_use:
            errors["email"] = in_use
    if language not in Language.values:
        errors["language"] = [_("Choose English, French or Spanish.")]
    role_errors = _roles_reasons(actor, organization, roles)
    permission = role_errors.pop("permission", None)
    errors.update(role_errors)
    refuse_invalid_fields(errors)
    if permission:
        raise Refused(RefusalKind.PERMISSION, permission)
    with transaction.atomic():
        invitation = Invitation(
            email=email,
            first_name=first_name.strip(),
            last_name=last_name.strip(),
            organization=organization,
            roles=roles,
            language=language,
            invited_by=actor,
            created_at=now,
        )
        nonce = _new_link(invitation, now)
        invitation.save()
        event = audit_record(
            action="invitation.created",
            actor=actor,
            obj=invitation,
            after=_audit_data(invitation),
            request=request,
            now=now,
        )
        _send(invitation, nonce, event.pk)
    return invitation


def _locked_open(invitation: Invitation) -> Invitation:
    locked = (
        Invitation.objects.select_for_update().select_related("organization").get(pk=invitation.pk)
    )
    if locked.accepted_at is not None:
        raise Refused(RefusalKind.CONFLICT, [_("This invitation was accepted already.")])
    return locked


@audited("invitation.resent")
def invitation_resend(
    *,
    actor: Any,
    invitation: Invitation,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> Invitation:
    """A new link with a new expiry, sent again; the former link stops working. A revoked
    invitation is sent again too: resending is inviting anew."""
    _manage_check(actor)
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked_open(invitation)
        in_use = _email_in_use(locked.email, exclude_invitation=locked.pk)
        if in_use:
            raise Refused(RefusalKind.CONFLICT, in_use)
        before = {"expires_at": locked.expires_at, "revoked_at": locked.revoked_at}
        nonce = _new_link(locked, now)
        locked.revoked_at = None
        locked.revoked_by = None
        locked.save(update_fields=["digest", "sent_at", "expires_at", "revoked_at", "revoked_by"])
        event = audit_record(
            action="invitation.resent",
            actor=actor,
            obj=locked,
            before=before,
            after={"expires_at": locked.expires_at, "revoked_at": None},
            request=request,
            now=now,
        )
        _send(locked, nonce, event.pk)
    return locked


@audited("invitation.revoked")
def invitation_revoke(
    *,
    actor: Any,
    invitation: Invitation,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> Invitation:
    """The link stops working at once (nothing is written for one revoked already)."""
    _manage_check(actor)
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked_open(invitation)
        if locked.revoked_at is not None:
            return locked
        locked.revoked_at = now
        locked.revoked_by = actor
        locked.save(update_fields=["revoked_at", "revoked_by"])
        audit_record(
            action="invitation.revoked",
            actor=actor,
            obj=locked,
            after={"revoked_at": now},
            request=request,
            now=now,
        )
    return locked


class InvitationUnusable(Refused):
    """The link does not work (unknown, expired, revoked or used), said in the language of
    its invitation when there is one."""

    def __init__(self, reasons: list[str], language: str, *, found: bool = True) -> None:
        super().__init__(RefusalKind.INVALID, reasons)
        self.language = language
        self.found = found


def invitation_by_token(token: str, now: dt.datetime | None = None) -> Invitation:
    """The pending invitation of a link; InvitationUnusable says why a link does not work."""
    invitation = (
        Invitation.objects.select_related("organization", "invited_by")
        .filter(digest=token_digest(token or ""))
        .first()
    )
    if invitation is None:
        raise InvitationUnusable(
            [
                _(
                    "This invitation link is not known: check that it was copied whole, or ask "
                    "the secretariat for a new invitation."
                )
            ],
            translation.get_language() or settings.LANGUAGE_CODE,
            found=False,
        )
    status = invitation_status(invitation, now)
    if status != Status.PENDING:
        with translation.override(invitation.language):
            reason = {
                Status.ACCEPTED: _(
                    "This invitation was accepted already: sign in with the username and "
                    "password chosen then, or reset the password."
                ),
                Status.REVOKED: _(
                    "This invitation was withdrawn by the secretariat: ask it for a new one if "
                    "you still need an account."
                ),
                Status.EXPIRED: _(
                    "This invitation expired on %(date)s: ask the secretariat to send it again."
                )
                % {"date": date_text(invitation.expires_at, "UTC")},
            }[status]
        raise InvitationUnusable([reason], invitation.language)
    return invitation


def _acceptance_errors(
    invitation: Invitation, username: str, password: str, language: str, zone: str
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    try:
        Person.username_validator(username)
    except ValidationError as error:
        errors["username"] = list(error.messages)
    if not username:
        errors["username"] = [_("Choose a username.")]
    elif Person.objects.filter(username__iexact=username).exists():
        errors["username"] = [_("This username is taken: choose another.")]
    try:
        validate_password(
            password,
            Person(
                username=username,
                email=invitation.email,
                first_name=invitation.first_name,
                last_name=invitation.last_name,
            ),
        )
    except ValidationError as error:
        errors["password"] = list(error.messages)
    if language not in Language.values:
        errors["language"] = [_("Choose English, French or Spanish.")]
    try:
        validate_timezone(zone)
    except ValidationError as error:
        errors["timezone"] = list(error.messages)
    return errors


@audited("invitation.accepted")
def invitation_accept(
    *,
    token: str,
    username: str,
    password: str,
    language: str,
    timezone_name: str,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> Person:
    """The account of the invited person, with the roles of the invitation and the password,
    language and time zone they chose; the link then stops working."""
    now = now or timezone.now()
    username = (username or "").strip()
    invitation = invitation_by_token(token, now)
    refuse_invalid_fields(
        _acceptance_errors(invitation, username, password, language, timezone_name)
    )
    with transaction.atomic():
        locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if locked.digest != invitation.digest or invitation_status(locked, now) != Status.PENDING:
            invitation_by_token(token, now)  # raises: the link died meanwhile
        if Person.objects.filter(email__iexact=locked.email, is_active=True).exists():
            raise Refused(
                RefusalKind.CONFLICT,
                [_("A person of the group already uses this address: sign in as that person.")],
            )
        try:
            person = people.person_create(
                actor=invitation.invited_by,
                username=username,
                email=locked.email,
                roles=[(invitation.organization, role) for role in locked.roles],
                request=request,
                first_name=locked.first_name,
                last_name=locked.last_name,
                language=language,
                timezone=timezone_name,
            )
        except Refused as refused:
            if refused.kind != RefusalKind.PERMISSION:
                raise
            raise Refused(
                RefusalKind.PERMISSION,
                [
                    _(
                        "This invitation cannot be accepted any more: the person who sent it may "
                        "no longer give these roles. Ask the secretariat for a new invitation."
                    )
                ],
            ) from None
        person.set_password(password)
        person.save(update_fields=["password"])
        locked.accepted_at = now
        locked.person = person
        locked.save(update_fields=["accepted_at", "person"])
        audit_record(
            action="invitation.accepted",
            actor=person,
            obj=locked,
            subject=person,
            after={"username": username, "language": language, "timezone": timezone_name},
            security=True,
            request=request,
            now=now,
        )
    return person


# The first visit


@audited("person.welcomed")
def person_welcome(
    *, person: Person, request: HttpRequest | None = None, now: dt.datetime | None = None
) -> Person:
    """The person saw the first-visit page: `welcomed_at` is set (once)."""
    now = now or timezone.now()
    with transaction.atomic():
        updated = Person.objects.filter(pk=person.pk, welcomed_at__isnull=True).update(
            welcomed_at=now
        )
        if updated:
            audit_record(
                action="person.welcomed",
                actor=person,
                obj=person,
                subject=person,
                after={"welcomed_at": now},
                request=request,
                now=now,
            )
    person.welcomed_at = person.welcomed_at or now
    return person


@dataclass(frozen=True)
class Welcome:
    """What awaits a person on their first visit: what their roles let them do, and how many
    proposals wait for them now."""

    drafter: bool
    reviewer: bool
    representative: bool
    secretariat: bool
    observer: bool
    presidency: bool
    drafts: int
    to_review: int
    to_endorse: int
    to_submit: int


def welcome_of(person: Person) -> Welcome:
    roles = roles_of(person)
    visible = proposals_visible_to(person)
    return Welcome(
        drafter=bool(roles.drafter_organization_ids),
        reviewer=roles.reviewer,
        representative=bool(roles.representative_organization_ids),
        secretariat=roles.secretariat_or_superuser,
        observer=bool(roles.observer_organization_ids),
        presidency=roles.presidency,
        drafts=proposals_authored_by(person, visible).filter(state=ProposalState.DRAFT).count(),
        to_review=proposals_awaiting_review_by(person, visible).count() if roles.may_review else 0,
        to_endorse=proposals_awaiting_endorsement_by(person, visible).count(),
        to_submit=proposals_ready_to_submit(visible).count() if roles.secretariat else 0,
    )


# The email


def invitation_email_context(
    template: str, context: dict[str, Any], recipient: Any, now: dt.datetime
) -> dict[str, Any]:
    """The link and the facts of the invitation, in the invitation's language (the templates
    render in it with {% language %})."""
    language = context.get("language") or settings.LANGUAGE_CODE
    with translation.override(language):
        expires_at = dt.datetime.fromisoformat(context["expires_at"])
        organization = Organization.objects.filter(pk=context.get("organization_id") or 0).first()
        return {
            "organization": str(organization or ""),
            "accept_link": context["site_url"]
            + reverse("proposals:invitation_accept", args=[invitation_token(context["nonce"])]),
            "expires_on": date_text(expires_at, "UTC"),
            "roles_text": roles_text(context.get("roles") or []),
        }


emails.register(prefix=EMAIL_PREFIX, context=invitation_email_context)
