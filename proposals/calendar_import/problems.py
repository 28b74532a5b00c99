"""What can go wrong reading a body's calendar feed, said in the reader's language.

A problem is kept as a code and its parameters (in `CalendarFeed.last_error`, as JSON, and in
the failure notice's data), and written out in words only when shown: the body's page, the
API and the email each speak their reader's language.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext, gettext_lazy, ngettext

from proposals.attachments import file_size_text

FEED_MESSAGES: dict[str, Any] = {
    "refused": gettext_lazy("The feed's address is refused: %(detail)s"),
    "unreachable": gettext_lazy("The feed's server could not be reached: %(detail)s"),
    "http": gettext_lazy("The feed's server answered with HTTP status %(status)s."),
    "redirects": gettext_lazy("The feed's server redirects too many times."),
    "redirect_bad": gettext_lazy("The feed's server redirects to an address that is not a URL."),
    "too_big": gettext_lazy("The feed is larger than %(limit)s: it was not read."),
    "not_ical": gettext_lazy(
        "The feed is not an iCalendar file (it does not begin with BEGIN:VCALENDAR)."
    ),
    "unreadable": gettext_lazy("The feed could not be read as iCalendar: %(detail)s"),
}
"""Why a whole reading failed: nothing of it was imported."""

EVENT_MESSAGES: dict[str, Any] = {
    "no_uid": gettext_lazy("It has no UID, so it cannot be followed from one reading to the next."),
    "duplicate_uid": gettext_lazy("Another event of the feed has the same UID."),
    "no_start": gettext_lazy("It has no start date."),
    "bad_date": gettext_lazy("Its dates cannot be read: %(detail)s"),
    "unknown_zone": gettext_lazy("Its time zone %(zone)s is unknown."),
    "ends_before_start": gettext_lazy("It ends before it starts."),
}
"""Why one event was skipped: the feed's other events were imported."""

EVENTS_LISTED = 50
"""At most this many skipped events are listed (the count says how many there were)."""


def _said(messages: dict[str, Any], code: str, params: dict[str, Any]) -> str:
    message = messages.get(code)
    if message is None:
        return code
    if "limit" in params and isinstance(params["limit"], int):
        params = {**params, "limit": file_size_text(params["limit"])}
    try:
        return str(message) % params if params else str(message)
    except (KeyError, TypeError, ValueError):
        return str(message)


@dataclass(frozen=True)
class EventProblem:
    """One event the import skipped, and why."""

    uid: str
    summary: str
    code: str
    params: dict[str, Any] = field(default_factory=dict)

    def text(self) -> str:
        return _said(EVENT_MESSAGES, self.code, self.params)

    def as_data(self) -> dict[str, Any]:
        return {"uid": self.uid, "summary": self.summary, "code": self.code, "params": self.params}


class FeedError(Exception):
    """A reading that failed as a whole: nothing it brought was imported."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params

    def text(self) -> str:
        return _said(FEED_MESSAGES, self.code, self.params)

    def __str__(self) -> str:
        return self.text()


@dataclass(frozen=True)
class FeedReport:
    """What the last reading of a feed found wrong, ready to show: the reason and the events
    skipped. Empty when the reading went well."""

    code: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    events: list[EventProblem] = field(default_factory=list)
    events_skipped: int = 0

    def __bool__(self) -> bool:
        return bool(self.code or self.events_skipped)

    @property
    def reason(self) -> str:
        """The reason in words: why the reading failed, or how many events were skipped."""
        if self.code:
            return _said(FEED_MESSAGES, self.code, self.params)
        if self.events_skipped:
            return ngettext(
                "%(count)d event of the feed could not be read; the others were imported.",
                "%(count)d events of the feed could not be read; the others were imported.",
                self.events_skipped,
            ) % {"count": self.events_skipped}
        return ""

    def as_json(self) -> str:
        return json.dumps(
            {
                "code": self.code,
                "params": self.params,
                "events": [problem.as_data() for problem in self.events[:EVENTS_LISTED]],
                "events_skipped": self.events_skipped,
            },
            ensure_ascii=False,
            sort_keys=True,
        )

    def lines(self) -> list[str]:
        """Each skipped event in words: its name, its UID and why."""
        return [
            gettext("“%(summary)s” (UID %(uid)s): %(reason)s")
            % {"summary": problem.summary, "uid": problem.uid or "–", "reason": problem.text()}
            for problem in self.events
        ]


def feed_report(last_error: str) -> FeedReport:
    """The report kept in a feed's `last_error` (JSON), or an empty one; text that is not
    such JSON is shown as it is."""
    if not last_error:
        return FeedReport()
    try:
        data = json.loads(last_error)
    except ValueError:
        return FeedReport(code="unreadable", params={"detail": last_error[:500]})
    if not isinstance(data, dict):
        return FeedReport()
    events = [
        EventProblem(
            uid=str(item.get("uid", "")),
            summary=str(item.get("summary", "")),
            code=str(item.get("code", "")),
            params=dict(item.get("params") or {}),
        )
        for item in data.get("events") or []
        if isinstance(item, dict)
    ]
    return FeedReport(
        code=str(data.get("code") or ""),
        params=dict(data.get("params") or {}),
        events=events,
        events_skipped=int(data.get("events_skipped") or len(events)),
    )
