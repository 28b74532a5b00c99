"""The proposal's workflow as the engine sees it: labels, rules, side records, notices."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from proposals import rules
from proposals.forms import TRANSITION_FORMS, CommentForm
from proposals.models import Outcome, Person, Proposal, Review, Submission
from proposals.selectors import (
    presidency_ids,
    representatives_of_full_members,
    reviewer_ids,
    secretariat_ids,
)
from workflow import policy as workflow_policy
from workflow.models import TransitionLog
from workflow.policy import Notice

TRANSITION_LABELS = {
    "submit_for_review": gettext_lazy("Submit for review"),
    "approve": gettext_lazy("Approve"),
    "request_changes": gettext_lazy("Request changes"),
    "submit": gettext_lazy("Submit to body"),
    "record_outcome": gettext_lazy("Record outcome"),
    "withdraw": gettext_lazy("Withdraw"),
}

EMAIL_EVENT_LABELS = {
    "review_requested": gettext_lazy("A proposal awaits review"),
    "changes_requested": gettext_lazy("Changes requested"),
    "approved": gettext_lazy("Approved"),
    "endorsement_opened": gettext_lazy("Open for endorsement"),
    "quorum_reached": gettext_lazy("Ready to submit"),
    "submitted": gettext_lazy("Submitted to its body"),
    "outcome_recorded": gettext_lazy("Outcome recorded"),
    "withdrawn": gettext_lazy("Withdrawn"),
    "reminder_draft": gettext_lazy("Reminder: finish the draft"),
    "reminder_review": gettext_lazy("Reminder: review"),
    "reminder_endorse": gettext_lazy("Reminder: endorse"),
    "reminder_endorsements_missing": gettext_lazy("Reminder: endorsements missing"),
    "reminder_submit": gettext_lazy("Reminder: submit to the body"),
    "reminder_overdue": gettext_lazy("Deadline passed, not submitted"),
}
"""What each email is about, as the delivery log names it (by its template's event)."""


def email_event_label(template: str) -> str:
    event = template.rsplit("/", 1)[-1]
    return str(EMAIL_EVENT_LABELS.get(event, event.replace("_", " ")))


SOURCE_STATES = {
    "submit_for_review": gettext_lazy("in draft"),
    "approve": gettext_lazy("in review"),
    "request_changes": gettext_lazy("in review"),
    "submit": gettext_lazy("open for endorsement"),
    "record_outcome": gettext_lazy("submitted"),
    "withdraw": gettext_lazy("in draft, in review or open for endorsement"),
}


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
    """One notice per person told of the event, except the actor.

    News that does not ask to act (not `essential`) skips people who turned it off; nobody
    inactive is told anything.
    """
    actor_id = getattr(actor, "pk", None)
    people = Person.objects.filter(pk__in=recipients - {actor_id}, is_active=True)
    if not essential:
        people = people.filter(optional_notifications=True)
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
        )
        for person_id in sorted(told)
    ]


class ProposalPolicy(workflow_policy.WorkflowPolicy):
    def label(self, name: str) -> str:
        return str(TRANSITION_LABELS.get(name, name))

    def validate(
        self, obj: Any, name: str, comment: str, arguments: dict[str, Any]
    ) -> tuple[dict[str, list[str]], dict[str, Any]]:
        form_class = TRANSITION_FORMS.get(name, CommentForm)
        form = form_class(data={"comment": comment, **arguments})
        if not form.is_valid():
            return {field: [str(e) for e in errors] for field, errors in form.errors.items()}, {}
        cleaned = {k: v for k, v in form.cleaned_data.items() if k != "comment"}
        return {}, cleaned

    def permission_reasons(self, obj: Any, name: str, actor: Any) -> list[str]:
        return rules.transition_permission_reasons(obj, name, actor)

    def state_label(self, obj: Any) -> str:
        return str(obj.get_state_display()).lower()

    def state_reason(self, obj: Any, name: str) -> str:
        return _(
            "“%(action)s” is possible only when the proposal is %(sources)s; it is %(state)s."
        ) % {
            "action": self.label(name),
            "sources": SOURCE_STATES[name],
            "state": self.state_label(obj),
        }

    def condition_reasons(
        self, obj: Any, name: str, actor: Any, arguments: dict[str, Any], now: datetime
    ) -> list[str]:
        return rules.transition_condition_reasons(obj, name, actor, now)

    def lock(self, obj: Any) -> Proposal:
        from proposals.selectors import proposals_with_rule_data

        return proposals_with_rule_data(Proposal.objects.select_for_update(of=("self",))).get(
            pk=obj.pk
        )

    def prepare(
        self, obj: Any, name: str, actor: Any, comment: str, arguments: dict[str, Any]
    ) -> dict[str, Any]:
        obj.updated_at = timezone.now()
        if name in ("approve", "request_changes"):
            decision = (
                Review.Decision.APPROVE if name == "approve" else Review.Decision.REQUEST_CHANGES
            )
            revision = obj.revisions.get(number=obj.revision)
            Review.objects.create(
                proposal=obj, revision=revision, reviewer=actor, decision=decision, comment=comment
            )
        if name == "approve":
            approvals = Review.objects.filter(
                revision__proposal=obj,
                revision__number=obj.revision,
                decision=Review.Decision.APPROVE,
            ).count()
            return {"approvals": approvals, "required": obj.occasion.required_approvals}
        if name == "record_outcome":
            return {"outcome": arguments["outcome"]}
        return {}

    def update_fields(self, name: str) -> list[str]:
        return ["updated_at", "outcome"] if name == "record_outcome" else ["updated_at"]

    def finish(
        self,
        obj: Any,
        name: str,
        actor: Any,
        comment: str,
        arguments: dict[str, Any],
        log: TransitionLog,
    ) -> list[Notice]:
        authors = rules.author_ids(obj)
        if name == "submit_for_review":
            return notices_for(
                obj,
                "review_requested",
                reviewer_ids() - rules.contributor_ids(obj),
                actor,
                essential=True,
            )
        if name == "request_changes":
            return notices_for(obj, "changes_requested", authors, actor, comment, essential=True)
        if name == "approve":
            if obj.state != "endorsement":
                return []
            representatives = set().union(*representatives_of_full_members().values())
            return notices_for(obj, "approved", authors, actor, essential=False) + notices_for(
                obj, "endorsement_opened", representatives, actor, essential=True
            )
        if name == "submit":
            Submission.objects.create(
                proposal=obj,
                body=obj.target_body,
                submitted_by=actor,
                submitted_at=log.at,
                reference=arguments.get("reference", ""),
            )
            return notices_for(obj, "submitted", authors, actor, essential=False)
        if name == "record_outcome":
            Outcome.objects.create(
                proposal=obj,
                result=arguments["outcome"],
                decided_on=arguments["decided_on"],
                note=arguments.get("note", ""),
                link=arguments.get("link", ""),
                recorded_by=actor,
                recorded_at=log.at,
            )
            return notices_for(obj, "outcome_recorded", authors, actor, essential=False)
        if name == "withdraw":
            return notices_for(obj, "withdrawn", authors, actor, comment, essential=False)
        return []


def quorum_notices(proposal: Proposal, actor: Any) -> list[Notice]:
    """The secretariat and the presidency learn that a proposal is ready to submit."""
    return notices_for(
        proposal, "quorum_reached", secretariat_ids() | presidency_ids(), actor, essential=True
    )


workflow_policy.register(Proposal, ProposalPolicy())
