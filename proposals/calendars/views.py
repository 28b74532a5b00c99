"""Calendar downloads: a person's feed behind a secret link, and one occasion's .ics."""

from __future__ import annotations

import re

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from proposals.calendars.feeds import occasion_calendar, person_calendar
from proposals.models import Occasion, Person

CONTENT_TYPE = "text/calendar; charset=utf-8"

# The URL-safe base64 alphabet of secrets.token_urlsafe, at most the column's 64 characters.
CALENDAR_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _ics(body: bytes, filename: str, *, attachment: bool) -> HttpResponse:
    response = HttpResponse(body, content_type=CONTENT_TYPE)
    disposition = "attachment" if attachment else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    response["Cache-Control"] = "private, max-age=300"
    response["X-Robots-Tag"] = "noindex"
    return response


@require_GET
def person_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The feed a calendar app subscribes to; the token in the link is the only credential."""
    if not CALENDAR_TOKEN_SHAPE.fullmatch(token):
        raise Http404("No calendar has this link; it may have been renewed.")
    person = Person.objects.filter(calendar_token=token, is_active=True).first()
    if person is None:
        raise Http404("No calendar has this link; it may have been renewed.")
    return _ics(person_calendar(person), "deadlines.ics", attachment=False)


@require_GET
@login_required
def occasion_download(request: HttpRequest, pk: int) -> HttpResponse:
    """One occasion and its submission deadline, to add to a calendar."""
    occasion = get_object_or_404(Occasion, pk=pk)
    return _ics(
        occasion_calendar(occasion, request.user), f"occasion-{occasion.pk}.ics", attachment=True
    )
