"""axe-core on every page family, in English, French and Spanish, at 1280 px and at 390 px.

The pages are those of the demo, seen by a drafter and representative (claire), a reviewer (rita),
the secretariat (sam) and a visitor who has not signed in. Each person reads the site in the
language of the run. axe-core (tests/e2e/vendor/axe-core, from npm) checks the WCAG 2.1 A and AA
rules; any violation fails the run with the rule, the page and the elements concerned.

Marked `accessibility`: left out of `make test`, CI runs it on its own line.
"""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import override_settings

from proposals.management.demo_data import DEMO_TOTP_SECRET
from proposals.models import Occasion, Person, Proposal, ProposalState
from proposals.selectors import proposals_visible_to
from tests.e2e.test_journey import Visitor

pytestmark = [
    pytest.mark.services,
    pytest.mark.accessibility,
    pytest.mark.django_db(transaction=True),
]

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
WIDTHS = (1280, 390)


def axe_violations(page: Any) -> list[str]:
    """axe-core's WCAG 2.1 A and AA violations on the page as it is, one line per rule."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))  # evaluated, not a <script>: the CSP stays
    found = page.evaluate(
        "async tags => (await axe.run(document, {runOnly: {type: 'tag', values: tags}}))"
        ".violations.map(v => ({id: v.id, help: v.help,"
        " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))",
        WCAG,
    )
    return [f"{v['id']} ({v['help']}): {json.dumps(v['nodes'])}" for v in found]


def details_seen_by(username: str) -> list[str]:
    """A proposal in each state that the person may see."""
    visible = proposals_visible_to(Person.objects.get(username=username)).order_by("pk")
    firsts = {state: visible.filter(state=state).first() for state in ProposalState.values}
    return [f"/proposals/{p.pk}/" for p in firsts.values() if p is not None]


def invitation_page(language: str) -> str:
    """The page of a new invitation's link, in the run's language (sam invites; a new address
    for each run)."""
    from proposals.invitations import EMAIL_TEMPLATE, invitation_create, invitation_token
    from workflow.models import Delivery

    sam = Person.objects.get(username="sam")
    invitation = invitation_create(
        actor=sam,
        email=f"invited{Delivery.objects.count()}@ministry.example",
        organization=sam.memberships.get().organization,
        roles=["reviewer"],
        language=language,
    )
    nonce = (
        Delivery.objects.filter(template=EMAIL_TEMPLATE, object_id=invitation.pk)
        .latest("pk")
        .context["nonce"]
    )
    return f"/invitations/accept/{invitation_token(nonce)}/"


def attachment_remove_page(draft: Proposal) -> str:
    """The confirmation to remove a file of Claire's draft, which she attaches first (so that
    her proposal's page shows a row of its files too)."""
    from proposals.attachments import attachment_add
    from tests.proposals.attachment_files import PDF, upload

    claire = Person.objects.get(username="claire")
    attachment = attachment_add(
        proposal=draft, person=claire, title="Annexe budgétaire", upload=upload("annexe.pdf", PDF)
    )
    return f"/proposals/{draft.pk}/attachments/{attachment.pk}/remove/"


def discussion_pages(draft: Proposal) -> tuple[list[str], list[str]]:
    """Claire comments on the first paragraph of her draft, mentioning Sam (so that her
    proposal's page shows a thread too): the forms' pages of the discussion, hers and Sam's."""
    from proposals.discussion import comment_create

    comment = comment_create(
        proposal=draft,
        author=Person.objects.get(username="claire"),
        body="Le **premier paragraphe**, @sam ?",
        revision=draft.revisions.get(number=draft.revision),
        paragraph=1,
    )
    base = f"/proposals/{draft.pk}/comments/"
    return (
        [f"{base}?paragraph=1", f"{base}{comment.pk}/edit/", f"{base}{comment.pk}/delete/"],
        [f"{base}{comment.pk}/hide/"],
    )


def demo_pages() -> dict[str, list[str]]:
    """The addresses each person visits: every page family, with a proposal in each state."""
    claires = Proposal.objects.filter(state=ProposalState.DRAFT, authors__username="claire")
    draft = claires.order_by("pk").first()
    occasion = Occasion.objects.order_by("pk").first()
    assert draft is not None and occasion is not None
    claire_pk = draft.authors.get(username="claire").pk
    claires_discussion, sams_discussion = discussion_pages(draft)
    return {
        "claire": [
            "/",
            "/proposals/",
            "/proposals/?search=economie&sort=-deadline",
            *details_seen_by("claire"),
            f"/proposals/{draft.pk}/edit/",
            f"/proposals/{draft.pk}/diff/",
            f"/proposals/{draft.pk}/actions/withdraw/",
            f"/proposals/{draft.pk}/attachments/",
            attachment_remove_page(draft),
            *claires_discussion,
            "/proposals/new/",
            "/occasions/",
            f"/occasions/{occasion.pk}/",
            "/group/",
            "/workflow/",
            "/notifications/",
            "/notifications/?unread=1",
            "/settings/",
            "/settings/tokens/",
            "/settings/two-factor/",
            "/settings/email/",
            "/settings/security/",
            "/settings/personal-data/",
            "/settings/activity/",
        ],
        "rita": ["/", *details_seen_by("rita")],
        "sam": [
            "/",
            "/deliveries/",
            "/security-events/",
            "/audit/",
            "/invitations/",
            "/invitations/new/",
            "/welcome/",
            *details_seen_by("sam"),
            f"/people/{claire_pk}/departure/",
            f"/people/{claire_pk}/erasure/",
            *sams_discussion,
        ],
        "": ["/accounts/login/", "/accounts/password_reset/"],
    }


@pytest.fixture
def demo(transactional_db: None) -> None:
    with override_settings(DEBUG=True):
        call_command("load_demo", stdout=StringIO())


@pytest.mark.parametrize("language", ["en", "fr", "es"])
def test_every_page_has_no_accessibility_violation(
    demo: None, live_server: Any, browser: Any, language: str
) -> None:
    pages = demo_pages()
    pages[""].append(invitation_page(language))
    visitors = {  # signed in with the labels of the English pages, then reading in the run's language
        username: Visitor(
            browser, live_server.url, username, DEMO_TOTP_SECRET if username == "sam" else ""
        )
        if username
        else Anonymous(browser, live_server.url, language)
        for username in pages
    }
    Person.objects.update(language=language)
    violations = []
    for username, paths in pages.items():
        visitor = visitors[username]
        for width in WIDTHS:
            visitor.page.set_viewport_size({"width": width, "height": 900})
            for path in paths:
                response = visitor.open(path)
                assert response is not None and response.status == 200, (path, response)
                assert visitor.page.locator("html").get_attribute("lang") == language, path
                violations += [
                    f"{language} {width}px {username or 'anonymous'} {path}: {problem}"
                    for problem in axe_violations(visitor.page)
                ]
        visitor.close()
    assert violations == [], "\n".join(violations)


class Anonymous(Visitor):
    """A visitor who has not signed in, whose browser asks for the run's language."""

    def __init__(self, browser: Any, base_url: str, language: str) -> None:
        self.base_url = base_url
        self.context = browser.new_context(viewport={"width": 1280, "height": 900}, locale=language)
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        self.page.on("response", self._response)
