"""Attachments in an S3-compatible store, configured from the environment as in production
(config/storage.py), against a local S3 server that the test starts (moto's server mode): the
file goes to the bucket under a random name, comes back through the permission-checked view,
stays in the bucket once removed, and a refused upload leaves no object behind."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.urls import reverse

from config.env import Env
from config.storage import file_storage
from proposals.models import Attachment, ProposalState
from tests.factories import Group
from tests.proposals import attachment_files as files
from tests.proposals.api.helpers import client_for, proposal_in

pytestmark = pytest.mark.django_db

BUCKET = "policy-tracker-files"
CREDENTIALS = {
    "aws_access_key_id": "test-key",
    "aws_secret_access_key": "test-secret",
    "region_name": "eu-west-3",
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def s3_server() -> Iterator[str]:
    """A local S3-compatible server on a free port, for the module's tests."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError:  # pragma: no cover (the test extra installs it)
        from tests.conftest import skip_or_fail

        skip_or_fail("moto[server] is not installed")
        raise
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_storage(s3_server: str, settings: Any, monkeypatch: pytest.MonkeyPatch, request: Any) -> Any:
    """An empty bucket of the test's own, and the settings' storage read from the variables
    an operator sets (README, docker-compose.yml); the bucket's client."""
    import boto3

    client = boto3.client("s3", endpoint_url=s3_server, **CREDENTIALS)
    bucket = f"{BUCKET}-{uuid.uuid4().hex[:12]}"
    client.create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-3"}
    )
    for name, value in {
        "STORAGE_S3_BUCKET": bucket,
        "STORAGE_S3_ENDPOINT_URL": s3_server,
        "STORAGE_S3_REGION": "eu-west-3",
        "STORAGE_S3_ACCESS_KEY_ID": "test-key",
        "STORAGE_S3_SECRET_ACCESS_KEY": "test-secret",
        "STORAGE_S3_ADDRESSING_STYLE": "path",
    }.items():
        monkeypatch.setenv(name, value)
    default = file_storage(Env(), settings.BASE_DIR / "var")
    assert default["BACKEND"] == "storages.backends.s3.S3Storage"
    settings.STORAGES = {**settings.STORAGES, "default": default}
    client.bucket = bucket
    return client


def keys(client: Any) -> list[str]:
    listed = client.list_objects_v2(Bucket=client.bucket)
    return [item["Key"] for item in listed.get("Contents", [])]


def test_a_file_goes_to_the_bucket_and_back_through_the_view_and_stays_once_removed(
    group: Group, s3_storage: Any
) -> None:
    proposal = proposal_in(group, ProposalState.IN_REVIEW)
    url = reverse("proposal-attachment-list", kwargs={"proposal_id": proposal.pk})
    content = files.xlsx()
    response = client_for(group.drafter).post(
        url,
        {"title": "Budget", "file": files.upload("budget.xlsx", content)},
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    attachment = Attachment.objects.get()
    stored = keys(s3_storage)
    assert stored == [attachment.file.name]
    assert stored[0].startswith(f"attachments/{proposal.pk}/") and "budget" not in stored[0]
    grants = s3_storage.get_object_acl(Bucket=s3_storage.bucket, Key=stored[0])["Grants"]
    assert all("AllUsers" not in str(grant.get("Grantee", {})) for grant in grants)

    download = client_for(group.reviewer).get(response.json()["download"])
    assert download.status_code == 200
    assert download.getvalue() == content
    assert download["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )

    detail = reverse(
        "proposal-attachment-detail", kwargs={"proposal_id": proposal.pk, "pk": attachment.pk}
    )
    assert client_for(group.drafter).delete(detail).status_code == 204
    assert keys(s3_storage) == stored  # the record and its file are kept
    assert client_for(group.drafter).get(response.json()["download"]).status_code == 404
    assert client_for(group.secretariat).get(response.json()["download"]).status_code == 200


def test_a_refused_upload_leaves_no_object_in_the_bucket(group: Group, s3_storage: Any) -> None:
    proposal = proposal_in(group, ProposalState.SUBMITTED)
    url = reverse("proposal-attachment-list", kwargs={"proposal_id": proposal.pk})
    frozen = client_for(group.drafter).post(
        url, {"title": "Late", "file": files.upload("a.pdf", files.PDF)}, format="multipart"
    )
    assert frozen.status_code == 409
    disguised = client_for(group.secretariat).post(
        reverse(
            "proposal-attachment-list",
            kwargs={"proposal_id": proposal_in(group, ProposalState.DRAFT).pk},
        ),
        {"title": "Tool", "file": files.upload("tool.pdf", files.MZ)},
        format="multipart",
    )
    assert disguised.status_code == 400
    assert keys(s3_storage) == [] and not Attachment.objects.exists()


def test_a_write_that_fails_after_the_file_is_stored_removes_it_from_the_bucket(
    group: Group, s3_storage: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file is stored before the transaction; when the transaction fails (here its
    history row), the stored object is deleted: no file without its record."""
    from proposals import attachments

    def refuse(**kwargs: Any) -> None:
        raise RuntimeError("the history row could not be written")

    monkeypatch.setattr(attachments, "action_log", refuse)
    proposal = proposal_in(group, ProposalState.DRAFT)
    with pytest.raises(RuntimeError):
        attachments.attachment_add(
            proposal=proposal,
            person=group.drafter,
            title="Annex",
            upload=files.upload("annex.pdf", files.PDF),
        )
    assert keys(s3_storage) == [] and not Attachment.objects.exists()
