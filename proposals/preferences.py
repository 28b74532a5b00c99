"""A signed-in person's language and time zone, made the request's own (pages and API alike)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone, translation


def person_zone(person: Any) -> dt.tzinfo:
    """The person's saved time zone; the site's own when theirs is not a known zone."""
    try:
        return zoneinfo.ZoneInfo(getattr(person, "timezone", "UTC"))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return timezone.get_default_timezone()


def preferences_activate(request: HttpRequest, person: Any, *, switcher_wins: bool) -> None:
    """Speak the person's saved language and show times in their zone for this request.

    With `switcher_wins`, a language picked with the switcher (its cookie) is kept.
    """
    languages = dict(settings.LANGUAGES)
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    keep_chosen = switcher_wins and chosen in languages
    if not keep_chosen and getattr(person, "language", "") in languages:
        translation.activate(person.language)
        request.LANGUAGE_CODE = person.language
    timezone.activate(person_zone(person))
