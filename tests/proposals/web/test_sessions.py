"""Sessions end after a configurable idle time and an absolute cap, and say so."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from proposals.web.session_timeout import LAST_SEEN_KEY
from tests.factories import Group

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def signed_in_client(person: Any) -> Client:
    client = Client()
    client.force_login(person)
    return client


def test_a_session_idle_longer_than_the_timeout_goes_to_the_login_page_with_next(
    group: Group, settings: Any
) -> None:
    settings.SESSION_IDLE_MINUTES = 30
    client = signed_in_client(group.drafter)
    with time_machine.travel(START, tick=False) as clock:
        assert client.get(reverse("proposals:proposal_list")).status_code == 200
        clock.shift(dt.timedelta(minutes=31))
        response = client.get(reverse("proposals:proposal_list") + "?state=draft")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/proposals/%3Fstate%3Ddraft"
    assert "_auth_user_id" not in client.session
    page = client.get(response["Location"])
    assert "signed out after 30 minutes without activity" in page.content.decode()


def test_a_session_used_within_the_timeout_stays_signed_in(group: Group, settings: Any) -> None:
    settings.SESSION_IDLE_MINUTES = 30
    client = signed_in_client(group.drafter)
    with time_machine.travel(START, tick=False) as clock:
        for _ in range(4):
            assert client.get(reverse("proposals:home")).status_code == 200
            clock.shift(dt.timedelta(minutes=20))
        assert client.get(reverse("proposals:home")).status_code == 200


def test_the_last_request_time_is_written_at_most_once_a_minute(group: Group) -> None:
    client = signed_in_client(group.drafter)
    with time_machine.travel(START, tick=False) as clock:
        client.get(reverse("proposals:home"))
        first = client.session[LAST_SEEN_KEY]
        clock.shift(dt.timedelta(seconds=30))
        client.get(reverse("proposals:home"))
        assert client.session[LAST_SEEN_KEY] == first
        clock.shift(dt.timedelta(seconds=31))
        client.get(reverse("proposals:home"))
        assert client.session[LAST_SEEN_KEY] == first + 61


def test_a_session_ends_after_the_absolute_cap_even_when_busy(group: Group, settings: Any) -> None:
    settings.SESSION_IDLE_MINUTES = 30
    settings.SESSION_COOKIE_AGE = 2 * 3600
    client = signed_in_client(group.drafter)
    with time_machine.travel(START, tick=False) as clock:
        for _ in range(9):
            assert client.get(reverse("proposals:home")).status_code == 200
            clock.shift(dt.timedelta(minutes=15))
        assert client.get(reverse("proposals:home")).status_code == 302


def test_a_form_sent_after_the_timeout_returns_to_the_forms_page_after_login(
    group: Group, settings: Any
) -> None:
    client = signed_in_client(group.drafter)
    with time_machine.travel(START, tick=False) as clock:
        client.get(reverse("proposals:proposal_create"))
        clock.shift(dt.timedelta(minutes=settings.SESSION_IDLE_MINUTES + 1))
        response = client.post(
            reverse("proposals:proposal_create"),
            {"title": "Typed before the timeout"},
            HTTP_REFERER="http://testserver/proposals/new/",
        )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=http%3A//testserver/proposals/new/"


def test_an_htmx_request_after_the_timeout_is_told_to_go_to_the_login_page(
    group: Group, settings: Any
) -> None:
    client = signed_in_client(group.drafter)
    with time_machine.travel(START, tick=False) as clock:
        client.get(reverse("proposals:home"))
        clock.shift(dt.timedelta(minutes=settings.SESSION_IDLE_MINUTES + 1))
        response = client.post(reverse("proposals:markdown_preview"), HTTP_HX_REQUEST="true")
    assert response["HX-Redirect"].startswith("/accounts/login/?next=")


def test_keepalive_resets_the_idle_time_and_says_how_long_is_left(
    group: Group, settings: Any
) -> None:
    settings.SESSION_IDLE_MINUTES = 30
    client = signed_in_client(group.drafter)
    with time_machine.travel(START, tick=False) as clock:
        client.get(reverse("proposals:home"))
        clock.shift(dt.timedelta(minutes=25))
        answer = client.post(reverse("proposals:session_keepalive"))
        assert answer.json() == {"signed_in": True, "seconds_left": 1800}
        clock.shift(dt.timedelta(minutes=25))
        assert client.get(reverse("proposals:home")).status_code == 200


def test_keepalive_after_the_timeout_says_the_session_ended(group: Group, settings: Any) -> None:
    client = signed_in_client(group.drafter)
    with time_machine.travel(START, tick=False) as clock:
        client.get(reverse("proposals:home"))
        clock.shift(dt.timedelta(minutes=settings.SESSION_IDLE_MINUTES + 1))
        answer = client.post(reverse("proposals:session_keepalive"))
    assert answer.status_code == 401
    assert answer.json() == {"signed_in": False, "seconds_left": 0}


def test_keepalive_needs_the_csrf_token(group: Group) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(group.drafter)
    assert client.post(reverse("proposals:session_keepalive")).status_code == 403


def test_pages_tell_the_script_how_long_the_session_has_left(group: Group, settings: Any) -> None:
    settings.SESSION_IDLE_MINUTES = 30
    with time_machine.travel(START, tick=False):
        html = signed_in_client(group.drafter).get(reverse("proposals:home")).content.decode()
    assert 'data-session-seconds-left="1800"' in html
    assert f'data-session-keepalive-url="{reverse("proposals:session_keepalive")}"' in html
    assert "proposals/session.js" in html
