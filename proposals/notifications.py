"""The kinds of notice a person chooses for, and their choices.

Every notice to a person reaches the pages (the notification centre); each kind may also come
by email, one email each or in the daily digest (`NOTIFICATION_GROUPS`). News (sent with
`essential=False`: news of a proposal one wrote or follows) may come in the pages only;
notices that ask to act and reminders always come by email, singly or in the digest;
security notices by email at once. The engine keeps the choices per kind
(`workflow.preferences`) and the outbox applies them when it writes
(`workflow.outbox.outbox_write`); `Person.optional_notifications` off keeps all news in the
pages, over these choices, and `Person.daily_digest` makes the digest the default of every
kind the person did not choose for. The API's older `notification_choices_*` say, for the
news of one's own proposals, whether it comes by email (singly or in the digest) or not.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connections, transaction
from django.db.models import IntegerField, JSONField, QuerySet
from django.db.models.expressions import RawSQL
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from proposals import rules
from proposals.audited import audited
from proposals.models import Organization, PresidencyTerm, Proposal, WebhookEndpoint
from proposals.selectors import instance_from_json, json_array_sql, presidency_current
from workflow.errors import Reason, RefusalKind, Refused
from workflow.models import Delivery
from workflow.outbox import outbox_write
from workflow.preferences import (
    PREFERENCE_CHANGED,
    REMINDERS,
    Mode,
    notification_mode_set,
    notification_preference_set,
    notification_preferences_of,
)
from workflow.preferences import notification_modes_of as notification_modes_read

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

PAGE, BY_EMAIL, DIGEST = Mode.PAGE.value, Mode.EMAIL.value, Mode.DIGEST.value
ANY_MODE = (PAGE, BY_EMAIL, DIGEST)
ALWAYS_EMAILED = (BY_EMAIL, DIGEST)


@dataclass(frozen=True)
class NotificationGroup:
    """Kinds of notice the settings show together, and how each may reach a person."""

    title: StrOrPromise
    modes: tuple[str, ...]
    kinds: tuple[NotificationKind, ...]


NOTIFICATION_GROUPS: tuple[NotificationGroup, ...] = (
    NotificationGroup(gettext_lazy("The proposals I wrote"), ANY_MODE, OPTIONAL_NOTIFICATIONS),
    NotificationGroup(
        gettext_lazy("What I follow"),
        ANY_MODE,
        (
            NotificationKind(
                "proposal.moved",
                gettext_lazy("A proposal I follow moves on"),
                gettext_lazy("When it is submitted for review, approved, sent back, submitted…"),
            ),
            NotificationKind(
                "proposal.revised",
                gettext_lazy("A new revision of a proposal I follow"),
                gettext_lazy("When its authors change its title, summary or text."),
            ),
            NotificationKind(
                "proposal.attached",
                gettext_lazy("A file added to a proposal I follow"),
                gettext_lazy("When its authors or the secretariat attach a document to it."),
            ),
            NotificationKind(
                "comment.posted",
                gettext_lazy("A comment on a proposal I follow"),
                gettext_lazy("When someone writes in the discussion of the proposal."),
            ),
            NotificationKind(
                "comment.mentioned",
                gettext_lazy("Someone mentions me"),
                gettext_lazy("When a comment names you with @ and your username."),
            ),
            NotificationKind(
                "occasion.deadline_moved",
                gettext_lazy("A deadline moves"),
                gettext_lazy("When the secretariat moves the deadline of an occasion you follow."),
            ),
        ),
    ),
    NotificationGroup(
        gettext_lazy("What asks me to act"),
        ALWAYS_EMAILED,
        (
            NotificationKind(
                "proposal.review_requested",
                gettext_lazy("A proposal awaits my review"),
                gettext_lazy("When a proposal is submitted for review."),
            ),
            NotificationKind(
                "proposal.changes_requested",
                gettext_lazy("Changes are requested"),
                gettext_lazy("When a reviewer sends a proposal you wrote back to its authors."),
            ),
            NotificationKind(
                "proposal.endorsement_opened",
                gettext_lazy("A proposal awaits my organisation's endorsement"),
                gettext_lazy("When a proposal opens for endorsement."),
            ),
            NotificationKind(
                "proposal.quorum_reached",
                gettext_lazy("A proposal is ready to submit"),
                gettext_lazy("When a proposal has the endorsements it needs."),
            ),
        ),
    ),
    NotificationGroup(
        gettext_lazy("Deadline reminders"),
        ALWAYS_EMAILED,
        (
            NotificationKind(
                REMINDERS,
                gettext_lazy("Reminders before a deadline"),
                gettext_lazy(
                    "What is left to do before an occasion's deadline, and once it has passed."
                ),
            ),
        ),
    ),
)
"""Every kind a person chooses for, in the order the settings show them. Every notice reaches
the pages; news may also come by email or in the daily digest; what asks to act and reminders
come by email, singly or in the digest; security notices come by email at once, always."""


@dataclass(frozen=True)
class NotificationModeChoice:
    """One kind of notice, the ways it may reach a person, and the one they have now."""

    event: str
    label: StrOrPromise
    description: StrOrPromise
    modes: tuple[str, ...]
    mode: str


def notification_modes_of(
    person: Any,
) -> list[tuple[NotificationGroup, list[NotificationModeChoice]]]:
    """Each group of kinds with the person's mode of each kind; two queries."""
    kinds = [kind.event for group in NOTIFICATION_GROUPS for kind in group.kinds]
    modes = notification_modes_read(person, kinds)
    return [
        (
            group,
            [
                NotificationModeChoice(
                    event=kind.event,
                    label=kind.label,
                    description=kind.description,
                    modes=group.modes,
                    mode=modes[kind.event] if modes[kind.event] in group.modes else BY_EMAIL,
                )
                for kind in group.kinds
            ],
        )
        for group in NOTIFICATION_GROUPS
    ]


@audited(PREFERENCE_CHANGED)
def notification_modes_set(
    *,
    person: Any,
    wanted: Mapping[str, str],
    actor: Any,
    request: HttpRequest | None = None,
) -> None:
    """Choose how kinds reach the person (event kind → page, email or digest), in one
    transaction; kinds not named stay as they are, each change is one audit row
    (`notification_preference.changed`). A kind nobody chooses for, or a mode the kind cannot
    take (what asks to act and reminders are always emailed), refuses the whole change."""
    allowed = {kind.event: group.modes for group in NOTIFICATION_GROUPS for kind in group.kinds}
    errors: dict[str, list[str]] = {}
    for event, mode in wanted.items():
        if event not in allowed:
            errors[str(event)] = [
                Reason(
                    "notification_unknown",
                    _("“%(event)s” is not a kind of notification.") % {"event": event},
                )
            ]
        elif mode not in allowed[event]:
            errors[event] = [
                Reason(
                    "notification_mode_refused",
                    _(
                        "This kind comes by email, singly or in the daily digest: choose one of those."
                    )
                    if allowed[event] == ALWAYS_EMAILED
                    else _("Choose in the pages only, by email too, or in the daily digest."),
                )
            ]
    if errors:
        raise Refused(
            RefusalKind.INVALID,
            [reason for reasons in errors.values() for reason in reasons],
            errors,
        )
    with transaction.atomic():
        current = notification_modes_read(person.pk, list(wanted))  # as saved, not as held
        for event, mode in wanted.items():
            if current[event] != mode:
                notification_mode_set(
                    person=person, event=event, mode=mode, actor=actor, request=request
                )


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


@dataclass(frozen=True)
class WebhookReaders:
    """The active webhook endpoints, with their organisation, and the organisation chairing the
    group today: to whom an event may be sent, when the caller read them already."""

    endpoints: list[WebhookEndpoint]
    presidency_organization_id: int | None


def webhook_readers_annotate(queryset: QuerySet[Any]) -> QuerySet[Any]:
    """Each row of `queryset` with the webhook readers (`webhook_readers_of`), read in the same
    query: a write that may send webhooks reads them with what it locks."""
    vendor = connections[queryset.db].vendor
    endpoint = f'"{WebhookEndpoint._meta.db_table}" hooks_w'
    organization = f'"{Organization._meta.db_table}" hooks_o'
    events = "hooks_w.events" if vendor == "postgresql" else "JSON(hooks_w.events)"
    endpoints = json_array_sql(
        vendor,
        f"FROM {endpoint} JOIN {organization} ON hooks_o.id = hooks_w.organization_id "
        "WHERE hooks_w.active",
        id="hooks_w.id",
        events=events,
        organization_id="hooks_w.organization_id",
        organization_status="hooks_o.status",
        organization_is_secretariat="hooks_o.is_secretariat",
    )
    presidency = (
        f'(SELECT hooks_p.organization_id FROM "{PresidencyTerm._meta.db_table}" hooks_p '  # noqa: S608 (names from the models)
        "WHERE hooks_p.starts_on <= %s AND hooks_p.ends_on >= %s "
        "ORDER BY hooks_p.starts_on DESC LIMIT 1)"
    )
    today = timezone.localdate()
    return queryset.annotate(
        webhook_endpoints=RawSQL(endpoints, (), output_field=JSONField()),  # noqa: S611 (no input)
        webhook_presidency_id=RawSQL(presidency, (today, today), output_field=IntegerField()),  # noqa: S611
    )


def webhook_readers_of(row: Any) -> WebhookReaders:
    """The webhook readers a row read with `webhook_readers_annotate` holds; no query."""
    endpoints = []
    for item in row.webhook_endpoints:
        endpoint = instance_from_json(
            WebhookEndpoint,
            {
                "id": item["id"],
                "organization_id": item["organization_id"],
                "events": item["events"],
            },
        )
        endpoint.organization = instance_from_json(
            Organization,
            {
                "id": item["organization_id"],
                "status": item["organization_status"],
                "is_secretariat": item["organization_is_secretariat"],
            },
        )
        endpoints.append(endpoint)
    return WebhookReaders(endpoints, row.webhook_presidency_id)


def webhook_events_write(
    *,
    proposals: Iterable[Proposal],
    event: str,
    details: Mapping[str, Any] | None = None,
    occurred_at: datetime | None = None,
    readers: WebhookReaders | None = None,
) -> list[int]:
    """Write, in the caller's transaction, the webhook rows of one event (`event`, a
    WebhookEvent) about each proposal as it now is: one row per active endpoint subscribed
    to it whose organisation may see the proposal, one event id per proposal. Returns the ids
    of the rows written (posted after commit). Three queries when an endpoint is subscribed
    (endpoints, presidency, the outbox's insert), one when none is; with the `readers` read
    already, the insert alone, and none when no endpoint is subscribed."""
    if readers is None:
        active = WebhookEndpoint.objects.filter(active=True).select_related("organization")
        endpoints = [endpoint for endpoint in active if event in endpoint.events]
    else:
        endpoints = [endpoint for endpoint in readers.endpoints if event in endpoint.events]
    if not endpoints:
        return []
    proposals = list(proposals)
    occurred_at = occurred_at or timezone.now()
    if readers is None:
        presidency = presidency_current()
        presidency_organization_id = presidency.organization_id if presidency else None
    else:
        presidency_organization_id = readers.presidency_organization_id
    endpoint_type = ContentType.objects.get_for_model(WebhookEndpoint)
    proposal_type = ContentType.objects.get_for_model(Proposal)
    rows: list[Delivery] = []
    for proposal in proposals:
        receiving = [
            endpoint
            for endpoint in endpoints
            if rules.organization_may_view(
                proposal, endpoint.organization, presidency_organization_id
            )
        ]
        if not receiving:
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
            for endpoint in receiving
        )
    return outbox_write(rows) if rows else []
