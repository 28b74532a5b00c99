"""A session that ends while someone types: they are warned, and their text survives the login."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.contrib.sessions.backends.db import SessionStore

from proposals.models import Proposal
from proposals.web.session_timeout import LAST_SEEN_KEY
from tests.factories import Group, group_setup

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

TITLE = "Social economy in public procurement"
TEXT = "Typed at length, and never to be lost to a timeout."


@pytest.fixture
def demo(transactional_db: None) -> Group:
    return group_setup()


def log_in(page: Any, username: str) -> None:
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("demo")
    page.get_by_role("button", name="Log in").click()


def session_expire(context: Any) -> None:
    """Make the server's session look idle for an hour, as if the person had gone away."""
    key = next(c["value"] for c in context.cookies() if c["name"] == "sessionid")
    session = SessionStore(session_key=key)
    session[LAST_SEEN_KEY] = time.time() - 3600
    session.save()


def test_typed_text_survives_a_session_that_ends_and_a_new_login(
    browser: Any, live_server: Any, demo: Group, settings: Any
) -> None:
    from playwright.sync_api import expect

    settings.SESSION_IDLE_MINUTES = 30
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems: list[str] = []

    def console(message: Any) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            problems.append(message.text)

    page.on("console", console)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.clock.install()
    url = live_server.url

    page.goto(url + "/accounts/login/?next=/proposals/new/")
    log_in(page, "claire")
    page.wait_for_url(url + "/proposals/new/")
    page.get_by_label("Title").fill(TITLE)
    page.get_by_label("Text", exact=True).fill(TEXT)

    # A couple of minutes before the end, a warning offers to stay signed in.
    warning = page.get_by_role("alert").filter(has_text="You will be signed out soon")
    expect(warning).to_have_count(0)
    page.clock.fast_forward("28:30")
    expect(warning).to_be_visible()
    with page.expect_response(lambda answer: "/session/keepalive/" in answer.url) as kept:
        page.get_by_role("button", name="Stay signed in").click()
    assert kept.value.json() == {"signed_in": True, "seconds_left": 1800}
    expect(warning).to_have_count(0)

    # The person goes away; the server ends the session, and the page says so.
    session_expire(context)
    page.clock.fast_forward("31:00")
    ended = page.get_by_role("alert").filter(has_text="You were signed out")
    expect(ended).to_be_visible()
    expect(ended.get_by_role("link", name="Log in again")).to_have_attribute(
        "href", "/accounts/login/?next=%2Fproposals%2Fnew%2F"
    )

    # Sending the form now leads to the login page; after it, the typed text is back.
    page.get_by_role("button", name="Save draft").click()
    page.wait_for_url("**/accounts/login/**")
    expect(page.locator(".message")).to_contain_text("without activity")
    log_in(page, "claire")
    page.wait_for_url(url + "/proposals/new/")
    expect(page.get_by_label("Title")).to_have_value(TITLE)
    expect(page.get_by_label("Text", exact=True)).to_have_value(TEXT)
    expect(page.get_by_role("status").filter(has_text="put back")).to_be_visible()

    # Once the form is saved, nothing typed is kept in the browser any more.
    page.get_by_role("button", name="Save draft").click()
    page.wait_for_url("**/proposals/*/")
    assert Proposal.objects.filter(title=TITLE).exists()
    kept_keys = page.evaluate(
        "Object.keys(sessionStorage).filter((key) => key.startsWith('policy-tracker:'))"
    )
    assert kept_keys == []
    assert problems == []
    context.close()
