"""Calendar downloads: a person's feed behind a secret link, and one occasion's .ics.

Calendar apps poll feeds every few minutes: every answer carries an ETag and a Last-Modified,
HEAD answers like GET, and a conditional request for what the app already has is a 304 that
reads the calendar's facts but writes no iCalendar.
"""

from __future__ import annotations

import logging
import re
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
)
from proposals.models import Occasion, Person

logger = logging.getLogger(__name__)

CONTENT_TYPE = "text/calendar; charset=utf-8"

# The URL-safe base64 alphabet of secrets.token_urlsafe, at most the column's 64 characters.
CALENDAR_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,64}")

VALIDATOR_KEPT = timedelta(days=30)
"""How long the time a calendar's version was first served is remembered (then it is now)."""


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
    request: HttpRequest, facts: CalendarFacts, scope: str, filename: str, *, attachment: bool
) -> HttpResponse:
    """The calendar, or a 304 when the app already has this version."""
    etag = facts.etag()
    changed_at = calendar_changed_at(scope, etag)
    response = HttpResponse(content_type=CONTENT_TYPE)
    disposition = "attachment" if attachment else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    response["Cache-Control"] = "private, max-age=300"
    response["X-Robots-Tag"] = "noindex"
    response["Content-Language"] = facts.language
    response["ETag"] = etag
    response["Last-Modified"] = http_date(changed_at.timestamp())
    conditional = get_conditional_response(
        request, etag=etag, last_modified=int(changed_at.timestamp()), response=response
    )
    if conditional is not None and conditional is not response:
        conditional["Content-Language"] = facts.language
        return conditional
    # HEAD too: the same headers, Content-Length included; the server sends no body.
    response.content = calendar_render(facts)
    return response


@require_safe
def person_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The feed a calendar app subscribes to; the token in the link is the only credential."""
    if not CALENDAR_TOKEN_SHAPE.fullmatch(token):
        raise Http404("No calendar has this link; it may have been renewed.")
    person = Person.objects.filter(calendar_token=token, is_active=True).first()
    if person is None:
        raise Http404("No calendar has this link; it may have been renewed.")
    return _ics(
        request,
        person_calendar_facts(person),
        f"person-{person.pk}",
        "deadlines.ics",
        attachment=False,
    )


@require_safe
@login_or_api_token_required
def occasion_download(request: HttpRequest, pk: int) -> HttpResponse:
    """One occasion and its submission deadline, to add to a calendar; for a person signed in
    or a script with an API token."""
    occasion = get_object_or_404(Occasion, pk=pk)
    return _ics(
        request,
        occasion_calendar_facts(occasion, request.user),
        f"occasion-{occasion.pk}-person-{request.user.pk}",
        f"occasion-{occasion.pk}.ics",
        attachment=True,
    )
