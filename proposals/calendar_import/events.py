"""From a feed's iCalendar text to the facts of its occasions: pure, no database.

How an event becomes an occasion (docs/calendar-import.md):

- name: SUMMARY (its UID when it has none); place: LOCATION;
- zone: the IANA zone of DTSTART (a Windows zone name icalendar maps to one counts); the feed's
  zone for floating times, UTC times ("Z") and dates;
- dates: DTSTART and DTEND as days in that zone; an all-day event's DTEND is exclusive (the day
  after its last); a timed event ending at midnight ends the day before;
- submission deadline, by the feed's rule: EVENT_END, the event's end (DTEND, or DTSTART with
  DURATION, or DTSTART), and for an all-day event the end of its last day, 23:59:59 in the
  zone; BEFORE_START, 23:59:59 in the zone on the day `lead_days` before the start's day;
- STATUS:CANCELLED cancels it.

An event without UID or start, with an unknown TZID, unreadable dates or an end before its
start is skipped and reported; a repeated UID (a recurring event's exceptions) keeps its first
event. Recurrence rules are not expanded: a recurring event is one occasion, its first date.
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from dataclasses import dataclass
from typing import Any

import icalendar

from proposals.calendar_import.problems import EventProblem, FeedError

NAME_MAX_LENGTH = 200
PLACE_MAX_LENGTH = 200
UID_MAX_LENGTH = 255
DAY_END = dt.time(23, 59, 59)
EVENT_END = "event_end"
BEFORE_START = "before_start"
UTC_NAMES = {"UTC", "Etc/UTC", "GMT", "Etc/GMT", "Z"}


@dataclass(frozen=True)
class FeedRules:
    """What the feed says about all its events."""

    deadline_rule: str
    lead_days: int
    default_timezone: str


@dataclass(frozen=True)
class EventFacts:
    """An occasion as the feed describes it."""

    uid: str
    name: str
    location: str
    timezone: str
    starts_on: dt.date
    ends_on: dt.date
    submission_deadline: dt.datetime
    cancelled: bool


def calendar_parse(content: bytes) -> icalendar.Calendar:
    """The calendar, or FeedError when the text is not iCalendar."""
    head = content.lstrip(b"\xef\xbb\xbf \t\r\n")[:15].upper()
    if not head.startswith(b"BEGIN:VCALENDAR"):
        raise FeedError("not_ical")
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        text = content.decode("latin-1")
    try:
        calendars = icalendar.Calendar.from_ical(text, multiple=True)
    except (ValueError, KeyError, IndexError) as problem:
        raise FeedError("unreadable", detail=str(problem)[:300]) from None
    if not calendars:
        raise FeedError("not_ical")
    return calendars[0]


def _text(event: icalendar.cal.Component, name: str) -> str:
    value = event.get(name)
    return " ".join(str(value).split()) if value is not None else ""


class _Skip(Exception):
    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


def _decoded(event: icalendar.cal.Component, name: str) -> Any:
    prop = event.get(name)
    if prop is None:
        return None
    try:
        value = event.decoded(name)
    except (ValueError, TypeError, KeyError) as problem:
        raise _Skip("bad_date", detail=str(problem)[:200]) from None
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        zone_name = getattr(prop, "params", {}).get("TZID")
        if zone_name:
            raise _Skip("unknown_zone", zone=str(zone_name)[:64])
    if not isinstance(value, dt.date | dt.timedelta):
        raise _Skip("bad_date", detail=str(prop)[:200])
    return value


@functools.cache
def _iana_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _zone_of(value: dt.date, default: str) -> str:
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        key = getattr(value.tzinfo, "key", None)
        if key and key not in UTC_NAMES and key in _iana_zones():
            return str(key)
    return default


def _end_of_day(day: dt.date, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, DAY_END, tzinfo=zone).astimezone(dt.UTC)


def event_facts(event: icalendar.cal.Component, rules: FeedRules) -> EventFacts:
    """The occasion an event describes; raises _Skip for an event that cannot be one."""
    uid = _text(event, "uid")[:UID_MAX_LENGTH]
    if not uid:
        raise _Skip("no_uid")
    start = _decoded(event, "dtstart")
    if start is None:
        raise _Skip("no_start")
    if isinstance(start, dt.timedelta):
        raise _Skip("bad_date", detail="DTSTART")
    end = _decoded(event, "dtend")
    if end is None:
        duration = _decoded(event, "duration")
        if isinstance(duration, dt.timedelta):
            end = start + duration
    timezone_name = _zone_of(start, rules.default_timezone)
    zone = zoneinfo.ZoneInfo(timezone_name)
    all_day = not isinstance(start, dt.datetime)
    if all_day:
        if isinstance(end, dt.datetime):
            raise _Skip("bad_date", detail="DTEND")
        last_day = (end - dt.timedelta(days=1)) if isinstance(end, dt.date) else start
        if last_day < start:
            if end is not None and end < start:
                raise _Skip("ends_before_start")
            last_day = start
        starts_on, ends_on = start, last_day
        event_end = _end_of_day(ends_on, zone)
    else:
        if isinstance(end, dt.date) and not isinstance(end, dt.datetime):
            raise _Skip("bad_date", detail="DTEND")
        start_at = start if start.tzinfo is not None else start.replace(tzinfo=zone)
        end_at = start_at
        if end is not None:
            end_at = end if end.tzinfo is not None else end.replace(tzinfo=zone)
        if end_at < start_at:
            raise _Skip("ends_before_start")
        local_start, local_end = start_at.astimezone(zone), end_at.astimezone(zone)
        starts_on = local_start.date()
        ends_on = (
            (local_end - dt.timedelta(microseconds=1)).date() if end_at > start_at else starts_on
        )
        ends_on = max(ends_on, starts_on)
        event_end = end_at.astimezone(dt.UTC)
    if rules.deadline_rule == BEFORE_START:
        deadline = _end_of_day(starts_on - dt.timedelta(days=rules.lead_days), zone)
    else:
        deadline = event_end
    return EventFacts(
        uid=uid,
        name=(_text(event, "summary") or uid)[:NAME_MAX_LENGTH],
        location=_text(event, "location")[:PLACE_MAX_LENGTH],
        timezone=timezone_name,
        starts_on=starts_on,
        ends_on=ends_on,
        submission_deadline=deadline,
        cancelled=_text(event, "status").upper() == "CANCELLED",
    )


def calendar_events(
    calendar: icalendar.Calendar, rules: FeedRules
) -> tuple[list[EventFacts], list[EventProblem]]:
    """The occasions of the calendar's events, and the events skipped with why."""
    facts: list[EventFacts] = []
    problems: list[EventProblem] = []
    seen: set[str] = set()
    for event in calendar.walk("VEVENT"):
        summary = _text(event, "summary")[:NAME_MAX_LENGTH]
        uid = _text(event, "uid")[:UID_MAX_LENGTH]
        if event.get("recurrence-id") is not None and uid in seen:
            continue  # an exception of a recurring event already read: its series is one occasion
        try:
            described = event_facts(event, rules)
        except _Skip as skip:
            problems.append(
                EventProblem(uid=uid, summary=summary, code=skip.code, params=skip.params)
            )
            continue
        if described.uid in seen:
            problems.append(EventProblem(uid=uid, summary=summary, code="duplicate_uid"))
            continue
        seen.add(described.uid)
        facts.append(described)
    return facts, problems
