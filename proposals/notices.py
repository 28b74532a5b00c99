"""What the emails about a proposal say, and who is told of each event."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import connections
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext_lazy

from proposals.models import (
    Follow,
    Membership,
    Organization,
    Person,
    PresidencyTerm,
    Proposal,
    ProposalState,
    Role,
)
from proposals.selectors import json_array_sql, presidency_ids, secretariat_ids
from workflow.models import Delivery, NotificationPreference
from workflow.policy import Notice
from workflow.preferences import RecipientSettings, Standing

EMAIL_EVENT_LABELS = {
    "review_requested": gettext_lazy("A proposal awaits review"),
    "changes_requested": gettext_lazy("Changes requested"),
    "approved": gettext_lazy("Approved"),
    "endorsement_opened": gettext_lazy("Open for endorsement"),
    "quorum_reached": gettext_lazy("Ready to submit"),
    "submitted": gettext_lazy("Submitted to its body"),
    "outcome_recorded": gettext_lazy("Outcome recorded"),
    "withdrawn": gettext_lazy("Withdrawn"),
    "moved": gettext_lazy("A proposal you follow moved on"),
    "revised": gettext_lazy("New revision"),
    "deadline_moved": gettext_lazy("Deadline moved"),
    "reminder_draft": gettext_lazy("Reminder: finish the draft"),
    "reminder_review": gettext_lazy("Reminder: review"),
    "reminder_endorse": gettext_lazy("Reminder: endorse"),
    "reminder_endorsements_missing": gettext_lazy("Reminder: endorsements missing"),
    "reminder_submit": gettext_lazy("Reminder: submit to the body"),
    "reminder_overdue": gettext_lazy("Deadline passed, not submitted"),
    "comment_posted": gettext_lazy("New comment"),
    "comment_mentioned": gettext_lazy("Mentioned in a comment"),
    "comment_hidden": gettext_lazy("Comment hidden by the secretariat"),
    "forecast_at_risk": gettext_lazy("At risk of missing the deadline"),
    "forecast_weekly": gettext_lazy("Proposals at risk this week"),
    "occasion_cancelled": gettext_lazy("Occasion cancelled by its body"),
    "feed_failed": gettext_lazy("A body's calendar feed could not be read"),
}
"""What each email is about, as the delivery log names it (by its template's event)."""


def email_event_label(template: str) -> str:
    event = template.rsplit("/", 1)[-1]
    return str(EMAIL_EVENT_LABELS.get(event, event.replace("_", " ")))


def notice_context(proposal: Proposal, event: str, actor: Any, comment: str = "") -> dict[str, Any]:
    """What an email about the proposal says, as plain data stored with the delivery."""
    occasion = proposal.occasion
    return {
        "event": event,
        "proposal_id": proposal.pk,
        "title": proposal.title,
        "state": proposal.state,
        "actor": str(actor) if actor is not None else "",
        "comment": comment,
        "occasion": occasion.name if occasion else "",
        "deadline": occasion.submission_deadline.isoformat() if occasion else "",
        "occasion_timezone": occasion.timezone if occasion else "",
        "occasion_place": occasion.place_name if occasion else "",
        "outcome": proposal.outcome,
    }


def notices_for(
    proposal: Proposal,
    event: str,
    recipients: set[int],
    actor: Any,
    comment: str = "",
    *,
    essential: bool,
) -> list[Notice]:
    """One notice per person told of the event, except the actor; nobody inactive is told
    anything. How news (not `essential`) reaches each person, the outbox decides."""
    actor_id = getattr(actor, "pk", None)
    people = Person.objects.filter(pk__in=recipients - {actor_id}, is_active=True)
    told = set(people.values_list("pk", flat=True))
    if not told:
        return []
    context = notice_context(proposal, event, actor, comment)
    return [
        Notice(
            recipient_id=person_id,
            template=f"proposals/email/{event}",
            context=context,
            essential=essential,
            event=f"proposal.{event}",
        )
        for person_id in sorted(told)
    ]


def quorum_notices(proposal: Proposal, actor: Any) -> list[Notice]:
    """The secretariat and the presidency learn that a proposal is ready to submit."""
    return notices_for(
        proposal, "quorum_reached", secretariat_ids() | presidency_ids(), actor, essential=True
    )


# Whom a transition tells, read once.


@dataclass(frozen=True)
class Listener:
    """A person a transition may tell of it, with what decides whether and how."""

    person_id: int
    active: bool
    reviewer: bool
    """A reviewer of an organisation that has not left."""
    representative: bool
    """The representative of a full member."""
    follows: bool
    """Follows the proposal, or its occasion without having unfollowed the proposal."""
    may_view: bool
    settings: RecipientSettings


@dataclass(frozen=True)
class Audience:
    """The people a transition on one proposal may tell (its authors, its followers and, when
    asked, every reviewer or every representative of a full member), read in one query
    (`audience_of`) with whether each may see the proposal as it now is, and how each wants
    to be told (the outbox reads no more)."""

    listeners: dict[int, Listener]

    def active(self, person_ids: Iterable[int]) -> set[int]:
        return {pk for pk in person_ids if pk in self.listeners and self.listeners[pk].active}

    def reviewer_ids(self) -> set[int]:
        return {pk for pk, listener in self.listeners.items() if listener.reviewer}

    def representative_ids(self) -> set[int]:
        return {pk for pk, listener in self.listeners.items() if listener.representative}

    def follower_ids(self) -> set[int]:
        """`following.proposal_follower_ids`: the active followers who may see it."""
        return {
            pk
            for pk, listener in self.listeners.items()
            if listener.follows and listener.may_view and listener.active
        }

    def notices(
        self,
        proposal: Proposal,
        event: str,
        recipients: set[int],
        actor: Any,
        comment: str = "",
        *,
        essential: bool,
        **context: Any,
    ) -> list[Notice]:
        """`notices_for`, read from the audience: one notice per active person told, except
        the actor, each with the person's settings."""
        told = self.active(recipients - {getattr(actor, "pk", None)})
        if not told:
            return []
        data = {**notice_context(proposal, event, actor, comment), **context}
        return [
            Notice(
                recipient_id=person_id,
                template=f"proposals/email/{event}",
                context=data,
                essential=essential,
                event=f"proposal.{event}",
                settings=self.listeners[person_id].settings,
            )
            for person_id in sorted(told)
        ]


def _table(model: type[Model]) -> str:
    return f'"{model._meta.db_table}"'


def audience_of(
    proposal: Proposal,
    *,
    reviewers: bool = False,
    representatives: bool = False,
    today: date | None = None,
) -> Audience:
    """The authors and followers of the proposal, and every reviewer or representative of a
    full member if asked, in one query: whether each is active, may see the proposal as it now
    is (`rules.may_view`, as `selectors.people_who_may_view` reads it), follows it, and their
    standing and email choices.

    Written in SQL that PostgreSQL and SQLite both read: the ORM took longer to build and
    compile it than the database took to run it, on every transition."""
    today = today or timezone.localdate()
    person, membership, organization = _table(Person), _table(Membership), _table(Organization)
    follow = _table(Follow)
    current = (
        f"SELECT 1 FROM {membership} m JOIN {organization} o ON o.id = m.organization_id "  # noqa: S608
        "WHERE m.person_id = p.id AND o.status <> %s"
    )
    params: list[Any] = []

    def current_where(condition: str, *values: Any) -> str:
        params.extend([Organization.Status.FORMER, *values])
        return f"EXISTS({current}{condition})"

    authored = (
        f"EXISTS(SELECT 1 FROM {_table(Proposal.authors.through)} a "  # noqa: S608
        "WHERE a.proposal_id = %s AND a.person_id = p.id)"
    )
    follows_occasion = (
        f"EXISTS(SELECT 1 FROM {follow} f WHERE f.person_id = p.id AND f.occasion_id = %s "  # noqa: S608
        "AND f.active)"
    )
    representative = (
        f"EXISTS(SELECT 1 FROM {membership} m JOIN {organization} o ON o.id = m.organization_id "  # noqa: S608
        "WHERE m.person_id = p.id AND m.role = %s AND o.status = %s)"
    )
    columns = ["p.id", "p.is_active", "p.daily_digest", "p.optional_notifications"]
    columns.append(current_where(" AND m.role = %s", Role.REVIEWER))
    columns.append(representative)
    params += [Role.REPRESENTATIVE, Organization.Status.MEMBER]
    columns.append(
        f"(SELECT f.active FROM {follow} f WHERE f.person_id = p.id AND f.proposal_id = %s LIMIT 1)"  # noqa: S608
    )
    params.append(proposal.pk)
    if proposal.occasion_id is not None:
        columns.append(follows_occasion)
        params.append(proposal.occasion_id)
    else:
        columns.append("FALSE")
    sees = [
        "p.is_superuser",
        current_where(" AND m.role = %s AND o.is_secretariat", Role.SECRETARIAT),
        authored,
    ]
    params.append(proposal.pk)
    sees.append(
        current_where(
            " AND m.role = %s AND m.organization_id = ("  # noqa: S608
            f"SELECT t.organization_id FROM {_table(PresidencyTerm)} t "
            "WHERE t.starts_on <= %s AND t.ends_on >= %s ORDER BY t.starts_on DESC LIMIT 1)",
            Role.REPRESENTATIVE,
            today,
            today,
        )
    )
    if proposal.lead_organization_id is not None:
        sees.append(current_where(" AND m.organization_id = %s", proposal.lead_organization_id))
    if proposal.state != ProposalState.DRAFT:
        sees.append(current_where(""))
    columns.append("(" + " OR ".join(sees) + ")")
    preference = _table(NotificationPreference)
    columns.append(
        json_array_sql(
            connections[Person.objects.db].vendor,
            f"FROM {preference} n WHERE n.person_id = p.id AND n.channel = %s",
            event="n.event",
            enabled="n.enabled",
            digest="n.digest",
        )
    )
    params.append(Delivery.Channel.EMAIL)
    # Who is asked, as one set of ids the database finds by its indexes (an OR of EXISTS
    # would be judged person by person, for every person).
    wanted = [
        f"SELECT a.person_id FROM {_table(Proposal.authors.through)} a WHERE a.proposal_id = %s",  # noqa: S608
        f"SELECT f.person_id FROM {follow} f WHERE f.proposal_id = %s",  # noqa: S608
    ]
    params += [proposal.pk, proposal.pk]
    if proposal.occasion_id is not None:
        wanted.append(f"SELECT f.person_id FROM {follow} f WHERE f.occasion_id = %s AND f.active")  # noqa: S608
        params.append(proposal.occasion_id)
    roles = (
        f"SELECT m.person_id FROM {membership} m JOIN {organization} o ON o.id = m.organization_id"  # noqa: S608
    )
    if reviewers:
        wanted.append(f"{roles} WHERE m.role = %s AND o.status <> %s")
        params += [Role.REVIEWER, Organization.Status.FORMER]
    if representatives:
        wanted.append(f"{roles} WHERE m.role = %s AND o.status = %s")
        params += [Role.REPRESENTATIVE, Organization.Status.MEMBER]
    sql = f"SELECT {', '.join(columns)} FROM {person} p WHERE p.id IN ({' UNION '.join(wanted)})"  # noqa: S608 (names from the models, values as parameters)
    listeners = {}
    with connections[Person.objects.db].cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    for (
        pk,
        active,
        daily_digest,
        optional_by_email,
        is_reviewer,
        is_representative,
        on_proposal,
        on_occasion,
        may_view,
        chosen,
    ) in rows:
        if isinstance(chosen, str):  # SQLite: the JSON's text
            chosen = json.loads(chosen)
        listeners[pk] = Listener(
            person_id=pk,
            active=bool(active),
            reviewer=bool(is_reviewer),
            representative=bool(is_representative),
            follows=bool(on_proposal) or (on_proposal is None and bool(on_occasion)),
            may_view=bool(may_view),
            settings=RecipientSettings(
                standing=Standing(
                    active=bool(active),
                    daily_digest=bool(daily_digest),
                    optional_by_email=bool(optional_by_email),
                ),
                chosen={
                    choice["event"]: (
                        bool(choice["enabled"]),
                        None if choice["digest"] is None else bool(choice["digest"]),
                    )
                    for choice in chosen
                },
            ),
        )
    return Audience(listeners)
