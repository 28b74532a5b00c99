"""iCalendar feeds: a person's deadlines and occasions, and one occasion's download.

Deadlines are written in the occasion's own time zone with its VTIMEZONE, so Outlook,
Google and Apple calendars show them at the right moment in the reader's zone. A deadline
that moved keeps its UID with a higher SEQUENCE, so calendars update the event.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import icalendar
from django.conf import settings
from django.db.models import Q, QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from proposals.models import (
    Occasion,
    Person,
    Proposal,
    ProposalState,
)
from proposals.selectors import proposals_visible_to, roles_of

PAST_WINDOW = timedelta(days=365)
"""How far back a feed reaches."""


def _site_host() -> str:
    return urlsplit(settings.SITE_URL).hostname or "localhost"


def _link(name: str, pk: int, fallback: str) -> str:
    try:
        path = reverse(name, args=[pk])
    except NoReverseMatch:
        path = fallback
    return settings.SITE_URL.rstrip("/") + path


def occasions_concerning(person: Any, now: datetime | None = None) -> QuerySet[Occasion]:
    """Occasions a person follows: every one for the secretariat and the presidency; for others,
    those of the proposals they see that are not withdrawn, and the group's working sessions."""
    now = now or timezone.now()
    recent = Q(submission_deadline__gte=now - PAST_WINDOW) | Q(
        ends_on__gte=(now - PAST_WINDOW).date()
    )
    occasions = Occasion.objects.filter(recent)
    roles = roles_of(person)
    if roles.sees_everything:
        return occasions.order_by("submission_deadline", "pk")
    followed = proposals_visible_to(person).exclude(state=ProposalState.WITHDRAWN)
    concern = Q(pk__in=followed.filter(occasion__isnull=False).values("occasion_id"))
    if roles.in_group:
        concern |= Q(kind=Occasion.Kind.WORKING_SESSION)
    return occasions.filter(concern).order_by("submission_deadline", "pk")


def _calendar(name: str, description: str) -> icalendar.Calendar:
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Policy tracker//Deadlines//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-caldesc", description)
    calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    return calendar


def _occasion_events(
    occasion: Occasion, proposals: Iterable[Proposal], stamp: datetime
) -> list[icalendar.Event]:
    host = _site_host()
    link = _link("proposals:occasion_detail", occasion.pk, f"/occasions/{occasion.pk}/")
    kind = str(Occasion.Kind(occasion.kind).label) if occasion.kind in Occasion.Kind.values else ""
    lines = [kind] if kind else []
    listed = [
        f"• {proposal.title} ({ProposalState(proposal.state).label})" for proposal in proposals
    ]
    if listed:
        lines += ["", _("Proposals:"), *listed]
    lines += ["", link]
    description = "\n".join(lines)

    event = icalendar.Event()
    event.add("uid", f"occasion-{occasion.pk}@{host}")
    event.add("dtstamp", stamp)
    event.add("summary", occasion.name)
    event.add("dtstart", occasion.starts_on)
    event.add("dtend", occasion.ends_on + timedelta(days=1))
    if occasion.location:
        event.add("location", occasion.location)
    event.add("description", description)
    event.add("url", link)
    event.add("transp", "TRANSPARENT")

    deadline = icalendar.Event()
    deadline.add("uid", f"deadline-{occasion.pk}@{host}")
    deadline.add("dtstamp", stamp)
    deadline.add("sequence", max(occasion.deadline_version - 1, 0))
    deadline.add("summary", _("Submission deadline: %(occasion)s") % {"occasion": occasion.name})
    deadline.add("dtstart", occasion.submission_deadline.astimezone(occasion.zone))
    deadline.add("description", description)
    deadline.add("url", link)
    deadline.add("transp", "TRANSPARENT")
    alarm = icalendar.Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", _("Submission deadline: %(occasion)s") % {"occasion": occasion.name})
    alarm.add("trigger", timedelta(days=-1))
    deadline.add_component(alarm)
    return [event, deadline]


def _finish(calendar: icalendar.Calendar, occasions: list[Occasion]) -> bytes:
    if occasions:
        first = min(min(o.starts_on, o.submission_deadline.date()) for o in occasions)
        last = max(max(o.ends_on, o.submission_deadline.date()) for o in occasions)
        calendar.add_missing_timezones(
            first_date=date(first.year - 1, 1, 1), last_date=date(last.year + 1, 12, 31)
        )
    return calendar.to_ical()


def person_calendar(person: Person, now: datetime | None = None) -> bytes:
    """The person's feed, in their language: the occasions that concern them and their deadlines."""
    now = now or timezone.now()
    with translation.override(person.language or settings.LANGUAGE_CODE):
        occasions = list(occasions_concerning(person, now))
        proposals: dict[int, list[Proposal]] = defaultdict(list)
        visible = (
            proposals_visible_to(person)
            .filter(occasion_id__in=[o.pk for o in occasions])
            .exclude(state=ProposalState.WITHDRAWN)
            .only("pk", "title", "state", "occasion_id")
            .order_by("title", "pk")
        )
        for proposal in visible:
            if proposal.occasion_id is not None:
                proposals[proposal.occasion_id].append(proposal)
        calendar = _calendar(
            _("Deadlines of %(name)s") % {"name": person},
            _("Occasions and submission deadlines of the proposals you follow."),
        )
        for occasion in occasions:
            for event in _occasion_events(occasion, proposals[occasion.pk], now):
                calendar.add_component(event)
        return _finish(calendar, occasions)


def occasion_calendar(occasion: Occasion, person: Any, now: datetime | None = None) -> bytes:
    """One occasion and its deadline, for a download; lists the proposals the person sees."""
    now = now or timezone.now()
    proposals = list(
        proposals_visible_to(person)
        .filter(occasion=occasion)
        .exclude(state=ProposalState.WITHDRAWN)
        .only("pk", "title", "state", "occasion_id")
        .order_by("title", "pk")
    )
    calendar = _calendar(occasion.name, _("The occasion and its submission deadline."))
    for event in _occasion_events(occasion, proposals, now):
        calendar.add_component(event)
    return _finish(calendar, [occasion])
