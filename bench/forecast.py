"""The forecast's figures: the back-test on generated history (docs/forecast.md, with its plot)
and the time of the whole forecast at 100k proposals.

    python -m bench.forecast backtest   # docs/forecast-calibration.svg and docs/forecast-backtest.json
    python -m bench.forecast timing     # 100k proposals, about 5 log rows each: learn, forecast all

Each works in its own database policy_bench_forecast (DATABASE_URL's server, made afresh and
dropped after), with Redis at BENCH_REDIS_URL (default redis://127.0.0.1:6379/5).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from typing import Any

from bench import db

SEED = 2014


def _setup(url: str) -> None:
    os.environ.update(db.process_env(url))
    sys.path.insert(0, str(db.ROOT))
    import django

    django.setup()


def _cast() -> Any:
    from proposals.forecast.history import Cast
    from proposals.models import Body, Organization, Person

    organization = Organization.objects.create(name="France", kind=Organization.Kind.STATE)
    person = Person.objects.create(username="history", email="history@example.org")
    body = Body.objects.create(name="UN General Assembly", level=Body.Level.INTERNATIONAL)
    return Cast(author=person, organization=organization, body=body)


def backtest_figures(args: argparse.Namespace) -> dict[str, Any]:
    from django.utils import timezone

    from proposals.forecast.backtest import backtest, calibration_svg
    from proposals.forecast.history import history_generate

    end = timezone.now()
    generated = history_generate(
        cast=_cast(),
        seed=args.seed,
        end=end,
        first_deadline=end - dt.timedelta(days=3 * 365),
        occasions_per_kind=args.occasions,
        proposals_per_occasion=args.per_occasion,
    )
    started = time.perf_counter()
    report = backtest(step=dt.timedelta(days=7))
    seconds = time.perf_counter() - started
    result = {
        "date": end.date().isoformat(),
        "seed": args.seed,
        "command": "python -m bench.forecast backtest",
        "history": {
            "occasions": len(generated.occasions),
            "proposals": generated.proposals,
            "log_rows": generated.log_rows,
            "submitted_in_time": generated.submitted_in_time,
            "withdrawn": generated.withdrawn,
            "late": generated.late,
        },
        "seconds": round(seconds, 2),
        "report": report.as_dict(),
    }
    title = f"Back-test on generated history (seed {args.seed})"
    (db.ROOT / "docs" / "forecast-calibration.svg").write_text(calibration_svg(report, title=title))
    (db.ROOT / "docs" / "forecast-backtest.json").write_text(json.dumps(result, indent=1) + "\n")
    return result


def timing(args: argparse.Namespace) -> dict[str, Any]:
    from django.db import connection
    from django.utils import timezone

    from proposals import forecast
    from proposals.forecast.history import history_generate

    end = timezone.now()
    per_occasion = 50
    occasions = args.proposals // per_occasion // 3
    started = time.perf_counter()
    generated = history_generate(
        cast=_cast(),
        seed=args.seed,
        end=end,
        first_deadline=end - dt.timedelta(days=3 * 365),
        # Deadlines up to three months ahead: the proposals of those are still on their way.
        last_deadline=end + dt.timedelta(days=90),
        kinds=("summit", "law_consultation", "working_session"),
        occasions_per_kind=occasions,
        proposals_per_occasion=per_occasion,
    )
    generating = time.perf_counter() - started
    from proposals.models import Proposal

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    timings: dict[str, list[float]] = {"learn": [], "forecast_all": [], "forecast_all_cached": []}
    for _ in range(args.repeat):
        forecast._memory.clear()
        t0 = time.perf_counter()
        learned = forecast.durations_learn()
        t1 = time.perf_counter()
        everything = forecast.open_forecasts(learned=learned)
        t2 = time.perf_counter()
        timings["learn"].append(t1 - t0)
        timings["forecast_all"].append(t2 - t0)
        forecast._memory.clear()
        from django.core.cache import cache

        cache.clear()
        t3 = time.perf_counter()
        forecast.open_forecasts()  # learns and caches
        t4 = time.perf_counter()
        forecast.open_forecasts()  # cached
        t5 = time.perf_counter()
        timings["forecast_all_cached"].append(t5 - t4)
        timings.setdefault("forecast_all_learning_and_caching", []).append(t4 - t3)
    return {
        "date": end.date().isoformat(),
        "seed": args.seed,
        "proposals": Proposal.objects.count(),
        "log_rows": generated.log_rows,
        "open_with_deadline_ahead": len(everything),
        "at_risk": sum(1 for item in everything if item.forecast.at_risk),
        "without_probability": sum(1 for item in everything if item.forecast.probability is None),
        "generating_seconds": round(generating, 1),
        "seconds_best": {name: round(min(values), 3) for name, values in timings.items()},
        "seconds_median": {
            name: round(sorted(values)[len(values) // 2], 3) for name, values in timings.items()
        },
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.forecast", description=__doc__)
    parser.add_argument("what", choices=["backtest", "timing"])
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--occasions", type=int, default=12, help="per kind (back-test)")
    parser.add_argument("--per-occasion", type=int, default=25, help="proposals (back-test)")
    parser.add_argument("--proposals", type=int, default=100_000, help="(timing)")
    parser.add_argument("--repeat", type=int, default=3, help="(timing)")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args(argv)
    url = db.database_url("_forecast")
    db.database_recreate(url)
    db.migrate(url)
    try:
        _setup(url)
        result = backtest_figures(args) if args.what == "backtest" else timing(args)
        print(json.dumps(result, indent=1))
    finally:
        if not args.keep:
            from django.db import connections

            connections.close_all()
            db.database_drop(url)


if __name__ == "__main__":
    main()
