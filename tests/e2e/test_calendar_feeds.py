"""A body's calendar feeds in the browser: the secretariat reads the body's page in French with
a feed and its imported occasions, a failed feed's report in Spanish, an imported occasion's
page in English; each also at a phone's width. With UPDATE_SCREENSHOTS=1 the pictures are
docs/screenshots/feeds-*.png (the phone-width pictures stay in the test's folder)."""

from __future__ import annotations

from base64 import b32decode
from pathlib import Path
from typing import Any

import pytest

from proposals import calendar_import
from proposals.management.demo_data import DEMO_TOTP_SECRET
from proposals.models import Occasion
from proposals.reference import occasion_update
from tests.e2e.test_journey import Visitor
from tests.factories import group_setup, totp_device_for
from tests.proposals.feed_server import event, feed_server, ics

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
EVENTS = [
    event(
        "water-law@assemblee.example",
        "Consultation publique : loi sur l'eau",
        ";TZID=Europe/Paris:20270110T090000",
        ";TZID=Europe/Paris:20270215T180000",
        extra="LOCATION:Paris, France",
    ),
    event(
        "budget-2028@assemblee.example",
        "Consultation sur le budget 2028",
        ";VALUE=DATE:20270401",
        ";VALUE=DATE:20270501",
        extra="LOCATION:Paris, France",
    ),
    event(
        "spring-session@assemblee.example",
        "Session de printemps",
        ";VALUE=DATE:20270301",
        ";VALUE=DATE:20270304",
        extra="STATUS:CANCELLED",
    ),
]


def test_body_page_failed_feed_and_imported_occasion(
    browser: Any, live_server: Any, screenshots: Path, settings: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    group = group_setup()
    totp_device_for(group.secretariat, key=b32decode(DEMO_TOTP_SECRET).hex())
    body = group.body
    with feed_server() as server:
        good = calendar_import.calendar_feed_create(
            actor=group.secretariat,
            body=body,
            url=server.serve("/consultations.ics", ics(*EVENTS)),
            name="Consultations",
            occasion_kind=Occasion.Kind.LAW_CONSULTATION,
            default_timezone="Europe/Paris",
        )
        calendar_import.calendar_feed_read(feed_id=good.pk)
        broken = calendar_import.calendar_feed_create(
            actor=group.secretariat,
            body=body,
            url=server.serve(
                "/sessions.ics",
                ics(
                    EVENTS[0].replace("water-law", "hearing"),
                    "UID:undated@assemblee.example\r\nSUMMARY:Audition sans date",
                    event("mars@x", "Session on Mars", ";TZID=Mars/Olympus:20270110T090000"),
                ),
            ),
            name="Sessions",
            occasion_kind=Occasion.Kind.WORKING_SESSION,
            default_timezone="Europe/Paris",
        )
        calendar_import.calendar_feed_read(feed_id=broken.pk)
        unreachable = calendar_import.calendar_feed_create(
            actor=group.secretariat,
            body=body,
            url=server.url("/gone.ics"),
            name="Archives",
            occasion_kind=Occasion.Kind.SUMMIT,
            deadline_rule="before_start",
            lead_days=30,
        )
        calendar_import.calendar_feed_read(feed_id=unreachable.pk)
    occasion = Occasion.objects.get(feed_uid="water-law@assemblee.example")
    occasion_update(
        actor=group.secretariat, occasion=occasion, changes={"location": "Assemblée, Paris"}
    )
    url = live_server.url

    sam = Visitor(browser, url, "sam", totp_secret=DEMO_TOTP_SECRET, language="fr")
    sam.open(f"/bodies/{body.pk}/")
    expect(sam.page.locator(f"#feed-{good.pk}")).to_contain_text(sam.t("Read"))
    expect(sam.page.get_by_text("Session de printemps")).to_be_visible()
    sam.page.locator(f"#feed-{good.pk}").scroll_into_view_if_needed()
    sam.page.screenshot(path=str(screenshots / "feeds-body.fr.png"), full_page=True)
    sam.page.set_viewport_size(PHONE)
    sam.page.screenshot(path=str(tmp_path / "feeds-body.fr.phone.png"), full_page=True)

    ana = Visitor(browser, url, "rita", language="es")
    ana.open(f"/bodies/{body.pk}/")
    report = ana.page.locator(f"#feed-{broken.pk}")
    expect(report).to_contain_text("Mars/Olympus")
    expect(report).to_contain_text(ana.t("Could not be read"))
    report.screenshot(path=str(screenshots / "feeds-failed.es.png"))

    claire = Visitor(browser, url, "claire")
    claire.open(f"/occasions/{occasion.pk}/")
    expect(claire.page.get_by_text("water-law@assemblee.example")).to_be_visible()
    claire.page.screenshot(path=str(screenshots / "feeds-occasion.png"), full_page=True)
    claire.page.set_viewport_size(PHONE)
    claire.page.screenshot(path=str(tmp_path / "feeds-occasion.phone.png"), full_page=True)
    for visitor in (sam, ana, claire):
        assert not visitor.problems, visitor.problems
