"""The audit trail is append-only: the ORM and, on PostgreSQL, the database refuse changes."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.utils import timezone

from tests.factories import Group, group_setup
from workflow.audit import audit_record, audit_records, changed_fields
from workflow.integrity import log_verify
from workflow.models import AppendOnlyError, AuditEvent


def recorded(group: Group) -> AuditEvent:
    return audit_record(
        action="person.email_changed",
        actor=group.secretariat,
        obj=group.drafter,
        subject=group.drafter,
        before={"email": "old@example.org"},
        after={"email": "new@example.org"},
        security=True,
    )


@pytest.mark.django_db
def test_an_audit_row_names_actor_action_object_and_both_values(group: Group) -> None:
    event = recorded(group)
    event.refresh_from_db()
    assert event.actor == group.secretariat
    assert event.object_type == "proposals.person"
    assert event.object_id == str(group.drafter.pk)
    assert event.before == {"email": "old@example.org"}
    assert event.after == {"email": "new@example.org"}
    assert event.security is True


def test_changed_fields_keeps_only_what_differs() -> None:
    before, after = changed_fields({"a": 1, "b": [2, 3]}, {"a": 1, "b": [3]})
    assert (before, after) == ({"b": [2, 3]}, {"b": [3]})


@pytest.mark.django_db
def test_the_orm_refuses_to_update_or_delete_an_audit_row(group: Group) -> None:
    event = recorded(group)
    event.action = "rewritten"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(action="rewritten")
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get(pk=event.pk).action == "person.email_changed"


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE workflow_auditevent SET action = 'rewritten' WHERE id = %s",
        "DELETE FROM workflow_auditevent WHERE id = %s",
    ],
)
def test_postgresql_refuses_raw_updates_and_deletes_of_the_audit_trail(
    postgres: None, statement: str
) -> None:
    event = recorded(group_setup())
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [event.pk])
    assert AuditEvent.objects.filter(pk=event.pk, action="person.email_changed").exists()


@pytest.mark.django_db
def test_rows_written_together_are_those_written_one_by_one_and_verify(group: Group) -> None:
    now = timezone.now()
    single = audit_record(
        action="occasion.created", obj=group.occasion, after={"name": "A", "on": now}, now=now
    )
    together = audit_records(
        action="occasion.created",
        written=[(group.occasion, {"name": "A", "on": now}), (group.drafter, {"name": "B"})],
        now=now,
    )
    assert [row.pk is not None for row in together] == [True, True]
    first = AuditEvent.objects.get(pk=together[0].pk)
    fields = ("at", "actor_id", "action", "object_type", "object_id", "object_repr", "before")
    assert [getattr(first, name) for name in fields] == [getattr(single, name) for name in fields]
    assert first.after == single.after == {"name": "A", "on": now.isoformat()}
    assert first.digest == single.digest
    assert AuditEvent.objects.get(pk=together[1].pk).object_type == "proposals.person"
    assert log_verify(seal=False).valid
