"""The engine's records as the domain shows them to its faces: the transition log of each
proposal, the outbox's deliveries and the audit trail. Faces read them from here, never from
`workflow` directly."""

from __future__ import annotations

from django.db.models import QuerySet

from proposals.models import Proposal
from workflow.models import AuditEvent, Delivery, TransitionLog

__all__ = ["AuditEvent", "Delivery", "TransitionLog", "deliveries_logged", "proposal_history"]


def proposal_history(proposal: Proposal) -> QuerySet[TransitionLog]:
    """What was done to the proposal, oldest first, with who did it."""
    return TransitionLog.objects.for_object(proposal).select_related("actor")


def deliveries_logged() -> QuerySet[Delivery]:
    """Every delivery that leaves the system (emails and webhooks: a person's notices in the
    pages are their own), newest first, with its recipient or its webhook endpoint (one more
    query per kind of endpoint on the page): the secretariat's delivery log."""
    return (
        Delivery.objects.exclude(channel=Delivery.Channel.PAGE)
        .select_related("recipient")
        .prefetch_related("target")
        .order_by("-created_at", "-id")
    )
