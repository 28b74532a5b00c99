"""The notification centre, and following a proposal or an occasion from its page."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.dateparse import parse_datetime
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from proposals import following, notification_centre
from proposals.models import Occasion
from proposals.web.views.common import PersonRequest, page_with_query, visible_proposal
from workflow.errors import Refused

NOTIFICATIONS_PER_PAGE = 50


@login_required
def notification_list(request: PersonRequest) -> HttpResponse:
    """The person's notices, newest first, grouped by proposal: all of them, or the unread
    ones (?unread=1). Four queries whatever the page size (the session, the count, the page,
    and the header's unread count)."""
    unread_only = request.GET.get("unread") == "1"
    rows = notification_centre.notifications_of(request.user, unread=True if unread_only else None)
    page, query = page_with_query(request, rows, NOTIFICATIONS_PER_PAGE)
    return render(
        request,
        "proposals/notifications.html",
        {
            "page": page,
            "query": query,
            "groups": notification_centre.notification_groups(list(page.object_list)),
            "unread_only": unread_only,
        },
    )


def _back(request: PersonRequest) -> HttpResponse:
    """Back where the form was, if it is a page of this site; else to the centre."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect("proposals:notifications")


@login_required
@require_POST
def notification_read(request: PersonRequest, pk: int) -> HttpResponse:
    """Mark one notice read; someone else's notice is not found."""
    try:
        notification_centre.notification_mark_read(
            person=request.user, notification_id=pk, request=request
        )
    except Refused:
        raise Http404 from None
    return _back(request)


@login_required
@require_POST
def notifications_read_all(request: PersonRequest) -> HttpResponse:
    """Mark every unread notice read."""
    count = notification_centre.notifications_mark_all_read(person=request.user, request=request)
    if count:
        messages.success(request, _("Every notification is marked read."))
    return _back(request)


@login_required
@require_POST
def proposal_follow(request: PersonRequest, pk: int) -> HttpResponse:
    """Follow (`follow=1`) or unfollow the proposal; one the person may not see is not found."""
    proposal = visible_proposal(request, pk)
    if request.POST.get("follow") == "1":
        following.follow_start(person=request.user, proposal=proposal, request=request)
        messages.success(request, _("You follow this proposal."))
    else:
        following.follow_stop(person=request.user, proposal=proposal, request=request)
        messages.success(request, _("You no longer follow this proposal."))
    return redirect("proposals:proposal_detail", pk=proposal.pk)


@login_required
@require_POST
def occasion_follow(request: PersonRequest, pk: int) -> HttpResponse:
    """Follow (`follow=1`) or unfollow the occasion and the proposals timed to it."""
    occasion = get_object_or_404(Occasion, pk=pk)
    try:
        if request.POST.get("follow") == "1":
            following.follow_start(person=request.user, occasion=occasion, request=request)
            messages.success(request, _("You follow this occasion and its proposals."))
        else:
            following.follow_stop(person=request.user, occasion=occasion, request=request)
            messages.success(request, _("You no longer follow this occasion."))
    except Refused as refused:
        for reason in refused.reasons:
            messages.error(request, reason)
    return redirect("proposals:occasion_detail", pk=occasion.pk)


SINCE_KEY = "notifications_counting_from"


def since_last_visit(request: PersonRequest) -> dict[str, Any]:
    """The dashboard's "since your last visit": what changed since the previous visit (kept
    in the session for the visit's later views), grouped by proposal; two queries (the visit's
    mark, the notices), and the session's save once a visit."""
    first_visit = request.user.last_visit_at is None
    stored = parse_datetime(request.session.get(SINCE_KEY) or "")
    since = notification_centre.visit_record(request.user, counting_from=stored)
    if request.session.get(SINCE_KEY) != since.isoformat():  # saved once a visit
        request.session[SINCE_KEY] = since.isoformat()
    rows = notification_centre.changes_since(request.user, since)
    return {
        "since": since,
        "first_visit": first_visit and not rows,
        "count": len(rows),
        "groups": notification_centre.notification_groups(rows),
        "more": len(rows) >= notification_centre.SINCE_LAST_VISIT_ROWS,
    }
