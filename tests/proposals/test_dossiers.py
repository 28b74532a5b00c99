"""The submission dossier: facts recorded with the submission, the PDF rendered after commit
and frozen, the held "submitted" email carrying it, the pages, the API, preview and bundle."""

from __future__ import annotations

import hashlib
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader
from reportlab.pdfbase.ttfonts import TTFontFile

from proposals.dossiers import store
from proposals.dossiers.canonical import fingerprint
from proposals.dossiers.facts import preview_facts
from proposals.dossiers.render import FONT_DIR, FONT_FILES, dossier_pdf
from proposals.models import Attachment, ProposalState, Submission
from proposals.services import endorsement_create
from tests.factories import Group, client_signed_in, group_setup
from tests.proposals.api.helpers import client_for, fresh, proposal_in, run
from workflow.emails import delivery_message
from workflow.models import Delivery

pytestmark = pytest.mark.django_db

DOCS = Path(__file__).resolve().parents[2] / "docs" / "dossier.md"
TEXT = (
    "## Pourquoi\n\nL’économie sociale\u202f: **des emplois** et *des territoires*.\r\n\n"
    "- un réseau\n- une loi\n\n1. premier\n2. second\n\n"
    "| pays | voix |\n|---|---|\n| Maroc | 1 |\n\n<script>alert(1)</script>\n"
)


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


@pytest.fixture
def group(db: None) -> Group:
    return group_setup()


def submitted(group: Group, django_capture_on_commit_callbacks, **kwargs) -> Submission:
    """A proposal of the group brought to submitted; the render's dispatch is captured (not run)."""
    kwargs.setdefault("title", "Reconnaître l’ESS")
    kwargs.setdefault("summary", "Un résumé\u202f: court.")
    kwargs.setdefault("text", TEXT)
    kwargs.setdefault("language", "fr")
    proposal = proposal_in(group, ProposalState.ENDORSEMENT, **kwargs)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run(proposal, "submit", group.secretariat, reference="A/81/1")
    assert callbacks, "the submission hands its dossier to a worker after commit"
    return Submission.objects.get(proposal=proposal)


def test_the_submission_records_the_dossier_facts_in_its_transaction(
    group: Group, django_capture_on_commit_callbacks
) -> None:
    submission = submitted(group, django_capture_on_commit_callbacks)
    facts = submission.facts
    year = submission.submitted_at.year
    assert submission.number == f"ILG-{year}-{submission.proposal_id:05d}" == facts["number"]
    assert submission.revision is not None
    assert submission.revision.number == facts["revision"]
    assert facts["language"] == "fr"
    assert facts["title"] == "Reconnaître l’ESS"
    assert "\r" not in facts["text"]
    assert facts["body"]["name"] == group.body.name
    assert facts["occasion"]["name"] == group.occasion.name
    assert facts["presidency"]["organization"]["name"] == "France"
    assert facts["presidency"]["signatory"] == group.representative_fr.get_full_name()
    assert [e["organization"]["name"] for e in facts["endorsements"]] == ["Morocco", "Luxembourg"]
    assert facts["endorsements"][0]["representative"] == group.representative_ma.get_full_name()
    assert submission.fingerprint == fingerprint(
        title=submission.revision.title,
        summary=submission.revision.summary,
        text=submission.revision.text,
    )
    assert not submission.dossier, "rendering waits for the commit"


def test_the_fingerprint_recipe_in_the_docs_gives_the_recorded_fingerprint(
    group: Group, django_capture_on_commit_callbacks, tmp_path: Path
) -> None:
    """The recipe of docs/dossier.md, run on its own in a fresh Python with only the standard
    library, recomputes the fingerprint from the three texts."""
    submission = submitted(group, django_capture_on_commit_callbacks)
    recipe = re.search(r"```python\n(.*?)```", DOCS.read_text(), re.S)
    assert recipe, "docs/dossier.md has a Python recipe"
    revision = submission.revision
    assert revision is not None
    for name, value in (
        ("title", revision.title),
        ("summary", revision.summary),
        ("text", revision.text),
    ):
        (tmp_path / f"{name}.txt").write_bytes(value.encode("utf-8"))
    result = subprocess.run(
        [sys.executable, "-I", "-c", recipe.group(1)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert result.stdout.strip() == submission.fingerprint


def test_the_dossier_is_rendered_stored_and_frozen(
    group: Group, django_capture_on_commit_callbacks
) -> None:
    submission = submitted(group, django_capture_on_commit_callbacks)
    Attachment.objects.none()
    stored = store.dossier_render(submission_id=submission.pk)
    data = stored.dossier.open("rb").read()
    assert stored.dossier_sha256 == hashlib.sha256(data).hexdigest()
    assert stored.dossier_size == len(data)
    assert stored.dossier_rendered_at is not None
    assert stored.dossier_attempts == 1
    text = pdf_text(data)
    reader = PdfReader(io.BytesIO(data))
    assert reader.metadata is not None
    assert reader.metadata.title == "Reconnaître l’ESS"
    for expected in (
        "Reconnaître l’ESS",
        "Pourquoi",
        "des emplois",
        "une loi",
        "Maroc",  # Morocco, as French writes it
        "Luxembourg",
        group.representative_ma.get_full_name(),
        group.representative_lu.get_full_name(),
        submission.number,
        submission.fingerprint,
        "Page 1 ",
    ):
        assert expected in text.replace("\n", " ") or expected in text, expected
    assert "<script>" in text, "raw HTML is shown as text, never interpreted"
    with pytest.raises(store.DossierFrozen):
        store.dossier_render(submission_id=submission.pk)
    assert stored.dossier.open("rb").read() == data


def test_rendering_twice_from_the_same_facts_gives_the_same_bytes(
    group: Group, django_capture_on_commit_callbacks
) -> None:
    submission = submitted(group, django_capture_on_commit_callbacks)
    first = dossier_pdf(submission.facts)
    assert first == dossier_pdf(dict(submission.facts))
    assert b"/CreationDate (D:" + submission.submitted_at.strftime("%Y%m%d").encode() in first


def test_the_font_covers_french_spanish_english_and_the_narrow_no_break_space() -> None:
    for filename in FONT_FILES.values():
        cmap = TTFontFile(str(FONT_DIR / filename)).charToGlyph
        for character in "\u202f\u00a0«»’“”—…€éèêëàâçîïôœùûüÿÉÀÇñÑáíóúü¿¡":
            assert ord(character) in cmap, (filename, hex(ord(character)))
    assert (FONT_DIR / "LICENSE").exists()
    assert "2.37.3" in (FONT_DIR / "SOURCE.md").read_text()


def test_a_failing_render_keeps_the_submission_and_is_tried_again(
    group: Group, django_capture_on_commit_callbacks, monkeypatch: pytest.MonkeyPatch
) -> None:
    submission = submitted(group, django_capture_on_commit_callbacks)

    def broken(facts: dict, draft: bool = False) -> bytes:
        raise RuntimeError("the renderer broke")

    monkeypatch.setattr(store, "dossier_pdf", broken)
    with pytest.raises(store.DossierRenderFailed):
        store.dossier_render(submission_id=submission.pk)
    submission.refresh_from_db()
    assert submission.dossier_attempts == 1
    assert "the renderer broke" in submission.dossier_error
    assert not submission.dossier
    assert fresh(submission.proposal).state == ProposalState.SUBMITTED
    later = submission.submitted_at + store.SWEEP_GRACE * 2
    dispatched: list[list[int]] = []
    monkeypatch.setattr(store, "dossier_render_dispatch", lambda ids: dispatched.append(list(ids)))
    assert store.dossiers_sweep(later) == [submission.pk]
    assert dispatched == [[submission.pk]]
    monkeypatch.setattr(store, "dossier_pdf", dossier_pdf)
    stored = store.dossier_render(submission_id=submission.pk)
    assert stored.dossier and stored.dossier_error == "" and stored.dossier_attempts == 2
    assert store.dossiers_sweep(later) == []


def test_the_submitted_email_waits_for_the_dossier_and_carries_it(
    group: Group, django_capture_on_commit_callbacks
) -> None:
    group.co_drafter.daily_digest = True
    group.co_drafter.save(update_fields=["daily_digest"])
    proposal = proposal_in(group, ProposalState.DRAFT, language="fr")
    proposal.authors.add(group.co_drafter)
    proposal = proposal_in_endorsement(group, proposal)
    with django_capture_on_commit_callbacks(execute=False):
        run(proposal, "submit", group.secretariat)
    submission = Submission.objects.get(proposal=proposal)
    emails = Delivery.objects.filter(event="proposal.submitted", channel=Delivery.Channel.EMAIL)
    by_person = {row.recipient_id: row for row in emails}
    assert by_person[group.drafter.pk].status == Delivery.Status.HELD
    assert by_person[group.co_drafter.pk].status == Delivery.Status.DIGEST, "digest: a link"
    pages = Delivery.objects.filter(event="proposal.submitted", channel=Delivery.Channel.PAGE)
    assert {row.status for row in pages} == {Delivery.Status.SENT}
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        stored = store.dossier_render(submission_id=submission.pk)
    assert callbacks, "the released emails are dispatched after commit"
    held = Delivery.objects.get(pk=by_person[group.drafter.pk].pk)
    assert held.status == Delivery.Status.PENDING
    message = delivery_message(held)
    ((filename, content, mimetype),) = message.attachments
    assert filename == f"{submission.number}.pdf" and mimetype == "application/pdf"
    assert hashlib.sha256(content).hexdigest() == stored.dossier_sha256
    assert "jointe" in message.body or submission.number in message.body
    digest_row = Delivery.objects.get(pk=by_person[group.co_drafter.pk].pk)
    assert digest_row.status == Delivery.Status.DIGEST


def proposal_in_endorsement(group: Group, proposal):
    proposal = run(proposal, "submit_for_review", group.drafter)
    proposal = run(proposal, "approve", group.reviewer)
    for person in (group.representative_ma, group.representative_lu):
        endorsement_create(proposal=fresh(proposal), person=person)
    return fresh(proposal)


def test_pages_serve_the_dossier_to_whoever_sees_the_proposal(
    group: Group, django_capture_on_commit_callbacks, client: Client
) -> None:
    submission = submitted(group, django_capture_on_commit_callbacks)
    url = reverse("proposals:dossier_download", args=[submission.proposal_id])
    page = reverse("proposals:proposal_detail", args=[submission.proposal_id])
    reader = client_signed_in(client, group.representative_lu)
    waiting = reader.get(page)
    assert "est en préparation" in waiting.content.decode() or submission.number in (
        waiting.content.decode()
    )
    assert reader.get(url).status_code == 302
    stored = store.dossier_render(submission_id=submission.pk)
    answer = reader.get(url)
    assert answer.status_code == 200 and answer["Content-Type"] == "application/pdf"
    assert b"".join(answer.streaming_content) == stored.dossier.open("rb").read()
    html = reader.get(page).content.decode()
    assert stored.dossier_sha256 in html and url in html


def test_an_outsider_gets_404_for_a_dossier_they_may_not_see(
    group: Group, django_capture_on_commit_callbacks, client: Client
) -> None:
    proposal = proposal_in(group, ProposalState.DRAFT)
    outsider = client_signed_in(client, group.outsider)
    assert (
        outsider.get(reverse("proposals:dossier_download", args=[proposal.pk])).status_code == 404
    )
    assert outsider.get(reverse("proposals:dossier_preview", args=[proposal.pk])).status_code == 404
    api = client_for(group.outsider)
    assert api.get(f"/api/proposals/{proposal.pk}/dossier/").status_code == 404


def test_the_api_answers_409_while_rendering_then_the_pdf(
    group: Group, django_capture_on_commit_callbacks
) -> None:
    submission = submitted(group, django_capture_on_commit_callbacks)
    api = client_for(group.drafter)
    url = f"/api/proposals/{submission.proposal_id}/dossier/"
    waiting = api.get(url)
    assert waiting.status_code == 409
    assert waiting.json()["reason_codes"] == ["dossier_not_ready"]
    detail = api.get(f"/api/proposals/{submission.proposal_id}/").json()["submission"]
    assert detail["number"] == submission.number
    assert detail["fingerprint"] == submission.fingerprint
    assert detail["dossier"]["ready"] is False and detail["dossier"]["url"].endswith(url)
    stored = store.dossier_render(submission_id=submission.pk)
    answer = api.get(url)
    assert answer.status_code == 200
    body = b"".join(answer.streaming_content)  # type: ignore[attr-defined]
    assert hashlib.sha256(body).hexdigest() == stored.dossier_sha256
    detail = api.get(f"/api/proposals/{submission.proposal_id}/").json()["submission"]
    assert detail["dossier"]["ready"] is True
    assert detail["dossier"]["sha256"] == stored.dossier_sha256


def test_a_submission_made_before_dossiers_says_so(
    group: Group, django_capture_on_commit_callbacks, client: Client
) -> None:
    submission = submitted(group, django_capture_on_commit_callbacks)
    Submission.objects.filter(pk=submission.pk).update(number="", fingerprint="", facts={})
    reader = client_signed_in(client, group.drafter)
    html = reader.get(reverse("proposals:proposal_detail", args=[submission.proposal_id]))
    assert "No dossier" in html.content.decode() or "dossier" in html.content.decode()
    assert (
        reader.get(reverse("proposals:dossier_download", args=[submission.proposal_id])).status_code
        == 404
    )
    api = client_for(group.drafter)
    assert api.get(f"/api/proposals/{submission.proposal_id}/dossier/").status_code == 404
    assert (
        api.get(f"/api/proposals/{submission.proposal_id}/").json()["submission"]["dossier"] is None
    )
    assert store.dossiers_waiting(submission.submitted_at + store.SWEEP_GRACE * 2) == []


def test_the_preview_is_a_draft_for_the_secretariat_and_the_presidency(
    group: Group, client: Client
) -> None:
    proposal = proposal_in(group, ProposalState.IN_REVIEW, language="es", title="Una ley")
    url = reverse("proposals:dossier_preview", args=[proposal.pk])
    for person in (group.secretariat, group.representative_fr):
        answer = client_signed_in(Client(), person).get(url)
        assert answer.status_code == 200, person
        text = pdf_text(b"".join(answer.streaming_content))
        assert "BORRADOR" in text or "DRAFT" in text
        assert "Una ley" in text
    assert client_signed_in(client, group.drafter).get(url).status_code == 403
    assert not Submission.objects.filter(proposal=proposal).exists()
    facts = preview_facts(proposal)
    pages = PdfReader(io.BytesIO(dossier_pdf(facts, draft=True))).pages
    assert all(
        "BORRADOR" in page.extract_text() or "DRAFT" in page.extract_text() for page in pages
    )


def test_the_occasion_bundle_has_a_contents_page_and_every_dossier(
    group: Group, django_capture_on_commit_callbacks, client: Client
) -> None:
    first = submitted(group, django_capture_on_commit_callbacks, title="Première", language="en")
    second = submitted(group, django_capture_on_commit_callbacks, title="Segunda", language="es")
    sizes = []
    for submission in (first, second):
        stored = store.dossier_render(submission_id=submission.pk)
        sizes.append(len(PdfReader(stored.dossier.open("rb")).pages))
    url = reverse("proposals:occasion_bundle", args=[group.occasion.pk])
    assert client_signed_in(Client(), group.drafter).get(url).status_code == 403
    occasion_page = client_signed_in(Client(), group.secretariat).get(
        reverse("proposals:occasion_detail", args=[group.occasion.pk])
    )
    assert url in occasion_page.content.decode()
    answer = client_signed_in(client, group.secretariat).get(url)
    assert answer.status_code == 200
    reader = PdfReader(io.BytesIO(b"".join(answer.streaming_content)))
    assert len(reader.pages) == 1 + sum(sizes)
    contents = reader.pages[0].extract_text()
    assert "Première" in contents and "Segunda" in contents
    assert first.number in contents and second.number in contents
    assert re.search(r"Segunda.*\b" + str(2 + sizes[0]) + r"\b", contents.replace("\n", " "))
    assert [getattr(item, "title", None) for item in reader.outline][:2] == [
        f"{first.number} — Première",
        f"{second.number} — Segunda",
    ]
    api = client_for(group.secretariat)
    assert api.get(f"/api/occasions/{group.occasion.pk}/dossiers/").status_code == 200
    assert (
        client_for(group.drafter).get(f"/api/occasions/{group.occasion.pk}/dossiers/").status_code
        == 403
    )
