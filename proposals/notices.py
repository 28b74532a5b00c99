"""What the emails about a proposal say, and who is told of each event."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy

from proposals.models import Person, Proposal
from proposals.selectors import presidency_ids, secretariat_ids
from workflow.policy import Notice

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
