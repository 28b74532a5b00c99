"""Accounts: passwords, API tokens (stored hashed, named, expiring, revocable) and two-factor
authentication (a TOTP authenticator app, with single-use recovery codes).

The writes of credentials are audited (@audited). Three writes are bookkeeping that the audit
trail does not hold: when a token was last used (api_token_authenticate), an authenticator app
being set up but not yet confirmed (totp_device_start; its confirmation is otp.enabled), and
a device's counter of the last code accepted (totp_verify).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from base64 import b32decode, b32encode
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, Literal

from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from proposals.audited import SYSTEM, audited
from proposals.localized import date_text
from proposals.models import ApiToken, Person
from proposals.preferences import person_zone, preferences_activate
from proposals.security import security_event_record
from proposals.selectors import roles_from_json, roles_of, roles_read_with
from workflow.errors import RefusalKind, Refused
from workflow.models import AuditEvent

SCRIPT_TOKEN_MAX_DAYS = 365
LAST_USED_PRECISION = dt.timedelta(minutes=1)
RECENT_CONFIRMATION_MINUTES = 15
RECOVERY_CODE_COUNT = 10
TOTP_DEVICE_NAME = "Authenticator app"
RECOVERY_DEVICE_NAME = "Recovery codes"

# Session keys: when the person last typed their password or a code, and whether they have
# an authenticator app (read once per session rather than once per page).
SESSION_CONFIRMED_AT = "auth_confirmed_at"
SESSION_HAS_DEVICE = "otp_has_device"


# API tokens


def token_digest(key: str) -> str:
    """What is stored of a token: the SHA-256 of its secret, in hexadecimal."""
    return hashlib.sha256(key.encode()).hexdigest()


def login_token_lifetime() -> dt.timedelta:
    return dt.timedelta(hours=settings.API_LOGIN_TOKEN_HOURS)


def script_token_expiry_check(expires_at: dt.datetime, now: dt.datetime | None = None) -> None:
    """A script token expires in the future, a year from now at most."""
    now = now or timezone.now()
    if expires_at <= now:
        raise ValidationError(_("Choose an expiry date in the future."), code="expiry_past")
    if expires_at > now + dt.timedelta(days=SCRIPT_TOKEN_MAX_DAYS):
        raise ValidationError(
            _("A token lasts a year at most: choose an expiry date before %(date)s.")
            % {"date": date_text(now + dt.timedelta(days=SCRIPT_TOKEN_MAX_DAYS))},
            code="expiry_too_far",
        )


@audited("token.created")
@transaction.atomic
def api_token_create(
    *,
    person: Person,
    kind: str,
    name: str,
    expires_at: dt.datetime | None = None,
    actor: Any = None,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> tuple[ApiToken, str]:
    """A new token and its secret, which is not kept: login tokens last API_LOGIN_TOKEN_HOURS,
    script tokens until `expires_at` (a year at most)."""
    now = now or timezone.now()
    if kind == ApiToken.Kind.LOGIN:
        expires_at = now + login_token_lifetime()
    elif expires_at is None:
        raise ValidationError(_("Choose an expiry date."), code="expiry_missing")
    else:
        script_token_expiry_check(expires_at, now)
    key = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        person=person,
        kind=kind,
        name=name.strip()[:100] or _("Token"),
        prefix=key[:8],
        digest=token_digest(key),
        created_at=now,
        expires_at=expires_at,
    )
    security_event_record(
        action="token.created",
        subject=person,
        actor=actor if actor is not None else person,
        obj=token,
        after={"name": token.name, "kind": kind, "expires_at": expires_at.isoformat()},
        request=request,
        # A token from a login is made at every login of a script: no email for each.
        notify=kind == ApiToken.Kind.SCRIPT,
        now=now,
    )
    return token, key


PasswordEvent = Literal["password.changed", "password.reset"]


@audited("password.changed", "password.reset")
def password_set(
    *,
    person: Any,
    password: str | None,
    action: PasswordEvent = "password.changed",
    actor: Any = None,
    request: HttpRequest | None = None,
) -> Any:
    """Set the person's password (None: no password works any more), checked by the form
    beforehand. It is a security event the person is told of, and every API token of theirs
    stops working; `person` itself carries the new password afterwards (for its session)."""
    actor = actor if actor is not None else person
    with transaction.atomic():
        if password is None:
            person.set_unusable_password()
        else:
            person.set_password(password)
        person.save(update_fields=["password"])
        security_event_record(action=action, subject=person, actor=actor, request=request)
        person_tokens_revoke(person=person, reason=action, actor=actor, request=request)
    return person


def api_tokens_active(person: Any, now: dt.datetime | None = None) -> QuerySet[ApiToken]:
    """The person's tokens that still work, newest first."""
    return ApiToken.objects.filter(
        person=person, revoked_at__isnull=True, expires_at__gt=now or timezone.now()
    )


@audited("token.revoked")
@transaction.atomic
def api_token_revoke(
    *,
    token: ApiToken,
    actor: Any = None,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> None:
    """The token stops working at once."""
    now = now or timezone.now()
    if token.revoked_at is not None:
        return
    token.revoked_at = now
    token.save(update_fields=["revoked_at"])
    security_event_record(
        action="token.revoked",
        subject=token.person,
        actor=actor if actor is not None else token.person,
        obj=token,
        before={"name": token.name, "kind": token.kind},
        request=request,
        notify=token.kind == ApiToken.Kind.SCRIPT,
        now=now,
    )


@audited("token.revoked")
@transaction.atomic
def person_tokens_revoke(
    *,
    person: Any,
    reason: str,
    actor: Any = None,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> int:
    """Revoke every working token of the person (on a password change or reset, or when the
    account is deactivated); the number revoked.

    One security event records them all, without an email: the change that caused it
    is the one the person is told about.
    """
    now = now or timezone.now()
    tokens = ApiToken.objects.filter(person=person, revoked_at__isnull=True, expires_at__gt=now)
    names = list(tokens.values_list("name", flat=True))
    if not names:
        return 0
    count = tokens.update(revoked_at=now)
    security_event_record(
        action="token.revoked",
        subject=person,
        actor=actor,
        before={"names": names},
        after={"reason": reason, "count": count},
        request=request,
        notify=False,
        now=now,
    )
    return count


@dataclass
class TokenRefused(Exception):
    """A token that does not authenticate, and why."""

    reason: str


def api_token_authenticate(key: str, now: dt.datetime | None = None) -> ApiToken:
    """The working token whose secret is `key`, marked as used at most once a minute;
    TokenRefused says why a token does not work. One query reads the token, its person and
    the person's roles (`roles_of` finds them on the person, as of the person's local date)."""
    now = now or timezone.now()
    token = (
        roles_read_with(ApiToken.objects.select_related("person"), "person", now)
        .filter(digest=token_digest(key))
        .first()
    )
    if token is None:
        raise TokenRefused(
            _("This token is not known: check that it was copied whole, or create a new one.")
        )
    if token.revoked_at is not None:
        raise TokenRefused(
            _("This token was revoked on %(date)s: create a new one.")
            % {"date": date_text(token.revoked_at)}
        )
    if token.expires_at <= now:
        raise TokenRefused(
            _("This token expired on %(date)s: create a new one.")
            % {"date": date_text(token.expires_at)}
        )
    if not token.person.is_active:
        raise TokenRefused(_("This account is deactivated."))
    person_today = timezone.localdate(now, person_zone(token.person))
    roles_from_json(token.person, token.person_roles, now, person_today)
    if token.last_used_at is None or token.last_used_at <= now - LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


AUTHORIZATION_SCHEME = "Token"
"""The scheme of `Authorization: Token <token>`, for the API and the downloads scripts use."""


def api_token_from_header(header: bytes) -> ApiToken | None:
    """The working token of an `Authorization` header, None when the header names no token
    (absent, or another scheme); TokenRefused when it names one that does not work."""
    parts = header.split()
    if not parts or parts[0].lower() != AUTHORIZATION_SCHEME.lower().encode():
        return None
    if len(parts) != 2:
        raise TokenRefused(
            _("Send the header as `Authorization: Token <token>`, the token in one piece.")
        )
    try:
        key = parts[1].decode()
    except UnicodeError:
        raise TokenRefused(
            _("This token is not known: check that it was copied whole, or create a new one.")
        ) from None
    return api_token_authenticate(key)


def login_or_api_token_required(
    view: Callable[..., HttpResponseBase],
) -> Callable[..., HttpResponseBase]:
    """A page download for a signed-in person or for a script that sends its API token
    (`Authorization: Token <token>`): the request then acts as the token's person, in their
    language and time zone. A token that does not work is a 401 that says why, never the
    login page; without a token, the login page as for any page."""
    signed_in_view = login_required(view)

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            token = api_token_from_header(request.headers.get("Authorization", "").encode())
        except TokenRefused as refusal:
            refused = HttpResponse(
                refusal.reason, status=401, content_type="text/plain; charset=utf-8"
            )
            refused["WWW-Authenticate"] = AUTHORIZATION_SCHEME
            return refused
        if token is None:
            return signed_in_view(request, *args, **kwargs)
        request.user = token.person
        preferences_activate(request, token.person, switcher_wins=False)
        response = view(request, *args, **kwargs)
        patch_vary_headers(response, ["Authorization"])
        return response

    return wrapper


# Two-factor authentication


def two_factor_required(person: Any) -> bool:
    """The secretariat and superusers must use a second factor; others may."""
    return bool(person.is_superuser or roles_of(person).secretariat)


def totp_device_of(person: Any) -> TOTPDevice | None:
    """The person's confirmed authenticator app, if they set one up."""
    return TOTPDevice.objects.filter(user=person, confirmed=True).order_by("pk").first()


def totp_device_start(person: Any) -> TOTPDevice:
    """An authenticator app being set up (the same one until it is confirmed)."""
    device = TOTPDevice.objects.filter(user=person, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=person, name=TOTP_DEVICE_NAME, confirmed=False)
    return device


def totp_secret(device: TOTPDevice) -> str:
    """The device's secret in base32, as authenticator apps take it when typed."""
    return b32encode(device.bin_key).decode()


def totp_verify(device: TOTPDevice, code: str) -> bool:
    """Whether `code` is the device's current code (or one step either side) and was not
    used before: a code is accepted once."""
    with transaction.atomic():
        locked = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        verified = bool(locked.verify_token(code.strip().replace(" ", "")))
    device.refresh_from_db()
    return verified


@audited("otp.recovery_code_used")
def recovery_code_use(person: Any, code: str, request: HttpRequest | None = None) -> bool:
    """Whether `code` is one of the person's recovery codes; a code works once."""
    device = StaticDevice.objects.filter(user=person, confirmed=True).first()
    if device is None:
        return False
    normalized = code.strip().replace(" ", "").replace("-", "").lower()
    with transaction.atomic():
        locked = StaticDevice.objects.select_for_update().get(pk=device.pk)
        used = bool(locked.verify_token(normalized))
        if used:
            security_event_record(
                action="otp.recovery_code_used",
                subject=person,
                actor=person,
                after={"left": locked.token_set.count()},
                request=request,
            )
    return used


def second_factor_check(person: Any, code: str, request: HttpRequest | None = None) -> Any:
    """The device that accepts `code` (six digits: the app; else a recovery code), or None."""
    code = (code or "").strip().replace(" ", "")
    if not code:
        return None
    device = totp_device_of(person)
    if device is None:
        return None
    if code.isdigit() and len(code) == device.digits:
        return device if totp_verify(device, code) else None
    if recovery_code_use(person, code, request):
        return StaticDevice.objects.filter(user=person, confirmed=True).first()
    return None


@audited("otp.recovery_codes_renewed")
@transaction.atomic
def recovery_codes_renew(*, person: Any, request: HttpRequest | None = None) -> list[str]:
    """Ten new recovery codes, shown once; the former ones stop working."""
    device, _created = StaticDevice.objects.get_or_create(
        user=person, name=RECOVERY_DEVICE_NAME, defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    security_event_record(
        action="otp.recovery_codes_renewed", subject=person, actor=person, request=request
    )
    return codes


@audited("otp.enabled")
@transaction.atomic
def two_factor_enable(
    *, person: Any, device: TOTPDevice, code: str, request: HttpRequest | None = None
) -> list[str] | None:
    """Confirm the app being set up with its current code: it replaces any former app, and
    ten recovery codes are made. The codes, or None when the code is wrong."""
    if device.user_id != person.pk or device.confirmed or not totp_verify(device, code):
        return None
    TOTPDevice.objects.filter(user=person).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    security_event_record(action="otp.enabled", subject=person, actor=person, request=request)
    if request is not None:
        session_two_factor_verified(request, device)
    return recovery_codes_renew(person=person, request=request)


@audited("otp.enabled")
@transaction.atomic
def totp_device_install(
    *, person: Any, secret: str, actor: Any, request: HttpRequest | None = None
) -> TOTPDevice:
    """Give the person a confirmed authenticator app that holds `secret` (base32), in place of
    any former app and without recovery codes: an app set up outside the pages (the demo's
    documented one), by a superuser or the system. The pages use two_factor_enable."""
    if not (actor is SYSTEM or getattr(actor, "is_superuser", False)):
        raise Refused(
            RefusalKind.PERMISSION,
            [_("Only a superuser can give a person an authenticator app.")],
        )
    TOTPDevice.objects.filter(user=person).delete()
    device = TOTPDevice.objects.create(
        user=person, name=TOTP_DEVICE_NAME, key=b32decode(secret).hex(), confirmed=True
    )
    security_event_record(action="otp.enabled", subject=person, actor=actor, request=request)
    return device


@audited("otp.disabled")
@transaction.atomic
def two_factor_disable(
    *, person: Any, actor: Any = None, request: HttpRequest | None = None
) -> None:
    """Remove the person's app and recovery codes."""
    TOTPDevice.objects.filter(user=person).delete()
    StaticDevice.objects.filter(user=person).delete()
    security_event_record(
        action="otp.disabled",
        subject=person,
        actor=actor if actor is not None else person,
        request=request,
    )
    if request is not None and getattr(request.user, "pk", None) == person.pk:
        request.session.pop(DEVICE_ID_SESSION_KEY, None)
        request.session[SESSION_HAS_DEVICE] = False


# Sessions


def session_confirm(request: HttpRequest, now: dt.datetime | None = None) -> None:
    """Record that the person just confirmed who they are (password or code)."""
    request.session[SESSION_CONFIRMED_AT] = (now or timezone.now()).isoformat()


def session_two_factor_verified(request: HttpRequest, device: Any) -> None:
    """The session counts as verified by `device` from now on."""
    from django_otp import login as otp_login

    otp_login(request, device)
    request.session[SESSION_HAS_DEVICE] = True
    session_confirm(request)


def session_has_device(request: HttpRequest) -> bool:
    """Whether the signed-in person has an authenticator app (read once per session)."""
    known = request.session.get(SESSION_HAS_DEVICE)
    if known is None:
        known = totp_device_of(request.user) is not None
        request.session[SESSION_HAS_DEVICE] = known
    return bool(known)


def session_two_factor_missing(request: HttpRequest) -> str:
    """What the signed-in session still lacks: "verify" (the code of the app), "enrol" (an app,
    which the person must have), or "" when nothing is missing."""
    user: Any = request.user
    if not user.is_authenticated:
        return ""
    is_verified = getattr(user, "is_verified", None)
    if is_verified is not None and is_verified():
        return ""
    if session_has_device(request):
        return "verify"
    if two_factor_required(user):
        return "enrol"
    return ""


def recently_confirmed(request: Any, minutes: int = RECENT_CONFIRMATION_MINUTES) -> bool:
    """Whether the person confirmed who they are in the last `minutes`: in a session, with their
    password or a code; over the API, with a token from a login made that recently."""
    since = timezone.now() - dt.timedelta(minutes=minutes)
    auth = getattr(request, "auth", None)
    if isinstance(auth, ApiToken):
        return auth.kind == ApiToken.Kind.LOGIN and auth.created_at >= since
    session = getattr(request, "session", None)
    if session is None:
        return False
    confirmed_at = parse_datetime(session.get(SESSION_CONFIRMED_AT) or "")
    return confirmed_at is not None and confirmed_at >= since


def two_factor_verified(request: Any) -> bool:
    """Whether this request's person passed two-factor authentication: a session verified by
    a code, or an API token, which is issued only after the code to people who have an app."""
    user: Any = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    if isinstance(getattr(request, "auth", None), ApiToken):
        return totp_device_of(user) is not None
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified is not None and is_verified())


def identity_confirm(request: Any, *, password: str = "", code: str = "") -> bool:
    """Whether the person confirms who they are now, with their password (counted by the
    lockout like a login) or a two-factor code; a session remembers the moment."""
    from django.contrib.auth import authenticate

    user: Any = request.user
    confirmed = False
    if password:
        http_request = getattr(request, "_request", request)
        confirmed = (
            authenticate(http_request, username=user.get_username(), password=password) is not None
        )
    if not confirmed and code:
        confirmed = (
            second_factor_check(user, code, getattr(request, "_request", request)) is not None
        )
    if (
        confirmed
        and getattr(request, "session", None) is not None
        and not isinstance(getattr(request, "auth", None), ApiToken)
    ):
        session_confirm(getattr(request, "_request", request))
    return confirmed


def recent_confirmation_check(request: Any, *, password: str = "", code: str = "") -> None:
    """Refuse unless the person confirmed who they are lately or confirms it now."""
    from proposals import rules

    if recently_confirmed(request) or identity_confirm(request, password=password, code=code):
        return
    if password or code:
        wrong = [_("The password or the code is wrong.")]
        raise Refused(RefusalKind.INVALID, wrong, {"password": wrong})
    raise Refused(RefusalKind.PERMISSION, rules.endorse_confirmation_reasons(False))


# Failed logins and lockouts, from the pages and the API alike (django-axes counts them).


@receiver(user_login_failed, dispatch_uid="proposals.accounts.login_failed")
@audited("login.failed")
def login_failed_record(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    """A failed login is a security event about the person named, if there is one (no email)."""
    username = (credentials or {}).get("username") or ""
    person = Person.objects.filter(username=username).first() if username else None
    security_event_record(
        action="login.failed",
        subject=person,
        after={"username": str(username)[:150]},
        request=request,
        notify=False,
    )


@receiver(user_locked_out, dispatch_uid="proposals.accounts.locked_out")
@audited("login.locked_out")
def locked_out_record(
    sender: Any, request: HttpRequest | None = None, username: str = "", **kwargs: Any
) -> None:
    """A lockout is a security event; the person is told by email once per cool-off period,
    however many tries are refused meanwhile."""
    person = Person.objects.filter(username=username).first() if username else None
    now = timezone.now()
    cool_off = settings.AXES_COOLOFF_TIME or dt.timedelta(days=1)
    told_already = (
        person is not None
        and AuditEvent.objects.filter(
            action="login.locked_out", subject_id=person.pk, at__gte=now - cool_off
        ).exists()
    )
    security_event_record(
        action="login.locked_out",
        subject=person,
        after={"username": str(username or "")[:150]},
        request=request,
        notify=not told_already,
        now=now,
    )
