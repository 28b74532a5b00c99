"""Sessions end after SESSION_IDLE_MINUTES without a request, and SESSION_MAX_HOURS after login.

The last request's time is written to the session at most once a minute, so a busy page does not
write the session on every request. A page request after the end is sent to the login page with
`?next=` the page it came from; the keep-alive endpoint lets the page's script (session.js) keep
the session while someone types, and say how long is left.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

LAST_SEEN_KEY = "_session_last_seen"
STARTED_KEY = "_session_started"
REFRESH_EVERY_SECONDS = 60


def idle_seconds_allowed() -> int:
    return int(settings.SESSION_IDLE_MINUTES) * 60


def session_seconds_left(request: HttpRequest, now: float | None = None) -> int:
    """Seconds before the session of `request` ends for want of activity (0 once it has)."""
    now = time.time() if now is None else now
    last_seen = request.session.get(LAST_SEEN_KEY, now)
    return max(0, int(last_seen + idle_seconds_allowed() - now))


def session_expired(request: HttpRequest, now: float) -> bool:
    """Whether the session was idle too long, or began longer ago than the absolute cap."""
    last_seen = request.session.get(LAST_SEEN_KEY)
    started = request.session.get(STARTED_KEY)
    idle_too_long = last_seen is not None and now - last_seen > idle_seconds_allowed()
    too_old = started is not None and now - started > settings.SESSION_COOKIE_AGE
    return idle_too_long or too_old


def page_to_return_to(request: HttpRequest) -> str:
    """The page to come back to after logging in: this one, or for a form sent, the form's page."""
    if request.method in ("GET", "HEAD"):
        return request.get_full_path()
    referer = request.META.get("HTTP_REFERER", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return referer
    return request.get_full_path()


def idle_signout_response(request: HttpRequest) -> HttpResponse | None:
    """The answer to a request that arrives after the session ended: to the login page.

    API requests and the keep-alive go on as anonymous ones, which their views refuse plainly.
    """
    if request.path.startswith("/api/") or request.path == reverse("proposals:session_keepalive"):
        return None
    messages.info(
        request,
        _(
            "You were signed out after %(minutes)s minutes without activity. Log in again to "
            "go on: what you were typing in this browser is kept."
        )
        % {"minutes": settings.SESSION_IDLE_MINUTES},
    )
    login_page = redirect_to_login(page_to_return_to(request))
    if request.headers.get("HX-Request"):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = login_page["Location"]
        return response
    return login_page


class IdleSessionMiddleware:
    """End a signed-in session idle longer than SESSION_IDLE_MINUTES or older than the cap."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = time.time()
            if session_expired(request, now):
                logout(request)
                answer = idle_signout_response(request)
                if answer is not None:
                    return answer
            else:
                session = request.session
                session.setdefault(STARTED_KEY, now)
                if now - session.get(LAST_SEEN_KEY, 0) >= REFRESH_EVERY_SECONDS:
                    session[LAST_SEEN_KEY] = now
        return self.get_response(request)


def session_timeout_context(request: HttpRequest) -> dict[str, Any]:
    """For pages: the seconds the signed-in session has left (None for anonymous people)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not hasattr(request, "session"):
        return {"session_seconds_left": None}
    return {"session_seconds_left": session_seconds_left(request)}


@require_POST
def session_keepalive(request: HttpRequest) -> JsonResponse:
    """Keep a signed-in session for another idle period; say how many seconds it now has left."""
    if not request.user.is_authenticated:
        return JsonResponse({"signed_in": False, "seconds_left": 0}, status=401)
    now = time.time()
    request.session[LAST_SEEN_KEY] = now
    return JsonResponse({"signed_in": True, "seconds_left": session_seconds_left(request, now)})
