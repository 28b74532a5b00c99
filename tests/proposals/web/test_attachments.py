"""The files of a proposal in the pages: the panel, adding, downloading, removing, refusals."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from proposals.models import Attachment, Person
from tests.factories import Group, proposal_draft
from tests.proposals import attachment_files as files
from tests.proposals.web.helpers import fresh, in_review, run, signed_in
from workflow.models import TransitionLog

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def own_storage(settings: Any, tmp_path: Any) -> None:
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }


def detail(proposal: Any) -> str:
    return reverse("proposals:proposal_detail", args=[proposal.pk])


def add_url(proposal: Any) -> str:
    return reverse("proposals:attachment_add", args=[proposal.pk])


def post_file(client: Any, proposal: Any, name: str, content: bytes, **fields: Any) -> Any:
    data = {
        "attachment-title": "Budget annex",
        "attachment-file": files.upload(name, content),
        **{f"attachment-{key}": value for key, value in fields.items()},
    }
    return client.post(add_url(proposal), data)


def speaking(person: Person, language: str) -> Person:
    person.language = language
    person.save(update_fields=["language"])
    return person


def test_an_author_attaches_a_file_and_a_reader_downloads_it(group: Group) -> None:
    proposal = in_review(group)
    client = signed_in(group.drafter)
    page = client.get(detail(proposal)).content.decode()
    assert 'id="attachments-heading"' in page
    assert 'enctype="multipart/form-data"' in page
    assert 'for="id_attachment-title"' in page and 'for="id_attachment-file"' in page
    assert 'accept=".pdf,.odt,.docx,.xlsx,.png,.jpg,.jpeg"' in page

    response = post_file(client, proposal, "annex.pdf", files.PDF, revision="1")
    assert response.status_code == 302
    assert response["Location"].endswith("#attachments-heading")
    attachment = Attachment.objects.get()
    assert attachment.revision is not None and attachment.revision.number == 1

    reader = signed_in(group.representative_ma)
    page = reader.get(detail(proposal)).content.decode()
    download = reverse("proposals:attachment_download", args=[proposal.pk, attachment.pk])
    assert f'href="{download}"' in page
    assert "Budget annex" in page and "revision 1" in page
    assert "attachment-form" not in page  # not an author: no form
    response = reader.get(download)
    assert response.status_code == 200
    assert response.getvalue() == files.PDF
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == 'attachment; filename="annex.pdf"'


@pytest.mark.parametrize(
    ("language", "size", "refusal"),
    [
        ("en", "1.5 kB", "whatever its name says"),
        ("fr", "1,5\u202fko", "quel que soit son nom"),
        ("es", "1,5 kB", "diga lo que diga su nombre"),
    ],
)
def test_sizes_and_refusals_read_in_the_persons_language(
    group: Group, language: str, size: str, refusal: str
) -> None:
    proposal = proposal_draft(group)
    files.attachment_on(proposal, group.drafter)
    Attachment.objects.update(size=1536)
    client = signed_in(speaking(group.drafter, language))
    assert size in client.get(detail(proposal)).content.decode()
    response = post_file(client, proposal, "setup.pdf", files.MZ)
    assert response.status_code == 400
    assert refusal in response.content.decode()
    assert Attachment.objects.count() == 1


@pytest.mark.parametrize(
    ("name", "content", "fields", "words"),
    [
        ("program.pdf", files.ELF, {}, "whatever its name says"),
        ("letter.docx", files.plain_zip(), {}, "whatever its name says"),
        ("empty.pdf", b"", {}, "The file is empty"),
        ("annex.pdf", files.PDF, {"title": ""}, "This field is required."),
        ("annex.pdf", files.PDF, {"revision": "9"}, "Select a valid choice."),
    ],
)
def test_bad_input_stays_on_the_form_with_what_to_fix_and_stores_nothing(
    group: Group, tmp_path: Any, name: str, content: bytes, fields: dict[str, str], words: str
) -> None:
    proposal = proposal_draft(group)
    response = post_file(signed_in(group.drafter), proposal, name, content, **fields)
    assert response.status_code == 400
    assert words in response.content.decode()
    assert not Attachment.objects.exists()
    assert not any(path.is_file() for path in tmp_path.rglob("*"))


def test_someone_who_cannot_see_the_draft_gets_a_404_everywhere(group: Group) -> None:
    proposal = proposal_draft(group)
    attachment = files.attachment_on(proposal, group.drafter)
    for person in (group.outsider, group.reviewer):
        client = signed_in(person)
        assert post_file(client, proposal, "a.pdf", files.PDF).status_code == 404
        for name in ("attachment_download", "attachment_remove"):
            url = reverse(f"proposals:{name}", args=[proposal.pk, attachment.pk])
            assert client.get(url).status_code == 404
    assert Attachment.objects.count() == 1


def test_a_reader_who_may_not_add_is_told_why(group: Group) -> None:
    proposal = in_review(group)
    client = signed_in(group.reviewer)
    page = client.get(add_url(proposal))
    assert "Only the authors of this proposal and the secretariat" in page.content.decode()
    response = post_file(client, proposal, "a.pdf", files.PDF)
    assert response.status_code == 302
    followed = client.get(response["Location"]).content.decode()
    assert "Only the authors of this proposal and the secretariat" in followed
    assert not Attachment.objects.exists()


def test_removing_asks_for_a_confirmation_then_keeps_the_record(group: Group) -> None:
    proposal = in_review(group)
    client = signed_in(group.drafter)
    post_file(client, proposal, "annex.pdf", files.PDF)
    attachment = Attachment.objects.get()
    remove = reverse("proposals:attachment_remove", args=[proposal.pk, attachment.pk])
    page = client.get(detail(proposal)).content.decode()
    assert f'href="{remove}"' in page
    confirm = client.get(remove).content.decode()
    assert "Remove “Budget annex” (annex.pdf) from this proposal?" in confirm
    assert Attachment.objects.get().removed_at is None  # a GET changes nothing
    response = client.post(remove)
    assert response.status_code == 302
    attachment.refresh_from_db()
    assert attachment.removed_at is not None and attachment.removed_by == group.drafter
    assert TransitionLog.objects.filter(transition="attachment_removed").count() == 1

    page = client.get(detail(proposal)).content.decode()
    download = reverse("proposals:attachment_download", args=[proposal.pk, attachment.pk])
    assert "removed by" in page and f'href="{download}"' not in page
    assert client.get(download).status_code == 404
    secretariat = signed_in(group.secretariat)
    assert f'href="{download}"' in secretariat.get(detail(proposal)).content.decode()
    assert secretariat.get(download).status_code == 200


def test_a_submitted_proposal_shows_its_files_frozen(group: Group) -> None:
    proposal = in_review(group)
    files.attachment_on(proposal, group.drafter)
    proposal = run(proposal, "approve", group.reviewer)
    proposal = run(fresh(proposal), "withdraw", group.drafter, "Not needed.")
    client = signed_in(group.drafter)
    page = client.get(detail(proposal)).content.decode()
    assert "attachment-form" not in page
    assert "none can be added or removed" in page
    response = post_file(client, proposal, "a.pdf", files.PDF)
    assert response.status_code == 302
    assert Attachment.objects.count() == 1
