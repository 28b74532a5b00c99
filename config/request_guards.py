"""A guard in front of every view: text that no database column can hold is refused with a 400."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _

from proposals.api.errors import refusal_body

NUL = "\x00"
FORM_CONTENT_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _holds_nul(texts: Iterable[str]) -> bool:
    return any(NUL in text for text in texts)


def _query_texts(request: HttpRequest) -> Iterable[str]:
    for key, values in request.GET.lists():
        yield key
        yield from values


def _form_texts(request: HttpRequest) -> Iterable[str]:
    for key, values in request.POST.lists():
        yield key
        yield from (value for value in values if isinstance(value, str))


def _header_texts(request: HttpRequest) -> Iterable[str]:
    return (
        value
        for key, value in request.META.items()
        if key.startswith("HTTP_") and isinstance(value, str)
    )


def refused_part(request: HttpRequest) -> str | None:
    """Which part of the request holds a NUL character: its reason, or None when none does."""
    if NUL in request.path:
        return _("The address holds a NUL character (U+0000). Remove it and try again.")
    if _holds_nul(_query_texts(request)):
        return _("A query parameter holds a NUL character (U+0000). Remove it and try again.")
    if _holds_nul(_header_texts(request)):
        return _("A request header holds a NUL character. Remove it and try again.")
    if request.method == "POST" and request.content_type in FORM_CONTENT_TYPES:
        try:
            if _holds_nul(_form_texts(request)):
                return _("A form field holds a NUL character. Remove it and try again.")
        except MultiPartParserError:
            return _("The form data could not be read: send it again as a well-formed form.")
    return None


def bad_request(request: HttpRequest, reason: str) -> HttpResponse:
    """A 400 in the API's refusal shape under /api/, as plain text elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse(refusal_body([reason], status=400), status=400)
    return HttpResponseBadRequest(reason, content_type="text/plain; charset=utf-8")


class UnstorableTextGuardMiddleware:
    """Answer 400 to a request whose path, query, headers or form fields hold a NUL character.

    PostgreSQL text cannot hold NUL, so such a value would crash the first query it reaches;
    no legitimate address, search or form needs one.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        reason = refused_part(request)
        if reason is not None:
            return bad_request(request, reason)
        return self.get_response(request)
