"""A proposal carried from draft to outcome in the browser, by the people who do it, each in
their own language: once all in English, once with a cast led in French, once in Spanish.

Every label the test clicks and every message it expects is read from the project's catalogue
in the visitor's language (`Visitor.t`), and every date from CLDR (Babel): the test reads what a
French or a Spanish person reads. Untranslated strings come out in English on both sides.
"""

from __future__ import annotations

import datetime as dt
import re
from base64 import b32decode
from pathlib import Path
from typing import Any

import pytest
from babel import Locale
from babel.dates import format_date, format_skeleton, format_time, get_timezone_location
from django.utils import formats, timezone, translation
from django_otp.oath import totp

from proposals.lifecycle import TRANSITIONS
from proposals.management.demo_data import DEMO_TOTP_SECRET
from proposals.models import (
    Endorsement,
    Occasion,
    Organization,
    OutcomeResult,
    Person,
    Proposal,
    ProposalState,
    Theme,
)
from proposals.services import endorsement_withdraw
from tests.factories import Group, OccasionFactory, group_setup, proposal_draft, totp_device_for
from tests.proposals.web.helpers import in_review

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

# The CLDR locale of each language: English as the group writes it (day before month, 24 h).
CLDR_LOCALES = {"en": "en_GB", "fr": "fr", "es": "es"}

# Who reads in which language. The secretariat reads in the cast's language (the screenshots are
# its pages); in the French and Spanish casts the reviewer and a representative read in the other.
CASTS = {
    "en": {
        "claire": "en",
        "rita": "en",
        "gabriel": "en",
        "marianne": "en",
        "youssef": "en",
        "sam": "en",
    },
    "fr": {
        "claire": "fr",
        "rita": "es",
        "gabriel": "fr",
        "marianne": "fr",
        "youssef": "es",
        "sam": "fr",
    },
    "es": {
        "claire": "es",
        "rita": "fr",
        "gabriel": "es",
        "marianne": "fr",
        "youssef": "es",
        "sam": "es",
    },
}
TITLES = {
    "en": "A social economy law for every member State",
    "fr": "Une loi sur l\u2019économie sociale pour chaque État membre",
    "es": "Una ley de economía social para cada Estado miembro",
}

# What the observer types in the header's search: a word of the text only, in capitals (en);
# a word of the title without its accent (fr, es).
SEARCHED = {"en": "SOLIDARITY", "fr": "economie", "es": "economia"}

Msgid = str | tuple[str, str]


class Visitor:
    """One person in their own browser context, signed in, whose page must never break the CSP.

    With a `language`, the person reads the site in it (their saved language, and their
    browser's for the login page) and the test reads labels and messages in it too."""

    language = "en"

    def __init__(
        self,
        browser: Any,
        base_url: str,
        username: str,
        totp_secret: str = "",
        language: str = "",
    ) -> None:
        self.base_url = base_url
        if language:
            self.language = language
            Person.objects.filter(username=username).update(language=language)
        self.zone = Person.objects.get(username=username).zone
        self.context = browser.new_context(
            viewport={"width": 1280, "height": 900}, locale=language or None
        )
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        self.page.on("response", self._response)
        self.open("/accounts/login/")
        self.page.get_by_label(self.t("Username")).fill(username)
        self.page.get_by_label(self.t("Password")).fill("demo")
        self.button(self.t("Log in")).click()
        if totp_secret:  # then the code of the person's authenticator app, as they would type it
            self.page.wait_for_url(re.compile(r".*/accounts/verify/"))
            self.page.get_by_label(self.t("Code")).fill(f"{totp(b32decode(totp_secret)):06d}")
            self.button(self.t("Confirm")).click()
        self.page.wait_for_url(f"{base_url}/")

    def _console(self, message: Any) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.problems.append(message.text)

    def _response(self, response: Any) -> None:
        if response.status >= 400:
            self.problems.append(f"{response.status} {response.url}")

    # What the person reads, in their language.

    def t(self, msgid: Msgid, **params: Any) -> str:
        """The catalogue's text of `msgid` in the person's language, filled with `params`;
        a (singular, plural) msgid takes the plural form of `params["count"]`."""
        with translation.override(self.language):
            if isinstance(msgid, tuple):
                text = translation.ngettext(msgid[0], msgid[1], params["count"])
            else:
                text = translation.gettext(msgid)
        return text % params if params else text

    def pattern(self, msgid: Msgid, **params: str | int | re.Pattern[str]) -> re.Pattern[str]:
        """The text of `msgid` as a pattern: the given params as they are (a pattern as a
        pattern), the others as any text; a (singular, plural) msgid as `t`."""
        with translation.override(self.language):
            if isinstance(msgid, tuple):
                count = params["count"]
                assert isinstance(count, int)
                text = translation.ngettext(msgid[0], msgid[1], count)
            else:
                text = translation.gettext(msgid)
        parts = []
        for part in re.split(r"(%\(\w+\)s)", text):
            name = part[2:-2] if re.fullmatch(r"%\(\w+\)s", part) else None
            value = params.get(name) if name else None
            if name is None:
                parts.append(re.escape(part))
            elif isinstance(value, re.Pattern):
                parts.append(value.pattern)
            elif value is not None:
                parts.append(re.escape(str(value)))
            else:
                parts.append(".+?")
        return re.compile("^" + "".join(parts) + "$")

    def read(self, value: Any) -> str:
        """A label, a name or an object as the person's language writes it."""
        with translation.override(self.language):
            return str(value)

    def colon(self) -> str:
        """A colon as the person's language sets it (French: after a narrow no-break space)."""
        return "\u202f:" if self.language == "fr" else ":"

    def today(self) -> dt.date:
        return timezone.localtime(timezone.now(), self.zone).date()

    def date(self, day: dt.date) -> str:
        """A day as the person's language writes it: "8 Dec 2026", "8 déc. 2026", "8 dic 2026"."""
        return format_date(day, "medium", locale=CLDR_LOCALES[self.language])

    def moment(self, value: dt.datetime) -> re.Pattern[str]:
        """A moment in the person's zone: its day as the language writes it, then its time."""
        local = timezone.localtime(value, self.zone)
        time = format_time(local, "short", locale=CLDR_LOCALES[self.language])
        return re.compile(re.escape(self.date(local.date())) + ".*" + re.escape(time))

    def month(self, day: dt.date) -> str:
        """A month heading: "December 2026", "Décembre 2026", "Diciembre de 2026"."""
        text = format_skeleton("yMMMM", day, locale=CLDR_LOCALES[self.language])
        return text[:1].upper() + text[1:]

    def city(self, zone: str) -> str:
        """A time zone's city in the person's language ("Nueva York" in Spanish)."""
        return str(
            get_timezone_location(zone, locale=CLDR_LOCALES[self.language], return_city=True)
        )

    def country(self, code: str) -> str:
        """A country's name in the person's language ("Maroc", "Marruecos")."""
        return str(Locale.parse(CLDR_LOCALES[self.language]).territories[code])

    def typed_date(self, day: dt.date) -> str:
        """A day as the person types it in a date field ("01/12/2026" in French)."""
        return day.strftime(formats.get_format("DATE_INPUT_FORMATS", self.language)[0])

    # The page.

    def open(self, path: str) -> Any:
        return self.page.goto(self.base_url + path)

    def proposal(self, proposal: Proposal) -> None:
        self.open(f"/proposals/{proposal.pk}/")

    def button(self, name: str) -> Any:
        return self.page.get_by_role("button", name=name, exact=True)

    def link(self, name: str) -> Any:
        return self.page.get_by_role("link", name=name, exact=True)

    def field(self, label: str, exact: bool = False) -> Any:
        """The form field of a label, read in the person's language."""
        return self.page.get_by_label(self.t(label), exact=exact)

    def text_of(self, selector: str) -> str:
        """The element's text with runs of spaces and line breaks as one space; no-break spaces
        stay as they are."""
        return re.sub(r"[ \t\r\n]+", " ", self.page.locator(selector).first.text_content() or "")

    def messages(self) -> list[str]:
        return self.page.locator(".message").all_inner_texts()

    def close(self) -> None:
        self.context.close()
        assert self.problems == [], self.problems


def state_of(proposal: Proposal) -> str:
    return Proposal.objects.get(pk=proposal.pk).state


def done(visitor: Visitor, action: str, state: ProposalState) -> str:
    """The message after an action that moved the proposal."""
    return visitor.t(
        "Done: %(action)s. The proposal is now %(state)s.",
        action=visitor.read(TRANSITIONS[action].label),
        state=visitor.read(state.label).lower(),
    )


ENDORSEMENTS_NEEDED = (
    "%(count)s endorsement of %(quorum)s needed.",
    "%(count)s endorsements of %(quorum)s needed.",
)

SVG_ATTRIBUTES = """svg => [...svg.querySelectorAll('*')].flatMap(
    element => [...element.attributes].map(a => [element.tagName, a.name, a.value]))"""
NODE_LABELS_OUTSIDE_THEIR_BOX = """svg => [...svg.querySelectorAll('g.node')].filter(node => {
    const box = node.querySelector('rect').getBBox(), text = node.querySelector('text').getBBox();
    return text.x < box.x || text.x + text.width > box.x + box.width;
}).map(node => node.querySelector('text').textContent)"""
NUMBERS = re.compile(r"-?\d+(\.\d+)?%?([ ]-?\d+(\.\d+)?)*")
PATH = re.compile(r"(([MLCQ]?-?\d+(\.\d+)?,-?\d+(\.\d+)?|[zZ])[ ]?)+")
NUMERIC_ATTRIBUTES = {"x", "y", "width", "height", "rx", "viewbox", "refx", "refy"}
NUMERIC_ATTRIBUTES |= {"markerwidth", "markerheight", "cx", "cy", "r", "x1", "x2", "y1", "y2"}


def the_workflow_diagram_reads_in_words(visitor: Visitor) -> None:
    """/workflow/: every state and action of the diagram is named in the person's language, in
    its box, and the numbers of the SVG are never written with a decimal comma."""
    from playwright.sync_api import expect

    visitor.open("/workflow/")
    svg = visitor.page.locator("svg.workflow-svg")
    texts = [text.strip() for text in svg.locator("text").all_text_contents()]
    assert texts and all(len(text) > 1 for text in texts), texts
    for state in ProposalState:
        expect(svg.locator(f"g.node-{state.value} text")).to_have_text(visitor.read(state.label))
    actions = {visitor.read(transition.label) for transition in TRANSITIONS.values()}
    edge_labels = set(svg.locator("text.edge-label").all_text_contents())
    assert edge_labels and edge_labels <= actions, edge_labels - actions
    for tag, name, value in svg.evaluate(SVG_ATTRIBUTES):
        if name == "d":
            assert PATH.fullmatch(value), (tag, name, value)
        elif name.lower() in NUMERIC_ATTRIBUTES:
            assert NUMBERS.fullmatch(value), (tag, name, value)
    assert svg.evaluate(NODE_LABELS_OUTSIDE_THEIR_BOX) == []


@pytest.fixture
def demo(transactional_db: None) -> Group:
    """The group, France and Morocco named by their countries in each reader's language."""
    group = group_setup()
    for organization, country in ((group.france, "FR"), (group.morocco, "MA")):
        Organization.objects.filter(pk=organization.pk).update(country=country)
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


@pytest.mark.parametrize("cast", list(CASTS))
def test_a_proposal_goes_from_draft_to_outcome_in_the_browser(
    browser: Any, live_server: Any, demo: Group, screenshots: Path, cast: str
) -> None:
    from playwright.sync_api import expect

    url = live_server.url
    speaks = CASTS[cast]
    title = TITLES[cast]
    unga = Occasion.objects.get(name="UNGA 81")

    def shot(visitor: Visitor, name: str) -> None:
        suffix = "" if cast == "en" else f".{cast}"
        visitor.page.screenshot(path=str(screenshots / f"{name}{suffix}.png"), full_page=True)

    # The drafter writes, previews and saves a draft, then submits it for review.
    claire = Visitor(browser, url, "claire", language=speaks["claire"])
    expect(claire.page.locator("html")).to_have_attribute("lang", speaks["claire"])
    the_workflow_diagram_reads_in_words(claire)
    claire.open("/")
    claire.link(claire.t("New proposal")).click()
    claire.field("Title").fill(title)
    claire.field("Summary").fill("Every member State adopts a framework law on the SSE.")
    claire.field("Text", exact=True).fill(
        "# Why\n\nThe *social and solidarity economy* creates jobs.\n\n- cooperatives\n- mutuals"
    )
    expect(claire.field("Language of the text")).to_have_value(speaks["claire"])
    claire.field("Target body").select_option(label="UN General Assembly")
    occasion = claire.field("Occasion")
    expect(occasion.locator("option", has_text="UNGA 81")).to_have_text(
        claire.pattern(
            "%(occasion)s — deadline %(when)s (%(zone)s)",
            occasion="UNGA 81",
            when=claire.moment(unga.submission_deadline),
            zone=claire.t("%(place)s time", place=claire.city("Europe/Paris")),
        )
    )
    occasion.select_option(value=str(unga.pk))
    claire.page.get_by_label(claire.read(Theme.objects.get(number=8)), exact=True).check()
    claire.button(claire.t("Preview")).click()
    expect(claire.page.locator("#preview em")).to_have_text("social and solidarity economy")
    claire.button(claire.t("Save draft")).click()
    expect(claire.page.locator(".message")).to_have_text(
        claire.t("Your draft is saved as revision 1.")
    )
    proposal = Proposal.objects.get(title=title)
    claire.button(claire.t("Submit for review")).click()
    expect(claire.page.locator(".message")).to_contain_text(
        done(claire, "submit_for_review", ProposalState.IN_REVIEW)
    )
    assert state_of(proposal) == ProposalState.IN_REVIEW

    # The reviewer finds it on the dashboard and requests changes with a comment.
    rita = Visitor(browser, url, "rita", language=speaks["rita"])
    the_workflow_diagram_reads_in_words(rita)
    rita.open("/")
    rita.page.locator("#review-heading + div").get_by_role("link", name=title).click()
    rita.link(rita.t("Request changes")).click()
    rita.field("Comment").fill("Cite the 2023 UN resolution on the SSE.")
    rita.button(rita.t("Request changes")).click()
    expect(rita.page.locator(".message")).to_contain_text(
        done(rita, "request_changes", ProposalState.DRAFT)
    )
    assert state_of(proposal) == ProposalState.DRAFT

    # The drafter finds the draft marked on the dashboard, reads the request at the top of the
    # proposal and of the edit page; saving nothing says so; she revises the text and submits.
    claire.open("/")
    expect(claire.page.locator("#drafts-heading + div")).to_contain_text(
        claire.t("Changes requested by %(reviewer)s", reviewer="Rita")
    )
    claire.proposal(proposal)
    expect(claire.page.locator(".changes-request")).to_contain_text("Cite the 2023 UN resolution")
    expect(claire.page.locator("#next-step")).to_have_text(
        claire.t(
            "Next: the authors (%(names)s) make the changes requested and submit it again.",
            names="Claire",
        )
    )
    expect(claire.page.locator(".reviews")).to_contain_text("Cite the 2023 UN resolution")
    claire.link(claire.t("Edit")).click()
    expect(claire.page.locator(".changes-request")).to_contain_text("Cite the 2023 UN resolution")
    claire.button(claire.t("Save")).click()
    expect(claire.page.locator(".message")).to_have_text(claire.t("Nothing changed."))
    expect(claire.page.locator("#why-submit_for_review")).to_contain_text(
        claire.t(
            "Changes were requested on revision %(number)s: change its title, summary "
            "or text (saving makes revision %(next)s), then submit it again.",
            number=1,
            next=2,
        )
    )
    claire.link(claire.t("Edit")).click()
    claire.field("Text", exact=True).fill(
        "# Why\n\nThe *social and solidarity economy* creates decent jobs, as the UN "
        "resolution of 2023 says.\n\n- cooperatives\n- mutuals\n- associations"
    )
    claire.button(claire.t("Save")).click()
    expect(claire.page.locator(".message")).to_have_text(
        claire.t("Saved as revision %(number)s.", number=2)
    )
    claire.link(claire.t("changes")).click()
    expect(claire.page.locator(".diff ins").first).to_be_visible()
    claire.proposal(proposal)
    claire.button(claire.t("Submit for review")).click()
    expect(claire.page.locator(".message")).to_contain_text(
        done(claire, "submit_for_review", ProposalState.IN_REVIEW)
    )
    expect(claire.page.locator("#next-step")).to_have_text(
        claire.pattern(
            (
                "Next: %(count)s more approval is needed, from the reviewers: %(names)s.",
                "Next: %(count)s more approvals are needed, from the reviewers: %(names)s.",
            ),
            count=1,
        )
    )
    expect(claire.page.locator("#next-step")).to_contain_text("Rita")

    # The reviewer approves, with a comment: the proposal opens for endorsement, and the
    # page says which members are still to endorse.
    rita.proposal(proposal)
    rita.link(rita.t("Approve")).click()
    rita.field("Comment").fill("The resolution is cited.")
    rita.button(rita.t("Approve")).click()
    expect(rita.page.locator(".message")).to_contain_text(
        done(rita, "approve", ProposalState.ENDORSEMENT)
    )
    expect(rita.page.locator("#next-step")).to_have_text(
        rita.pattern(
            (
                "Next: %(count)s more endorsement is needed, from one of these members: "
                "%(members)s.",
                "Next: %(count)s more endorsements are needed, from these members: %(members)s.",
            ),
            count=2,
        )
    )
    for code, person in (("FR", "Marianne"), ("MA", "Youssef")):
        expect(rita.page.locator("#next-step")).to_contain_text(
            rita.t("%(organization)s (%(people)s)", organization=rita.country(code), people=person)
        )

    # An observer sees the proposal but no Endorse button: Endorse is among the other
    # actions, with its reason; reached by its address, it returns to the proposal.
    gabriel = Visitor(browser, url, "gabriel", language=speaks["gabriel"])
    gabriel.proposal(proposal)
    expect(gabriel.page.locator("h1")).to_have_text(title)
    endorse = gabriel.t("Endorse")
    expect(gabriel.page.get_by_role("link", name=endorse, exact=True)).to_have_count(0)
    expect(gabriel.page.get_by_role("button", name=endorse, exact=True)).to_have_count(0)
    gabriel.page.locator("details.unavailable summary").click()
    expect(gabriel.page.locator("details.unavailable")).to_be_visible()
    refused = f"{endorse}{gabriel.colon()} {gabriel.t('Observers cannot endorse.')}"
    assert refused in gabriel.text_of("details.unavailable")
    # He finds it from the header's search, typing without accents or capitals.
    gabriel.page.get_by_role("searchbox", name=gabriel.t("Search proposals")).fill(SEARCHED[cast])
    gabriel.page.get_by_role("searchbox", name=gabriel.t("Search proposals")).press("Enter")
    expect(gabriel.page.locator("main").get_by_role("link", name=title)).to_be_visible()
    expect(
        gabriel.page.get_by_role("link", name="Public procurement open to cooperatives")
    ).to_have_count(0)
    gabriel.open(f"/proposals/{proposal.pk}/endorse/")
    expect(gabriel.page).to_have_url(f"{url}/proposals/{proposal.pk}/")
    expect(gabriel.page.locator(".message.error")).to_have_text(
        gabriel.t("Observers cannot endorse.")
    )

    # The first representative endorses after confirming (htmx brings the confirmation in).
    marianne = Visitor(browser, url, "marianne", language=speaks["marianne"])
    marianne.proposal(proposal)
    marianne.link(marianne.t("Endorse")).click()
    confirm = marianne.page.locator("#inline-confirm")
    expect(confirm).to_contain_text(
        marianne.t(
            "Endorse “%(title)s”? Your organisation signs it, and it counts toward the quorum "
            "until you withdraw it.",
            title=title,
        )
    )
    confirm.get_by_role("button", name=marianne.t("Endorse")).click()
    france = marianne.country("FR")
    expect(marianne.page.locator(".message")).to_have_text(
        marianne.t("%(organization)s endorses this proposal.", organization=france)
    )
    expect(marianne.page.locator(".my-endorsements")).to_contain_text(
        marianne.t(
            "You endorsed for %(organization)s on %(when)s.",
            organization=france,
            when=marianne.date(marianne.today()),
        )
    )

    # The secretariat cannot submit yet, and the page says why; the deadline reads in its
    # language and zone, and in the occasion's city as its language names it.
    sam = Visitor(browser, url, "sam", totp_secret=DEMO_TOTP_SECRET, language=speaks["sam"])
    sam.proposal(proposal)
    expect(sam.button(sam.t("Submit to body"))).to_be_disabled()
    expect(sam.page.locator("#why-submit")).to_contain_text(
        sam.t(ENDORSEMENTS_NEEDED, count=1, quorum=2)
    )
    deadline = sam.page.locator(".facts time").first
    expect(deadline).to_have_text(sam.moment(unga.submission_deadline))
    expect(sam.page.locator(".facts")).to_contain_text(
        sam.t("%(place)s time", place=sam.city("America/New_York"))
    )

    # The second representative endorses: the quorum is reached, and the pages say so.
    youssef = Visitor(browser, url, "youssef", language=speaks["youssef"])
    youssef.proposal(proposal)
    youssef.link(youssef.t("Endorse")).click()
    youssef.page.locator("#inline-confirm").get_by_role("button", name=youssef.t("Endorse")).click()
    morocco = youssef.country("MA")
    expect(youssef.page.locator(".message")).to_have_text(
        youssef.t("%(organization)s endorses this proposal.", organization=morocco)
    )
    expect(youssef.page.locator("#next-step")).to_have_text(
        youssef.t("Quorum reached: the secretariat will submit.")
    )
    expect(youssef.page.locator(".quorum")).to_contain_text(
        youssef.t(
            (
                "Quorum reached: %(count)s endorsement, %(quorum)s needed.",
                "Quorum reached: %(count)s endorsements, %(quorum)s needed.",
            ),
            count=2,
            quorum=2,
        )
    )
    sam.open("/")
    expect(sam.page.locator("#submit-heading + div")).to_contain_text(title)
    shot(sam, "dashboard")

    # A refused action shows its reason: an endorsement is withdrawn while the secretariat
    # is on the submission form.
    sam.proposal(proposal)
    sam.link(sam.t("Submit to body")).click()
    sam.field("Body's reference or receipt").fill("A/81/L.12")
    endorsement_withdraw(
        endorsement=Endorsement.objects.get(proposal=proposal, organization=demo.morocco),
        person=demo.representative_ma,
    )
    sam.button(sam.t("Submit to body")).click()
    expect(sam.page.locator(".message.error")).to_have_text(
        sam.t(ENDORSEMENTS_NEEDED, count=1, quorum=2)
    )
    assert state_of(proposal) == ProposalState.ENDORSEMENT

    # Morocco endorses again; the secretariat submits, then records the outcome.
    youssef.proposal(proposal)
    youssef.link(youssef.t("Endorse")).click()
    youssef.page.locator("#inline-confirm").get_by_role("button", name=youssef.t("Endorse")).click()
    expect(youssef.page.locator(".message")).to_have_text(
        youssef.t("%(organization)s endorses this proposal.", organization=morocco)
    )
    sam.proposal(proposal)
    sam.link(sam.t("Submit to body")).click()
    sam.field("Body's reference or receipt").fill("A/81/L.12")
    sam.button(sam.t("Submit to body")).click()
    expect(sam.page.locator(".message")).to_contain_text(
        done(sam, "submit", ProposalState.SUBMITTED)
    )
    expect(sam.page.locator("#next-step")).to_have_text(
        sam.t("Next: the secretariat records what the body decided.")
    )
    sam.link(sam.t("Record outcome")).click()
    adopted_in_part = sam.read(OutcomeResult.ADOPTED_IN_PART.label)
    sam.page.get_by_label(adopted_in_part, exact=True).check()
    sam.field("Decided on").fill(sam.typed_date(sam.today()))
    sam.field("Note").fill("Adopted with amendments on financing.")
    sam.button(sam.t("Record outcome")).click()
    expect(sam.page.locator(".message")).to_contain_text(
        done(sam, "record_outcome", ProposalState.CLOSED)
    )
    assert state_of(proposal) == ProposalState.CLOSED
    expect(sam.page.locator(".timeline")).to_contain_text(sam.t("Record outcome"))
    assert f"{sam.t('Record outcome')}{sam.colon()} {adopted_in_part}" in sam.text_of(".timeline")
    expect(sam.page.locator("#submission-heading + .facts")).to_contain_text(
        f"{adopted_in_part}, {sam.date(sam.today())}"
    )
    shot(sam, "proposal")

    habitat = Occasion.objects.get(name="Habitat IV").submission_deadline
    sam.open(f"/occasions/?month={habitat:%Y-%m}")
    expect(sam.page.locator(".calendar")).to_be_visible()
    expect(sam.page.locator("#calendar-heading")).to_have_text(
        sam.month(timezone.localtime(habitat, sam.zone).date())
    )
    shot(sam, "calendar")

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
