"""`manage.py forecast_backtest`: how the at-risk forecast would have done on this database's
history (proposals.forecast.backtest; docs/forecast.md)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from proposals.forecast.backtest import backtest, calibration_svg


class Command(BaseCommand):
    help = (
        "Back-test the forecast: at each past moment, forecast the proposals then open with "
        "what was known then; print the Brier score against 'everything is on time' and the "
        "calibration."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--step-days", type=int, default=7, help="days between moments")
        parser.add_argument("--svg", help="write the calibration plot to this file")
        parser.add_argument("--json", action="store_true", help="print the figures as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["step_days"] < 1:
            raise CommandError("--step-days must be 1 or more.")
        report = backtest(step=dt.timedelta(days=options["step_days"]))
        if options["svg"]:
            Path(options["svg"]).write_text(calibration_svg(report, title="Forecast back-test"))
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), indent=1))
            return
        if report.brier is None:
            self.stdout.write(
                f"No forecast with a probability over {report.moments} moments "
                f"({report.without_probability} without enough history)."
            )
            return
        self.stdout.write(
            f"{report.forecasts} forecasts at {report.moments} moments "
            f"({report.without_probability} without enough history)\n"
            f"Brier {report.brier:.3f}; everything on time {report.brier_all_on_time:.3f}; "
            f"base rate {report.base_rate:.2f} gives {report.brier_base_rate:.3f}"
        )
        for b in report.bins:
            if b.count:
                self.stdout.write(
                    f"  {b.low:.1f}–{b.high:.1f}: {b.count:5d} forecasts, "
                    f"predicted {b.mean_predicted:.2f}, observed {b.observed:.2f}"
                )
