"""Working together on a proposal in the browser: a French drafter and a Spanish reviewer
discuss it with a mention, a file is attached, downloaded by a reader and refused to an
outsider, and the header's notification count rises and clears.

Every label the test clicks and every text it expects is read from the catalogue in the
visitor's language (`Visitor.t`), as in the journey of a proposal.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from proposals.models import Attachment, Comment, Mention, Person
from tests.e2e.test_journey import Visitor
from tests.factories import group_setup
from tests.proposals.web.helpers import in_review

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

# The smallest whole PDF a reader opens: one empty page.
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def unread_count(visitor: Visitor) -> str:
    """The number the header's notification link shows, or "" when nothing is unread."""
    count = visitor.page.locator("#notification-count")
    return (count.text_content() or "").strip() if count.count() else ""


def test_a_french_drafter_and_a_spanish_reviewer_discuss_a_proposal_with_a_file(
    browser: Any, live_server: Any, screenshots: Path, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    group = group_setup()
    Person.objects.filter(username__in=["claire", "rita"]).update(timezone="Europe/Paris")
    proposal = in_review(
        group,
        title="Une loi sur l\u2019économie sociale pour chaque État membre",
        text="Premier paragraphe.\n\nArticle 2 : les coopératives accèdent aux marchés.",
        language="fr",
    )
    url = live_server.url

    # Claire, in French, asks Rita by name, choosing her from the completion list.
    claire = Visitor(browser, url, "claire", language="fr")
    claire.proposal(proposal)
    body = claire.field("Your comment")
    body.click()
    body.press_sequentially("@ri")
    suggestion = claire.page.get_by_role("option", name=re.compile(r"^@rita\b"))
    expect(suggestion).to_be_visible()
    body.press("Enter")
    body.press_sequentially("pourriez-vous relire l\u2019article 2\u202f?")
    expect(body).to_have_value("@rita pourriez-vous relire l\u2019article 2\u202f?")
    claire.button(claire.t("Post the comment")).click()
    comment = Comment.objects.get(proposal=proposal, author=group.drafter)
    assert list(Mention.objects.filter(comment=comment).values_list("person", flat=True)) == [
        group.reviewer.pk
    ]
    expect(claire.page.locator(f"#comment-{comment.pk}")).to_contain_text("relire")

    # She attaches the draft law as a PDF.
    draft_law = tmp_path / "projet-de-loi.pdf"
    draft_law.write_bytes(PDF)
    form = claire.page.locator("#attachment-form")
    form.get_by_label(claire.t("Title")).fill("Projet de loi")
    form.get_by_label(claire.t("File")).set_input_files(str(draft_law))
    claire.button(claire.t("Attach the file")).click()
    attachment = Attachment.objects.get(proposal=proposal)
    expect(claire.page.locator(f"#attachment-{attachment.pk}")).to_contain_text("Projet de loi")
    assert attachment.content_type == "application/pdf"
    claire.page.screenshot(path=str(screenshots / "discussion.fr.png"), full_page=True)

    # Rita, in Spanish, has two unread notifications: the proposal awaits her review, and
    # Claire named her.
    rita = Visitor(browser, url, "rita", language="es")
    assert unread_count(rita) == "2"
    rita.page.locator("#notification-badge").click()
    rita.page.wait_for_url(re.compile(r".*/notifications/"))
    notice = rita.page.locator(f'.notification.is-unread a[href$="#comment-{comment.pk}"]')
    expect(notice).to_have_count(1)
    rita.page.screenshot(path=str(screenshots / "notifications.es.png"), full_page=True)
    notice.click()
    rita.page.wait_for_url(re.compile(rf".*/proposals/{proposal.pk}/.*#comment-{comment.pk}$"))

    # She downloads the file: the bytes Claire attached.
    with rita.page.expect_download() as downloaded:
        rita.page.locator(f"#attachment-{attachment.pk} a[download]").click()
    assert Path(downloaded.value.path()).read_bytes() == PDF
    assert downloaded.value.suggested_filename == "projet-de-loi.pdf"

    # She answers in Spanish, and marks every notification read: the count goes.
    rita.page.get_by_text(rita.t("Reply"), exact=True).first.click()
    rita.page.get_by_label(rita.t("Your reply")).fill("Sí, lo reviso mañana.")
    rita.button(rita.t("Post the reply")).click()
    reply = Comment.objects.get(parent=comment)
    expect(rita.page.locator(f"#comment-{reply.pk}")).to_contain_text("lo reviso")
    rita.open("/notifications/")
    rita.button(rita.t("Mark all as read")).click()
    assert unread_count(rita) == ""

    # Claire's count shows the answer; reading it on its own clears it.
    claire.open("/")
    assert unread_count(claire) == "1"
    claire.open("/notifications/")
    expect(claire.page.locator(".notification.is-unread")).to_contain_text(proposal.title)
    claire.button(claire.t("Mark as read")).click()
    assert unread_count(claire) == ""
    rita.close()
    claire.close()

    # Someone of no organisation of the group: the file is not found, as the proposal is not.
    outsider = Visitor(browser, url, "nobody")
    download = f"{url}/proposals/{proposal.pk}/attachments/{attachment.pk}/download/"
    assert outsider.context.request.get(download).status == 404
    assert outsider.context.request.get(f"{url}/proposals/{proposal.pk}/").status == 404
    outsider.close()
