"""iCalendar feeds: a person's deadlines and occasions, and one occasion's download.

Deadlines are written in the occasion's own time zone with its VTIMEZONE, so Outlook,
Google and Apple calendars show them at the right moment in the reader's zone; each is a
half-hour event from the deadline on, with an alarm the day before. An event keeps its UID
and gets a higher SEQUENCE when what it shows changes: the occasion's name, kind, place, zone
or dates (Occasion.dates_version), and for the deadline also a move (deadline_version).

A calendar is built in two steps: its facts (a constant number of queries), which give the
validator a calendar app polls with (CalendarFacts.etag), then the iCalendar text, which is
only written when the app does not have it already.

A person's feed is kept in the cache with its validator under its fingerprint
(person_calendar_fingerprint): everything it depends on besides the rows of proposals, authors
and occasions, which the generation of proposals.calendar_generation stands for. A poll that
changes nothing reads the person and their roles (two queries) and writes nothing.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit

import icalendar
from django.conf import settings
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Window
from django.db.models.functions import RowNumber
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from proposals.calendar_generation import OCCASION_FIELDS_SHOWN, calendar_generation
from proposals.models import (
    Occasion,
    Person,
    Proposal,
    ProposalState,
)
from proposals.selectors import PersonRoles, proposals_visible_to, roles_of

PAST_WINDOW = timedelta(days=365)
"""How far back a feed reaches, from the start of the day (UTC)."""

DEADLINE_EVENT_LENGTH = timedelta(minutes=30)
"""A deadline is a moment; calendar apps show it as an event this long from the deadline on."""

DEADLINE_ALARM = timedelta(days=-1)
"""When a calendar app reminds of a deadline, relative to it."""

LISTED_PER_OCCASION = 20
"""An event's description names at most this many proposals, the person's own first, and
counts the others: a calendar app shows a few lines, and a feed stays small however many
proposals an occasion gathers (the occasion's page lists them all)."""

FEED_FORMAT = "3"
"""Goes up when the iCalendar this module writes changes for the same facts, so that calendar
apps that hold an older version of a feed are sent the new one."""


def calendar_wording() -> list[str]:
    """The words of the active language a calendar is written with besides its facts: a new
    translation of one of them is a new version of every calendar in that language."""
    return [
        _("Submission deadline: %(occasion)s"),
        _("Proposals:"),
        *(str(label) for label in Occasion.Kind.labels),
        *(str(label) for label in ProposalState.labels),
    ]


# The facts of an occasion a calendar shows.
OCCASION_SHOWN = ("pk", *OCCASION_FIELDS_SHOWN)


def _site_host() -> str:
    return urlsplit(settings.SITE_URL).hostname or "localhost"


def _link(name: str, pk: int, fallback: str) -> str:
    try:
        path = reverse(name, args=[pk])
    except NoReverseMatch:
        path = fallback
    return settings.SITE_URL.rstrip("/") + path


def occasions_concerning(
    person: Any, seen_at: Iterable[int], now: datetime | None = None
) -> QuerySet[Occasion]:
    """Occasions a person follows, among those of the past PAST_WINDOW and later: every one for
    the secretariat and the presidency; for others, those where they see a proposal that is
    not withdrawn (`seen_at`), and the group's working sessions."""
    occasions = recent_occasions(now)
    roles = roles_of(person)
    if not roles.sees_everything:
        concern = Q(pk__in=list(seen_at))
        if roles.in_group:
            concern |= Q(kind=Occasion.Kind.WORKING_SESSION)
        occasions = occasions.filter(concern)
    return occasions.order_by("submission_deadline", "pk")


def feed_day(now: datetime | None = None) -> date:
    """The day (UTC) a feed is written on: what it calls recent is counted from its start, so
    the feed of a person is the same all day long while nothing it shows changes."""
    return (now or timezone.now()).astimezone(UTC).date()


def recent_occasions(now: datetime | None = None) -> QuerySet[Occasion]:
    """Occasions whose deadline or end is at most PAST_WINDOW before the start of the day
    (UTC), or later."""
    since = datetime.combine(feed_day(now), time.min, tzinfo=UTC) - PAST_WINDOW
    return Occasion.objects.filter(Q(submission_deadline__gte=since) | Q(ends_on__gte=since.date()))


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


@dataclass
class CalendarFacts:
    """What one calendar shows, read in a constant number of queries; its iCalendar text is
    written from these alone."""

    language: str
    name: str
    description: str
    occasions: list[Occasion]
    proposals: dict[int, list[Proposal]] = field(default_factory=dict)
    unlisted: dict[int, int] = field(default_factory=dict)
    """By occasion, how many more proposals the person sees there than the description names."""

    def etag(self) -> str:
        """A weak entity tag (the iCalendar's DTSTAMP is the time it was written): the same
        for the same facts, different as soon as anything the calendar shows changes."""
        with translation.override(self.language):
            wording = calendar_wording()
        shown = [
            FEED_FORMAT,
            settings.SITE_URL,
            wording,
            self.language,
            self.name,
            self.description,
            [
                [
                    [str(getattr(occasion, name)) for name in OCCASION_SHOWN],
                    [
                        [proposal.pk, proposal.title, proposal.state]
                        for proposal in self.proposals.get(occasion.pk, [])
                    ],
                    self.unlisted.get(occasion.pk, 0),
                ]
                for occasion in self.occasions
            ],
        ]
        digest = hashlib.sha256(json.dumps(shown, ensure_ascii=False).encode()).hexdigest()
        return f'W/"{digest[:32]}"'


def _occasion_events(
    occasion: Occasion, proposals: Iterable[Proposal], unlisted: int, stamp: datetime
) -> list[icalendar.Event]:
    host = _site_host()
    link = _link("proposals:occasion_detail", occasion.pk, f"/occasions/{occasion.pk}/")
    kind = str(Occasion.Kind(occasion.kind).label) if occasion.kind in Occasion.Kind.values else ""
    lines = [kind] if kind else []
    listed = [
        f"• {proposal.title} ({ProposalState(proposal.state).label})" for proposal in proposals
    ]
    if unlisted:
        listed.append(
            ngettext(
                "… and %(count)d more proposal, listed on the occasion's page",
                "… and %(count)d more proposals, listed on the occasion's page",
                unlisted,
            )
            % {"count": unlisted}
        )
    if listed:
        lines += ["", _("Proposals:"), *listed]
    lines += ["", link]
    description = "\n".join(lines)

    event = icalendar.Event()
    event.add("uid", f"occasion-{occasion.pk}@{host}")
    event.add("dtstamp", stamp)
    event.add("sequence", occasion.dates_version - 1)
    event.add("summary", occasion.name)
    event.add("dtstart", occasion.starts_on)
    event.add("dtend", occasion.ends_on + timedelta(days=1))
    if occasion.location:
        event.add("location", occasion.location)
    event.add("description", description)
    event.add("url", link)
    event.add("transp", "TRANSPARENT")
    if occasion.cancelled_at is not None:  # its body cancelled it (proposals.calendar_import)
        event.add("status", "CANCELLED")

    deadline = icalendar.Event()
    deadline.add("uid", f"deadline-{occasion.pk}@{host}")
    deadline.add("dtstamp", stamp)
    # Both versions only go up: so does their sum, whichever of the two changed.
    deadline.add("sequence", occasion.deadline_version - 1 + occasion.dates_version - 1)
    deadline.add("summary", _("Submission deadline: %(occasion)s") % {"occasion": occasion.name})
    deadline_at = occasion.submission_deadline.astimezone(occasion.zone)
    deadline.add("dtstart", deadline_at)
    deadline.add("dtend", deadline_at + DEADLINE_EVENT_LENGTH)
    deadline.add("description", description)
    deadline.add("url", link)
    deadline.add("transp", "TRANSPARENT")
    if occasion.cancelled_at is not None:
        deadline.add("status", "CANCELLED")
    alarm = icalendar.Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", _("Submission deadline: %(occasion)s") % {"occasion": occasion.name})
    alarm.add("trigger", DEADLINE_ALARM)
    deadline.add_component(alarm)
    return [event, deadline]


@functools.lru_cache(maxsize=512)
def zone_described(tzid: str, first_year: int, last_year: int) -> icalendar.Timezone | None:
    """The VTIMEZONE of a zone over whole years, worked out once per process (it reads the
    zone's transitions year by year); None for a zone icalendar does not know."""
    try:
        return icalendar.Timezone.from_tzid(
            tzid, first_date=date(first_year, 1, 1), last_date=date(last_year, 12, 31)
        )
    except ValueError:
        return None


FOLD_LIMIT = 75
"""RFC 5545: a content line is folded before it reaches 75 octets."""

FOLD_AFTER = FOLD_LIMIT - 1
"""icalendar's folding (icalendar.parser.string._foldline): 74 octets to a line, the
continuation's leading space aside."""


def _folded(line: str) -> bytes:
    """The line in UTF-8, folded as icalendar folds it (icalendar.parser.string._foldline):
    the same octets in the same places, cut a slice at a time rather than a character at a time
    (icalendar's loop took most of the time a large feed took to write). A cut never splits a
    character, nor leaves an escape (a backslash, a caret) at the end of a line."""
    data = line.encode()
    parts = []
    start = 0
    while len(data) - start >= FOLD_LIMIT:
        end = start + FOLD_AFTER
        while data[end] & 0xC0 == 0x80:  # within a character: cut before it
            end -= 1
        if end - 1 > start and data[end - 1] in b"\\^":
            end -= 1
        parts.append(data[start:end])
        start = end
    parts.append(data[start:])
    return b"\r\n ".join(parts)


def ical_text(component: icalendar.Component) -> bytes:
    """What `component.to_ical()` answers, folded faster (`_folded`)."""
    return b"".join(_folded(line) + b"\r\n" for line in component.content_lines() if line)


def _finish(calendar: icalendar.Calendar, occasions: list[Occasion]) -> bytes:
    """The text of the calendar with a VTIMEZONE for each zone its events use, by name, first
    (what Calendar.add_missing_timezones adds, from a year before the first occasion to a year
    after the last)."""
    if occasions:
        first = min(min(o.starts_on, o.submission_deadline.date()) for o in occasions)
        last = max(max(o.ends_on, o.submission_deadline.date()) for o in occasions)
        described = [
            zone_described(tzid, first.year - 1, last.year + 1)
            for tzid in sorted(calendar.get_missing_tzids())
        ]
        calendar.subcomponents[0:0] = [zone for zone in described if zone is not None]
    return ical_text(calendar)


def _proposals_by_occasion(
    person: Any, occasion_ids: list[int]
) -> tuple[dict[int, list[Proposal]], dict[int, int]]:
    """By occasion, the proposals the person sees there (withdrawn ones aside) that its events
    name: at most LISTED_PER_OCCASION, those they write first, then by title; and how many
    more they see there. Two queries, whatever the number of proposals."""
    visible = (
        proposals_visible_to(person)
        .filter(occasion_id__in=occasion_ids)
        .exclude(state=ProposalState.WITHDRAWN)
    )
    seen = dict(
        visible.order_by()
        .values("occasion_id")
        .annotate(seen=Count("pk"))
        .values_list("occasion_id", "seen")
    )
    writes = Proposal.authors.through.objects.filter(
        proposal_id=OuterRef("pk"), person_id=getattr(person, "pk", None) or 0
    )
    named = (
        visible.annotate(
            place=Window(
                RowNumber(),
                partition_by=[F("occasion_id")],
                order_by=[Exists(writes).desc(), F("title").asc(), F("pk").asc()],
            )
        )
        .filter(place__lte=LISTED_PER_OCCASION)
        .only("pk", "title", "state", "occasion_id")
        .order_by("occasion_id", "place")
    )
    proposals: dict[int, list[Proposal]] = defaultdict(list)
    for proposal in named:
        if proposal.occasion_id is not None:
            proposals[proposal.occasion_id].append(proposal)
    unlisted = {
        occasion_id: count - len(proposals.get(occasion_id, []))
        for occasion_id, count in seen.items()
        if count > len(proposals.get(occasion_id, []))
    }
    return proposals, unlisted


def feed_language(person: Person) -> str:
    """A person's feed speaks their saved language, whoever fetches it."""
    return person.language or settings.LANGUAGE_CODE


def _person_calendar_titles(person: Person) -> tuple[str, str]:
    """The name and the description of the person's feed, in the active language."""
    return (
        _("Deadlines of %(name)s") % {"name": person},
        _("Occasions and submission deadlines of the proposals you follow."),
    )


def _roles_shown(roles: PersonRoles) -> list[object]:
    """The roles as plain, ordered values (the sets sorted)."""
    return [
        sorted(value) if isinstance(value, frozenset) else value
        for value in (getattr(roles, name) for name in PersonRoles.__dataclass_fields__)
    ]


def person_calendar_fingerprint(person: Person, now: datetime | None = None) -> str | None:
    """A digest of everything the person's feed depends on: the generation of what feeds show
    (the proposals, their authors and the occasions), the day, the person's roles (one query,
    read once per person object), link, name, language, time zone and the calendar's words,
    and this module's format. None while the generation cannot be read (the cache is down):
    then no feed is kept or served from the cache."""
    generation = calendar_generation()
    if generation is None:
        return None
    language = feed_language(person)
    with translation.override(language):
        wording = calendar_wording()
        name, description = _person_calendar_titles(person)
    shown = [
        FEED_FORMAT,
        LISTED_PER_OCCASION,
        PAST_WINDOW.days,
        settings.SITE_URL,
        generation,
        feed_day(now).isoformat(),
        person.pk,
        person.calendar_token,
        language,
        person.timezone,
        name,
        description,
        wording,
        _roles_shown(roles_of(person)),
    ]
    return hashlib.sha256(json.dumps(shown, ensure_ascii=False).encode()).hexdigest()


def person_calendar_facts(person: Person, now: datetime | None = None) -> CalendarFacts:
    """What the person's feed shows: the occasions that concern them and their proposals."""
    now = now or timezone.now()
    language = feed_language(person)
    recent = list(recent_occasions(now).values_list("pk", flat=True))
    proposals, unlisted = _proposals_by_occasion(person, recent)
    seen_at = set(proposals) | set(unlisted)
    occasions = list(occasions_concerning(person, seen_at, now).only(*OCCASION_SHOWN))
    with translation.override(language):
        name, description = _person_calendar_titles(person)
        return CalendarFacts(
            language=language,
            name=name,
            description=description,
            occasions=occasions,
            proposals=proposals,
            unlisted=unlisted,
        )


def occasion_calendar_facts(occasion: Occasion, person: Any) -> CalendarFacts:
    """What one occasion's download shows, in the active language: the occasion, its deadline
    and the proposals the person sees."""
    proposals, unlisted = _proposals_by_occasion(person, [occasion.pk])
    return CalendarFacts(
        language=translation.get_language() or settings.LANGUAGE_CODE,
        name=occasion.name,
        description=_("The occasion and its submission deadline."),
        occasions=[occasion],
        proposals=proposals,
        unlisted=unlisted,
    )


def calendar_render(facts: CalendarFacts, now: datetime | None = None) -> bytes:
    """The iCalendar text of the facts, in their language."""
    now = now or timezone.now()
    with translation.override(facts.language):
        calendar = _calendar(facts.name, facts.description)
        for occasion in facts.occasions:
            named = facts.proposals.get(occasion.pk, [])
            unlisted = facts.unlisted.get(occasion.pk, 0)
            for event in _occasion_events(occasion, named, unlisted, now):
                calendar.add_component(event)
        return _finish(calendar, facts.occasions)


def person_calendar(person: Person, now: datetime | None = None) -> bytes:
    """The person's feed, in their language: the occasions that concern them and their deadlines."""
    return calendar_render(person_calendar_facts(person, now), now)


def occasion_calendar(occasion: Occasion, person: Any, now: datetime | None = None) -> bytes:
    """One occasion and its deadline, for a download; lists the proposals the person sees."""
    return calendar_render(occasion_calendar_facts(occasion, person), now)
