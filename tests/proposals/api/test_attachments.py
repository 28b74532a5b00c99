"""The files of a proposal over the API: upload, list, download, removal, and bad input."""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import unquote

import pytest
from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from proposals.models import Attachment, ProposalState
from tests.factories import Group, proposal_draft
from tests.proposals import attachment_files as files
from tests.proposals.api.helpers import client_for, proposal_in
from workflow.models import TransitionLog

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def own_storage(settings: Any, tmp_path: Any) -> None:
    """Each test stores its files in a folder of its own, to see what it left there."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }


def list_url(proposal: Any) -> str:
    return reverse("proposal-attachment-list", kwargs={"proposal_id": proposal.pk})


def detail_url(attachment: Attachment, name: str = "proposal-attachment-detail") -> str:
    return reverse(name, kwargs={"proposal_id": attachment.proposal_id, "pk": attachment.pk})


def upload(
    client: Any, proposal: Any, name: str, content: bytes, language: str = "en", **fields: Any
) -> Any:
    body = {"title": "Annex", "file": files.upload(name, content), **fields}
    return client.post(list_url(proposal), body, format="multipart", HTTP_ACCEPT_LANGUAGE=language)


def stored_names() -> set[str]:
    """Every file in the storage's attachments folder."""
    found: set[str] = set()

    def walk(path: str) -> None:
        if not default_storage.exists(path):
            return
        folders, names = default_storage.listdir(path)
        found.update(f"{path}/{name}" for name in names)
        for folder in folders:
            walk(f"{path}/{folder}")

    walk("attachments")
    return found


def test_an_author_uploads_a_file_and_a_reader_downloads_it(group: Group) -> None:
    proposal = proposal_in(group, ProposalState.IN_REVIEW)
    response = upload(
        client_for(group.drafter), proposal, "Budget annex.pdf", files.PDF, revision=1
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["title"] == "Annex"
    assert body["filename"] == "Budget annex.pdf"
    assert body["content_type"] == "application/pdf"
    assert body["size"] == len(files.PDF)
    assert body["sha256"] == hashlib.sha256(files.PDF).hexdigest()
    assert body["revision"] == 1
    assert body["uploaded_by"] == group.drafter.username
    attachment = Attachment.objects.get(pk=body["id"])
    assert "Budget" not in str(attachment.file.name)  # stored under a random name
    history = TransitionLog.objects.filter(transition="attachment_added").get()
    assert history.data["attachment"] == attachment.pk and history.actor == group.drafter

    # A reviewer (who sees the proposal from review on) downloads it.
    download = client_for(group.reviewer).get(body["download"])
    assert download.status_code == 200
    assert download.getvalue() == files.PDF
    assert download["Content-Type"] == "application/pdf"
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Disposition"].startswith("attachment;")
    assert 'filename="Budget annex.pdf"' in download["Content-Disposition"]


def test_a_name_beyond_ascii_is_sent_as_rfc_5987_says(group: Group) -> None:
    proposal = proposal_in(group, ProposalState.DRAFT)
    body = upload(client_for(group.drafter), proposal, "Résumé été.pdf", files.PDF).json()
    download = client_for(group.drafter).get(body["download"])
    disposition = download["Content-Disposition"]
    assert "filename*=utf-8''" in disposition
    assert unquote(disposition.split("filename*=utf-8''")[1]) == "Résumé été.pdf"


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("annex.pdf", files.PDF, "application/pdf"),
        ("note.odt", files.odt(), "application/vnd.oasis.opendocument.text"),
        (
            "note.docx",
            files.docx(),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        (
            "budget.xlsx",
            files.xlsx(),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        ("map.png", files.PNG, "image/png"),
        ("photo.jpg", files.JPEG, "image/jpeg"),
    ],
)
def test_each_accepted_type_is_recognised_by_its_content(
    group: Group, name: str, content: bytes, content_type: str
) -> None:
    proposal = proposal_in(group, ProposalState.DRAFT)
    # The client's declared type is ignored: the content decides.
    response = client_for(group.secretariat).post(
        list_url(proposal),
        {"title": "File", "file": files.upload(name, content, "text/plain")},
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["content_type"] == content_type


BAD_FILES = [
    ("program.pdf", files.ELF, "file_type"),
    ("setup.pdf", files.MZ, "file_type"),
    ("letter.docx", files.plain_zip(), "file_type"),
    ("macros.docx", files.docm(), "file_type"),
    ("sheet.odt", files.ods(), "file_type"),
    ("empty.pdf", b"", "file_empty"),
    ("annex.docx", files.PDF, "file_name_mismatch"),
]


@pytest.mark.parametrize(("name", "content", "code"), BAD_FILES)
def test_a_disguised_or_empty_file_is_refused_and_nothing_is_stored(
    group: Group, name: str, content: bytes, code: str
) -> None:
    proposal = proposal_in(group, ProposalState.DRAFT)
    response = upload(client_for(group.drafter), proposal, name, content, language="fr")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert body["reason_codes"] == [code]
    assert "file" in body
    assert body["reasons"][0] in body["file"]
    # In the person's language (French), saying what to do.
    french = {
        "file_type": "Envoyez le document",
        "file_empty": "Le fichier est vide",
        "file_name_mismatch": "renommez-le",
    }[code]
    assert french in body["detail"], body["detail"]
    assert not Attachment.objects.exists()
    assert not TransitionLog.objects.filter(transition="attachment_added").exists()
    assert stored_names() == set()


def test_a_file_over_the_limit_is_refused_in_words(group: Group, settings: Any) -> None:
    settings.ATTACHMENT_MAX_BYTES = 1024
    proposal = proposal_in(group, ProposalState.DRAFT)
    response = upload(client_for(group.drafter), proposal, "big.pdf", files.PDF + b"0" * 2000)
    assert response.status_code == 400
    assert response.json()["reason_codes"] == ["file_too_large"]
    assert "a file may be 1 kB at most" in response.json()["detail"]
    assert not Attachment.objects.exists() and stored_names() == set()


def test_a_body_far_over_the_limit_is_a_413_in_the_error_shape(group: Group, settings: Any) -> None:
    """Beyond the file's limit and the form's, the request is refused before it is read."""
    settings.ATTACHMENT_MAX_BYTES = 1024
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    proposal = proposal_in(group, ProposalState.DRAFT)
    response = upload(client_for(group.drafter), proposal, "big.pdf", files.PDF + b"0" * 5000)
    assert response.status_code == 413
    body = response.json()
    assert body["code"] == "request_too_large"
    assert "Send a smaller file." in body["detail"]
    assert not Attachment.objects.exists()


def test_a_title_is_required(group: Group) -> None:
    proposal = proposal_in(group, ProposalState.DRAFT)
    response = client_for(group.drafter).post(
        list_url(proposal), {"file": files.upload("a.pdf", files.PDF)}, format="multipart"
    )
    assert response.status_code == 400
    assert "title" in response.json()
    blank = upload(client_for(group.drafter), proposal, "a.pdf", files.PDF, title="   ")
    assert blank.status_code == 400 and "title" in blank.json()
    assert not Attachment.objects.exists() and stored_names() == set()


def test_a_revision_the_proposal_does_not_have_is_refused(group: Group) -> None:
    proposal = proposal_in(group, ProposalState.DRAFT)
    response = upload(client_for(group.drafter), proposal, "a.pdf", files.PDF, revision=7)
    assert response.status_code == 400
    assert response.json()["reason_codes"] == ["revision_unknown"]
    assert "revision" in response.json()
    assert not Attachment.objects.exists() and stored_names() == set()


def test_a_json_body_is_not_an_upload(group: Group) -> None:
    proposal = proposal_in(group, ProposalState.DRAFT)
    response = client_for(group.drafter).post(
        list_url(proposal), {"title": "Annex", "file": "JVBERi0="}, format="json"
    )
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


def test_a_draft_is_invisible_to_an_outsider_who_gets_a_404_and_stores_nothing(
    group: Group,
) -> None:
    proposal = proposal_in(group, ProposalState.DRAFT)
    mine = upload(client_for(group.drafter), proposal, "a.pdf", files.PDF).json()
    before = stored_names()
    for person in (group.outsider, group.reviewer, group.representative_ma):
        client = client_for(person)
        assert upload(client, proposal, "b.pdf", files.PDF).status_code == 404
        assert client.get(list_url(proposal)).status_code == 404
        assert client.get(mine["download"]).status_code == 404
    assert Attachment.objects.count() == 1 and stored_names() == before


def test_who_may_upload_and_remove(group: Group) -> None:
    proposal = proposal_in(group, ProposalState.ENDORSEMENT)
    for person in (group.co_drafter, group.reviewer, group.representative_ma, group.observer):
        response = upload(client_for(person), proposal, "a.pdf", files.PDF)
        assert response.status_code == 403, person
        assert response.json()["reason_codes"] == ["not_author_nor_secretariat"]
    assert upload(client_for(group.secretariat), proposal, "a.pdf", files.PDF).status_code == 201


@pytest.mark.parametrize(
    "state", [ProposalState.SUBMITTED, ProposalState.CLOSED, ProposalState.WITHDRAWN]
)
def test_the_files_of_a_proposal_no_longer_open_are_frozen(group: Group, state: str) -> None:
    proposal = proposal_in(group, ProposalState.ENDORSEMENT)
    attachment = Attachment.objects.get(
        pk=upload(client_for(group.drafter), proposal, "a.pdf", files.PDF).json()["id"]
    )
    proposal = proposal_in(group, state)
    frozen = files.attachment_on(proposal, group.drafter)
    for person in (group.drafter, group.secretariat):
        response = upload(client_for(person), proposal, "b.pdf", files.PDF)
        assert response.status_code == 409
        assert response.json()["reason_codes"] == ["state"]
        removal = client_for(person).delete(detail_url(frozen))
        assert removal.status_code == 409
    assert Attachment.objects.filter(proposal=proposal).count() == 1
    assert attachment.removed_at is None


def test_a_removed_file_keeps_its_record_and_only_the_secretariat_downloads_it(
    group: Group,
) -> None:
    proposal = proposal_in(group, ProposalState.IN_REVIEW)
    body = upload(client_for(group.drafter), proposal, "a.pdf", files.PDF).json()
    attachment = Attachment.objects.get(pk=body["id"])
    response = client_for(group.drafter).delete(detail_url(attachment))
    assert response.status_code == 204
    again = client_for(group.drafter).delete(detail_url(attachment))
    assert again.status_code == 409 and again.json()["reason_codes"] == ["already_removed"]

    listed = client_for(group.reviewer).get(list_url(proposal)).json()["results"]
    assert [(row["id"], row["removed_by"], row["download"]) for row in listed] == [
        (attachment.pk, group.drafter.username, None)
    ]
    refused = client_for(group.drafter).get(body["download"])
    assert refused.status_code == 404 and "secretariat" in refused.json()["detail"]
    kept = client_for(group.secretariat).get(body["download"])
    assert kept.status_code == 200 and kept.getvalue() == files.PDF
    removed = TransitionLog.objects.get(transition="attachment_removed")
    assert removed.actor == group.drafter and removed.data["attachment"] == attachment.pk
    history = client_for(group.reviewer).get(
        reverse("proposal-history-list", kwargs={"proposal_id": proposal.pk})
    )
    lines = [line for line in history.json()["results"] if "attachment" in line["transition"]]
    assert [(line["kind"], line["actor"]) for line in lines] == [
        ("attachment_added", group.drafter.username),
        ("attachment_removed", group.drafter.username),
    ]
    assert lines[1]["data"] == {
        "attachment": attachment.pk,
        "title": "Annex",
        "filename": "a.pdf",
        "sha256": hashlib.sha256(files.PDF).hexdigest(),
    }


def test_a_download_answers_whatever_accept_asks_and_refuses_in_json(group: Group) -> None:
    proposal = proposal_in(group, ProposalState.DRAFT)
    body = upload(client_for(group.drafter), proposal, "a.pdf", files.PDF).json()
    response = client_for(group.drafter).get(body["download"], HTTP_ACCEPT="application/pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    generic = client_for(group.drafter).get(
        body["download"], HTTP_ACCEPT="application/octet-stream"
    )
    assert generic["Content-Type"] == "application/octet-stream"
    assert generic.getvalue() == files.PDF
    missing = client_for(group.drafter).get(
        reverse("proposal-attachment-download", kwargs={"proposal_id": proposal.pk, "pk": 999_999}),
        HTTP_ACCEPT="application/pdf",
    )
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"


def test_the_list_runs_a_constant_number_of_queries(group: Group) -> None:
    proposal = proposal_in(group, ProposalState.IN_REVIEW)
    files.attachment_on(proposal, group.drafter)
    client = client_for(group.reviewer)
    client.get(list_url(proposal))  # the token's first use is bookkeeping
    with CaptureQueriesContext(connection) as one:
        assert client.get(list_url(proposal)).status_code == 200
    for index in range(6):
        files.attachment_on(
            proposal, group.secretariat if index % 2 else group.drafter, removed=index == 3
        )
    with CaptureQueriesContext(connection) as seven:
        response = client.get(list_url(proposal))
    assert len(response.json()["results"]) == 7
    assert len(seven) == len(one)


def test_an_attachment_of_another_proposal_is_not_found_under_this_one(group: Group) -> None:
    proposal = proposal_in(group, ProposalState.IN_REVIEW)
    other = proposal_draft(group)
    attachment = files.attachment_on(other, group.drafter)
    response = client_for(group.drafter).get(
        reverse(
            "proposal-attachment-detail",
            kwargs={"proposal_id": proposal.pk, "pk": attachment.pk},
        )
    )
    assert response.status_code == 404


def test_followers_who_see_the_proposal_are_told_of_a_new_file_once(group: Group) -> None:
    """Everyone follows the occasion: while the proposal is a draft only those who see it hear
    of its file (never the person who attached it); in review, the whole group does."""
    from proposals.models import Follow
    from workflow.models import Delivery

    for person in (group.reviewer, group.co_drafter, group.outsider, group.drafter):
        Follow.objects.create(person=person, occasion=group.occasion)
    draft = proposal_in(group, ProposalState.DRAFT)
    body = upload(client_for(group.drafter), draft, "a.pdf", files.PDF).json()
    told = Delivery.objects.filter(event="proposal.attached")
    assert set(told.values_list("recipient__username", flat=True)) == {
        group.co_drafter.username  # France's other drafter sees France's drafts
    }
    notice = told.first()
    assert notice is not None and notice.context["path"].endswith(f"#attachment-{body['id']}")
    assert notice.context["file_title"] == "Annex"

    proposal = proposal_in(group, ProposalState.IN_REVIEW)
    upload(client_for(group.secretariat), proposal, "b.pdf", files.PDF)
    latest = Delivery.objects.filter(event="proposal.attached", object_id=proposal.pk)
    recipients = list(latest.values_list("recipient__username", flat=True))
    assert group.reviewer.username in recipients and group.drafter.username in recipients
    assert group.outsider.username not in recipients
    pairs = list(latest.values_list("recipient", "channel"))
    assert len(pairs) == len(set(pairs))  # once per person and channel
