"""Pages about a person's own account: the change of email address, and security events."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from proposals import people
from proposals.filtersets import SECURITY_EVENT_SORTS, sorted_by
from proposals.security import SECURITY_EVENTS, security_event_label, security_events_visible_to
from proposals.selectors import roles_of
from proposals.web.views.common import page_with_query
from workflow.errors import RefusalKind, Refused

SECURITY_PAGE_SIZE = 50


class EmailChangeForm(forms.Form):
    email = forms.EmailField(label=gettext_lazy("New email address"), max_length=254)
    password = forms.CharField(
        label=gettext_lazy("Your current password"),
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


def _posted(request: HttpRequest) -> Any:
    return request.POST if request.method == "POST" else None


@login_required
def email_change(request: HttpRequest) -> HttpResponse:
    """Ask for a new address: a link goes to it, and the current address is told."""
    person: Any = request.user
    form = EmailChangeForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            people.email_change_request(
                person=person,
                new_email=form.cleaned_data["email"],
                password=form.cleaned_data["password"],
                request=request,
            )
        except Refused as refused:
            for field, reasons in refused.errors.items():
                for reason in reasons:
                    form.add_error(field if field in form.fields else None, reason)
        else:
            messages.success(
                request,
                _(
                    "We sent a link to %(email)s. Your address changes when you open it, "
                    "signed in; until then your current address stays."
                )
                % {"email": form.cleaned_data["email"]},
            )
            return redirect("proposals:settings")
    return render(
        request,
        "proposals/email_change.html",
        {"form": form},
        status=400 if form.errors else 200,
    )


@login_required
def email_change_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """Show the change a link is for; confirming it changes the address."""
    person: Any = request.user
    try:
        _pending, new_email = people.email_change_pending(token, person)
        if request.method == "POST":
            people.email_change_confirm(token=token, person=person, request=request)
            messages.success(
                request, _("Your email address is now %(email)s.") % {"email": new_email}
            )
            return redirect("proposals:settings")
    except Refused as refused:
        return render(
            request,
            "proposals/email_change_confirm.html",
            {"reasons": refused.reasons},
            status=403 if refused.kind == RefusalKind.PERMISSION else 400,
        )
    return render(
        request,
        "proposals/email_change_confirm.html",
        {"new_email": new_email, "current_email": person.email},
    )


def _security_events_page(request: HttpRequest, *, everyone: bool) -> HttpResponse:
    events = security_events_visible_to(request.user)
    if not everyone:
        events = events.filter(subject_id=request.user.pk)
    action = request.GET.get("action", "")
    if action in SECURITY_EVENTS:
        events = events.filter(action=action)
    username = request.GET.get("person", "").strip()[:150]
    if everyone and username:
        events = events.filter(subject__username=username)
    events = sorted_by(events, request.GET.get("sort", ""), SECURITY_EVENT_SORTS)
    page, query = page_with_query(request, events, SECURITY_PAGE_SIZE)
    for event in page.object_list:
        event.label = security_event_label(event.action)
    return render(
        request,
        "proposals/security_events.html",
        {
            "page": page,
            "query": query,
            "everyone": everyone,
            "actions": [(code, str(label)) for code, label in SECURITY_EVENTS.items()],
            "action": action,
            "person_filter": username,
        },
    )


@login_required
def security_events_mine(request: HttpRequest) -> HttpResponse:
    """What happened on my account: logins that failed, tokens, roles, address changes."""
    return _security_events_page(request, everyone=False)


@login_required
def security_events(request: HttpRequest) -> HttpResponse:
    """Every security event of the group: for the secretariat."""
    roles = roles_of(request.user)
    if not roles.secretariat_or_superuser:
        raise PermissionDenied(_("Only the secretariat can read every security event."))
    return _security_events_page(request, everyone=True)
