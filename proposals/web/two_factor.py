"""Pages ask for the second factor: a signed-in person with an authenticator app types its code
before anything else opens; the secretariat and superusers set one up first."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from proposals.accounts import session_two_factor_missing

# Open to a session that still lacks its second factor, whatever it lacks.
OPEN_PREFIXES = ("/static/", "/i18n/", "/api/", "/calendar/", "/favicon.ico")
# Open to a session that must type its code, or that must first set up an app.
OPEN_ROUTES = {
    "verify": ("otp_verify", "logout"),
    "enrol": ("proposals:two_factor_enrol", "logout"),
}


class TwoFactorMiddleware:
    """Send a session without its second factor to the code page, or to set up an app."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if not path.startswith(OPEN_PREFIXES):
            missing = session_two_factor_missing(request)
            if missing and path not in {reverse(name) for name in OPEN_ROUTES[missing]}:
                target = reverse(OPEN_ROUTES[missing][0])
                return redirect(f"{target}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)
