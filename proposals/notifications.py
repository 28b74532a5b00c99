"""The kinds of email a person may turn off one by one, and their choices.

Optional are the notices about a proposal that do not ask its reader to act (sent with
`essential=False` in `proposals.lifecycle`): news of a proposal one wrote. Notices that ask to
act, reminders and security notices always go, whatever is chosen here. The engine keeps the
choices per kind and channel (`workflow.preferences`) and the outbox applies them when it
writes (`workflow.outbox.outbox_write`); `Person.optional_notifications` turns every optional
notice off at once, over these choices. Only email exists as a channel today.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from proposals import rules
from proposals.audited import audited
from proposals.models import Proposal, WebhookEndpoint
from proposals.selectors import presidency_current
from workflow.errors import Reason, RefusalKind, Refused
from workflow.models import Delivery
from workflow.outbox import outbox_write
from workflow.preferences import (
    PREFERENCE_CHANGED,
    notification_preference_set,
    notification_preferences_of,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

EMAIL = str(Delivery.Channel.EMAIL)


@dataclass(frozen=True)
class NotificationKind:
    """A kind of notice a person may turn off: its event kind, what a person reads of it."""

    event: str
    label: StrOrPromise
    description: StrOrPromise


OPTIONAL_NOTIFICATIONS: tuple[NotificationKind, ...] = (
    NotificationKind(
        "proposal.approved",
        gettext_lazy("A proposal of mine is approved"),
        gettext_lazy("When reviewers approve a proposal you wrote and it opens for endorsement."),
    ),
    NotificationKind(
        "proposal.submitted",
        gettext_lazy("A proposal of mine is submitted"),
        gettext_lazy("When the secretariat submits a proposal you wrote to its body."),
    ),
    NotificationKind(
        "proposal.outcome_recorded",
        gettext_lazy("The outcome of a proposal of mine"),
        gettext_lazy("When the secretariat records what the body decided on a proposal you wrote."),
    ),
    NotificationKind(
        "proposal.withdrawn",
        gettext_lazy("A proposal of mine is withdrawn"),
        gettext_lazy("When someone else withdraws a proposal you wrote, with the reason given."),
    ),
)
"""The kinds a person may turn off, in the order the settings show them."""


@dataclass(frozen=True)
class NotificationChoice:
    """One kind of optional notice on one channel, and whether the person wants it."""

    event: str
    label: StrOrPromise
    description: StrOrPromise
    channel: str
    enabled: bool


def notification_choices_of(person: Any) -> list[NotificationChoice]:
    """Each kind a person may turn off, with whether they want it by email; one query."""
    chosen = notification_preferences_of(person)
    return [
        NotificationChoice(
            event=kind.event,
            label=kind.label,
            description=kind.description,
            channel=EMAIL,
            enabled=chosen.get((kind.event, EMAIL), True),
        )
        for kind in OPTIONAL_NOTIFICATIONS
    ]


def _refusals(wanted: Mapping[str, object]) -> dict[str, list[str]]:
    """Why some of the choices cannot be taken: kinds that cannot be turned off, values that
    are not true or false. Keyed by the kind as it was given."""
    known = {kind.event for kind in OPTIONAL_NOTIFICATIONS}
    errors: dict[str, list[str]] = {}
    for event, enabled in wanted.items():
        if event not in known:
            errors[str(event)] = [
                Reason(
                    "notification_unknown",
                    _(
                        "“%(event)s” is not a kind of notification you can turn off; "
                        "those are: %(kinds)s."
                    )
                    % {"event": event, "kinds": ", ".join(sorted(known))},
                )
            ]
        elif not isinstance(enabled, bool):
            errors[event] = [
                Reason("notification_not_boolean", _("Say true or false for each kind."))
            ]
    return errors


@audited(PREFERENCE_CHANGED)
def notification_choices_set(
    *,
    person: Any,
    wanted: Mapping[str, bool],
    actor: Any,
    request: HttpRequest | None = None,
) -> list[NotificationChoice]:
    """Turn kinds of optional email on or off for the person, in one transaction.

    `wanted` maps event kinds to True (send it) or False; kinds not named stay as they are. Each
    kind that changes is one audit row (`notification_preference.changed`); choices that
    change nothing write nothing. A kind that cannot be turned off or a value that is not a
    boolean refuses the whole change as invalid input. Returns the choices as they now are.
    """
    errors = _refusals(wanted)
    if errors:
        raise Refused(
            RefusalKind.INVALID,
            [reason for reasons in errors.values() for reason in reasons],
            errors,
        )
    with transaction.atomic():
        chosen = notification_preferences_of(person)
        for kind in OPTIONAL_NOTIFICATIONS:
            if kind.event in wanted and wanted[kind.event] != chosen.get((kind.event, EMAIL), True):
                notification_preference_set(
                    person=person,
                    event=kind.event,
                    channel=EMAIL,
                    enabled=wanted[kind.event],
                    actor=actor,
                    request=request,
                )
    return notification_choices_of(person)


def webhook_payload(
    proposal: Proposal,
    *,
    event: str,
    event_id: uuid.UUID,
    occurred_at: datetime,
    details: Mapping[str, Any],
) -> dict[str, Any]:
    """The JSON body of a webhook: the event, and the proposal as it is after it."""
    return {
        "event_id": str(event_id),
        "event": event,
        "occurred_at": occurred_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "proposal_id": proposal.pk,
        "state": proposal.state,
        "title": proposal.title,
        "version": proposal.version,
        "link": settings.SITE_URL.rstrip("/")
        + reverse("proposals:proposal_detail", args=[proposal.pk]),
        "details": dict(details),
    }


def webhook_events_write(
    *,
    proposals: Iterable[Proposal],
    event: str,
    details: Mapping[str, Any] | None = None,
    occurred_at: datetime | None = None,
) -> list[int]:
    """Write, in the caller's transaction, the webhook rows of one event (`event`, a
    WebhookEvent) about each proposal as it now is: one row per active endpoint subscribed
    to it whose organisation may see the proposal, one event id per proposal. Returns the ids
    of the rows written (posted after commit). Three queries when an endpoint is subscribed
    (endpoints, presidency, the outbox's insert and read), one when none is."""
    endpoints = [
        endpoint
        for endpoint in WebhookEndpoint.objects.filter(active=True).select_related("organization")
        if event in endpoint.events
    ]
    if not endpoints:
        return []
    proposals = list(proposals)
    occurred_at = occurred_at or timezone.now()
    presidency = presidency_current()
    presidency_organization_id = presidency.organization_id if presidency else None
    endpoint_type = ContentType.objects.get_for_model(WebhookEndpoint)
    proposal_type = ContentType.objects.get_for_model(Proposal)
    rows: list[Delivery] = []
    for proposal in proposals:
        readers = [
            endpoint
            for endpoint in endpoints
            if rules.organization_may_view(
                proposal, endpoint.organization, presidency_organization_id
            )
        ]
        if not readers:
            continue
        event_id = uuid.uuid4()
        payload = webhook_payload(
            proposal,
            event=event,
            event_id=event_id,
            occurred_at=occurred_at,
            details=details or {},
        )
        rows.extend(
            Delivery(
                key=f"webhook:{event_id}:e{endpoint.pk}",
                kind=Delivery.Kind.NOTIFICATION,
                channel=Delivery.Channel.WEBHOOK,
                event=event,
                event_id=event_id,
                target_type=endpoint_type,
                target_id=endpoint.pk,
                template="",
                context=payload,
                essential=True,
                content_type=proposal_type,
                object_id=proposal.pk,
                created_at=occurred_at,
            )
            for endpoint in readers
        )
    return outbox_write(rows) if rows else []
