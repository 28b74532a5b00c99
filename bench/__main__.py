"""Run the benchmarks and write bench/REPORT.md with its chart.

    python -m bench            # full: 100k proposals; scan at 10k, 100k and 1M open proposals
    python -m bench --quick    # tiny sizes, one run each: checks that everything runs
    python -m bench --only markdown   # Markdown rendering time only (also: python -m bench.markdown)

Needs PostgreSQL (DATABASE_URL's server; the databases are named policy_bench*) and Redis
(BENCH_REDIS_URL, default redis://127.0.0.1:6379/5). Each phase runs in its own process.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import db, report

FULL = {
    "proposals": 100_000,
    "scan_sizes": [10_000, 100_000, 1_000_000],
    "repeat": 15,
    "repeat_transitions": 5,
    "transitions_per_run": 40,
    "repeat_scan": 5,
    "mail_count": 10_000,
    "repeat_mail": 1,
    "mail_timeout": 300,
    "load_warmup_seconds": 3,
    "load_seconds": 15,
    "steady_seconds": 30,
    "markdown_sizes": [1_000, 10_000, 50_000, 100_000],
    "markdown_repeat": 3,
    "capabilities_repeat": 5,
    "import_events": 1_000,
    "fanout_followers": [100, 1_000],
    "fanout_endpoints": [10, 100],
    "memory_emails": 100_000,
    "memory_timeout": 1_500,
}
QUICK = {
    "proposals": 400,
    "scan_sizes": [150, 300, 600],
    "repeat": 1,
    "repeat_transitions": 1,
    "transitions_per_run": 5,
    "repeat_scan": 1,
    "mail_count": 60,
    "repeat_mail": 1,
    "mail_timeout": 30,
    "load_warmup_seconds": 0.5,
    "load_seconds": 1.5,
    "steady_seconds": 2,
    "markdown_sizes": [1_000, 10_000],
    "markdown_repeat": 1,
    "capabilities_repeat": 1,
    "import_events": 100,
    "fanout_followers": [20],
    "fanout_endpoints": [3],
    "memory_emails": 300,
    "memory_timeout": 60,
    "memory_settle_seconds": 0.5,
}
PHASES = (
    "pages",
    "load",
    "transitions",
    "mail",
    "scan",
    "markdown",
    "capabilities",
    "fanout",
    "memory",
)
NO_MAIN_DATABASE = ("scan", "markdown")  # phases that do not read the generated database


def phase_run(name: str, config: dict[str, Any], workdir: Path) -> dict[str, Any]:
    """Run one phase in its own process; its result, or the error that stopped it."""
    config_path = workdir / f"{name}.config.json"
    out_path = workdir / f"{name}.json"
    config_path.write_text(json.dumps(config))
    started = time.perf_counter()
    print(f"== {name}", file=sys.stderr, flush=True)
    completed = subprocess.run(
        [sys.executable, "-m", "bench.phase", name, str(config_path), str(out_path)],
        cwd=db.ROOT,
        env=db.process_env(config["database_url"]),
        check=False,
    )
    if not out_path.exists():
        return {"error": f"the {name} phase stopped (exit {completed.returncode})"}
    result: dict[str, Any] = json.loads(out_path.read_text())
    result["phase_seconds"] = round(time.perf_counter() - started, 1)
    return result


def services_missing() -> list[str]:
    missing = []
    reason = db.server_reachable(db.database_url())
    if reason:
        missing.append(f"PostgreSQL at {db.database_url()}: {reason}")
    try:
        import redis

        redis.Redis.from_url(db.redis_url(), socket_connect_timeout=3).ping()
    except Exception as error:  # any failure means the benchmarks cannot use it
        missing.append(f"Redis at {db.redis_url()}: {error}")
    return missing


def commit_described() -> str:
    """The commit the run measures, and whether the checkout differed from it."""
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return f"{head} with uncommitted changes" if changed else head


def python_gauge_ms() -> float:
    """The machine's speed for Python at this moment: the fastest of 5 runs of a fixed loop of
    the interpreter (integer arithmetic and str), in milliseconds. Shared hosts change speed
    between runs; this number says by how much, so that runs can be compared."""
    fastest = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        total = 0
        for number in range(300_000):
            total += len(str(number * number))
        fastest = min(fastest, time.perf_counter() - started)
    return round(fastest * 1000, 1)


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
        "cpus": os.cpu_count(),
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["memory_gib"] = round(int(line.split()[1]) / 1024 / 1024, 1)
                break
    except OSError:
        pass
    info["load_average_at_start"] = " ".join(f"{value:.2f}" for value in os.getloadavg())
    info["python_gauge_ms_at_start"] = python_gauge_ms()
    try:
        with db.connect(db.database_url().rsplit("/", 1)[0] + "/postgres") as connection:
            row = connection.execute("SHOW server_version").fetchone()
            info["postgresql"] = row[0] if row else "?"
    except Exception:  # the version is only informative
        info["postgresql"] = "?"
    return info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one run each")
    parser.add_argument(
        "--output",
        type=Path,
        help="where REPORT.md, chart.svg and results.json go "
        "(default bench/, and var/bench-quick/ with --quick)",
    )
    parser.add_argument("--only", default="", help=f"comma-separated phases of {', '.join(PHASES)}")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep the main database as the last run left it (no generation)",
    )
    parser.add_argument("--proposals", type=int, help="proposals in the main database")
    parser.add_argument("--scan-sizes", help="open proposals at each scan, e.g. 10000,100000")
    args = parser.parse_args(argv)

    if args.output is None:
        args.output = db.ROOT / "var" / "bench-quick" if args.quick else db.ROOT / "bench"
    missing = services_missing()
    if missing:
        print("The benchmarks need these services:\n  " + "\n  ".join(missing), file=sys.stderr)
        return 2
    settings = dict(QUICK if args.quick else FULL)
    if args.proposals:
        settings["proposals"] = args.proposals
    if args.scan_sizes:
        settings["scan_sizes"] = [int(size) for size in args.scan_sizes.split(",")]
    only = [name for name in args.only.split(",") if name] or list(PHASES)
    suffix = "_quick" if args.quick else ""
    main_url = db.database_url(suffix)
    scan_url = db.database_url(suffix + "_scan")
    workdir = Path(tempfile.mkdtemp(prefix="policy-bench-"))
    started = time.perf_counter()
    results: dict[str, Any] = {
        "quick": args.quick,
        "settings": settings,
        "machine": machine(),
        "commit": commit_described(),
        "databases": {"main": db.database_name(main_url), "scan": db.database_name(scan_url)},
    }
    previous = args.output / "results.json"
    if only != list(PHASES) and previous.exists():
        old = json.loads(previous.read_text())
        if old.get("quick") == args.quick:
            results.update({k: v for k, v in old.items() if k in PHASES or k == "generate"})

    if any(name not in NO_MAIN_DATABASE for name in only) and not args.reuse:
        db.database_recreate(main_url)
        db.migrate(main_url)
        results["generate"] = phase_run(
            "generate", {"database_url": main_url, "proposals": settings["proposals"]}, workdir
        )
    for name in only:
        if name == "scan":
            db.database_recreate(scan_url)
            db.migrate(scan_url)
            results[name] = phase_run(name, {**settings, "database_url": scan_url}, workdir)
        else:
            results[name] = phase_run(name, {**settings, "database_url": main_url}, workdir)
    if args.quick:
        db.database_drop(main_url)
        db.database_drop(scan_url)
    shutil.rmtree(workdir, ignore_errors=True)
    results["machine"]["load_average_at_end"] = " ".join(f"{v:.2f}" for v in os.getloadavg())
    results["machine"]["python_gauge_ms_at_end"] = python_gauge_ms()
    if only == list(PHASES) and not args.reuse:
        results["total_seconds"] = round(time.perf_counter() - started, 1)
    else:
        results["total_seconds"] = round(
            sum(
                results[name].get("phase_seconds", 0)
                for name in ("generate", *PHASES)
                if isinstance(results.get(name), dict)
            ),
            1,
        )
    results["finished_at"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    results["command"] = " ".join(
        ["python -m bench", *(argv if argv is not None else sys.argv[1:])]
    )
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "results.json").write_text(json.dumps(results, indent=2, default=str))
    report.write(results, args.output)
    print(
        f"Report written to {args.output / 'REPORT.md'} in {results['total_seconds']} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
