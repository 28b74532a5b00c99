"""The feeds over a real HTTP connection, as a calendar app and a script meet them: HEAD keeps
the headers of GET and sends no body, conditional requests get 304, the bodies parse in
icalendar and vobject, and a token reaches the occasion download without a redirect."""

from __future__ import annotations

import datetime as dt
import http.client
from typing import Any
from urllib.parse import urlsplit

import icalendar
import pytest
import vobject  # type: ignore[import-untyped]
from django.utils import timezone

from proposals.accounts import api_token_create
from proposals.models import ApiToken
from tests.factories import Group, group_setup, proposal_draft


@pytest.fixture
def served(live_server: Any) -> tuple[Group, str]:
    group = group_setup()
    proposal_draft(group, title="Fair trade in public procurement")
    return group, live_server.url


def ask(base: str, method: str, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    """One request on its own connection, redirects not followed: what the server sent."""
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    try:
        connection.request(method, path, headers=headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def test_a_calendar_app_polls_a_feed_over_http(served: tuple[Group, str]) -> None:
    group, base = served
    path = f"/calendar/{group.drafter.calendar_token}.ics"
    status, got, body = ask(base, "GET", path)
    assert status == 200
    assert got["Content-Type"] == "text/calendar; charset=utf-8"
    assert got["Content-Language"] == "en"
    assert icalendar.Calendar.from_ical(body).walk("VEVENT")
    assert vobject.readOne(body.decode()).contents["vevent"]

    status, head, nothing = ask(base, "HEAD", path)
    assert (status, nothing) == (200, b"")
    assert head["Content-Length"] == str(len(body))
    assert head["ETag"] == got["ETag"]
    assert head["Last-Modified"] == got["Last-Modified"]

    status, unchanged, nothing = ask(base, "GET", path, **{"If-None-Match": got["ETag"]})
    assert (status, nothing) == (304, b"")
    assert unchanged["ETag"] == got["ETag"]
    status, _, _ = ask(base, "GET", path, **{"If-Modified-Since": got["Last-Modified"]})
    assert status == 304


def test_a_script_downloads_an_occasion_with_a_token_over_http(
    served: tuple[Group, str],
) -> None:
    group, base = served
    _, key = api_token_create(
        person=group.drafter,
        kind=ApiToken.Kind.SCRIPT,
        name="Calendar script",
        expires_at=timezone.now() + dt.timedelta(days=30),
    )
    path = f"/occasions/{group.occasion.pk}.ics"
    status, _, body = ask(base, "GET", path, Authorization=f"Token {key}")
    assert status == 200
    descriptions = [
        str(event["description"]) for event in icalendar.Calendar.from_ical(body).walk("VEVENT")
    ]
    assert all("Fair trade in public procurement (Draft)" in text for text in descriptions)
    status, refused, reason = ask(base, "GET", path, Authorization="Token not-a-token")
    assert status == 401
    assert refused["WWW-Authenticate"] == "Token"
    assert b"This token is not known" in reason
    status, redirect, _ = ask(base, "GET", path)
    assert status == 302
    assert redirect["Location"].startswith("/accounts/login/")
