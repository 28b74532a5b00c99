"""Pages speak the signed-in person's language and show times in their time zone; a page that
is not there, or that the person may not see, is the project's 404 page in debug mode too."""

from __future__ import annotations

from collections.abc import Callable

from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.views import defaults

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


class NotFoundPageMiddleware:
    """A page's 404 (a proposal the person may not see, an unknown id) is the project's own page,
    in debug mode too, where Django would show its technical page listing every URL pattern.

    Addresses that match no pattern keep Django's handling (the technical page while debugging).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, Http404):
            return defaults.page_not_found(request, exception)
        return None
