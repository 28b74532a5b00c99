"""Print or run the GRANTs that let the application's PostgreSQL role work without owning."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from workflow.database_roles import app_role_grants


class Command(BaseCommand):
    help = (
        "Print the SQL that gives an existing PostgreSQL role the application's privileges "
        "(rows of every table, only SELECT and INSERT on the append-only log and audit trail, "
        "no TRUNCATE, no ALTER). With --execute, run it: connect as the owner of the tables, "
        "the role that runs migrations. Run it again after each migrate."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--role", required=True, help="The application's login role.")
        parser.add_argument("--schema", default="public", help="The schema of the tables.")
        parser.add_argument(
            "--execute",
            action="store_true",
            help="Run the statements on the database instead of printing them.",
        )
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="Django database alias.")

    def handle(self, *args: Any, **options: Any) -> None:
        connection = connections[options["database"]]
        if connection.vendor != "postgresql":
            raise CommandError(
                f"db_app_role needs PostgreSQL; the database {options['database']!r} is "
                f"{connection.vendor}. Set DATABASE_URL to the owner's postgres:// URL."
            )
        role = options["role"]
        statements = app_role_grants(
            role=role, database=connection.settings_dict["NAME"], schema=options["schema"]
        )
        if not options["execute"]:
            for statement in statements:
                self.stdout.write(f"{statement.as_string()};")
            return
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute("SELECT current_user, to_regrole(%s) IS NOT NULL", [role])
            current_user, role_exists = cursor.fetchone()
            if not role_exists:
                raise CommandError(
                    f"The role {role!r} does not exist: create it first "
                    f"(CREATE ROLE {role} LOGIN PASSWORD '...')."
                )
            if current_user == role:
                raise CommandError(
                    f"Connected as {role!r} itself: run this as the owner of the tables "
                    "(the role that runs migrations), not as the application's role."
                )
            cursor.execute(
                "SELECT count(*) FROM pg_tables WHERE schemaname = %s AND tableowner = %s",
                [options["schema"], role],
            )
            (owned,) = cursor.fetchone()
            if owned:
                raise CommandError(
                    f"The role {role!r} owns {owned} tables of schema {options['schema']!r}, so "
                    "it could truncate them or disable their triggers. Give them to the "
                    f"migration role first (REASSIGN OWNED BY {role} TO <owner>)."
                )
            for statement in statements:
                cursor.execute(statement)
        self.stdout.write(f"The role {role!r} has the application's privileges.")
