"""The pages on a phone (390 px wide) and on a laptop (1280 px): no page scrolls sideways, the
navigation folds into a menu that works with the keyboard and without JavaScript, the calendar
reads as an agenda, wide tables stack their rows."""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import override_settings

from proposals.management.demo_data import DEMO_TOTP_SECRET
from proposals.models import Occasion, Person, Proposal, ProposalState
from tests.e2e.test_journey import Visitor

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1280, "height": 900}


class Anonymous(Visitor):
    """A visitor who has not signed in, whose browser asks for the run's language."""

    def __init__(self, browser: Any, base_url: str, language: str) -> None:
        self.base_url = base_url
        self.context = browser.new_context(viewport=LAPTOP, locale=language)
        self.page = self.context.new_page()
        self.problems: list[str] = []


@pytest.fixture
def demo(transactional_db: None) -> None:
    with override_settings(DEBUG=True):
        call_command("load_demo", stdout=StringIO())


def page_families() -> dict[str, list[str]]:
    """One address of each page family, by who may see it."""
    draft = Proposal.objects.filter(state=ProposalState.DRAFT, authors__username="claire").first()
    closed = Proposal.objects.exclude(state=ProposalState.DRAFT).order_by("pk").first()
    occasion = Occasion.objects.order_by("pk").first()
    assert draft is not None and closed is not None and occasion is not None
    return {
        "claire": [
            "/",
            "/proposals/",
            "/proposals/?search=economie&sort=-deadline",
            f"/proposals/{draft.pk}/",
            f"/proposals/{closed.pk}/",
            f"/proposals/{draft.pk}/edit/",
            f"/proposals/{draft.pk}/diff/",
            "/proposals/new/",
            "/occasions/",
            f"/occasions/{occasion.pk}/",
            "/group/",
            "/workflow/",
            "/settings/",
            "/settings/tokens/",
        ],
        "sam": ["/", "/deliveries/", "/security-events/", "/proposals/"],
        "": ["/accounts/login/", "/accounts/password_reset/"],
    }


def overflow(page: Any) -> int:
    """How many pixels the page is wider than the window (0: no sideways scroll)."""
    return int(
        page.evaluate(
            "document.scrollingElement.scrollWidth - document.documentElement.clientWidth"
        )
    )


def placeholder_cut(page: Any) -> int:
    """How many pixels of the header search's placeholder do not fit in its box (0: all)."""
    return int(
        page.evaluate(
            """() => {
              const box = document.querySelector('#header-search');
              if (!box || !box.offsetParent) return 0;
              const style = getComputedStyle(box);
              const context = document.createElement('canvas').getContext('2d');
              context.font = style.font;
              const room = box.clientWidth - parseFloat(style.paddingLeft)
                - parseFloat(style.paddingRight);
              const clearButton = 16;  // Chromium keeps room for a search box's clear button
              const text = context.measureText(box.placeholder).width;
              return Math.max(0, Math.ceil(text + clearButton - room));
            }"""
        )
    )


def shot_name(path: str, width: int) -> str:
    slug = path.strip("/").replace("/", "-").replace("?", "-").replace("&", "-") or "home"
    return f"phone-{slug}-{width}.png"


@pytest.mark.accessibility  # a sweep of every page (WCAG 2.1 reflow): on the CI line of axe-core's
@pytest.mark.parametrize("language", ["en", "fr", "es"])
def test_no_page_scrolls_sideways_on_a_phone_or_a_laptop(
    demo: None, live_server: Any, browser: Any, screenshots: Path, language: str
) -> None:
    Person.objects.update(language=language)
    too_wide = []
    for username, paths in page_families().items():
        if username:
            secret = DEMO_TOTP_SECRET if username == "sam" else ""
            people = Person.objects.filter(username=username)
            people.update(language="en")  # the visitor signs in with the English labels
            visitor = Visitor(browser, live_server.url, username, secret)
            people.update(language=language)
        else:
            visitor = Anonymous(browser, live_server.url, language)
        for size in (PHONE, LAPTOP):
            visitor.page.set_viewport_size(size)
            for path in paths:
                response = visitor.open(path)
                assert response is not None and response.status == 200, path
                extra = overflow(visitor.page)
                if extra > 0:
                    too_wide.append(
                        f"{language} {size['width']}px {username or 'anonymous'} {path}: "
                        f"{extra}px too wide"
                    )
                cut = placeholder_cut(visitor.page) if path == paths[0] else 0
                if cut > 0:
                    too_wide.append(
                        f"{language} {size['width']}px {path}: the search box cuts "
                        f"{cut}px of its placeholder"
                    )
                if size == PHONE:
                    visitor.page.screenshot(
                        path=str(screenshots / shot_name(f"{language}-{path}", size["width"])),
                        full_page=True,
                    )
        visitor.context.close()
    assert too_wide == [], "\n".join(too_wide)


def test_the_navigation_is_a_menu_on_a_phone_opened_with_the_keyboard(
    demo: None, live_server: Any, browser: Any
) -> None:
    visitor = Visitor(browser, live_server.url, "claire")
    page = visitor.page
    page.set_viewport_size(PHONE)
    visitor.open("/")
    groups_link = page.locator('.main-nav a[href="/group/"]')

    assert not groups_link.is_visible()
    header_height = page.locator(".site-header").bounding_box()["height"]
    assert header_height < 844 / 8, f"the folded header takes {header_height}px"
    page.keyboard.press("Tab")  # the skip link
    page.keyboard.press("Tab")  # the brand
    page.keyboard.press("Tab")  # the menu
    assert page.evaluate("document.activeElement.id") == "menu-toggle"
    page.keyboard.press("Space")
    assert groups_link.is_visible()
    assert page.locator("#header-search").is_visible()

    page.set_viewport_size(LAPTOP)
    visitor.open("/")
    assert groups_link.is_visible()
    assert not page.locator("label.menu-button").is_visible()
    visitor.context.close()


def test_the_navigation_menu_works_without_javascript(
    demo: None, live_server: Any, browser: Any
) -> None:
    visitor = Visitor(browser, live_server.url, "claire")
    context = browser.new_context(viewport=PHONE, java_script_enabled=False)
    context.add_cookies(visitor.context.cookies())
    page = context.new_page()
    page.goto(live_server.url + "/")

    groups_link = page.locator('.main-nav a[href="/group/"]')
    assert not groups_link.is_visible()
    page.locator("label.menu-button").click()
    assert groups_link.is_visible()
    context.close()
    visitor.context.close()


def test_the_calendar_is_an_agenda_on_a_phone_and_a_month_grid_on_a_laptop(
    demo: None, live_server: Any, browser: Any
) -> None:
    occasion = Occasion.objects.order_by("submission_deadline").last()
    assert occasion is not None
    month = occasion.submission_deadline.strftime("%Y-%m")
    visitor = Visitor(browser, live_server.url, "claire")
    page = visitor.page
    page.set_viewport_size(PHONE)
    visitor.open(f"/occasions/?month={month}")

    assert not page.locator("table.calendar").is_visible()
    agenda = page.locator(".agenda")
    assert agenda.is_visible()
    assert agenda.get_by_role("link").count() >= 1

    page.set_viewport_size(LAPTOP)
    assert page.locator("table.calendar").is_visible()
    assert not agenda.is_visible()
    visitor.context.close()


def test_wide_tables_stack_their_rows_on_a_phone(
    demo: None, live_server: Any, browser: Any
) -> None:
    visitor = Visitor(browser, live_server.url, "sam", DEMO_TOTP_SECRET)
    page = visitor.page
    page.set_viewport_size(PHONE)
    for path, table in (
        ("/deliveries/", "table.deliveries"),
        ("/workflow/", "table.who-table"),
        ("/proposals/", "table.proposals"),
    ):
        visitor.open(path)
        box = page.locator(table).bounding_box()
        assert box is not None, path
        assert box["width"] <= PHONE["width"], f"{path}: {box['width']}px wide"
    visitor.context.close()
