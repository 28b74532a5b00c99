"""`manage.py backup_check <backup>`: read a whole backup against its manifest."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from proposals.backups import BackupError, backup_check


class Command(BaseCommand):
    help = (
        "Check a backup: every table and file it lists is there, with its rows, size and "
        "SHA-256. Exits with status 1 and names each problem when one is not."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "location", help="The backup's folder (…/backup-<UTC time>), on disk or in s3://."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            summary = backup_check(options["location"])
        except BackupError as error:
            raise CommandError(str(error)) from None
        if summary.problems:
            raise CommandError(f"{summary.location} is damaged:\n" + "\n".join(summary.problems))
        self.stdout.write(
            f"{summary.location} is whole: {summary.tables} tables, {summary.rows} rows, "
            f"{summary.files} files."
        )
