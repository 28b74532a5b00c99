"""The client's address comes from X-Forwarded-For only behind proxies the settings declare."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse

from config.proxy import forwarded_client_address
from tests.factories import Group
from workflow.models import AuditEvent

SOCKET = "10.0.0.5"


@pytest.fixture(autouse=True)
def own_cache(settings: Any) -> None:
    """A fresh local cache for the throttle counts, so no test sees another's (nor Redis's)."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"throttle-{uuid.uuid4()}",
        }
    }


def failed_login(username: str, forwarded_for: str) -> Any:
    return Client(REMOTE_ADDR=SOCKET).post(
        reverse("login"),
        {"username": username, "password": "wrong"},
        HTTP_X_FORWARDED_FOR=forwarded_for,
    )


def reset_event_address(email: str, forwarded_for: str) -> str | None:
    Client(REMOTE_ADDR=SOCKET).post(
        reverse("password_reset"), {"email": email}, HTTP_X_FORWARDED_FOR=forwarded_for
    )
    return AuditEvent.objects.security().get(action="password.reset_requested").ip_address


@pytest.mark.parametrize(
    ("header", "count", "expected"),
    [
        ("198.51.100.7", 1, "198.51.100.7"),
        ("6.6.6.6, 198.51.100.7", 1, "198.51.100.7"),
        ("6.6.6.6, 198.51.100.7, 192.0.2.1", 2, "198.51.100.7"),
        ("2001:db8::1", 1, "2001:db8::1"),
        ("198.51.100.7", 2, None),
        ("not-an-address", 1, None),
        ("", 1, None),
        ("198.51.100.7", 0, None),
    ],
)
def test_the_client_is_the_hop_the_outermost_trusted_proxy_saw(
    header: str, count: int, expected: str | None
) -> None:
    assert forwarded_client_address(header, count) == expected


@pytest.mark.django_db
def test_without_a_trusted_proxy_a_spoofed_forwarded_for_changes_no_lockout_key(
    group: Group,
) -> None:
    for n in range(5):
        failed_login("claire", f"203.0.113.{n}")
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {SOCKET}
    locked = Client(REMOTE_ADDR=SOCKET).post(
        reverse("login"),
        {"username": "claire", "password": "demo"},
        HTTP_X_FORWARDED_FOR="203.0.113.99",
    )
    assert locked.status_code == 429


@pytest.mark.django_db
def test_without_a_trusted_proxy_the_audit_trail_records_the_socket_address(
    group: Group,
) -> None:
    assert reset_event_address(group.drafter.email, "203.0.113.9") == SOCKET


@pytest.mark.django_db
def test_behind_a_trusted_proxy_each_client_has_its_own_lockout(
    group: Group, settings: Any
) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    for n in range(5):
        failed_login("claire", f"6.6.6.6, 203.0.113.{n}")
    addresses = set(AccessAttempt.objects.values_list("ip_address", flat=True))
    assert addresses == {f"203.0.113.{n}" for n in range(5)}
    elsewhere = Client(REMOTE_ADDR=SOCKET).post(
        reverse("login"),
        {"username": "claire", "password": "demo"},
        HTTP_X_FORWARDED_FOR="203.0.113.99",
    )
    assert elsewhere.status_code == 302


@pytest.mark.django_db
def test_behind_a_trusted_proxy_the_audit_trail_records_the_forwarded_client(
    group: Group, settings: Any
) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    assert reset_event_address(group.drafter.email, "6.6.6.6, 203.0.113.9") == "203.0.113.9"
