"""manage.py log_verify: check the digests of the transition log and the audit trail."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from workflow.integrity import log_verify


class Command(BaseCommand):
    help = (
        "Seal the rows written since the last seal, then check every row of the transition "
        "log and the audit trail against its digest and redactions and every seal against the "
        "rows it covers. Exits with 1 and lists the problems when the log does not verify."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--no-seal", action="store_true", help="Check without sealing new rows first."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        report = log_verify(seal=not options["no_seal"])
        summary = (
            f"{report.rows} rows, {report.seals} seals and {report.redactions} redactions read."
        )
        if report.valid:
            self.stdout.write(f"The log verifies: {summary}")
            return
        for problem in report.problems:
            self.stderr.write(problem)
        self.stderr.write(f"The log does not verify: {len(report.problems)} problems. {summary}")
        sys.exit(1)
