"""A person's own settings: language, time zone, notifications by kind, the calendar link."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from proposals import notifications, people, services
from proposals.web.forms import NotificationModesForm, SettingsForm
from proposals.web.views.common import PersonRequest, language_cookie_set, posted
from proposals.web.views.occasions import calendar_url

# My settings


@login_required
def settings_page(request: PersonRequest) -> HttpResponse:
    """The person's own language, time zone and notifications, and how each kind of notice
    reaches them: the forms validate; proposals.people and proposals.notifications save and
    audit what changed (an unchanged form writes nothing)."""
    form = SettingsForm(posted(request), instance=request.user)
    notify = NotificationModesForm(
        posted(request), groups=notifications.notification_modes_of(request.user)
    )
    if request.method == "POST" and form.is_valid() and notify.is_valid():
        with transaction.atomic():
            # The modes first, compared with those shown (before a change of the daily digest):
            # a kind left as shown keeps following the digest setting.
            notifications.notification_modes_set(
                person=request.user, wanted=notify.wanted(), actor=request.user, request=request
            )
            person = people.person_settings_update(
                person=request.user, request=request, **form.cleaned_data
            )
        translation.activate(person.language)
        messages.success(request, _("Your settings are saved."))
        response = redirect("proposals:settings")
        return language_cookie_set(response, person.language)
    return render(
        request,
        "proposals/settings.html",
        {"form": form, "notify": notify, "calendar_url": calendar_url(request)},
        status=400 if form.errors or notify.errors else 200,
    )


@login_required
@require_POST
def calendar_token_renew(request: PersonRequest) -> HttpResponse:
    """A new calendar link: the old one stops working."""
    services.calendar_token_regenerate(person=request.user)
    messages.success(request, _("Your calendar has a new link; the old link no longer works."))
    return redirect("proposals:settings")
