"""Pages speak the signed-in person's language and show times in their time zone."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from proposals.preferences import preferences_activate


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
