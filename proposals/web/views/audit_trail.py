"""The audit trail's pages: the whole trail for the secretariat, and "My activity" for
everyone (the entries they made or that concern them), each with its CSV."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from proposals.audit_trail import (
    TrailFilterForm,
    action_choices,
    audit_trail,
    organizations_for_filter,
    reads_everything,
    trail_entries,
    trail_people_csv_response,
)
from proposals.web.views.common import PersonRequest, page_with_query

TRAIL_PAGE_SIZE = 50


def _secretariat_only(request: PersonRequest) -> None:
    if not reads_everything(request.user):
        raise PermissionDenied(_("Only the secretariat can read the whole audit trail."))


def _trail_page(request: PersonRequest, *, everyone: bool) -> HttpResponse:
    form = TrailFilterForm(request.GET or None)
    context: dict[str, Any] = {
        "form": form,
        "everyone": everyone,
        "actions": action_choices(),
        "organizations": organizations_for_filter() if everyone else [],
        "reads_everything": reads_everything(request.user),
    }
    if form.is_bound and not form.is_valid():
        context.update(page=None, entries=[], query="")
        return render(request, "proposals/audit_trail.html", context, status=400)
    where = form.trail_filter() if form.is_bound else None
    rows = audit_trail(request.user, where, mine=not everyone)
    page, query = page_with_query(request, rows, TRAIL_PAGE_SIZE)
    csv_query = request.GET.copy()
    csv_query.pop("page", None)
    context.update(
        page=page,
        query=query,
        entries=trail_entries(page.object_list),
        csv_query=csv_query.urlencode(),
    )
    return render(request, "proposals/audit_trail.html", context)


def _trail_csv(request: PersonRequest, *, everyone: bool, filename: str) -> HttpResponseBase:
    form = TrailFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        return _trail_page(request, everyone=everyone)
    where = form.trail_filter() if form.is_bound else None
    return trail_people_csv_response(
        audit_trail(request.user, where, mine=not everyone),
        zone=timezone.get_current_timezone(),
        filename=filename,
    )


@login_required
def audit_trail_page(request: PersonRequest) -> HttpResponse:
    """The whole trail, newest first, filtered: for the secretariat."""
    _secretariat_only(request)
    return _trail_page(request, everyone=True)


@login_required
def audit_trail_csv(request: PersonRequest) -> HttpResponseBase:
    """The whole trail as the page filters it, as CSV in the reader's language and zone."""
    _secretariat_only(request)
    return _trail_csv(request, everyone=True, filename="audit-trail.csv")


@login_required
def my_activity(request: PersonRequest) -> HttpResponse:
    """What I did and what was done about me: every person's own part of the trail."""
    return _trail_page(request, everyone=False)


@login_required
def my_activity_csv(request: PersonRequest) -> HttpResponseBase:
    return _trail_csv(request, everyone=False, filename="my-activity.csv")
