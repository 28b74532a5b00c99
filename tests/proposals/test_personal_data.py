"""A person's personal data: the export holds every section, the erasure leaves no trace of
their name, username or email address in any table or stored file, and the log still verifies.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.contrib.sessions.models import Session
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from psycopg import sql

from proposals import accounts, people, personal_data, services
from proposals.audited import SYSTEM
from proposals.models import (
    Attachment,
    Comment,
    CommentEdit,
    Follow,
    Invitation,
    Mention,
    Person,
    Proposal,
    Review,
    Role,
)
from proposals.security import security_event_record
from tests.factories import Group, api_token_key, client_signed_in, proposal_draft, totp_device_for
from tests.proposals.web.helpers import fresh, in_endorsement, in_review, run
from workflow.emails import delivery_message
from workflow.errors import Refused
from workflow.integrity import log_verify
from workflow.models import AuditEvent, Delivery, LogRedaction, TransitionLog
from workflow.policy import Notice
from workflow.services import deliveries_enqueue

pytestmark = pytest.mark.django_db

FIRST, LAST = "Zoé", "Ardant"
FULL_NAME = f"{FIRST} {LAST}"
USERNAME = "zoe.ardant"
EMAIL = "zoe.ardant@example.org"
ADDRESS = "203.0.113.77"
LATER = timezone.now() + dt.timedelta(hours=1)


@dataclass
class Scene:
    """A person with something in every section, and the rows that name them."""

    person: Person
    authored: Proposal
    reviewed: Proposal
    endorsed: Proposal
    comment: Comment
    attachment: Attachment


def request_from(address: str = ADDRESS) -> Any:
    return RequestFactory().post("/", REMOTE_ADDR=address)


def person_with_everything(group: Group, media: Path) -> Scene:
    """Zoé Ardant: a drafter, reviewer and representative of France, who wrote, reviewed,
    endorsed, commented, attached a file, was notified, logged in and failed to."""
    zoe = people.person_create(
        actor=SYSTEM,
        username=USERNAME,
        email=EMAIL,
        first_name=FIRST,
        last_name=LAST,
        roles=[
            (group.france, Role.DRAFTER),
            (group.france, Role.REPRESENTATIVE),
            (group.france, Role.REVIEWER),
        ],
    )
    people.person_settings_update(person=zoe, timezone="Europe/Paris", request=request_from())
    authored = services.proposal_create(
        author=zoe,
        title="Cooperatives in public procurement",
        text="A first text.",
        lead_organization=group.france,
        target_body=group.body,
        occasion=group.occasion,
        co_authors=[group.drafter],
    )
    run(authored, "submit_for_review", zoe, comment=f"Ready for review, {FULL_NAME}.")
    reviewed = in_review(group)
    run(reviewed, "request_changes", zoe, comment="Please shorten the second article.")
    endorsed = in_endorsement(group)
    services.endorsement_create(proposal=fresh(endorsed), person=zoe)
    comment = Comment.objects.create(
        proposal=authored, author=zoe, body="My own remark.", body_html="<p>My own remark.</p>"
    )
    CommentEdit.objects.create(comment=comment, body="My first remark.")
    answer = Comment.objects.create(
        proposal=authored,
        author=group.drafter,
        parent=comment,
        body=f"Agreed with @{USERNAME} ({FULL_NAME}).",
        body_html=f'<p>Agreed with <a href="#">@{USERNAME}</a> ({FULL_NAME}).</p>',
    )
    Mention.objects.create(comment=answer, person=zoe)
    Follow.objects.get_or_create(person=zoe, proposal=authored)
    content = b"Annex: figures on cooperatives in procurement, 2025."
    attachment = Attachment.objects.create(
        proposal=authored,
        title=f"Annex by {FULL_NAME}",
        file=ContentFile(content, name="annex.txt"),
        filename="zoe-ardant-annex.txt",
        content_type="text/plain",
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        uploaded_by=zoe,
    )
    Invitation.objects.create(
        email=EMAIL,
        first_name=FIRST,
        last_name=LAST,
        organization=group.france,
        roles=[Role.DRAFTER],
        digest="d" * 64,
        invited_by=group.secretariat,
        expires_at=timezone.now() + dt.timedelta(days=7),
        accepted_at=timezone.now(),
        person=zoe,
    )
    deliveries_enqueue(
        [
            Notice(
                recipient_id=group.drafter.pk,
                template="proposals/email/comment_posted",
                context={"actor_name": FULL_NAME, "excerpt": f"Agreed with @{USERNAME}"},
                event="comment.posted",
            ),
            Notice(
                recipient_id=zoe.pk,
                template="proposals/email/approved",
                context={"recipient_name": FULL_NAME},
                event="proposal.approved",
            ),
        ],
        key_prefix="test:notices",
    )
    Delivery.objects.create(
        key="test:page",
        kind=Delivery.Kind.NOTIFICATION,
        channel=Delivery.Channel.PAGE,
        event="comment.posted",
        recipient=zoe,
        template="proposals/email/comment_posted",
        context={"actor_name": group.drafter.get_full_name()},
    )
    api_token_key(zoe, name="Zoé's laptop")
    totp_device_for(zoe)
    security_event_record(action="password.changed", subject=zoe, actor=zoe, request=request_from())
    accounts.login_failed_record(
        sender=None, credentials={"username": USERNAME}, request=request_from()
    )
    AccessAttempt.objects.create(
        username=USERNAME,
        ip_address=ADDRESS,
        user_agent="Firefox",
        http_accept="*/*",
        path_info="/accounts/login/",
        get_data="",
        post_data=f"username={USERNAME}",
        failures_since_start=1,
    )
    client_signed_in(Client(), zoe)  # a session in the database
    zoe.refresh_from_db()
    return Scene(zoe, authored, reviewed, endorsed, comment, attachment)


@pytest.fixture
def media(tmp_path: Path) -> Path:
    return tmp_path


# The export


def test_the_export_holds_every_section_with_the_persons_rows(group: Group, media: Path) -> None:
    scene = person_with_everything(group, media)
    data = personal_data.personal_data_export(scene.person)
    assert set(personal_data.SECTIONS) <= set(data)
    assert data["profile"]["username"] == USERNAME
    assert data["profile"]["email"] == EMAIL
    assert data["profile"]["first_name"] == FIRST
    assert data["profile"]["timezone"] == "Europe/Paris"
    assert sorted(row["role"] for row in data["memberships"]) == [
        "drafter",
        "representative",
        "reviewer",
    ]
    assert [row["id"] for row in data["proposals_authored"]] == [scene.authored.pk]
    assert [(row["proposal_id"], row["number"]) for row in data["revisions"]] == [
        (scene.authored.pk, 1)
    ]
    assert data["comments"][0]["body"] == "My own remark."
    assert data["comments"][0]["earlier_texts"][0]["body"] == "My first remark."
    assert [row["comment__proposal_id"] for row in data["mentions"]] == [scene.authored.pk]
    assert [(row["proposal_id"], row["decision"]) for row in data["reviews"]] == [
        (scene.reviewed.pk, Review.Decision.REQUEST_CHANGES)
    ]
    assert [row["proposal_id"] for row in data["endorsements"]] == [scene.endorsed.pk]
    assert data["attachments"][0]["filename"] == "zoe-ardant-annex.txt"
    assert scene.authored.pk in [row["proposal_id"] for row in data["follows"]]
    assert {row["channel"] for row in data["notifications"]} == {"email", "page"}
    assert {row["action"] for row in data["security_events"]} >= {
        "password.changed",
        "login.failed",
        "person.created",
    }
    assert ADDRESS in {row["ip_address"] for row in data["security_events"]}
    assert "person.settings_changed" in {row["action"] for row in data["audit_events"]}
    assert {row["transition"] for row in data["transitions"]} >= {
        "submit_for_review",
        "request_changes",
        "endorse",
    }
    assert [row["name"] for row in data["api_tokens"]] == ["Zoé's laptop"]
    assert "digest" not in data["api_tokens"][0]
    assert data["two_factor_devices"] == [
        {"kind": "totpdevice", "name": "Test app", "confirmed": True}
    ]
    assert "key" not in json.dumps(data["two_factor_devices"])
    assert [row["email"] for row in data["invitations"]] == [EMAIL]
    # Nothing of anyone else's: the other author's comment is not among hers.
    assert len(data["comments"]) == 1


def test_each_section_reads_in_a_constant_number_of_queries(group: Group, media: Path) -> None:
    scene = person_with_everything(group, media)

    def counts() -> dict[str, int]:
        result = {}
        for name, read in personal_data._sections(scene.person).items():
            with CaptureQueriesContext(connection) as queries:
                read()
            result[name] = len(queries)
        return result

    before = counts()
    for number in range(3):
        comment = Comment.objects.create(
            proposal=scene.authored, author=scene.person, body=f"More {number}."
        )
        CommentEdit.objects.create(comment=comment, body="Earlier.")
        api_token_key(scene.person, name=f"Token {number}")
        Follow.objects.get_or_create(person=scene.person, proposal=proposal_draft(group))
    assert counts() == before
    assert max(before.values()) <= 2


def test_the_archive_is_a_zip_of_data_and_a_summary_in_the_persons_language(
    group: Group, media: Path
) -> None:
    scene = person_with_everything(group, media)
    people.person_settings_update(person=scene.person, language="fr")
    scene.person.refresh_from_db()
    archive = zipfile.ZipFile(io.BytesIO(personal_data.personal_data_archive(scene.person)))
    assert sorted(archive.namelist()) == ["data.json", "summary.txt"]
    data = json.loads(archive.read("data.json"))
    assert data["profile"]["username"] == USERNAME
    summary = archive.read("summary.txt").decode()
    assert f"Données personnelles de {FULL_NAME}" in summary
    assert "Vos commentaires" in summary
    assert "\u202f:" in summary


def test_the_person_downloads_their_archive_from_their_settings(group: Group) -> None:
    client = client_signed_in(Client(), group.drafter)
    page = client.get(reverse("proposals:settings"))
    assert reverse("proposals:personal_data").encode() in page.content
    page = client.get(reverse("proposals:personal_data"))
    assert page.status_code == 200
    response = client.get(reverse("proposals:personal_data_download"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert "attachment;" in response["Content-Disposition"]
    data = json.loads(zipfile.ZipFile(io.BytesIO(response.content)).read("data.json"))
    assert data["person_id"] == group.drafter.pk


def test_the_person_asks_for_erasure_and_the_secretariat_sees_it(group: Group) -> None:
    client = client_signed_in(Client(), group.drafter)
    refused = client.post(reverse("proposals:personal_data"), {})
    assert refused.status_code == 400
    response = client.post(reverse("proposals:personal_data"), {"understood": "on"})
    assert response.status_code == 302
    assert AuditEvent.objects.filter(
        action="person.erasure_requested", subject=group.drafter
    ).exists()
    assert group.drafter in personal_data.erasure_requests_pending()
    email = Delivery.objects.get(
        template="proposals/email/erasure_requested", channel=Delivery.Channel.EMAIL
    )
    assert email.recipient_id == group.secretariat.pk and email.essential
    people.person_settings_update(person=group.secretariat, language="fr")
    email.refresh_from_db()
    message = delivery_message(email)
    link = reverse("proposals:person_erasure", args=[group.drafter.pk])
    assert link in message.body
    assert "demande l'effacement de ses données personnelles" in message.subject
    secretariat = client_signed_in(Client(), group.secretariat)
    page = secretariat.get(reverse("proposals:person_erasure", args=[group.drafter.pk]))
    assert page.status_code == 200
    assert "La personne a demandé l'effacement le" in page.content.decode()


# The erasure


def test_only_the_secretariat_erases_and_never_itself(group: Group) -> None:
    for actor in (group.drafter, group.representative_fr, group.outsider):
        client = client_signed_in(Client(), actor)
        url = reverse("proposals:person_erasure", args=[group.co_drafter.pk])
        assert client.post(url, {"confirm": group.co_drafter.username}).status_code == 403
    client = client_signed_in(Client(), group.secretariat)
    url = reverse("proposals:person_erasure", args=[group.secretariat.pk])
    assert client.get(url).status_code == 403
    assert not Person.objects.filter(erased_at__isnull=False).exists()


def test_the_erasure_page_asks_for_the_username_in_the_readers_language(group: Group) -> None:
    client = client_signed_in(Client(), group.secretariat)
    url = reverse("proposals:person_erasure", args=[group.co_drafter.pk])
    wrong = client.post(url, {"confirm": "someone"}, HTTP_ACCEPT_LANGUAGE="fr")
    assert wrong.status_code == 400
    assert Person.objects.get(pk=group.co_drafter.pk).erased_at is None
    done = client.post(url, {"confirm": group.co_drafter.username})
    assert done.status_code == 302
    erased = Person.objects.get(pk=group.co_drafter.pk)
    assert erased.erased_at is not None
    assert erased.username == f"former-member-{erased.pk}"
    assert str(erased) == f"Former member {erased.pk}"
    page = client.get(url)
    assert page.status_code == 200
    assert client.post(url, {"confirm": erased.username}).status_code == 200  # nothing again


def test_an_erased_person_keeps_their_acts_under_the_pseudonym(group: Group, media: Path) -> None:
    scene = person_with_everything(group, media)
    summary = personal_data.person_erase(actor=group.secretariat, person=scene.person)
    zoe = Person.objects.get(pk=scene.person.pk)
    assert (zoe.first_name, zoe.last_name, zoe.email) == ("", "", "")
    assert not zoe.is_active and not zoe.has_usable_password()
    assert not zoe.memberships.exists() and not zoe.api_tokens.exists()
    assert not Delivery.objects.filter(recipient=zoe).exists()
    assert zoe.authored_proposals.filter(pk=scene.authored.pk).exists()
    assert zoe.endorsements.filter(proposal=scene.endorsed).exists()
    assert zoe.reviews.filter(proposal=scene.reviewed).exists()
    comment = Comment.objects.get(pk=scene.comment.pk)
    assert comment.body == "" and comment.deleted_at is not None
    assert not CommentEdit.objects.filter(comment=comment).exists()
    assert Attachment.objects.get(pk=scene.attachment.pk).uploaded_by_id == zoe.pk
    assert summary["deleted"]["roles"] == 3
    assert summary["redacted"]["audit"] >= 3
    event = AuditEvent.objects.get(action="person.erased")
    assert event.subject_id == zoe.pk and event.actor_id == group.secretariat.pk
    assert LogRedaction.objects.filter(reason=f"erasure:{zoe.pk}").exists()
    with pytest.raises(Refused):
        personal_data.person_erase(actor=group.secretariat, person=zoe)
    assert log_verify(now=LATER).valid


def test_the_erasure_leaves_no_trace_in_any_table_or_file_and_the_log_verifies(
    postgres: None, tmp_path: Path
) -> None:
    """THE test: every text and JSON column of every table, and every stored file, is read
    for the person's name, username and email address after the erasure."""
    from tests.factories import group_setup

    group = group_setup()
    scene = person_with_everything(group, tmp_path)
    assert log_verify(now=LATER).valid
    needles = [FULL_NAME, f"{LAST} {FIRST}", USERNAME, EMAIL, LAST, FIRST, ADDRESS]
    assert found_in_tables(needles)  # the scan finds them before the erasure
    personal_data.person_erase(
        actor=group.secretariat, person=scene.person, request=request_from("198.51.100.1")
    )
    assert found_in_tables(needles) == []
    names = stored_files()
    assert scene.attachment.file.name in names  # the attachment is still stored
    for name in names:
        with default_storage.open(name) as stored:
            content = stored.read().decode("utf-8", "replace").casefold()
        assert not [needle for needle in needles + ["zoe-ardant"] if needle.casefold() in content]
        assert not [needle for needle in needles if needle.casefold() in name.casefold()]
    assert not [
        session
        for session in Session.objects.all()
        if session.get_decoded().get("_auth_user_id") == str(scene.person.pk)
    ]
    report = log_verify(now=LATER + dt.timedelta(hours=1))
    assert report.valid, report.problems
    assert report.redactions > 0
    assert TransitionLog.objects.filter(actor=scene.person).count() >= 3


def stored_files(folder: str = "") -> list[str]:
    """Every file of the storage (the filesystem or an S3 store alike)."""
    folders, files = default_storage.listdir(folder)
    names = [f"{folder}{name}" for name in files]
    for child in folders:
        names += stored_files(f"{folder}{child}/")
    return names


def found_in_tables(needles: list[str]) -> list[tuple[str, str, str]]:
    """(table, column, needle) for each text or JSON column of the public schema that holds
    a needle, compared without case."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND data_type IN "
            "('text', 'character varying', 'character', 'json', 'jsonb', 'inet', 'bytea')"
        )
        columns = cursor.fetchall()
        found = []
        for table, column in columns:
            for needle in needles:
                if table == "django_session" and column == "session_data":
                    continue  # signed and encoded: ended sessions are checked below
                query = sql.SQL("SELECT 1 FROM {} WHERE {}::text ILIKE %s LIMIT 1").format(
                    sql.Identifier(table), sql.Identifier(column)
                )
                cursor.execute(query, [f"%{needle}%"])
                if cursor.fetchone():
                    found.append((table, column, needle))
        return found


def test_the_persons_admin_page_links_to_their_erasure(group: Group) -> None:
    from django.contrib.auth.models import Permission

    Person.objects.filter(pk=group.secretariat.pk).update(is_staff=True)
    staff = Person.objects.get(pk=group.secretariat.pk)
    staff.user_permissions.set(
        Permission.objects.filter(codename__in=["view_person", "change_person"])
    )
    client = client_signed_in(Client(), staff)
    page = client.get(reverse("admin:proposals_person_change", args=[group.co_drafter.pk]))
    assert page.status_code == 200
    link = reverse("proposals:person_erasure", args=[group.co_drafter.pk])
    assert f'href="{link}"' in page.content.decode()
    assert "Erase personal data" in page.content.decode()


def test_the_api_exports_the_persons_own_data_and_erases_with_a_confirmation(
    group: Group,
) -> None:
    from tests.proposals.api.helpers import client_for

    data = client_for(group.drafter).get(reverse("person-data")).json()
    assert data["profile"]["username"] == group.drafter.username
    assert set(personal_data.SECTIONS) <= set(data)
    url = reverse("person-erasure", kwargs={"person_id": group.co_drafter.pk})
    secretariat = client_for(group.secretariat)
    wrong = secretariat.post(url, {"confirm": "someone"}, format="json", HTTP_ACCEPT_LANGUAGE="es")
    assert wrong.status_code == 400
    assert wrong.json()["reasons"] == [
        "Escriba exactamente el nombre de usuario de la persona para confirmar el borrado."
    ]
    done = secretariat.post(url, {"confirm": group.co_drafter.username}, format="json")
    assert done.status_code == 200
    assert done.json()["pseudonym"] == f"former-member-{group.co_drafter.pk}"
    again = secretariat.post(url, {"confirm": done.json()["pseudonym"]}, format="json")
    assert again.status_code == 409
    asked = client_for(group.drafter).post(reverse("person-erasure-request"))
    assert asked.status_code == 202
    again = client_for(group.drafter).post(reverse("person-erasure-request"))
    assert again.status_code == 409
    assert "already" in again.json()["detail"]
    assert AuditEvent.objects.filter(action="person.erasure_requested").count() == 1


@pytest.mark.parametrize(
    ("language", "heading", "erasure"),
    [
        ("en", "My personal data", "Erase the personal data of"),
        ("fr", "Mes données personnelles", "Effacer les données personnelles de"),
        ("es", "Mis datos personales", "Borrar los datos personales de"),
    ],
)
def test_the_pages_speak_the_readers_language(
    group: Group, language: str, heading: str, erasure: str
) -> None:
    people.person_settings_update(person=group.drafter, language=language)
    people.person_settings_update(person=group.secretariat, language=language)
    own = client_signed_in(Client(), Person.objects.get(pk=group.drafter.pk))
    assert heading in own.get(reverse("proposals:personal_data")).content.decode()
    secretariat = client_signed_in(Client(), Person.objects.get(pk=group.secretariat.pk))
    url = reverse("proposals:person_erasure", args=[group.co_drafter.pk])
    assert erasure in secretariat.get(url).content.decode()


def test_two_erasures_at_once_of_people_named_in_the_same_rows_both_hold(postgres: None) -> None:
    """Each erasure locks the rows it rewrites: the second reads the first's result, so
    neither puts the other's name back, and the redactions chain."""
    from tests.factories import group_setup
    from tests.proposals.api.helpers import run_at_once

    group = group_setup()
    people.person_update(
        actor=SYSTEM, person=group.drafter, changes={"first_name": "Claire", "last_name": "Dubois"}
    )
    people.person_update(
        actor=SYSTEM,
        person=group.co_drafter,
        changes={"first_name": "Pierre", "last_name": "Lemaire"},
    )
    proposal = proposal_draft(group)
    run(
        proposal,
        "submit_for_review",
        group.drafter,
        comment="For Claire Dubois and Pierre Lemaire.",
    )
    outcomes = run_at_once(
        [
            lambda: personal_data.person_erase(actor=group.secretariat, person=group.drafter),
            lambda: personal_data.person_erase(actor=group.secretariat, person=group.co_drafter),
        ]
    )
    assert not [outcome for outcome in outcomes if isinstance(outcome, Exception)], outcomes
    comment = TransitionLog.objects.get(transition="submit_for_review").comment
    assert comment == (
        f"For former-member-{group.drafter.pk} and former-member-{group.co_drafter.pk}."
    )
    assert found_in_tables(["Claire Dubois", "Pierre Lemaire"]) == []
    assert log_verify(now=LATER).valid
