"""`manage.py restore <backup>`: a checked backup into an empty instance."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from proposals.backups import BackupError, backup_check, backup_restore


class Command(BaseCommand):
    help = (
        "Restore a backup into an empty database and an empty storage of files: the backup is "
        "checked first, then the migrations it was made at are applied, then every row and "
        "file, then this version's later migrations. Refuses an instance that holds data."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "location", help="The backup's folder (…/backup-<UTC time>), on disk or in s3://."
        )
        parser.add_argument("--database", default="default", help="The database to restore into.")
        parser.add_argument(
            "--check",
            action="store_true",
            help="Only check the backup against its manifest (as backup_check does).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["check"]:
                summary = backup_check(options["location"])
                if summary.problems:
                    raise CommandError(
                        f"{summary.location} is damaged:\n" + "\n".join(summary.problems)
                    )
            else:
                summary = backup_restore(options["location"], using=options["database"])
        except BackupError as error:
            raise CommandError(str(error)) from None
        done = "is whole" if options["check"] else "restored"
        self.stdout.write(
            f"{summary.location} {done}: {summary.tables} tables, {summary.rows} rows, "
            f"{summary.files} files."
        )
