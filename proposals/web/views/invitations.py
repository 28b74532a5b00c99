"""Invitation pages: the secretariat lists, sends, resends and revokes invitations; the invited
person accepts one without being signed in; everyone's first visit shows what awaits them."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from proposals import invitations
from proposals.accounts import session_confirm
from proposals.localized import zone_choices
from proposals.models import Invitation, Language, Organization, Role
from proposals.selectors import roles_of
from proposals.web.views.common import (
    PersonRequest,
    language_cookie_set,
    page_with_query,
    posted,
)
from workflow.errors import Refused

INVITATION_PAGE_SIZE = 50
SESSION_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _secretariat_check(request: HttpRequest) -> None:
    roles = roles_of(request.user)
    if not roles.secretariat_or_superuser:
        raise PermissionDenied(_("Only the secretariat can invite people."))


def _refusal_to_form(
    form: forms.Form, refused: Refused, fields: dict[str, str] | None = None
) -> None:
    """The refusal's reasons on the form's fields (`fields` renames the service's), else above
    the form."""
    for field, reasons in refused.errors.items():
        field = (fields or {}).get(field, field)
        for reason in reasons:
            form.add_error(field if field in form.fields else None, reason)
    if not refused.errors:
        for reason in refused.reasons:
            form.add_error(None, reason)


class InvitationForm(forms.Form):
    email = forms.EmailField(label=gettext_lazy("Email address"), max_length=254)
    first_name = forms.CharField(label=gettext_lazy("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=gettext_lazy("Last name"), max_length=150, required=False)
    organization = forms.ModelChoiceField(
        label=gettext_lazy("Organisation"),
        queryset=Organization.objects.exclude(status=Organization.Status.FORMER).order_by("name"),
        help_text=gettext_lazy("The person acts for this organisation only."),
    )
    roles = forms.MultipleChoiceField(
        label=gettext_lazy("Roles"),
        choices=Role.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    language = forms.ChoiceField(
        label=gettext_lazy("Language of the invitation"),
        choices=Language.choices,
        help_text=gettext_lazy("The email and the page of the link are in this language."),
    )


# The secretariat's pages


@login_required
def invitation_list(request: PersonRequest) -> HttpResponse:
    """Every invitation, newest first, narrowed to one status on demand."""
    _secretariat_check(request)
    status = request.GET.get("status", "")
    if status not in invitations.STATUS_LABELS:
        status = ""
    page, query = page_with_query(
        request, invitations.invitations_with_status(status), INVITATION_PAGE_SIZE
    )
    for invitation in page.object_list:
        invitation.status = invitations.invitation_status(invitation)
        invitation.status_label = invitations.STATUS_LABELS[invitation.status]
        invitation.roles_text = invitations.roles_text(invitation.roles)
    return render(
        request,
        "proposals/invitations/list.html",
        {
            "page": page,
            "query": query,
            "status": status,
            "statuses": [(code, str(label)) for code, label in invitations.STATUS_LABELS.items()],
        },
    )


@login_required
def invitation_create(request: PersonRequest) -> HttpResponse:
    """Invite a person by email to an organisation with roles."""
    _secretariat_check(request)
    form = InvitationForm(posted(request), initial={"language": request.user.language})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            invitation = invitations.invitation_create(
                actor=request.user,
                email=data["email"],
                organization=data["organization"],
                roles=data["roles"],
                language=data["language"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                request=request,
            )
        except Refused as refused:
            _refusal_to_form(form, refused)
        else:
            messages.success(
                request,
                _("The invitation is on its way to %(email)s.") % {"email": invitation.email},
            )
            return redirect("proposals:invitation_list")
    return render(
        request,
        "proposals/invitations/create.html",
        {"form": form, "lifetime_days": settings.INVITATION_LIFETIME_DAYS},
        status=400 if form.errors else 200,
    )


def _invitation_write(
    request: PersonRequest,
    pk: int,
    write: Callable[..., Invitation],
    done: str,
) -> HttpResponse:
    _secretariat_check(request)
    invitation = get_object_or_404(Invitation, pk=pk)
    try:
        write(actor=request.user, invitation=invitation, request=request)
    except Refused as refused:
        for reason in refused.reasons:
            messages.error(request, reason)
    else:
        messages.success(request, done % {"email": invitation.email})
    return redirect("proposals:invitation_list")


@login_required
@require_POST
def invitation_resend(request: PersonRequest, pk: int) -> HttpResponse:
    """A new link goes out; the former one stops working."""
    return _invitation_write(
        request,
        pk,
        invitations.invitation_resend,
        _("A new link is on its way to %(email)s; the former link no longer works."),
    )


@login_required
@require_POST
def invitation_revoke(request: PersonRequest, pk: int) -> HttpResponse:
    """The link stops working."""
    return _invitation_write(
        request,
        pk,
        invitations.invitation_revoke,
        _("The invitation of %(email)s is withdrawn: its link no longer works."),
    )


# Accepting, without being signed in


class AcceptanceForm(forms.Form):
    username = forms.CharField(
        label=gettext_lazy("Username"),
        max_length=150,
        help_text=gettext_lazy(
            "You sign in with it. Letters, digits and @ . + - _ only; it does not change later."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "username"}),
    )
    password1 = forms.CharField(
        label=gettext_lazy("Password"),
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=gettext_lazy("Password again"),
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    language = forms.ChoiceField(label=gettext_lazy("Language"), choices=Language.choices)
    timezone = forms.ChoiceField(
        label=gettext_lazy("Time zone"),
        help_text=gettext_lazy(
            "Grouped by region: pick your city, or the nearest one in your time zone."
        ),
        widget=forms.Select(attrs={"data-zone-filter": gettext_lazy("Find a city or a country")}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        zones = cast(forms.ChoiceField, self.fields["timezone"])
        zones.choices = zone_choices("UTC")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("The two passwords differ: type the same one twice."))
        return cleaned


def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """The page of the link: choose a username, a password, a language and a time zone; the
    account is made, signed in, and sent to set up two-factor authentication where its roles
    require it, then to its first visit. In the invitation's language."""
    try:
        invitation = invitations.invitation_by_token(token)
    except invitations.InvitationUnusable as unusable:
        with translation.override(unusable.language):
            return render(
                request,
                "proposals/invitations/unusable.html",
                {"reasons": unusable.reasons},
                status=410 if unusable.found else 404,
            )
    with translation.override(invitation.language):
        form = AcceptanceForm(
            posted(request), initial={"language": invitation.language, "timezone": "UTC"}
        )
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                person = invitations.invitation_accept(
                    token=token,
                    username=data["username"],
                    password=data["password1"],
                    language=data["language"],
                    timezone_name=data["timezone"],
                    request=request,
                )
            except invitations.InvitationUnusable as unusable:
                return render(
                    request,
                    "proposals/invitations/unusable.html",
                    {"reasons": unusable.reasons},
                    status=410,
                )
            except Refused as refused:
                _refusal_to_form(form, refused, {"password": "password1"})
            else:
                login(request, person, backend=SESSION_BACKEND)
                session_confirm(request)
                response = redirect("proposals:home")
                return language_cookie_set(response, person.language)
        return render(
            request,
            "proposals/invitations/accept.html",
            {
                "form": form,
                "invitation": invitation,
                "roles_text": invitations.roles_text(invitation.roles),
                "two_factor": Role.SECRETARIAT in invitation.roles,
            },
            status=400 if form.errors else 200,
        )


# The first visit


@login_required
def welcome(request: PersonRequest) -> HttpResponse:
    """What the person can do with their roles, how reminders work and where the notification
    settings are; seeing it once is enough (`welcomed_at`)."""
    person = request.user
    page = render(
        request,
        "proposals/invitations/welcome.html",
        {"welcome": invitations.welcome_of(person)},
    )
    invitations.person_welcome(person=person, request=request)
    return page


def welcome_first(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The page `view`, except on a person's first visit: the welcome page in its place."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user: Any = request.user
        if user.is_authenticated and user.welcomed_at is None:
            return welcome(cast(PersonRequest, request))
        return view(request, *args, **kwargs)

    return wrapper
