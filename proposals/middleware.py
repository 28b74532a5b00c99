"""Pages speak the signed-in person's language and show times in their time zone."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation


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
    try:
        timezone.activate(zoneinfo.ZoneInfo(getattr(person, "timezone", "UTC")))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        timezone.deactivate()


class PersonPreferencesMiddleware:
    """Activate the person's saved language (unless they picked one with the language switcher)
    and their time zone, for every request of a signed-in person."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        person = getattr(request, "user", None)
        if person is not None and person.is_authenticated:
            preferences_activate(request, person, switcher_wins=True)
        else:
            timezone.deactivate()
        return self.get_response(request)
