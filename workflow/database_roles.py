"""The privileges of the application's PostgreSQL role, which owns nothing.

Migrations run as the owner of the tables. The application connects as another role that may
read and write rows but not TRUNCATE, ALTER (so not DISABLE TRIGGER) or change
session_replication_role (only superusers may), and that may only SELECT and INSERT on the
append-only tables: their UPDATE and DELETE are refused by privilege before the trigger, but
for the UPDATE of the log's redactable columns (workflow/integrity.py), which the trigger lets
through only for a row with a recorded redaction.
"""

from __future__ import annotations

from psycopg import sql

from workflow.models import AuditEvent, LogRedaction, LogSeal, TransitionLog

ROW_PRIVILEGES = sql.SQL("SELECT, INSERT, UPDATE, DELETE")
APPEND_ONLY_PRIVILEGES = sql.SQL("SELECT, INSERT")
SEQUENCE_PRIVILEGES = sql.SQL("USAGE, SELECT")


def append_only_tables() -> list[str]:
    """The tables whose rows are never changed nor deleted."""
    return [
        TransitionLog._meta.db_table,
        AuditEvent._meta.db_table,
        LogRedaction._meta.db_table,
        LogSeal._meta.db_table,
    ]


def redactable_columns() -> dict[str, list[str]]:
    """The columns of each log that a recorded redaction may replace (none is a foreign key,
    so each column is named as its field)."""
    return {
        model._meta.db_table: list(model.redactable_fields) for model in (TransitionLog, AuditEvent)
    }


def app_role_grants(*, role: str, database: str, schema: str = "public") -> list[sql.Composed]:
    """The statements that give `role` exactly the application's privileges; run them as the owner.

    They start by revoking everything on the schema's tables and sequences, so running them again
    after a migration leaves the same privileges. ALTER DEFAULT PRIVILEGES covers the tables that
    the owner creates later; running the statements again after each migration keeps the
    append-only tables narrowed.
    """
    names = {
        "role": sql.Identifier(role),
        "database": sql.Identifier(database),
        "schema": sql.Identifier(schema),
        "rows": ROW_PRIVILEGES,
        "append_only": APPEND_ONLY_PRIVILEGES,
        "sequences": SEQUENCE_PRIVILEGES,
    }
    statements = [
        "GRANT CONNECT ON DATABASE {database} TO {role}",
        "GRANT USAGE ON SCHEMA {schema} TO {role}",
        "REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {role}",
        "REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema} FROM {role}",
        "GRANT {rows} ON ALL TABLES IN SCHEMA {schema} TO {role}",
        "GRANT {sequences} ON ALL SEQUENCES IN SCHEMA {schema} TO {role}",
    ]
    composed = [sql.SQL(statement).format(**names) for statement in statements]
    for table in append_only_tables():
        composed.append(
            sql.SQL("REVOKE ALL ON {table} FROM {role}").format(
                table=sql.Identifier(schema, table), role=names["role"]
            )
        )
        composed.append(
            sql.SQL("GRANT {append_only} ON {table} TO {role}").format(
                table=sql.Identifier(schema, table), **names
            )
        )
    for table, columns in redactable_columns().items():
        composed.append(
            sql.SQL("GRANT UPDATE ({columns}) ON {table} TO {role}").format(
                columns=sql.SQL(", ").join(sql.Identifier(column) for column in columns),
                table=sql.Identifier(schema, table),
                role=names["role"],
            )
        )
    for statement in (
        "ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT {rows} ON TABLES TO {role}",
        "ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT {sequences} ON SEQUENCES TO {role}",
    ):
        composed.append(sql.SQL(statement).format(**names))
    return composed
