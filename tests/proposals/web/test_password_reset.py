"""Asking for a password reset: links from SITE_URL, throttled, and silent about who exists."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import Group
from workflow.models import AuditEvent, Delivery

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def own_cache(settings: Any) -> None:
    """A fresh local cache for the throttle counts, so no test sees another's (nor Redis's)."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"throttle-{uuid.uuid4()}",
        }
    }


@pytest.fixture
def limits(settings: Any) -> None:
    settings.PASSWORD_RESET_LIMIT_PER_CLIENT = 5
    settings.PASSWORD_RESET_LIMIT_PER_EMAIL = 3


def reset_request(email: str, address: str = "203.0.113.7", **extra: Any) -> Any:
    return Client(REMOTE_ADDR=address).post(reverse("password_reset"), {"email": email}, **extra)


def test_the_reset_link_is_built_from_site_url_not_from_the_host_header(
    group: Group, mailoutbox: Any, settings: Any
) -> None:
    settings.ALLOWED_HOSTS = ["*"]
    settings.SITE_URL = "https://policy.example.org"
    reset_request(group.drafter.email, HTTP_HOST="attacker.example.net")
    assert len(mailoutbox) == 1
    body = mailoutbox[0].body
    assert "attacker.example.net" not in body
    assert "https://policy.example.org/accounts/reset/" in body


def test_a_reset_for_an_unknown_address_answers_the_same_page_and_sends_nothing(
    group: Group, mailoutbox: Any
) -> None:
    known = reset_request(group.drafter.email)
    unknown = reset_request("nobody-at-all@example.org", address="203.0.113.8")
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"] == reverse("password_reset_done")
    assert [message.to for message in mailoutbox] == [[group.drafter.email]]


def test_no_more_resets_are_sent_to_one_address_than_the_limit_allows(
    group: Group, mailoutbox: Any, limits: None
) -> None:
    answers = [
        reset_request(group.drafter.email, address=f"198.51.100.{n}").status_code for n in range(5)
    ]
    assert answers == [302, 302, 302, 429, 429]
    assert len(mailoutbox) == 3


def test_one_client_cannot_ask_for_more_resets_than_the_limit_allows(
    group: Group, mailoutbox: Any, limits: None
) -> None:
    targets = [group.drafter, group.co_drafter, group.reviewer, group.secretariat]
    targets += [group.representative_fr, group.representative_lu, group.observer]
    answers = [reset_request(person.email).status_code for person in targets]
    assert answers == [302] * 5 + [429] * 2
    assert len(mailoutbox) == 5
    assert reset_request(group.outsider.email, address="203.0.113.99").status_code == 302


def test_the_throttle_counts_unknown_addresses_too_so_it_reveals_nobody(
    group: Group, mailoutbox: Any, limits: None
) -> None:
    for _ in range(3):
        reset_request("nobody-at-all@example.org", address="198.51.100.1")
    throttled = reset_request("Nobody-At-All@example.org", address="198.51.100.2")
    assert throttled.status_code == 429
    assert mailoutbox == []


def test_a_throttled_request_is_told_plainly_to_wait(group: Group, limits: None) -> None:
    for _ in range(3):
        reset_request(group.drafter.email)
    response = reset_request(group.drafter.email)
    assert response.status_code == 429
    assert "Too many password reset requests" in response.content.decode()
    assert 'role="alert"' in response.content.decode()


def test_a_reset_request_for_an_existing_person_is_a_security_event_without_its_own_email(
    group: Group, mailoutbox: Any
) -> None:
    reset_request(group.drafter.email)
    reset_request("nobody-at-all@example.org")
    event = AuditEvent.objects.security().get()
    assert event.action == "password.reset_requested"
    assert event.subject_id == group.drafter.pk
    assert event.ip_address == "203.0.113.7"
    assert not Delivery.objects.exists()
    assert len(mailoutbox) == 1


def test_the_reset_form_still_has_its_url_name_and_page(group: Group) -> None:
    response = Client().get(reverse("password_reset"))
    assert response.status_code == 200
    assert reverse("password_reset") == "/accounts/password_reset/"
    assert "Send me the link" in response.content.decode()
