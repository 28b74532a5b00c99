"""The notification centre: a person's notices in the pages, read and marked read.

The outbox writes them (`workflow.outbox`: one in-page row per person and event); each row
keeps the data of its event, and its sentence is written here when it is shown, in the
reader's language. Marking read is a write of the person's own, audited.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from proposals.audited import audited
from proposals.localized import datetime_text
from proposals.models import Occasion, OutcomeResult, Person, Proposal, ProposalState
from proposals.notices import email_event_label
from workflow.audit import audit_record
from workflow.errors import RefusalKind, Refused
from workflow.models import Delivery

PAGE = Delivery.Channel.PAGE
NOTIFICATION_READ = "notification.read"
NOTIFICATIONS_ALL_READ = "notification.all_read"


def notifications_of(person: Any, *, unread: bool | None = None) -> QuerySet[Delivery]:
    """The person's notices in the pages, newest first; only the unread (or the read) ones
    when `unread` says so."""
    rows = Delivery.objects.filter(recipient=person, channel=PAGE).order_by("-created_at", "-id")
    if unread is True:
        rows = rows.filter(read_at__isnull=True)
    elif unread is False:
        rows = rows.filter(read_at__isnull=False)
    return rows


def unread_count(person: Any) -> int:
    """How many of the person's notices are unread: one query on the centre's own index."""
    return Delivery.objects.filter(recipient=person, channel=PAGE, read_at__isnull=True).count()


@audited(NOTIFICATION_READ)
def notification_mark_read(
    *, person: Any, notification_id: int, request: HttpRequest | None = None
) -> Delivery:
    """Mark one of the person's notices read (a notice already read stays as it was). A
    notice that is not theirs is refused as if it did not exist."""
    with transaction.atomic():
        row = (
            Delivery.objects.select_for_update()
            .filter(pk=notification_id, recipient=person, channel=PAGE)
            .first()
        )
        if row is None:
            raise Refused(RefusalKind.INVALID, [_("You have no such notification.")])
        if row.read_at is None:
            row.read_at = timezone.now()
            row.save(update_fields=["read_at"])
            audit_record(
                action=NOTIFICATION_READ,
                actor=person,
                obj=row,
                subject=person,
                after={"read_at": row.read_at},
                request=request,
            )
    return row


@audited(NOTIFICATIONS_ALL_READ)
def notifications_mark_all_read(*, person: Any, request: HttpRequest | None = None) -> int:
    """Mark every unread notice of the person read; returns how many were. One audit row
    when any was."""
    with transaction.atomic():
        now = timezone.now()
        count = notifications_of(person, unread=True).update(read_at=now)
        if count:
            audit_record(
                action=NOTIFICATIONS_ALL_READ,
                actor=person,
                obj=person,
                subject=person,
                after={"count": count, "read_at": now},
                request=request,
            )
    return count


# What a notice says, in the reader's language


def _title(context: dict[str, Any]) -> dict[str, Any]:
    state = context.get("state")
    outcome = context.get("outcome")
    deadline = parse_datetime(context.get("deadline") or "")
    return {
        "actor": context.get("actor") or _("Someone"),
        "title": context.get("title") or "",
        "occasion": context.get("occasion") or "",
        "revision": context.get("revision") or "",
        "state": str(ProposalState(state).label) if state in ProposalState.values else "",
        "outcome": str(OutcomeResult(outcome).label) if outcome in OutcomeResult.values else "",
        "deadline": datetime_text(deadline) if deadline else "",
    }


SENTENCES: dict[str, Callable[[], str]] = {
    "proposal.review_requested": lambda: _("“%(title)s” awaits your review."),
    "proposal.changes_requested": lambda: _("%(actor)s requested changes to “%(title)s”."),
    "proposal.approved": lambda: _("“%(title)s” is approved and open for endorsement."),
    "proposal.endorsement_opened": lambda: _("“%(title)s” awaits your organisation's endorsement."),
    "proposal.quorum_reached": lambda: _("“%(title)s” has its endorsements: submit it."),
    "proposal.submitted": lambda: _("“%(title)s” was submitted to its body."),
    "proposal.outcome_recorded": lambda: _("The outcome of “%(title)s”: %(outcome)s."),
    "proposal.withdrawn": lambda: _("%(actor)s withdrew “%(title)s”."),
    "proposal.moved": lambda: _("%(actor)s moved “%(title)s” on: it is now %(state)s."),
    "proposal.revised": lambda: _("%(actor)s wrote revision %(revision)s of “%(title)s”."),
    "proposal.attached": lambda: _("%(actor)s attached a file to “%(title)s”."),
    "comment.posted": lambda: _("%(actor)s commented on “%(title)s”."),
    "comment.mentioned": lambda: _("%(actor)s mentioned you in the discussion of “%(title)s”."),
    "occasion.deadline_moved": lambda: _("The deadline of “%(occasion)s” moved to %(deadline)s."),
}
"""The sentence of each kind of notice; a kind not here (a reminder) is named by its label."""


def notification_sentence(row: Delivery) -> str:
    """What the notice says, in the active language, from the data its event stored."""
    facts = _title(row.context or {})
    sentence = SENTENCES.get(row.event)
    if sentence is not None:
        return sentence() % facts
    return _("%(label)s: “%(title)s”") % {
        "label": email_event_label(row.template),
        "title": facts["title"] or facts["occasion"],
    }


def notification_path(row: Delivery, proposal_type_id: int, occasion_type_id: int) -> str:
    """Where the notice leads: the place its event named (a comment, the revision's changes),
    else its proposal's page or its occasion's."""
    context = row.context or {}
    if context.get("path"):
        return str(context["path"])
    try:
        if row.content_type_id == proposal_type_id and row.object_id:
            return reverse("proposals:proposal_detail", args=[row.object_id])
        if row.content_type_id == occasion_type_id and row.object_id:
            return reverse("proposals:occasion_detail", args=[row.object_id])
    except NoReverseMatch:
        pass
    return ""


@dataclass
class NotificationItem:
    id: int
    sentence: str
    path: str
    at: datetime
    read: bool
    event: str


@dataclass
class NotificationGroup:
    """The notices about one proposal (or one occasion, or nothing), newest first."""

    title: str
    path: str
    items: list[NotificationItem] = field(default_factory=list)

    @property
    def unread(self) -> int:
        return sum(1 for item in self.items if not item.read)


def notification_groups(rows: Sequence[Delivery]) -> list[NotificationGroup]:
    """The rows grouped by what they are about, each group where its newest notice is; no
    query but the content types' (cached)."""
    proposal_type, occasion_type = content_types()
    groups: dict[tuple[int | None, int | None], NotificationGroup] = {}
    for row in rows:
        context = row.context or {}
        about = (row.content_type_id, row.object_id)
        group = groups.get(about)
        if group is None:
            if row.content_type_id == proposal_type:
                title = context.get("title") or _("A proposal")
                path = reverse("proposals:proposal_detail", args=[row.object_id])
            elif row.content_type_id == occasion_type:
                title = context.get("occasion") or _("An occasion")
                path = reverse("proposals:occasion_detail", args=[row.object_id])
            else:
                title, path = _("Other notices"), ""
            group = groups[about] = NotificationGroup(title=str(title), path=path)
        group.items.append(
            NotificationItem(
                id=row.pk,
                sentence=notification_sentence(row),
                path=notification_path(row, proposal_type, occasion_type),
                at=row.created_at,
                read=row.read_at is not None,
                event=row.event,
            )
        )
    return list(groups.values())


# Since your last visit

VISIT_GAP = timedelta(minutes=30)
"""A dashboard opened this long after the previous one begins a new visit."""
SINCE_LAST_VISIT_ROWS = 20


def visit_record(
    person: Any, *, counting_from: datetime | None, now: datetime | None = None
) -> datetime:
    """Record that the person opened the dashboard now, and say since when its "since your
    last visit" counts.

    A visit is a run of dashboard views each less than `VISIT_GAP` after the previous one;
    `Person.last_visit_at` is the latest view. A visit counts from the previous visit's last
    view (a first visit ever, from its own first view), and keeps counting from there in its
    later views (`counting_from`, which the face keeps in the session): a reload does not
    empty the box before the person has read it, and what happens during the visit shows on
    the next view. The moment is bookkeeping of the person's own, not audited.
    """
    now = now or timezone.now()
    previous = person.last_visit_at
    if counting_from is None or previous is None or now - previous >= VISIT_GAP:
        counting_from = previous or now
    Person.objects.filter(pk=person.pk).update(last_visit_at=now)
    person.last_visit_at = now
    return counting_from


def changes_since(person: Any, since: datetime) -> list[Delivery]:
    """The person's notices written after `since` (what changed on what they wrote, follow or
    are asked to act on), newest first, at most `SINCE_LAST_VISIT_ROWS`; one query."""
    return list(notifications_of(person).filter(created_at__gt=since)[:SINCE_LAST_VISIT_ROWS])


def content_types() -> tuple[int, int]:
    """The ids of the content types of proposals and occasions (cached by Django)."""
    return (
        ContentType.objects.get_for_model(Proposal).pk,
        ContentType.objects.get_for_model(Occasion).pk,
    )
