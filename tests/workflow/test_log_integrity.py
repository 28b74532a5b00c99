"""The log verifies: every row's digest, its redactions and the seals over the rows in order.

Tampering (a field rewritten, a row deleted or added, a forged redaction) breaks it; a recorded
redaction does not.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, models, transaction
from django.db.utils import DatabaseError
from django.utils import timezone

from tests.factories import Group, group_setup, proposal_draft
from workflow.audit import audit_record
from workflow.digests import field_digest, redaction_signature
from workflow.integrity import log_row_redact, log_seal, log_verify
from workflow.models import AuditEvent, LogRedaction, LogSeal, TransitionLog
from workflow.services import transition_run

LATER = timezone.now() + dt.timedelta(hours=1)


@contextmanager
def triggers_off() -> Iterator[None]:
    """What only someone with the database's owner rights could do: bypass the triggers."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        try:
            yield
        finally:
            cursor.execute("SET session_replication_role = DEFAULT")


def rows(group: Group) -> tuple[TransitionLog, AuditEvent]:
    proposal = proposal_draft(group)
    log = transition_run(
        obj=proposal, name="submit_for_review", actor=group.drafter, comment="Ready, said Alice."
    ).log
    event = audit_record(
        action="test.recorded",
        actor=group.secretariat,
        obj=group.drafter,
        subject=group.drafter,
        before={"email": "alice@example.org", "names": ["Alice", "Bob"]},
        after={"at": 1.5},
        security=True,
    )
    return log, event


def plain(model: type[models.Model]) -> models.QuerySet[models.Model]:
    return models.QuerySet(model=model)


@pytest.mark.django_db
def test_rows_written_verify_and_are_sealed(group: Group) -> None:
    log, event = rows(group)
    assert len(log.digest) == len(event.digest) == 64
    report = log_verify(now=LATER)
    assert report.valid, report.problems
    assert report.rows >= 2
    assert set(LogSeal.objects.values_list("log", flat=True)) == {"transition", "audit"}
    assert log_seal(now=LATER) == []  # nothing new to seal


@pytest.mark.django_db
def test_a_rewritten_field_breaks_the_row(group: Group) -> None:
    log, event = rows(group)
    with triggers_off():
        plain(AuditEvent).filter(pk=event.pk).update(after={"at": 2})
    report = log_verify(now=LATER)
    assert report.problems == [f"audit log, row {event.pk}: its content does not match its digest."]


@pytest.mark.django_db
def test_a_deleted_row_breaks_its_seal(group: Group) -> None:
    log, event = rows(group)
    first, _ = rows(group)
    assert log_verify(now=LATER).valid
    with triggers_off():
        plain(TransitionLog).filter(pk=log.pk).delete()
    report = log_verify(now=LATER)
    assert len(report.problems) == 1
    assert "the rows it covers changed" in report.problems[0]


@pytest.mark.django_db
def test_a_redaction_keeps_the_row_valid_and_records_no_value(group: Group) -> None:
    log, event = rows(group)
    with transaction.atomic():
        log_row_redact(
            log="audit",
            row=event,
            changes={
                "object_repr": "Former member 7",
                "before": {"email": "", "names": ["Former member 7", "Bob"]},
                "ip_address": None,
            },
            reason="erasure",
        )
        log_row_redact(
            log="transition", row=log, changes={"comment": "Ready, said [erased]."}, reason="x"
        )
    event.refresh_from_db()
    assert event.object_repr == "Former member 7"
    assert event.before["names"] == ["Former member 7", "Bob"]
    report = log_verify(now=LATER)
    assert report.valid, report.problems
    assert report.redactions == 3  # ip_address was empty already: nothing recorded
    stored = " ".join(str(value) for row in LogRedaction.objects.values() for value in row.values())
    assert "alice" not in stored.lower()
    # A second erasure of the same field keeps it valid too.
    with transaction.atomic():
        log_row_redact(
            log="audit",
            row=event,
            changes={"before": {"email": "", "names": ["Former member 7", "Former member 8"]}},
            reason="erasure",
        )
    assert log_verify(now=LATER).valid


@pytest.mark.django_db
def test_a_value_changed_after_its_redaction_breaks_the_row(group: Group) -> None:
    log, event = rows(group)
    with transaction.atomic():
        log_row_redact(log="transition", row=log, changes={"comment": "Pseudonym."}, reason="x")
    with triggers_off():
        plain(TransitionLog).filter(pk=log.pk).update(comment="Something else.")
    report = log_verify(now=LATER)
    assert len(report.problems) == 1
    assert "is not the value its redaction" in report.problems[0]


@pytest.mark.django_db
def test_a_forged_redaction_is_found(group: Group) -> None:
    log, event = rows(group)
    original = field_digest("transition", "comment", "a guess")
    replacement = field_digest("transition", "comment", "Forged.")
    LogRedaction.objects.create(
        log="transition",
        row_id=log.pk,
        field="comment",
        original=original,
        replacement=replacement,
        reason="forged",
        signature="0" * 64,
    )
    with triggers_off():
        plain(TransitionLog).filter(pk=log.pk).update(comment="Forged.")
    problems = log_verify(now=LATER).problems
    assert any("signature is wrong" in problem for problem in problems)
    assert any(f"row {log.pk}" in problem for problem in problems)
    assert redaction_signature("transition", log.pk, "comment", original, replacement)


@pytest.mark.django_db
def test_only_redactable_fields_may_be_redacted(group: Group) -> None:
    log, event = rows(group)
    with pytest.raises(ValueError, match="action cannot be redacted"):
        log_row_redact(log="audit", row=event, changes={"action": "x"}, reason="x")


def test_the_verify_command_says_whether_the_log_is_valid(postgres: None) -> None:
    log, event = rows(group_setup())
    out = StringIO()
    call_command("log_verify", stdout=out)
    assert "verifies" in out.getvalue()
    with triggers_off():
        plain(AuditEvent).filter(pk=event.pk).update(object_repr="Someone else")
    out = StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("log_verify", stdout=out, stderr=out)
    assert exit_.value.code == 1
    assert f"audit log, row {event.pk}" in out.getvalue()


def test_postgresql_lets_only_a_recorded_redaction_through(postgres: None) -> None:
    log, event = rows(group_setup())
    for statement in (
        "UPDATE workflow_auditevent SET object_repr = 'x' WHERE id = %s",
        "UPDATE workflow_auditevent SET action = 'x' WHERE id = %s",
        "UPDATE workflow_auditevent SET digest = 'x' WHERE id = %s",
        "DELETE FROM workflow_auditevent WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="append-only"):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(statement, [event.pk])
    with transaction.atomic():
        log_row_redact(log="audit", row=event, changes={"object_repr": "Pseudonym"}, reason="x")
    # With a redaction recorded, the other fields stay closed.
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("UPDATE workflow_auditevent SET action = 'x' WHERE id = %s", [event.pk])
    for statement in (
        "UPDATE workflow_logredaction SET reason = 'x'",
        "DELETE FROM workflow_logseal",
    ):
        log_seal(now=LATER)
        with pytest.raises(DatabaseError, match="append-only"):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(statement)
    assert log_verify(now=LATER).valid
