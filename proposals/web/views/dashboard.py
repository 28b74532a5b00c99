"""The dashboard: what awaits the signed-in person, and the deadlines ahead."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Window
from django.db.models.functions import Coalesce
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from proposals import rules
from proposals.forecast import Forecast, at_risk_first, forecasts_for
from proposals.models import (
    OPEN_STATES,
    Occasion,
    Person,
    Proposal,
    ProposalState,
)
from proposals.selectors import (
    proposals_authored_by,
    proposals_awaiting_endorsement_by,
    proposals_awaiting_review_by,
    proposals_ready_to_submit,
    proposals_visible_to,
    proposals_with_rule_relations,
    roles_of,
)
from proposals.web.views.common import PersonRequest
from proposals.web.views.notifications import since_last_visit

# Dashboard


DASHBOARD_SECTION_ROWS = 20


@dataclass(frozen=True)
class DashboardSection:
    """The first proposals of one part of the dashboard by deadline, how many there are in all,
    and the proposal list where to see them all."""

    proposals: list[Proposal]
    count: int
    list_url: str

    @property
    def has_more(self) -> bool:
        return self.count > len(self.proposals)


@login_required
def dashboard(request: PersonRequest) -> HttpResponse:
    """What needs me now: my drafts, reviews, endorsements, submissions, and deadlines."""
    person = request.user
    roles = roles_of(person)
    now = timezone.now()
    visible = proposals_visible_to(person)
    authored = proposals_authored_by(person, visible)
    selections: dict[str, tuple[QuerySet[Proposal], dict[str, str]]] = {
        "drafts": (authored.filter(state=ProposalState.DRAFT), {"state": ProposalState.DRAFT})
    }
    if roles.may_review:
        selections["to_review"] = (
            proposals_awaiting_review_by(person, visible),
            {"state": ProposalState.IN_REVIEW},
        )
    if roles.representative_organization_ids:
        selections["to_endorse"] = (
            proposals_awaiting_endorsement_by(person, visible),
            {"state": ProposalState.ENDORSEMENT},
        )
    if roles.secretariat:
        selections["to_submit"] = (
            proposals_ready_to_submit(visible),
            {"state": ProposalState.ENDORSEMENT},
        )
    # The list filters neither by author nor by two states at once: its link shows them all.
    selections["mine_moving"] = (
        authored.filter(state__in=[ProposalState.IN_REVIEW, ProposalState.ENDORSEMENT]),
        {},
    )
    sections = _dashboard_sections(selections)
    return render(
        request,
        "proposals/dashboard.html",
        {
            "roles": roles,
            "sections": sections,
            "at_risk": _at_risk(sections, now, visible if roles.sees_everything else None),
            "deadlines": _upcoming_deadlines(person, now),
            "now": now,
            "since_last_visit": since_last_visit(request),
        },
    )


def _dashboard_sections(
    selections: dict[str, tuple[QuerySet[Proposal], dict[str, str]]],
) -> dict[str, DashboardSection]:
    """Each selection's first rows by deadline with its count (one query each), then what the
    rules and the table read for the rows shown only (one query and its prefetches)."""
    firsts = {
        name: list(
            queryset.annotate(section_count=Window(Count("pk")))
            .order_by("occasion__submission_deadline", "pk")
            .values_list("pk", "section_count")[:DASHBOARD_SECTION_ROWS]
        )
        for name, (queryset, _filters) in selections.items()
    }
    shown = {pk for rows in firsts.values() for pk, _count in rows}
    rows_shown = proposals_with_rule_relations(Proposal.objects.filter(pk__in=shown))
    proposals = rows_shown.order_by().in_bulk()
    for proposal in proposals.values():
        if proposal.state == ProposalState.ENDORSEMENT:
            proposal.quorum_phrase = rules.quorum_phrase(proposal)  # type: ignore[attr-defined]
        proposal.changes_request = rules.changes_request(proposal)  # type: ignore[attr-defined]
    list_url = reverse("proposals:proposal_list")
    return {
        name: DashboardSection(
            proposals=[proposals[pk] for pk, _count in firsts[name] if pk in proposals],
            count=firsts[name][0][1] if firsts[name] else 0,
            list_url=f"{list_url}?{urlencode(filters)}" if filters else list_url,
        )
        for name, (_queryset, filters) in selections.items()
    }


AT_RISK_OVERSEEN_ROWS = 50


def _at_risk(
    sections: dict[str, DashboardSection],
    now: datetime,
    overseen: QuerySet[Proposal] | None = None,
) -> list[tuple[Proposal, Forecast]]:
    """The proposals of the dashboard that are at risk of missing their deadline, least
    likely first: their forecasts in one pass (proposals.forecast). The secretariat and the
    presidency oversee every open proposal: the first ones by deadline are weighed too."""
    shown = {p.pk: p for section in sections.values() for p in section.proposals}
    if overseen is not None:
        ahead = (
            overseen.filter(state__in=OPEN_STATES, occasion__submission_deadline__gt=now)
            .select_related("occasion")
            .order_by("occasion__submission_deadline", "pk")[:AT_RISK_OVERSEEN_ROWS]
        )
        for proposal in ahead:
            shown.setdefault(proposal.pk, proposal)
    return at_risk_first(shown.values(), forecasts_for(list(shown.values()), now=now))


def _upcoming_deadlines(person: Person, now: datetime) -> list[Occasion]:
    """Deadlines of the coming months, and passed ones that still have open proposals.

    The occasions come from the index on their deadline; each counts its own open proposals
    (index on state and occasion), never every proposal the person may see.
    """
    open_here = (
        proposals_visible_to(person)
        .filter(occasion=OuterRef("pk"), state__in=OPEN_STATES)
        .order_by()
        .values("occasion")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return list(
        Occasion.objects.filter(
            submission_deadline__gte=now - timedelta(days=60),
            submission_deadline__lte=now + timedelta(days=180),
        )
        .annotate(open_count=Coalesce(Subquery(open_here), 0))
        .filter(Q(submission_deadline__gte=now) | Q(open_count__gt=0))
        .order_by("submission_deadline")[:12]
    )
