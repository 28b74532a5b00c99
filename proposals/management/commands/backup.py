"""`manage.py backup <folder or s3://bucket/prefix>`: the database and the stored files, in one
consistent backup with a manifest (see proposals/backups.py)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from proposals.backups import BackupError, backup_make


class Command(BaseCommand):
    help = (
        "Back up the database and the stored files into a new backup-<UTC time> folder under "
        "a folder or an s3://bucket/prefix; prints the backup's location."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("location", help="A folder, or s3://bucket/prefix.")
        parser.add_argument("--database", default="default", help="The database to back up.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            summary = backup_make(options["location"], using=options["database"])
        except BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"Backup written to {summary.location}: {summary.tables} tables, "
            f"{summary.rows} rows, {summary.files} files."
        )
        self.stdout.write(summary.location)
