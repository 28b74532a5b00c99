"""Calendar downloads: a person's feed behind a secret link, and one occasion's .ics.

Calendar apps poll feeds every few minutes: every answer carries an ETag and a Last-Modified,
HEAD answers like GET, and a conditional request for what the app already has is a 304 that
reads the calendar's facts but writes no iCalendar.

A person's feed, once written, is kept in the cache with its ETag under its fingerprint
(feeds.person_calendar_fingerprint) for FEED_KEPT: while the fingerprint is the same, a poll
reads the person and their roles, and answers the kept text or a 304, without reading the
facts or writing the iCalendar again. When the fingerprint changed (a write somewhere, a new
day) the facts are read again, but the iCalendar is only written again if they changed too
(another ETag): most writes change nothing a given feed shows.
"""

from __future__ import annotations

import logging
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.cache import get_conditional_response
from django.utils.http import http_date
from django.views.decorators.http import require_safe

from proposals.accounts import login_or_api_token_required
from proposals.calendars.feeds import (
    CalendarFacts,
    calendar_render,
    occasion_calendar_facts,
    person_calendar_facts,
    person_calendar_fingerprint,
)
from proposals.models import Occasion, Person

logger = logging.getLogger(__name__)

CONTENT_TYPE = "text/calendar; charset=utf-8"

# The URL-safe base64 alphabet of secrets.token_urlsafe, at most the column's 64 characters.
CALENDAR_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,64}")

VALIDATOR_KEPT = timedelta(days=30)
"""How long the time a calendar's version was first served is remembered (then it is now)."""

FEED_KEPT = timedelta(hours=1)
"""How long a person's written feed is kept in the cache. Its fingerprint already changes with
everything it shows; this bounds how late a write that no model signal sees (raw SQL) shows."""


@dataclass(frozen=True)
class KeptFeed:
    """A person's feed as last written: the fingerprint it was last found under, its
    validator, language and text (compressed: about a seventh of its size)."""

    fingerprint: str
    etag: str
    language: str
    compressed: bytes

    @property
    def body(self) -> bytes:
        return zlib.decompress(self.compressed)


def _kept_feed_key(person: Person) -> str:
    return f"calendar-feed:person-{person.pk}"


def kept_feed(person: Person) -> KeptFeed | None:
    """The person's feed as last kept, whatever its fingerprint; None when the cache does not
    answer."""
    try:
        kept = cache.get(_kept_feed_key(person))
    except Exception:
        logger.warning("The calendar feeds' cache did not answer.", exc_info=True)
        return None
    if isinstance(kept, tuple) and len(kept) == 4:
        return KeptFeed(*kept)
    return None


def feed_keep(person: Person, kept: KeptFeed) -> None:
    """Keep the person's feed, in place of the one kept before."""
    values = (kept.fingerprint, kept.etag, kept.language, kept.compressed)  # no class pickled
    try:
        cache.set(_kept_feed_key(person), values, FEED_KEPT.total_seconds())
    except Exception:
        logger.warning("The calendar feeds' cache did not answer.", exc_info=True)


def calendar_changed_at(scope: str, etag: str) -> datetime:
    """Since when the calendar `scope` has been the version `etag`: the time it was first
    served as that version, to the second. A new version is always later than the previous
    one, even within the same second, so If-Modified-Since never hides a change."""
    key = f"calendar-version:{scope}"
    now = timezone.now().replace(microsecond=0)
    try:
        remembered = cache.get(key)
        if remembered is not None:
            remembered_etag, remembered_since = remembered
            if remembered_etag == etag:
                return datetime.fromtimestamp(remembered_since, tz=UTC)
            now = max(now, datetime.fromtimestamp(remembered_since + 1, tz=UTC))
        cache.set(key, (etag, int(now.timestamp())), VALIDATOR_KEPT.total_seconds())
    except Exception:  # the cache is down: now, so a client that polls by date gets it all
        logger.warning("The calendar versions' cache did not answer.", exc_info=True)
    return now


def _ics(
    request: HttpRequest,
    etag: str,
    language: str,
    write: Callable[[], bytes],
    scope: str,
    filename: str,
    *,
    attachment: bool,
) -> HttpResponse:
    """The calendar `write` writes, or a 304 when the app already has this version."""
    changed_at = calendar_changed_at(scope, etag)
    response = HttpResponse(content_type=CONTENT_TYPE)
    disposition = "attachment" if attachment else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    response["Cache-Control"] = "private, max-age=300"
    response["X-Robots-Tag"] = "noindex"
    response["Content-Language"] = language
    response["ETag"] = etag
    response["Last-Modified"] = http_date(changed_at.timestamp())
    conditional = get_conditional_response(
        request, etag=etag, last_modified=int(changed_at.timestamp()), response=response
    )
    if conditional is not None and conditional is not response:
        conditional["Content-Language"] = language
        return conditional
    # HEAD too: the same headers, Content-Length included; the server sends no body.
    response.content = write()
    return response


def _facts_ics(
    request: HttpRequest, facts: CalendarFacts, scope: str, filename: str, *, attachment: bool
) -> HttpResponse:
    return _ics(
        request,
        facts.etag(),
        facts.language,
        lambda: calendar_render(facts),
        scope,
        filename,
        attachment=attachment,
    )


@require_safe
def person_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The feed a calendar app subscribes to; the token in the link is the only credential."""
    if not CALENDAR_TOKEN_SHAPE.fullmatch(token):
        raise Http404("No calendar has this link; it may have been renewed.")
    person = Person.objects.filter(calendar_token=token, is_active=True).first()
    if person is None:
        raise Http404("No calendar has this link; it may have been renewed.")
    now = timezone.now()
    scope = f"person-{person.pk}"
    fingerprint = person_calendar_fingerprint(person, now)
    kept = kept_feed(person) if fingerprint is not None else None
    if kept is not None and kept.fingerprint == fingerprint:
        return _ics(
            request,
            kept.etag,
            kept.language,
            lambda: kept.body,
            scope,
            "deadlines.ics",
            attachment=False,
        )
    facts = person_calendar_facts(person, now)
    etag = facts.etag()
    if fingerprint is not None and kept is not None and kept.etag == etag:
        # Nothing it shows changed: the kept text, found under the new fingerprint from now on.
        same = KeptFeed(fingerprint, etag, kept.language, kept.compressed)
        feed_keep(person, same)
        return _ics(
            request,
            etag,
            same.language,
            lambda: same.body,
            scope,
            "deadlines.ics",
            attachment=False,
        )

    def write() -> bytes:
        body = calendar_render(facts, now)
        if fingerprint is not None:
            written = KeptFeed(fingerprint, etag, facts.language, zlib.compress(body, 1))
            feed_keep(person, written)
        return body

    return _ics(request, etag, facts.language, write, scope, "deadlines.ics", attachment=False)


@require_safe
@login_or_api_token_required
def occasion_download(request: HttpRequest, pk: int) -> HttpResponse:
    """One occasion and its submission deadline, to add to a calendar; for a person signed in
    or a script with an API token."""
    occasion = get_object_or_404(Occasion, pk=pk)
    return _facts_ics(
        request,
        occasion_calendar_facts(occasion, request.user),
        f"occasion-{occasion.pk}-person-{request.user.pk}",
        f"occasion-{occasion.pk}.ics",
        attachment=True,
    )
