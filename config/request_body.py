"""The most bytes a request body may hold, per route: a larger body is answered 413 before any
middleware or view reads it (JSON in the API's refusal shape under /api/, a page elsewhere).

Every route takes at most settings.DATA_UPLOAD_MAX_MEMORY_SIZE (REQUEST_BODY_MAX_BYTES), a bit
above the longest text a form or JSON body may carry. A route that takes more, such as an upload
of attachments, declares its own limit with @request_body_limit(bytes) (config.request_limits)
on its view function or view class; its files are multipart parts, which Django does not count
against the global limit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _

from config.request_limits import LIMIT_ATTRIBUTE
from config.request_limits import request_body_limit as request_body_limit
from proposals.api.errors import refusal_body


def body_limit_for(request: HttpRequest) -> int:
    """The most bytes the route of the request takes: its view's own limit, or the global one."""
    try:
        view: Any = resolve(request.path_info).func
    except Resolver404:
        return settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    for holder in (view, getattr(view, "cls", None), getattr(view, "view_class", None)):
        limit = getattr(holder, LIMIT_ATTRIBUTE, None)
        if limit is not None:
            return int(limit() if callable(limit) else limit)
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def declared_length(request: HttpRequest) -> int:
    """The body's length as the client declares it (Django reads no more than that)."""
    try:
        return max(int(request.META.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0


def too_large(request: HttpRequest, length: int, limit: int) -> HttpResponse:
    if limit == settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
        advice = _("Shorten the text and send it again.")
    else:  # a route that takes files
        advice = _("Send a smaller file.")
    reason = _(
        "The request holds %(size)s, more than the %(limit)s this address accepts. %(advice)s"
    ) % {"size": filesizeformat(length), "limit": filesizeformat(limit), "advice": advice}
    if request.path.startswith("/api/"):
        return JsonResponse(refusal_body([reason], status=413), status=413)
    return render(request, "413.html", {"reason": reason}, status=413)


class RequestBodyLimitMiddleware:
    """Answer 413 to a request whose body is longer than its route accepts."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        length = declared_length(request)
        if length:
            limit = body_limit_for(request)
            if length > limit:
                return too_large(request, length, limit)
        return self.get_response(request)
