"""A proposal carried from draft to outcome in the browser, by the people who do it."""

from __future__ import annotations

import datetime as dt
import re
from base64 import b32decode
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from django_otp.oath import totp

from proposals.management.demo_data import DEMO_TOTP_SECRET
from proposals.models import Endorsement, Occasion, Person, Proposal, ProposalState
from proposals.services import endorsement_withdraw
from tests.factories import Group, OccasionFactory, group_setup, proposal_draft, totp_device_for
from tests.proposals.web.helpers import in_review

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


class Visitor:
    """One person in their own browser context, signed in, whose page must never break the CSP."""

    def __init__(self, browser: Any, base_url: str, username: str, totp_secret: str = "") -> None:
        self.base_url = base_url
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        self.page.on("response", self._response)
        self.open("/accounts/login/")
        self.page.get_by_label("Username").fill(username)
        self.page.get_by_label("Password").fill("demo")
        self.page.get_by_role("button", name="Log in").click()
        if totp_secret:  # then the code of the person's authenticator app, as they would type it
            self.page.wait_for_url(re.compile(r".*/accounts/verify/"))
            self.page.get_by_label("Code").fill(f"{totp(b32decode(totp_secret)):06d}")
            self.page.get_by_role("button", name="Confirm").click()
        self.page.wait_for_url(f"{base_url}/")

    def _console(self, message: Any) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.problems.append(message.text)

    def _response(self, response: Any) -> None:
        if response.status >= 400:
            self.problems.append(f"{response.status} {response.url}")

    def open(self, path: str) -> Any:
        return self.page.goto(self.base_url + path)

    def proposal(self, proposal: Proposal) -> None:
        self.open(f"/proposals/{proposal.pk}/")

    def button(self, name: str) -> Any:
        return self.page.get_by_role("button", name=name, exact=True)

    def link(self, name: str) -> Any:
        return self.page.get_by_role("link", name=name, exact=True)

    def messages(self) -> list[str]:
        return self.page.locator(".message").all_inner_texts()

    def close(self) -> None:
        self.context.close()
        assert self.problems == [], self.problems


def state_of(proposal: Proposal) -> str:
    return Proposal.objects.get(pk=proposal.pk).state


@pytest.fixture
def demo(transactional_db: None) -> Group:
    group = group_setup()
    summit = OccasionFactory(
        name="Habitat IV",
        location="Quito, Ecuador",
        timezone="America/Guayaquil",
        submission_deadline=timezone.now() + dt.timedelta(days=12),
        starts_on=timezone.localdate() + dt.timedelta(days=20),
        ends_on=timezone.localdate() + dt.timedelta(days=23),
    )
    Person.objects.filter(username__in=["claire", "sam", "rita", "marianne"]).update(
        timezone="Europe/Paris"
    )
    totp_device_for(group.secretariat, key=b32decode(DEMO_TOTP_SECRET).hex())
    in_review(group, title="Public procurement open to cooperatives", occasion=summit)
    proposal_draft(group, title="SSE statistics in national accounts")
    return group


def test_a_proposal_goes_from_draft_to_outcome_in_the_browser(
    browser: Any, live_server: Any, demo: Group, screenshots: Path
) -> None:
    from playwright.sync_api import expect

    url = live_server.url

    # The drafter writes, previews and saves a draft, then submits it for review.
    claire = Visitor(browser, url, "claire")
    claire.link("New proposal").click()
    claire.page.get_by_label("Title").fill("A social economy law for every member State")
    claire.page.get_by_label("Summary").fill(
        "Every member State adopts a framework law on the SSE."
    )
    claire.page.get_by_label("Text", exact=True).fill(
        "# Why\n\nThe *social and solidarity economy* creates jobs.\n\n- cooperatives\n- mutuals"
    )
    claire.page.get_by_label("Target body").select_option(label="UN General Assembly")
    occasion = claire.page.get_by_label("Occasion")
    expect(occasion.locator("option", has_text="UNGA 81")).to_contain_text("deadline")
    occasion.select_option(value=str(Occasion.objects.get(name="UNGA 81").pk))
    claire.page.get_by_label("8. Decent work and economic growth").check()
    claire.button("Preview").click()
    expect(claire.page.locator("#preview em")).to_have_text("social and solidarity economy")
    claire.button("Save draft").click()
    expect(claire.page.locator(".message")).to_have_text("Your draft is saved as revision 1.")
    proposal = Proposal.objects.get(title="A social economy law for every member State")
    claire.button("Submit for review").click()
    expect(claire.page.locator(".message")).to_contain_text("The proposal is now in review.")
    assert state_of(proposal) == ProposalState.IN_REVIEW

    # The reviewer finds it on the dashboard and requests changes with a comment.
    rita = Visitor(browser, url, "rita")
    rita.page.locator("#review-heading + div").get_by_role(
        "link", name="A social economy law for every member State"
    ).click()
    rita.link("Request changes").click()
    rita.page.get_by_label("Comment").fill("Cite the 2023 UN resolution on the SSE.")
    rita.button("Request changes").click()
    expect(rita.page.locator(".message")).to_contain_text("The proposal is now draft.")
    assert state_of(proposal) == ProposalState.DRAFT

    # The drafter finds the draft marked on the dashboard, reads the request at the top of the
    # proposal and of the edit page; saving nothing says so; she revises the text and submits.
    claire.open("/")
    expect(claire.page.locator("#drafts-heading + div")).to_contain_text(
        "Changes requested by Rita"
    )
    claire.proposal(proposal)
    expect(claire.page.locator(".changes-request")).to_contain_text("Cite the 2023 UN resolution")
    expect(claire.page.locator(".reviews")).to_contain_text("Cite the 2023 UN resolution")
    claire.link("Edit").click()
    expect(claire.page.locator(".changes-request")).to_contain_text("Cite the 2023 UN resolution")
    claire.button("Save").click()
    expect(claire.page.locator(".message")).to_have_text("Nothing changed.")
    expect(claire.page.locator("#why-submit_for_review")).to_contain_text("then submit it again")
    claire.link("Edit").click()
    claire.page.get_by_label("Text", exact=True).fill(
        "# Why\n\nThe *social and solidarity economy* creates decent jobs, as the UN "
        "resolution of 2023 says.\n\n- cooperatives\n- mutuals\n- associations"
    )
    claire.button("Save").click()
    expect(claire.page.locator(".message")).to_have_text("Saved as revision 2.")
    claire.link("changes").click()
    expect(claire.page.locator(".diff ins").first).to_be_visible()
    claire.proposal(proposal)
    claire.button("Submit for review").click()
    expect(claire.page.locator(".message")).to_contain_text("now in review")
    expect(claire.page.locator("#next-step")).to_contain_text("more approval is needed")

    # The reviewer approves: the proposal opens for endorsement.
    rita.proposal(proposal)
    rita.link("Approve").click()
    rita.page.get_by_label("Comment").fill("The resolution is cited.")
    rita.button("Approve").click()
    expect(rita.page.locator(".message")).to_contain_text("now open for endorsement")

    # An observer sees the proposal but no Endorse button.
    gabriel = Visitor(browser, url, "gabriel")
    gabriel.proposal(proposal)
    expect(gabriel.page.locator("h1")).to_have_text("A social economy law for every member State")
    expect(gabriel.page.get_by_role("link", name="Endorse", exact=True)).to_have_count(0)
    expect(gabriel.page.get_by_role("button", name="Endorse", exact=True)).to_have_count(0)
    gabriel.page.locator("details.unavailable summary").click()
    expect(gabriel.page.locator("details.unavailable")).to_contain_text(
        "Endorse: Observers cannot endorse."
    )

    # The first representative endorses after confirming (htmx brings the confirmation in).
    marianne = Visitor(browser, url, "marianne")
    marianne.proposal(proposal)
    marianne.link("Endorse").click()
    confirm = marianne.page.locator("#inline-confirm")
    expect(confirm).to_contain_text("Your organisation signs it")
    confirm.get_by_role("button", name="Endorse").click()
    expect(marianne.page.locator(".message")).to_have_text("France endorses this proposal.")
    expect(marianne.page.locator(".my-endorsements")).to_contain_text("You endorsed for France on")

    # The secretariat cannot submit yet, and the page says why.
    sam = Visitor(browser, url, "sam", totp_secret=DEMO_TOTP_SECRET)
    sam.proposal(proposal)
    expect(sam.button("Submit to body")).to_be_disabled()
    expect(sam.page.locator("#why-submit")).to_contain_text("1 endorsement of 2 needed.")

    # The second representative endorses: the quorum is reached.
    youssef = Visitor(browser, url, "youssef")
    youssef.proposal(proposal)
    youssef.link("Endorse").click()
    youssef.page.locator("#inline-confirm").get_by_role("button", name="Endorse").click()
    expect(youssef.page.locator(".message")).to_have_text("Morocco endorses this proposal.")
    expect(youssef.page.locator("#next-step")).to_have_text(
        "Quorum reached: the secretariat will submit."
    )
    sam.open("/")
    expect(sam.page.locator("#submit-heading + div")).to_contain_text(
        "A social economy law for every member State"
    )
    sam.page.screenshot(path=str(screenshots / "dashboard.png"), full_page=True)

    # A refused action shows its reason: an endorsement is withdrawn while the secretariat
    # is on the submission form.
    sam.proposal(proposal)
    sam.link("Submit to body").click()
    sam.page.get_by_label("Body's reference or receipt").fill("A/81/L.12")
    endorsement_withdraw(
        endorsement=Endorsement.objects.get(proposal=proposal, organization=demo.morocco),
        person=demo.representative_ma,
    )
    sam.button("Submit to body").click()
    expect(sam.page.locator(".message.error")).to_have_text("1 endorsement of 2 needed.")
    assert state_of(proposal) == ProposalState.ENDORSEMENT

    # Morocco endorses again; the secretariat submits, then records the outcome.
    youssef.proposal(proposal)
    youssef.link("Endorse").click()
    youssef.page.locator("#inline-confirm").get_by_role("button", name="Endorse").click()
    expect(youssef.page.locator(".message")).to_have_text("Morocco endorses this proposal.")
    sam.proposal(proposal)
    sam.link("Submit to body").click()
    sam.page.get_by_label("Body's reference or receipt").fill("A/81/L.12")
    sam.button("Submit to body").click()
    expect(sam.page.locator(".message")).to_contain_text("now submitted")
    sam.link("Record outcome").click()
    sam.page.get_by_label("Adopted in part").check()
    sam.page.get_by_label("Decided on").fill(timezone.localdate().isoformat())
    sam.page.get_by_label("Note").fill("Adopted with amendments on financing.")
    sam.button("Record outcome").click()
    expect(sam.page.locator(".message")).to_contain_text("now closed")
    assert state_of(proposal) == ProposalState.CLOSED
    expect(sam.page.locator(".timeline")).to_contain_text("Record outcome")
    sam.page.screenshot(path=str(screenshots / "proposal.png"), full_page=True)

    habitat = Occasion.objects.get(name="Habitat IV").submission_deadline
    sam.open(f"/occasions/?month={habitat:%Y-%m}")
    expect(sam.page.locator(".calendar")).to_be_visible()
    sam.page.screenshot(path=str(screenshots / "calendar.png"), full_page=True)

    for visitor in (claire, rita, gabriel, marianne, sam, youssef):
        visitor.close()


def test_a_person_switches_the_pages_to_french(browser: Any, live_server: Any, demo: Group) -> None:
    from playwright.sync_api import expect

    claire = Visitor(browser, live_server.url, "claire")
    claire.page.get_by_label("Language").select_option("fr")
    claire.page.locator(".language-form").get_by_role("button").click()
    expect(claire.page.locator("html")).to_have_attribute("lang", "fr")
    expect(claire.page.locator("h1")).to_have_text("Tableau de bord")
    expect(claire.page.get_by_role("link", name=re.compile("Propositions"))).to_be_visible()
    claire.close()


def test_the_admin_and_the_api_docs_load_under_the_content_security_policy(
    browser: Any, live_server: Any, transactional_db: None
) -> None:
    from playwright.sync_api import expect

    superuser = Person.objects.create_superuser("admin", "admin@example.org", "demo")
    totp_device_for(superuser, key=b32decode(DEMO_TOTP_SECRET).hex())
    admin = Visitor(browser, live_server.url, "admin", totp_secret=DEMO_TOTP_SECRET)
    for path, heading in (
        ("/admin/", "Site administration"),
        ("/admin/proposals/occasion/add/", "Add occasion"),
    ):
        response = admin.open(path)
        assert "script-src 'self'" in response.headers["content-security-policy"]
        expect(admin.page.locator("h1")).to_have_text(heading)
    admin.open("/api/docs/")
    expect(admin.page.locator(".swagger-ui .title").first).to_contain_text("Policy tracker API")
    admin.close()
