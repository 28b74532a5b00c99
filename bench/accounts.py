"""Signing the benchmark's people in: API tokens, and page sessions that count as verified by a
second factor (the secretariat must use one)."""

from __future__ import annotations

from typing import Any

from django.contrib.sessions.backends.base import SessionBase
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from proposals.accounts import SESSION_HAS_DEVICE, api_token_create
from proposals.models import ApiToken


def api_token_key(person: Any) -> str:
    """The secret of a new login token of the person (it lasts API_LOGIN_TOKEN_HOURS)."""
    _token, key = api_token_create(person=person, kind=ApiToken.Kind.LOGIN, name="Benchmark")
    return key


def session_verified(session: SessionBase, person: Any) -> None:
    """Mark a signed-in session as verified by the person's authenticator app (one is made)."""
    device = TOTPDevice.objects.filter(user=person, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=person, name="Benchmark app", confirmed=True)
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session[SESSION_HAS_DEVICE] = True
    session.save()
