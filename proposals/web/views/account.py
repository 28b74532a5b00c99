"""Account pages: logging in with a second factor, setting it up, recovery codes, API tokens,
and the password pages that revoke a person's tokens."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import logout, user_login_failed
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm, SetPasswordForm
from django.contrib.auth.views import LoginView, PasswordChangeView, PasswordResetConfirmView
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from proposals.accounts import (
    SCRIPT_TOKEN_MAX_DAYS,
    SESSION_HAS_DEVICE,
    api_token_create,
    api_token_revoke,
    api_tokens_active,
    password_set,
    recovery_codes_renew,
    second_factor_check,
    session_confirm,
    session_two_factor_verified,
    totp_device_of,
    totp_device_start,
    totp_secret,
    two_factor_disable,
    two_factor_enable,
    two_factor_required,
)
from proposals.models import ApiToken


def _next_url(request: HttpRequest, default: str = "/") -> str:
    """Where to go after this page: the `next` asked for, when it is a path of this site."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=32,
        help_text=gettext_lazy(
            "The six digits your authenticator app shows now, or one of your recovery codes."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True}),
    )


class TokenCreateForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=100,
        help_text=gettext_lazy("What the token is for, such as the name of the script."),
    )
    expires_on = forms.DateField(
        label=gettext_lazy("Expires on"),
        help_text=gettext_lazy("A year from today at most."),
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def clean_expires_on(self) -> dt.date:
        expires_on: dt.date = self.cleaned_data["expires_on"]
        today = timezone.localdate()
        if expires_on <= today:
            raise ValidationError(_("Choose a date after today."))
        if expires_on > today + dt.timedelta(days=SCRIPT_TOKEN_MAX_DAYS):
            raise ValidationError(_("A token lasts a year at most: choose an earlier date."))
        return expires_on

    def expires_at(self) -> dt.datetime:
        """The start of the chosen day, in the person's time zone."""
        return timezone.make_aware(
            dt.datetime.combine(self.cleaned_data["expires_on"], dt.time.min)
        )


# Logging in


class SignInView(LoginView):
    """Django's login; a person with an authenticator app then types its code."""

    form_class = AuthenticationForm

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_valid(form)
        session_confirm(self.request)
        has_device = totp_device_of(form.get_user()) is not None
        self.request.session[SESSION_HAS_DEVICE] = has_device
        if has_device:
            query = urlencode({"next": self.get_success_url()})
            return HttpResponseRedirect(f"{reverse('otp_verify')}?{query}")
        return response


@login_required
def otp_verify(request: HttpRequest) -> HttpResponse:
    """The second step of logging in: the code of the app, or a recovery code."""
    person: Any = request.user
    next_url = _next_url(request)
    if person.is_verified() or totp_device_of(person) is None:
        return HttpResponseRedirect(next_url)
    form = CodeForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        device = second_factor_check(person, form.cleaned_data["code"], request)
        if device is not None:
            session_two_factor_verified(request, device)
            return HttpResponseRedirect(next_url)
        user_login_failed.send(
            sender=__name__, credentials={"username": person.get_username()}, request=request
        )
        if getattr(request, "axes_locked_out", False):
            setattr(request, "axes_locked_out", False)  # noqa: B010
            logout(request)
            messages.error(
                request, _("Too many wrong codes: the account is locked for a while. Try later.")
            )
            return redirect("login")
        form.add_error(
            "code",
            _("This code is wrong or was used already: type the current code, or a recovery code."),
        )
    return render(
        request,
        "registration/otp_verify.html",
        {"form": form, "next": next_url},
        status=400 if form.errors else 200,
    )


# Password pages: Django's forms check the passwords; proposals.accounts.password_set saves
# the new one, records the security event and revokes every API token of the person.


class AuditedPasswordChangeForm(PasswordChangeForm):
    request: HttpRequest | None = None

    def save(self, commit: bool = True) -> Any:
        return password_set(
            person=self.user,
            password=self.cleaned_data["new_password1"],
            action="password.changed",
            request=self.request,
        )


class AuditedSetPasswordForm(SetPasswordForm):
    request: HttpRequest | None = None

    def save(self, commit: bool = True) -> Any:
        return password_set(
            person=self.user,
            password=self.cleaned_data["new_password1"],
            action="password.reset",
            request=self.request,
        )


class PasswordChangeRevokingView(PasswordChangeView):
    """Django's password change, saved by proposals.accounts.password_set: audited, told to the
    person, and the person's API tokens stop working."""

    form_class = AuditedPasswordChangeForm

    def get_form(self, form_class: Any = None) -> Any:
        form: Any = super().get_form(form_class)
        form.request = self.request
        return form


class PasswordResetConfirmRevokingView(PasswordResetConfirmView):
    """Django's choice of a new password from a reset link, saved by
    proposals.accounts.password_set like a change."""

    form_class = AuditedSetPasswordForm

    def get_form(self, form_class: Any = None) -> Any:
        form: Any = super().get_form(form_class)
        form.request = self.request
        return form


# API tokens


@login_required
def api_tokens_page(request: HttpRequest) -> HttpResponse:
    """The person's working tokens, and a form to make a named one for a script."""
    person: Any = request.user
    created: tuple[ApiToken, str] | None = None
    form = TokenCreateForm(
        request.POST if request.method == "POST" else None,
        initial={"expires_on": timezone.localdate() + dt.timedelta(days=90)},
    )
    if form.is_valid():
        try:
            created = api_token_create(
                person=person,
                kind=ApiToken.Kind.SCRIPT,
                name=form.cleaned_data["name"],
                expires_at=form.expires_at(),
                request=request,
            )
        except ValidationError as error:
            form.add_error("expires_on", error)
        else:
            form = TokenCreateForm(
                initial={"expires_on": timezone.localdate() + dt.timedelta(days=90)}
            )
    return render(
        request,
        "proposals/account/api_tokens.html",
        {
            "tokens": api_tokens_active(person),
            "form": form,
            "created": created[0] if created else None,
            "secret": created[1] if created else "",
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def api_token_revoke_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Revoke one of the person's own tokens."""
    token = get_object_or_404(api_tokens_active(request.user), pk=pk)
    api_token_revoke(token=token, actor=request.user, request=request)
    messages.success(request, _("The token “%(name)s” no longer works.") % {"name": token.name})
    return redirect("proposals:api_tokens")


# Two-factor authentication


@login_required
def two_factor_page(request: HttpRequest) -> HttpResponse:
    """Whether the person uses an authenticator app, and what they can do about it."""
    person: Any = request.user
    device = totp_device_of(person)
    return render(
        request,
        "proposals/account/two_factor.html",
        {
            "device": device,
            "required": two_factor_required(person),
            "recovery_codes_left": _recovery_codes_left(person),
            "form": CodeForm(),
        },
    )


def _recovery_codes_left(person: Any) -> int:
    from django_otp.plugins.otp_static.models import StaticToken

    return StaticToken.objects.filter(device__user=person, device__confirmed=True).count()


def _qr_svg(uri: str) -> str:
    """The address as a QR code, an inline SVG drawn on the server (segno is imported by the
    few requests that draw one)."""
    import segno

    return segno.make(uri, error="m").svg_inline(scale=4, dark="#111", light="#fff")


@login_required
def two_factor_enrol(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator app: scan or type the secret, then type the code it shows."""
    person: Any = request.user
    if totp_device_of(person) is not None and not person.is_verified():
        return redirect(f"{reverse('otp_verify')}?{urlencode({'next': request.get_full_path()})}")
    device = totp_device_start(person)
    form = CodeForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        codes = two_factor_enable(
            person=person, device=device, code=form.cleaned_data["code"], request=request
        )
        if codes is not None:
            messages.success(request, _("Two-factor authentication is on."))
            return render(
                request,
                "proposals/account/recovery_codes.html",
                {"codes": codes, "next": _next_url(request, reverse("proposals:two_factor"))},
            )
        form.add_error(
            "code", _("This code is wrong: type the six digits the app shows now, then send.")
        )
    return render(
        request,
        "proposals/account/two_factor_enrol.html",
        {
            "form": form,
            "secret": totp_secret(device),
            "uri": device.config_url,
            "qr_svg": _qr_svg(device.config_url),
            "required": two_factor_required(person),
            "next": _next_url(request, ""),
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def recovery_codes_page(request: HttpRequest) -> HttpResponse:
    """Ten new recovery codes, shown this once; the former ones stop working."""
    person: Any = request.user
    if totp_device_of(person) is None:
        messages.error(request, _("Set up an authenticator app first."))
        return redirect("proposals:two_factor")
    codes = recovery_codes_renew(person=person, request=request)
    return render(
        request,
        "proposals/account/recovery_codes.html",
        {"codes": codes, "next": reverse("proposals:two_factor")},
    )


@login_required
@require_POST
def two_factor_disable_page(request: HttpRequest) -> HttpResponse:
    """Turn two-factor authentication off, with a current code; not for those who must use it."""
    person: Any = request.user
    if two_factor_required(person):
        messages.error(
            request,
            _("The secretariat and administrators must use two-factor authentication."),
        )
        return redirect("proposals:two_factor")
    form = CodeForm(request.POST)
    device = totp_device_of(person)
    if device is None:
        return redirect("proposals:two_factor")
    if not form.is_valid() or second_factor_check(person, form.cleaned_data["code"]) is None:
        messages.error(request, _("The code is wrong: two-factor authentication stays on."))
        return redirect("proposals:two_factor")
    two_factor_disable(person=person, request=request)
    messages.success(request, _("Two-factor authentication is off."))
    return redirect("proposals:two_factor")
