"""What every page family shares: the request type, visibility, paging, refusals as messages."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.templatetags.static import static

from proposals.models import (
    Person,
    Proposal,
)
from proposals.selectors import (
    proposals_visible_to,
    proposals_with_rule_data,
)
from workflow.errors import Refused


class PersonRequest(HttpRequest):
    """A request of a signed-in person: every page but login is behind login_required."""

    user: Person


PAGE_SIZE = 25


def refusal_to_messages(request: PersonRequest, refused: Refused) -> None:
    for reason in refused.reasons:
        messages.error(request, reason)


def visible_proposal(request: PersonRequest, pk: int) -> Proposal:
    """The proposal with what the rules read, or 404 when this person may not see it."""
    queryset = proposals_with_rule_data(proposals_visible_to(request.user))
    return get_object_or_404(queryset, pk=pk)


HEADING_TAG = re.compile(r"<(/?)h([1-6])\b")


def demote_headings(html: str, under: int = 2) -> str:
    """Headings of a rendered text nested under the page's own `h<under>`: the text's highest
    level becomes the next one (h3 under an h2), each further level used in the text the next
    again, so that the outline skips no level ("#" then "###" become h3 then h4); h6 at most."""
    used = sorted({int(level) for _slash, level in HEADING_TAG.findall(html)})
    levels = {level: min(under + 1 + rank, 6) for rank, level in enumerate(used)}
    return HEADING_TAG.sub(lambda m: f"<{m.group(1)}h{levels[int(m.group(2))]}", html)


def page_with_query(request: HttpRequest, items: Any, size: int) -> tuple[Any, str]:
    """The page the request asks for, and its query string without `page` for the links."""
    page = Paginator(items, size).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return page, query.urlencode()


def posted(request: HttpRequest) -> Any:
    """The posted data for a bound form, or None on GET (an empty POST is still a POST)."""
    return request.POST if request.method == "POST" else None


def version_param(value: str | None) -> int | None:
    """A version number a page sent, or None when it is absent or not a positive number."""
    if not value or not (value.isascii() and value.isdigit()):
        return None
    number = int(value)
    return number if 1 <= number < 2**31 else None


def seen_version(request: HttpRequest, proposal: Proposal) -> int:
    """The version of the proposal the person acts on: the one the proposal's page showed (its
    links carry `?version=`), else the one this page shows."""
    return version_param(request.GET.get("version")) or proposal.version


def is_htmx(request: PersonRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico where a page names none (the admin)."""
    return redirect(static("proposals/favicon.svg"), permanent=True)


def refusal_to_form(form: Form, refused: Refused) -> None:
    for field, errors in refused.errors.items():
        for error in errors:
            form.add_error(field if field in form.fields else None, error)
    if not refused.errors:
        for reason in refused.reasons:
            form.add_error(None, reason)


def language_cookie_set(response: HttpResponse, language: str) -> HttpResponse:
    """The pages speak `language` from the next request on, signed in or not (Django's cookie)."""
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
    )
    return response
