"""The transition log is append-only: the ORM and, on PostgreSQL, the database refuse changes."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError

from tests.factories import Group, group_setup, proposal_draft
from workflow.models import AppendOnlyError, TransitionLog
from workflow.services import transition_run


def logged(group: Group) -> TransitionLog:
    proposal = proposal_draft(group)
    return transition_run(obj=proposal, name="submit_for_review", actor=group.drafter).log


@pytest.mark.django_db
def test_the_orm_refuses_to_update_a_log_row(group: Group) -> None:
    log = logged(group)
    log.comment = "rewritten"
    with pytest.raises(AppendOnlyError):
        log.save()
    with pytest.raises(AppendOnlyError):
        TransitionLog.objects.filter(pk=log.pk).update(comment="rewritten")
    assert TransitionLog.objects.get(pk=log.pk).comment == ""


@pytest.mark.django_db
def test_the_orm_refuses_to_delete_a_log_row(group: Group) -> None:
    log = logged(group)
    with pytest.raises(AppendOnlyError):
        log.delete()
    with pytest.raises(AppendOnlyError):
        TransitionLog.objects.all().delete()
    assert TransitionLog.objects.filter(pk=log.pk).exists()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE workflow_transitionlog SET comment = 'rewritten' WHERE id = %s",
        "DELETE FROM workflow_transitionlog WHERE id = %s",
    ],
)
def test_postgresql_refuses_raw_updates_and_deletes(postgres: None, statement: str) -> None:
    log = logged(group_setup())
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [log.pk])
    assert TransitionLog.objects.filter(pk=log.pk, comment="").exists()
