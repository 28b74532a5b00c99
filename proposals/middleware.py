"""Pages speak the signed-in person's language and show times in their time zone."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation


class PersonPreferencesMiddleware:
    """Activate the person's saved language (unless they picked one with the language switcher)
    and their time zone, for every request of a signed-in person."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        person = getattr(request, "user", None)
        if person is not None and person.is_authenticated:
            languages = dict(settings.LANGUAGES)
            chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
            if chosen not in languages and person.language in languages:
                translation.activate(person.language)
                request.LANGUAGE_CODE = person.language
            try:
                timezone.activate(zoneinfo.ZoneInfo(person.timezone))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()
        else:
            timezone.deactivate()
        return self.get_response(request)
