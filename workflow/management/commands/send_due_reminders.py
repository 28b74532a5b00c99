"""Run the reminder scan once: what beat runs every minute, for operators and cron."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from workflow.delivery import DeliveryInterrupted, deliveries_send
from workflow.reminders import reminders_scan


class Command(BaseCommand):
    help = (
        "Write the reminders that came due (each exactly once) and queue them for the workers. "
        "With --send, send them from this process instead."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--now",
            help="Scan as if it were this moment (ISO 8601 with a time zone, such as "
            "2026-09-01T08:00:00+00:00). For rehearsals: workers judge what is due by their clock.",
        )
        parser.add_argument(
            "--send",
            action="store_true",
            help="Send the reminders written by this scan from this process (no worker needed).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        if options["now"]:
            parsed = parse_datetime(options["now"])
            if parsed is None or timezone.is_naive(parsed):
                raise CommandError(
                    f"--now {options['now']!r} is not an ISO 8601 moment with a time zone, "
                    "such as 2026-09-01T08:00:00+00:00."
                )
            now = parsed
        ids = reminders_scan(now=now)
        self.stdout.write(f"{len(ids)} reminders written and queued.")
        if options["send"] and ids:
            try:
                report = deliveries_send(ids, now=now)
            except DeliveryInterrupted as error:
                raise CommandError(
                    f"Sending was interrupted ({error}); the rest waits for the workers' sweep."
                ) from error
            self.stdout.write(f"{report.sent} sent, {report.failed} failed.")
