"""The forecast in the browser, on the demo (its archive gives the live proposals a history):
the dashboard's proposals at risk in French, a proposal's forecast in Spanish and in English,
each also at a phone's width. With UPDATE_SCREENSHOTS=1 the pictures are
docs/screenshots/forecast-*.png (the phone-width pictures stay in the test's folder)."""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import override_settings

from proposals.forecast import forecasts_for
from proposals.forecast.history import ARCHIVE_PREFIX
from proposals.models import Proposal
from tests.e2e.test_journey import Visitor

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def test_dashboard_and_proposal_forecast(
    browser: Any, live_server: Any, screenshots: Path, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    with override_settings(DEBUG=True):
        call_command("load_demo", stdout=StringIO())
    live = list(
        Proposal.objects.exclude(occasion__name__startswith=ARCHIVE_PREFIX)
        .filter(state__in=["draft", "in_review", "endorsement"])
        .select_related("occasion")
    )
    forecasts = forecasts_for(live)
    risky = min(
        (p for p in live if forecasts[p.pk].at_risk and p.state != "draft"),
        key=lambda p: forecasts[p.pk].probability or 0,
    )
    url = live_server.url

    claire = Visitor(browser, url, "claire", language="fr")
    claire.open("/")
    panel = claire.page.locator(".at-risk-panel")
    expect(panel).to_contain_text("Risquent de manquer leur date limite")
    expect(panel).to_contain_text(risky.title)
    claire.page.screenshot(path=str(screenshots / "forecast-dashboard.fr.png"))
    claire.page.set_viewport_size(PHONE)
    claire.page.screenshot(path=str(tmp_path / "forecast-dashboard.fr.phone.png"), full_page=True)

    for language, name, person in (
        ("es", "forecast-proposal.es.png", "andres"),
        ("en", "forecast-proposal.png", "lena"),
    ):
        visitor = Visitor(browser, url, person, language=language)
        visitor.open(f"/proposals/{risky.pk}/")
        line = visitor.page.locator("#forecast")
        expect(line).to_contain_text("En riesgo" if language == "es" else "At risk")
        visitor.page.screenshot(path=str(screenshots / name))
        visitor.page.set_viewport_size(PHONE)
        line.scroll_into_view_if_needed()
        visitor.page.screenshot(path=str(tmp_path / name.replace(".png", ".phone.png")))
        assert not visitor.problems, visitor.problems
    assert not claire.problems, claire.problems
