"""Security events: each is an audit row, and the person it concerns is told by email."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from proposals.audited import SYSTEM
from proposals.localized import datetime_text
from workflow import emails
from workflow.audit import audit_record
from workflow.audit import client_address as client_address  # the faces read it from here
from workflow.models import AuditEvent, Delivery
from workflow.policy import Notice
from workflow.services import deliveries_enqueue

ACCOUNT_EMAIL_PREFIX = "proposals/email/account/"

# What each security event is called, for the pages, the API and the emails.
SECURITY_EVENTS: dict[str, Any] = {
    "login.failed": gettext_lazy("A login failed"),
    "login.locked_out": gettext_lazy("The account was locked after failed logins"),
    "password.changed": gettext_lazy("The password was changed"),
    "password.reset_requested": gettext_lazy("A password reset was asked for"),
    "password.reset": gettext_lazy("The password was reset"),
    "token.created": gettext_lazy("An API token was created"),
    "token.revoked": gettext_lazy("An API token was revoked"),
    "otp.enabled": gettext_lazy("Two-factor authentication was turned on"),
    "otp.disabled": gettext_lazy("Two-factor authentication was turned off"),
    "otp.recovery_codes_renewed": gettext_lazy("New recovery codes were made"),
    "otp.recovery_code_used": gettext_lazy("A recovery code was used"),
    "person.created": gettext_lazy("The account was created"),
    "person.email_change_requested": gettext_lazy("A change of email address was asked for"),
    "person.email_changed": gettext_lazy("The email address was changed"),
    "person.username_changed": gettext_lazy("The username was changed"),
    "person.roles_changed": gettext_lazy("The roles were changed"),
    "person.activated": gettext_lazy("The account was activated"),
    "person.deactivated": gettext_lazy("The account was deactivated"),
    "person.representative_added": gettext_lazy("A new representative was named"),
    "person.calendar_link_renewed": gettext_lazy("The calendar link was renewed"),
    "person.permissions_changed": gettext_lazy("The admin groups and permissions were changed"),
    "person.deleted": gettext_lazy("The account was deleted"),
    "person.departure_recorded": gettext_lazy("A departure from the group was recorded"),
    "person.left": gettext_lazy("The person left the group: roles ended, access revoked"),
    "permission_group.created": gettext_lazy("An admin group was created"),
    "permission_group.changed": gettext_lazy("The permissions of an admin group were changed"),
}


def security_events_visible_to(person: Any) -> QuerySet[AuditEvent]:
    """The secretariat reads every security event; each person, those that concern them."""
    from proposals.selectors import roles_of

    events = AuditEvent.objects.security().select_related("actor", "subject")
    roles = roles_of(person)
    if roles.secretariat_or_superuser:
        return events
    if roles.person_id is None:
        return events.none()
    return events.filter(subject_id=roles.person_id)


def security_notice_event(action: str) -> str:
    """The event kind of the email about a security event: person.email_changed is
    account.email_changed, password.changed is account.password_changed."""
    return "account." + action.removeprefix("person.").replace(".", "_")


def security_event_label(action: str) -> str:
    label = SECURITY_EVENTS.get(action)
    return str(label) if label is not None else action


def security_event_record(
    *,
    action: str,
    subject: Any,
    actor: Any = None,
    obj: models.Model | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    request: HttpRequest | None = None,
    notify: bool = True,
    addresses: tuple[str, ...] = (),
    now: datetime | None = None,
) -> AuditEvent:
    """Record a security event about `subject` and, unless told not to, email them about it.

    `addresses` sends the notice to those addresses too (a former address, for instance);
    call it inside the transaction of the change it records. The system's own writes
    (proposals.audited.SYSTEM) are recorded and told to nobody.
    """
    event = audit_record(
        action=action,
        actor=actor,
        obj=obj if obj is not None else subject,
        subject=subject,
        before=before,
        after=after,
        security=True,
        request=request,
        now=now,
    )
    if notify and actor is not SYSTEM and subject is not None and getattr(subject, "pk", None):
        context = {
            "action": action,
            "at": event.at.isoformat(),
            "ip_address": event.ip_address or "",
            "by_someone_else": bool(actor is not None and getattr(actor, "pk", None) != subject.pk),
            "actor_name": (actor.get_full_name() or actor.get_username()) if actor else "",
        }
        notices = [
            Notice(
                recipient_id=subject.pk,
                template=f"{ACCOUNT_EMAIL_PREFIX}security_event",
                context=context,
                essential=True,
                event=security_notice_event(action),
            )
        ]
        notices += [
            Notice(
                recipient_id=subject.pk,
                template=f"{ACCOUNT_EMAIL_PREFIX}security_event",
                context=context,
                essential=True,
                address=address,
                event=security_notice_event(action),
            )
            for address in addresses
            if address and address.lower() != (subject.email or "").lower()
        ]
        deliveries_enqueue(
            notices,
            key_prefix=f"security:{event.pk}",
            kind=Delivery.Kind.SECURITY,
            now=event.at,
        )
    return event


def account_email_context(
    template: str, context: dict[str, Any], recipient: Any, now: datetime
) -> dict[str, Any]:
    """The event's name and moment in the reader's language and zone, and where to act."""
    site_url = context["site_url"]  # the engine's base context has it
    extra: dict[str, Any] = {}
    if "action" in context:
        extra["event_label"] = security_event_label(context["action"])
    at = parse_datetime(context.get("at") or "")
    if at is not None:
        extra["when"] = datetime_text(at)
    extra["security_link"] = site_url + reverse("proposals:security_events_mine")
    if context.get("token"):
        extra["confirm_link"] = site_url + reverse(
            "proposals:email_change_confirm", args=[context["token"]]
        )
    extra["subject_line"] = _("Security notice: %(event)s") % {
        "event": extra.get("event_label", "")
    }
    return extra


emails.register(prefix=ACCOUNT_EMAIL_PREFIX, context=account_email_context)
