"""The submission dossier in the browser, on the demo: a submitted proposal's page names its
dossier and the file's SHA-256, in French and in Spanish, and the link downloads those very
bytes (shown in the browser, inline). With UPDATE_SCREENSHOTS=1 the picture is docs/screenshots/dossier-proposal.fr.png."""

from __future__ import annotations

import hashlib
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import override_settings

from proposals.forecast.history import ARCHIVE_PREFIX
from proposals.models import Submission
from tests.e2e.test_journey import Visitor

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_a_submitted_proposal_offers_its_dossier(
    browser: Any, live_server: Any, screenshots: Path
) -> None:
    from playwright.sync_api import expect

    with override_settings(DEBUG=True):
        call_command("load_demo", stdout=StringIO())
    submission = (
        Submission.objects.exclude(proposal__occasion__name__startswith=ARCHIVE_PREFIX)
        .exclude(dossier="")
        .select_related("proposal")
        .order_by("pk")
        .first()
    )
    assert submission is not None, "the demo has a submitted proposal with its dossier"
    path = f"/proposals/{submission.proposal_id}/"

    for language, person, label in (("fr", "claire", "Dossier"), ("es", "andres", "Expediente")):
        visitor = Visitor(browser, live_server.url, person, language=language)
        visitor.open(path)
        dossier = visitor.page.locator("dd.dossier")
        expect(dossier).to_contain_text(submission.number)
        expect(dossier).to_contain_text(submission.dossier_sha256)
        expect(visitor.page.locator("div:has(> dd.dossier) > dt")).to_have_text(label)
        if language == "fr":
            dossier.scroll_into_view_if_needed()
            visitor.page.screenshot(path=str(screenshots / "dossier-proposal.fr.png"))
        href = dossier.get_by_role("link").first.get_attribute("href")
        answer = visitor.context.request.get(f"{live_server.url}{href}")
        assert answer.status == 200
        assert answer.headers["content-type"] == "application/pdf"
        data = answer.body()
        assert data.startswith(b"%PDF")
        assert hashlib.sha256(data).hexdigest() == submission.dossier_sha256
        assert not visitor.problems, visitor.problems
