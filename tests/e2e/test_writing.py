"""Writing a proposal in the browser: the preview under the text box, and an edit conflict
between two tabs that loses none of the typed text (issue 12, point 10)."""

from __future__ import annotations

from typing import Any

import pytest

from proposals.models import Proposal
from tests.e2e.test_journey import Visitor, demo  # noqa: F401 (the fixture)
from tests.factories import Group, proposal_draft

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_an_edit_conflict_between_two_tabs_keeps_the_typed_text(
    browser: Any,
    live_server: Any,
    demo: Group,  # noqa: F811
) -> None:
    from playwright.sync_api import expect

    proposal = proposal_draft(demo, title="Two tabs", text="First line.\nThe common line.")
    claire = Visitor(browser, live_server.url, "claire")
    other_tab = claire.context.new_page()
    other_tab.goto(f"{live_server.url}/proposals/{proposal.pk}/edit/")
    claire.open(f"/proposals/{proposal.pk}/edit/")

    # The other tab saves first.
    other_tab.get_by_label("Text", exact=True).fill("First line, theirs.\nThe common line.")
    other_tab.get_by_role("button", name="Save", exact=True).click()
    expect(other_tab.locator(".message")).to_have_text("Saved as revision 2.")

    # This tab's save is a conflict: both versions as a diff, the typed text kept.
    claire.page.get_by_label("Text", exact=True).fill("First line, mine.\nThe common line.")
    claire.button("Save").click()
    conflict = claire.page.locator(".edit-conflict")
    expect(conflict).to_contain_text("Claire saved revision 2 while you were editing revision 1")
    expect(conflict.locator("del", has_text="theirs")).to_be_visible()
    expect(conflict.locator("ins", has_text="mine")).to_be_visible()
    expect(claire.page.locator("#editing-revision")).to_contain_text("revision 2")
    expect(claire.page.get_by_label("Text", exact=True)).to_have_value(
        "First line, mine.\nThe common line."
    )

    # Merging by hand in the form, then saving, makes revision 3.
    claire.page.get_by_label("Text", exact=True).fill(
        "First line, mine and theirs.\nThe common line."
    )
    claire.button("Save this version").click()
    expect(claire.page.locator(".message")).to_have_text("Saved as revision 3.")
    saved = Proposal.objects.get(pk=proposal.pk).text.replace("\r\n", "\n")  # as browsers post
    assert saved == "First line, mine and theirs.\nThe common line."
    claire.problems = [p for p in claire.problems if not p.startswith("409 ")]
    claire.close()


def test_the_preview_shows_under_the_text_box(
    browser: Any,
    live_server: Any,
    demo: Group,  # noqa: F811
) -> None:
    from playwright.sync_api import expect

    claire = Visitor(browser, live_server.url, "claire")
    claire.link("New proposal").click()
    claire.page.get_by_label("Text", exact=True).fill("Some *emphasis*.")
    claire.button("Preview").click()
    expect(claire.page.locator("#preview em")).to_have_text("emphasis")
    text_box = claire.page.get_by_label("Text", exact=True).bounding_box()
    preview = claire.page.locator("#preview").bounding_box()
    assert text_box is not None and preview is not None
    assert 0 <= preview["y"] - (text_box["y"] + text_box["height"]) < 200
    claire.close()
