"""Occasions: the calendar of deadlines by month, and one occasion's page."""

from __future__ import annotations

import calendar
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q, QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone

from proposals.dossiers.store import bundle_allowed
from proposals.models import (
    Occasion,
    Proposal,
    ProposalState,
)
from proposals.reference import OCCASION_IMPORTED_FIELDS as IMPORTED_FIELDS
from proposals.selectors import proposals_visible_to, roles_of
from proposals.web.views.common import PersonRequest

# Occasions


# The months the calendar shows: wide enough for any occasion, far from date's limits (1-9999),
# so that the weeks around a month and the links to its neighbours always exist.
CALENDAR_FIRST_MONTH = date(1900, 1, 1)
CALENDAR_LAST_MONTH = date(2999, 12, 1)


def _month_param(value: str | None, today: date) -> date:
    """The month asked for as YYYY-MM, clamped to the calendar's range; this month if unreadable."""
    try:
        year, month = (int(part) for part in (value or "").split("-"))
    except ValueError:
        return today.replace(day=1)
    if not 1 <= month <= 12:
        return today.replace(day=1)
    if (year, month) < (CALENDAR_FIRST_MONTH.year, CALENDAR_FIRST_MONTH.month):
        return CALENDAR_FIRST_MONTH
    if (year, month) > (CALENDAR_LAST_MONTH.year, CALENDAR_LAST_MONTH.month):
        return CALENDAR_LAST_MONTH
    return date(year, month, 1)


def _with_state_counts(queryset: QuerySet[Occasion], person: Any) -> QuerySet[Occasion]:
    visible = proposals_visible_to(person).values("pk")
    counts = {
        f"count_{state.value}": Count(
            "proposals", filter=Q(proposals__state=state, proposals__in=visible), distinct=True
        )
        for state in ProposalState
    }
    return queryset.annotate(**counts)


def _state_counts(occasion: Occasion) -> list[tuple[str, str, int]]:
    return [
        (state.value, str(state.label), getattr(occasion, f"count_{state.value}"))
        for state in ProposalState
        if getattr(occasion, f"count_{state.value}")
    ]


@login_required
def occasion_list(request: PersonRequest) -> HttpResponse:
    """Upcoming occasions and a month calendar of occasions and deadlines."""
    now = timezone.now()
    today = timezone.localdate()
    month = _month_param(request.GET.get("month"), today)
    weeks = calendar.Calendar(firstweekday=0).monthdatescalendar(month.year, month.month)
    first, last = weeks[0][0], weeks[-1][-1]
    zone = timezone.get_current_timezone()
    upcoming = list(
        _with_state_counts(
            Occasion.objects.filter(Q(submission_deadline__gte=now) | Q(ends_on__gte=today)),
            request.user,
        ).order_by("submission_deadline")
    )
    for occasion in upcoming:
        occasion.state_counts = _state_counts(occasion)  # type: ignore[attr-defined]
    in_view = Occasion.objects.filter(
        Q(starts_on__lte=last, ends_on__gte=first)
        | Q(
            submission_deadline__gte=datetime.combine(first, time.min, tzinfo=zone),
            submission_deadline__lte=datetime.combine(last, time.max, tzinfo=zone),
        )
    ).order_by("starts_on")
    events: dict[date, list[dict[str, Any]]] = defaultdict(list)
    for occasion in in_view:
        deadline_day = timezone.localtime(occasion.submission_deadline).date()
        events[deadline_day].append({"occasion": occasion, "deadline": True})
        day = max(occasion.starts_on, first)
        while day <= min(occasion.ends_on, last):
            events[day].append({"occasion": occasion, "deadline": False})
            day += timedelta(days=1)
    previous_month = max((month - timedelta(days=1)).replace(day=1), CALENDAR_FIRST_MONTH)
    next_month = min((month + timedelta(days=32)).replace(day=1), CALENDAR_LAST_MONTH)
    return render(
        request,
        "proposals/occasion_list.html",
        {
            "upcoming": upcoming,
            "month": month,
            "weeks": [
                [
                    {
                        "day": day,
                        "events": events.get(day, []),
                        "in_month": day.month == month.month,
                        "today": day == today,
                    }
                    for day in week
                ]
                for week in weeks
            ],
            "weekdays": [_weekday_name(day) for day in weeks[0]],
            "previous_month": previous_month.strftime("%Y-%m"),
            "next_month": next_month.strftime("%Y-%m"),
            "calendar_url": calendar_url(request),
            "now": now,
        },
    )


def _weekday_name(day: date) -> str:
    from django.utils.dates import WEEKDAYS_ABBR

    return str(WEEKDAYS_ABBR[day.weekday()])


def calendar_url(request: PersonRequest) -> str:
    """The person's iCal subscription (served by the calendar feed at /calendar/<token>.ics)."""
    return request.build_absolute_uri(
        reverse("calendar-feed", kwargs={"token": request.user.calendar_token})
    )


@login_required
def occasion_detail(request: PersonRequest, pk: int) -> HttpResponse:
    occasion = get_object_or_404(Occasion.objects.select_related("feed", "body"), pk=pk)
    roles = roles_of(request.user)
    proposals = (
        proposals_visible_to(request.user)
        .filter(occasion=occasion)
        .select_related("lead_organization", "target_body")
        .order_by("title", "pk")
    )
    by_state: dict[str, list[Proposal]] = defaultdict(list)
    for proposal in proposals:
        by_state[proposal.state].append(proposal)
    return render(
        request,
        "proposals/occasion_detail.html",
        {
            "occasion": occasion,
            "by_state": [
                (state.value, state.label, by_state[state.value])
                for state in ProposalState
                if by_state.get(state.value)
            ],
            "deadline_changes": occasion.deadline_changes.order_by("-version"),
            "may_download_bundle": bundle_allowed(request.user),
            "ics_url": request.build_absolute_uri(
                reverse("occasion-ics", kwargs={"pk": occasion.pk})
            ),
            "now": timezone.now(),
            "pins": _pins(occasion),
            "may_unpin": roles.secretariat_or_superuser,
        },
    )


def _pins(occasion: Occasion) -> list[tuple[str, str]]:
    """The fields of an imported occasion edited by hand (its feed no longer writes them)."""
    return [
        (name, str(getattr(Occasion._meta.get_field(name), "verbose_name", name)))
        for name in occasion.pinned_fields or []
        if name in IMPORTED_FIELDS
    ]
