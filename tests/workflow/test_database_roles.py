"""The application's PostgreSQL role works on rows but cannot bypass the append-only triggers."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from psycopg import sql

from tests.factories import group_setup, proposal_draft
from workflow.audit import audit_record
from workflow.models import AuditEvent, TransitionLog
from workflow.services import transition_run

APPEND_ONLY_TABLES = ["workflow_transitionlog", "workflow_auditevent"]


@pytest.fixture
def app_role(postgres: None) -> Iterator[str]:
    """A throwaway login role with exactly the privileges `db_app_role` gives, dropped after."""
    role = f"helper_ops_app_{uuid.uuid4().hex[:12]}"
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
    try:
        call_command("db_app_role", "--role", role, "--execute")
        yield role
    finally:
        connection.close()
        with connection.cursor() as cursor:
            cursor.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
            cursor.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def connect_as(role: str) -> psycopg.Connection[Any]:
    """A direct connection to the test database as `role`, in autocommit."""
    settings = connection.settings_dict
    return psycopg.connect(
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
        dbname=settings["NAME"],
        user=role,
        autocommit=True,
    )


@contextmanager
def django_connected_as(role: str) -> Iterator[None]:
    """Django's default connection logs in as `role` inside the block, as the owner after it."""
    settings = connection.settings_dict
    owner, password = settings["USER"], settings["PASSWORD"]
    connection.close()
    settings["USER"], settings["PASSWORD"] = role, ""
    try:
        yield
    finally:
        connection.close()
        settings["USER"], settings["PASSWORD"] = owner, password


def refused(role: str, statement: sql.Composed | str, params: list[Any] | None = None) -> str:
    """The error PostgreSQL gives `role` for the statement; fails the test if it is accepted."""
    with connect_as(role) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege) as error:
            conn.execute(statement, params)
    return str(error.value)


@pytest.mark.parametrize("table", APPEND_ONLY_TABLES)
def test_the_app_role_cannot_truncate_an_append_only_table(app_role: str, table: str) -> None:
    message = refused(app_role, sql.SQL("TRUNCATE {}").format(sql.Identifier(table)))
    assert "permission denied" in message


@pytest.mark.parametrize("table", APPEND_ONLY_TABLES)
def test_the_app_role_cannot_disable_the_append_only_trigger(app_role: str, table: str) -> None:
    statement = sql.SQL("ALTER TABLE {} DISABLE TRIGGER ALL").format(sql.Identifier(table))
    assert "must be owner" in refused(app_role, statement)


def test_the_app_role_cannot_switch_triggers_off_with_session_replication_role(
    app_role: str,
) -> None:
    message = refused(app_role, "SET session_replication_role = replica")
    assert "session_replication_role" in message


def test_the_app_role_cannot_update_or_delete_log_and_audit_rows(app_role: str) -> None:
    group = group_setup()
    log = transition_run(obj=proposal_draft(group), name="submit_for_review", actor=group.drafter)
    event = audit_record(action="test.recorded", actor=group.secretariat)
    for table, row_id in [
        ("workflow_transitionlog", log.log.pk),
        ("workflow_auditevent", event.pk),
    ]:
        name = sql.Identifier(table)
        update = sql.SQL("UPDATE {} SET id = id WHERE id = %s").format(name)
        delete = sql.SQL("DELETE FROM {} WHERE id = %s").format(name)
        assert "permission denied" in refused(app_role, update, [row_id])
        assert "permission denied" in refused(app_role, delete, [row_id])
    assert TransitionLog.objects.filter(pk=log.log.pk).exists()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_the_app_role_owns_nothing_and_truncates_no_table(app_role: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_tables WHERE tableowner = %s", [app_role])
        assert cursor.fetchone() == (0,)
        cursor.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' "
            "AND has_table_privilege(%s, format('%%I.%%I', schemaname, tablename), 'TRUNCATE')",
            [app_role],
        )
        assert cursor.fetchone() == (0,)


def test_the_app_role_runs_a_transition_and_writes_the_audit_trail(app_role: str) -> None:
    group = group_setup()
    proposal = proposal_draft(group)
    with django_connected_as(app_role):
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user")
            assert cursor.fetchone() == (app_role,)
        result = transition_run(obj=proposal, name="submit_for_review", actor=group.drafter)
        event = audit_record(action="test.recorded", actor=group.secretariat, obj=proposal)
        proposal.refresh_from_db()
        assert proposal.state == "in_review"
        assert TransitionLog.objects.filter(pk=result.log.pk).exists()
        assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_db_app_role_refuses_to_run_as_the_role_it_grants(app_role: str) -> None:
    with django_connected_as(app_role):
        with pytest.raises(CommandError, match="as the owner"):
            call_command("db_app_role", "--role", app_role, "--execute")


def test_db_app_role_prints_the_statements_without_running_them(
    postgres: None, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("db_app_role", "--role", "helper_ops_printed_only")
    printed = capsys.readouterr().out
    assert (
        'GRANT SELECT, INSERT ON "public"."workflow_transitionlog" TO "helper_ops_printed_only"'
        in printed
    )
    assert (
        'GRANT SELECT, INSERT ON "public"."workflow_auditevent" TO "helper_ops_printed_only"'
        in printed
    )
    assert "ALTER DEFAULT PRIVILEGES" in printed
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regrole('helper_ops_printed_only')")
        assert cursor.fetchone() == (None,)
