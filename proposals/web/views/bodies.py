"""Bodies: the list, and one body's page with its calendar feeds (their status and last
reading's problems), the occasions they brought, and the secretariat's forms to attach a feed
URL, upload a .ics, read a feed now, turn its reading off or on, or remove it."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from proposals import calendar_import
from proposals.localized import ZoneSelect
from proposals.models import Body, CalendarFeed, Occasion
from proposals.selectors import roles_of
from proposals.web.views.common import PersonRequest, posted, refusal_to_form
from workflow.errors import Refused

IMPORTED_LISTED = 100
"""At most this many imported occasions are listed per feed (the newest by start)."""


class FeedRulesForm(forms.Form):
    """How a feed's events become occasions."""

    name = forms.CharField(label=gettext_lazy("Name"), max_length=200, required=False)
    occasion_kind = forms.ChoiceField(
        label=gettext_lazy("Kind of its occasions"), choices=Occasion.Kind.choices
    )
    deadline_rule = forms.ChoiceField(
        label=gettext_lazy("Submission deadline"),
        choices=CalendarFeed.Deadline.choices,
        help_text=gettext_lazy(
            "The event's end (a consultation), or a number of days before its start (a summit)."
        ),
    )
    lead_days = forms.IntegerField(
        label=gettext_lazy("Lead time in days"), min_value=0, max_value=365, initial=14
    )
    default_timezone = forms.CharField(
        label=gettext_lazy("Time zone"),
        initial="UTC",
        widget=ZoneSelect,
        help_text=gettext_lazy("For events whose times name no zone."),
    )


class FeedUrlForm(FeedRulesForm):
    url = forms.URLField(
        label=gettext_lazy("Feed URL"),
        max_length=500,
        assume_scheme="https",
        help_text=gettext_lazy("The address of the body's published iCalendar (.ics) feed."),
    )
    field_order = ["url", "name"]


class FeedUploadForm(FeedRulesForm):
    file = forms.FileField(
        label=gettext_lazy("iCalendar file (.ics)"),
        help_text=gettext_lazy("Imported once; upload it again to the same feed to update."),
    )
    field_order = ["file", "name"]


def _secretariat(request: PersonRequest) -> bool:
    roles = roles_of(request.user)
    return roles.secretariat_or_superuser


@login_required
def body_list(request: PersonRequest) -> HttpResponse:
    """Every body proposals are addressed to, with how many feeds and occasions each has."""
    bodies = Body.objects.annotate(
        feed_count=Count("feeds", distinct=True), occasion_count=Count("occasions", distinct=True)
    ).order_by("name")
    return render(request, "proposals/body_list.html", {"bodies": bodies})


def _feeds_of(body: Body) -> list[CalendarFeed]:
    feeds: list[CalendarFeed] = list(
        CalendarFeed.objects.filter(body=body)
        .annotate(occasion_count=Count("occasions"))
        .order_by("pk")
    )
    for feed in feeds:
        feed.report = calendar_import.feed_report(feed.last_error)  # type: ignore[attr-defined]
    return feeds


@login_required
def body_detail(request: PersonRequest, pk: int) -> HttpResponse:
    body = get_object_or_404(Body, pk=pk)
    may_edit = _secretariat(request)
    url_form = FeedUrlForm(prefix="url")
    upload_form = FeedUploadForm(prefix="upload")
    if request.method == "POST":
        if not may_edit:
            raise PermissionDenied(_("Only the secretariat can manage calendar feeds."))
        if "url-url" in request.POST:
            url_form = FeedUrlForm(posted(request), prefix="url")
            if url_form.is_valid():
                try:
                    calendar_import.calendar_feed_create(
                        actor=request.user, body=body, request=request, **url_form.cleaned_data
                    )
                except Refused as refused:
                    refusal_to_form(url_form, refused)
                else:
                    messages.success(
                        request, _("The feed is attached; it is read now and every hour.")
                    )
                    return redirect("proposals:body_detail", pk=body.pk)
        else:
            upload_form = FeedUploadForm(posted(request), request.FILES, prefix="upload")
            if upload_form.is_valid():
                data = dict(upload_form.cleaned_data)
                upload = data.pop("file")
                try:
                    _feed, result = calendar_import.calendar_feed_upload(
                        actor=request.user,
                        body=body,
                        content=upload.read(),
                        request=request,
                        **data,
                    )
                except Refused as refused:
                    refusal_to_form(upload_form, refused)
                else:
                    _imported_message(request, result)
                    return redirect("proposals:body_detail", pk=body.pk)
    feeds = _feeds_of(body)
    occasions = (
        Occasion.objects.filter(body=body)
        .select_related("feed")
        .order_by("-starts_on", "pk")[:IMPORTED_LISTED]
    )
    return render(
        request,
        "proposals/body_detail.html",
        {
            "body": body,
            "feeds": feeds,
            "occasions": occasions,
            "may_edit": may_edit,
            "url_form": url_form,
            "upload_form": upload_form,
        },
        status=400 if request.method == "POST" else 200,
    )


def _imported_message(request: PersonRequest, result: calendar_import.ImportResult) -> None:
    counts = result.counts
    if result.status == CalendarFeed.Status.FAILED:
        messages.warning(request, _("The feed was read with problems: see its report below."))
    else:
        messages.success(
            request,
            _("Read: %(created)d new, %(changed)d changed, %(cancelled)d cancelled.")
            % {
                "created": counts["created"],
                "changed": len(set(result.updated) | set(result.moved)),
                "cancelled": counts["cancelled"],
            },
        )


def _feed_for_secretariat(request: PersonRequest, pk: int, feed_pk: int) -> CalendarFeed:
    if not _secretariat(request):
        raise PermissionDenied(_("Only the secretariat can manage calendar feeds."))
    return get_object_or_404(CalendarFeed.objects.select_related("body"), pk=feed_pk, body_id=pk)


@login_required
@require_POST
def feed_read_now(request: PersonRequest, pk: int, feed_pk: int) -> HttpResponse:
    feed = _feed_for_secretariat(request, pk, feed_pk)
    if feed.url:
        result = calendar_import.calendar_feed_read(feed_id=feed.pk)
        if result.status == CalendarFeed.Status.NOT_MODIFIED:
            messages.info(request, _("The feed has not changed since its last reading."))
        else:
            _imported_message(request, result)
    return redirect("proposals:body_detail", pk=pk)


@login_required
@require_POST
def feed_active_toggle(request: PersonRequest, pk: int, feed_pk: int) -> HttpResponse:
    feed = _feed_for_secretariat(request, pk, feed_pk)
    try:
        calendar_import.calendar_feed_update(
            actor=request.user, feed=feed, changes={"active": not feed.active}, request=request
        )
    except Refused as refused:
        for reason in refused.reasons:
            messages.error(request, str(reason))
    return redirect("proposals:body_detail", pk=pk)


@login_required
@require_POST
def feed_remove(request: PersonRequest, pk: int, feed_pk: int) -> HttpResponse:
    feed = _feed_for_secretariat(request, pk, feed_pk)
    calendar_import.calendar_feed_delete(actor=request.user, feed=feed, request=request)
    messages.success(request, _("The feed is removed; the occasions it brought stay."))
    return redirect("proposals:body_detail", pk=pk)


@login_required
@require_POST
def occasion_unpin(request: PersonRequest, pk: int) -> HttpResponse:
    """Let the occasion's feed write a field edited by hand again."""
    if not _secretariat(request):
        raise PermissionDenied(_("Only the secretariat can manage calendar feeds."))
    occasion = get_object_or_404(Occasion, pk=pk)
    name = request.POST.get("field", "")
    if name in calendar_import.IMPORTED_FIELDS:
        calendar_import.occasion_unpin(
            actor=request.user, occasion=occasion, field_name=name, request=request
        )
        messages.success(request, _("The feed updates this field again from its next reading."))
    return redirect("proposals:occasion_detail", pk=pk)
