"""bench/REPORT.md and bench/chart.svg from the results of a run."""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Any

from bench import report_capabilities
from bench.report_text import error_line, fmt, plan_details

PAGE_TARGET = 2.0
SCAN_GROWTH_TARGET = 2.0
TRANSITIONS_TARGET = 150.0
TRANSITION_QUERIES_TARGET = 10
MAIL_SHARE_TARGET = 0.70
MAIL_DRAIN_TARGET = 60.0
LOAD_MAXIMUM_TARGET = 4 * 17.6  # four times the maximum measured on 2026-11-28
P95_TARGET = 50.0
WORKER_RSS_TARGET_MB = 150.0  # target 7: a web worker's resident memory after the load test

FIXED_COST_TARGET = 1.5
MILLION_GROWTH_TARGET = 1.5  # the list's and the dashboard's p50 at 1M over their p50 at 100k

PAGE_FIGURES = {
    "api_small": "One small object through the API (the fixed cost; bound: a bare DRF view)",
    "api_list": "Proposal list API (page size 50, filters)",
    "api_detail": "Proposal detail API",
    "dashboard_drafter": "Dashboard page (a drafter)",
    "dashboard_secretariat": "Dashboard page (the secretariat)",
}


def verdict(met: bool | None) -> str:
    return {True: "met", False: "**missed**", None: "—"}[met]


def summary_rows(results: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per figure: what, the system, its bound, the ratio, the target, met."""
    rows: list[dict[str, Any]] = []
    pages = results.get("pages", {})
    for key, label in PAGE_FIGURES.items():
        figure = pages.get("figures", {}).get(key)
        if not figure:
            continue
        target = FIXED_COST_TARGET if key == "api_small" else PAGE_TARGET
        rows.append(
            {
                "key": key,
                "target_no": 1,
                "label": label,
                "system": f"{fmt(figure['system_ms'])} ms",
                "bound": f"{fmt(figure['bound_ms'])} ms",
                "ratio": figure["ratio"],
                "target": f"≤ {target:g}×",
                "normalised": figure["ratio"] / target if figure["ratio"] else None,
                "met": figure["ratio"] is not None and figure["ratio"] <= target,
            }
        )
    transitions = results.get("transitions", {})
    if "system_per_second" in transitions:
        rows.append(
            {
                "key": "transitions",
                "target_no": 2,
                "label": "Transitions through the API (per second)",
                "system": f"{fmt(transitions['system_per_second'])}/s",
                "bound": f"{fmt(transitions['bound_per_second'])}/s",
                "ratio": transitions["ratio"],
                "target": (
                    f"≥ {TRANSITIONS_TARGET:g}/s, ≤ {TRANSITION_QUERIES_TARGET} queries "
                    f"({transitions.get('queries')} here)"
                ),
                "normalised": TRANSITIONS_TARGET / transitions["system_per_second"]
                if transitions["system_per_second"]
                else None,
                "met": transitions["system_per_second"] >= TRANSITIONS_TARGET
                and transitions.get("queries", TRANSITION_QUERIES_TARGET + 1)
                <= TRANSITION_QUERIES_TARGET,
            }
        )
    scan = results.get("scan", {})
    if scan.get("sizes"):
        first, last = scan["sizes"][0], scan["sizes"][-1]
        growth = scan.get("growth")
        seq = sorted({t for size in scan["sizes"] for t in size["seq_scans"]})
        watched = [t for t in seq if t in scan.get("watched_tables", [])]
        rows.append(
            {
                "key": "scan",
                "target_no": 3,
                "label": (
                    f"Reminder scan, {fmt(first['open_proposals'])} → "
                    f"{fmt(last['open_proposals'])} open proposals"
                ),
                "system": f"{fmt(first['scan_ms'])} → {fmt(last['scan_ms'])} ms",
                "bound": "no bound: growth from the smallest size",
                "ratio": growth,
                "target": f"≤ {SCAN_GROWTH_TARGET:g}× growth, no seq scan",
                "normalised": growth / SCAN_GROWTH_TARGET if growth else None,
                "met": growth is not None and growth <= SCAN_GROWTH_TARGET and not watched,
            }
        )
    rows += million_rows(scan)
    mail = results.get("mail", {})
    if "share_of_loop" in mail:
        share = mail["share_of_loop"]
        rows.append(
            {
                "key": "mail",
                "target_no": 4,
                "label": f"Mail: {fmt(mail['emails'])} reminders, one worker",
                "system": f"{fmt(mail['worker_per_second'])}/s ({fmt(mail['worker_seconds'])} s)",
                "bound": f"{fmt(mail['loop_per_second'])}/s (render and send loop)",
                "ratio": round(1 / share, 2) if share else None,
                "target": f"≥ {MAIL_SHARE_TARGET:.0%} of the loop, ≤ {MAIL_DRAIN_TARGET:g} s",
                "normalised": MAIL_SHARE_TARGET / share if share else None,
                "met": share >= MAIL_SHARE_TARGET
                and mail["worker_seconds"] <= MAIL_DRAIN_TARGET
                and mail.get("statuses_last_run", {}).get("sent") == mail["emails"],
            }
        )
    load = results.get("load", {})
    if "steady" in load:
        steady = load["steady"]
        rows.append(
            {
                "key": "load",
                "target_no": 5,
                "label": f"Under load: {fmt(steady['rate'])} requests/s (half the maximum)",
                "system": f"p95 {fmt(steady['p95_ms'])} ms, {steady['errors']} errors",
                "bound": f"no bound (maximum {fmt(load['maximum']['per_second'])}/s)",
                "ratio": None,
                "target": (
                    f"maximum ≥ {LOAD_MAXIMUM_TARGET:g}/s; at half: p95 ≤ {P95_TARGET:g} ms, "
                    "no error"
                ),
                "normalised": max(
                    steady["p95_ms"] / P95_TARGET,
                    LOAD_MAXIMUM_TARGET / load["maximum"]["per_second"]
                    if load["maximum"]["per_second"]
                    else 10.0,
                ),
                "met": steady["p95_ms"] <= P95_TARGET
                and steady["errors"] == 0
                and load["maximum"]["per_second"] >= LOAD_MAXIMUM_TARGET,
            }
        )
    rows += report_capabilities.summary_rows(results)
    return rows


def million_rows(scan: dict[str, Any]) -> list[dict[str, Any]]:
    """The list by cursor and the dashboards: p50 at 100,000 open proposals and at the largest
    size of the scan's database, and their growth (issue 16's target 2)."""
    from bench.million import FIGURES

    growth = scan.get("pages_growth") or {}
    rows: list[dict[str, Any]] = []
    for key, label in FIGURES.items():
        figure = growth.get(key)
        if not figure:
            continue
        rows.append(
            {
                "key": f"million_{key}",
                "target_no": 3,
                "label": (
                    f"{label}, {fmt(growth['from_open_proposals'])} → "
                    f"{fmt(growth['to_open_proposals'])} open proposals"
                ),
                "system": f"{fmt(figure['from_ms'])} → {fmt(figure['to_ms'])} ms (p50)",
                "bound": f"no bound: growth from {fmt(growth['from_open_proposals'])}",
                "ratio": figure["ratio"],
                "target": f"≤ {MILLION_GROWTH_TARGET:g}× growth",
                "normalised": figure["ratio"] / MILLION_GROWTH_TARGET,
                "met": figure["ratio"] <= MILLION_GROWTH_TARGET,
            }
        )
    return rows


def chart_svg(rows: list[dict[str, Any]]) -> str:
    """Each target's figure as a share of what the target allows, on a log scale (1 = the
    target; left of it is met)."""
    shown = [row for row in rows if row["normalised"]]
    width, left, right, top, bar, gap = 860, 330, 40, 50, 22, 12
    height = top + len(shown) * (bar + gap) + 50
    low = 0.05
    high = max([2.0, *(row["normalised"] * 1.5 for row in shown)])
    span = math.log10(high) - math.log10(low)

    def x(value: float) -> float:
        value = min(max(value, low), high)
        return left + (math.log10(value) - math.log10(low)) / span * (width - left - right)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        '<rect width="100%" height="100%" fill="white"/>',
        f'<text x="{left}" y="20" font-size="14" font-weight="bold">Each figure as a share of '
        "its target (log scale; 1 = the target, left of it = met)</text>",
    ]
    tick = 10 ** math.floor(math.log10(low))
    while tick <= high:
        for multiple in (1, 2, 5):
            value = tick * multiple
            if low <= value <= high:
                position = x(value)
                parts.append(
                    f'<line x1="{position:.1f}" y1="{top - 8}" x2="{position:.1f}" '
                    f'y2="{height - 40}" stroke="#ddd"/>'
                    f'<text x="{position:.1f}" y="{height - 25}" text-anchor="middle" '
                    f'fill="#555">{value:g}</text>'
                )
        tick *= 10
    for index, row in enumerate(shown):
        y = top + index * (bar + gap)
        colour = "#2e7d32" if row["met"] else "#c62828"
        end = x(row["normalised"])
        parts.append(
            f'<text x="{left - 8}" y="{y + bar * 0.7:.1f}" text-anchor="end">'
            f"{html.escape(str(row['target_no']))}. {html.escape(row['label'])}</text>"
            f'<rect x="{left}" y="{y}" width="{max(end - left, 1):.1f}" height="{bar}" '
            f'fill="{colour}"/>'
            f'<text x="{end + 4:.1f}" y="{y + bar * 0.7:.1f}">{row["normalised"]:.2f}</text>'
        )
    one = x(1.0)
    parts.append(
        f'<line x1="{one:.1f}" y1="{top - 10}" x2="{one:.1f}" y2="{height - 40}" '
        'stroke="black" stroke-width="2" stroke-dasharray="6 3"/>'
        f'<text x="{one + 4:.1f}" y="{top - 14}">target</text>'
    )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def profile_table(
    profile: list[dict[str, Any]], limit: int = 8, unit: str = "request"
) -> list[str]:
    lines = ["| function | own share | cumulative ms per " + unit + " |", "|---|---:|---:|"]
    for entry in profile[:limit]:
        lines.append(
            f"| `{entry['function']}` | {entry['own_share']:.1%} | "
            f"{fmt(entry['cumulative_ms_per_run'], 2)} |"
        )
    return lines


def write(results: dict[str, Any], output: Path) -> None:
    rows = summary_rows(results)
    (output / "chart.svg").write_text(chart_svg(rows))
    (output / "REPORT.md").write_text(markdown(results, rows))


def markdown(results: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    settings = results["settings"]
    quick = results.get("quick")
    finished = (
        f"on {results['finished_at']}"
        if results.get("finished_at")
        else "at a time the run did not record"
    )
    commit = results.get("commit")
    out: list[str] = [
        "# Benchmarks",
        "",
        # Runs that did not record their command were `make bench` or the quick mode.
        f"Measured by `{results.get('command') or ('python -m bench --quick' if quick else 'make bench')}`"
        ", finished "
        f"{finished}, in {fmt(results.get('total_seconds'))} s, on "
        + (f"commit `{commit}`. " if commit else "a commit the run did not record. ")
        + "It holds only what this run measured. The figures of sections 1, 2 and 4 are measured "
        "in turns with their lower bound (the fastest way to do the same work on this machine); "
        "the reminder scan (section 3) and the load test (section 5) have no lower bound, and "
        "the tables say so. Times are medians of the repeated runs.",
        "",
        "Analysis written by a person (causes, what was changed and why) is not in this file: "
        "it lives beside it in `bench/ANALYSIS-<date>.md`, each dated and naming the run it is "
        "about.",
        "",
    ]
    if quick:
        out += [
            "> **Quick mode**: tiny sizes and one run each. It checks that every benchmark runs; "
            "its figures say nothing about speed.",
            "",
        ]
    out += [
        "## How to reproduce",
        "",
        "```sh",
        "make bench                      # full run; regenerates bench/REPORT.md and bench/chart.svg",
        ".venv/bin/python -m bench --quick --output /tmp/bench   # smoke run (< 60 s)",
        ".venv/bin/python -m bench.generate --proposals 100000   # only the data (policy_bench)",
        ".venv/bin/python -m bench --only scan --scan-sizes 10000,100000,1000000",
        "```",
        "",
        "It needs PostgreSQL (the server of `DATABASE_URL`, default "
        "`postgres://postgres@127.0.0.1:5432/policy_bench`; the benchmark creates and drops only "
        "databases named `policy_bench*`) and Redis (`BENCH_REDIS_URL`, default "
        "`redis://127.0.0.1:6379/5`, emptied by the run). Servers run on 127.0.0.1 only; every "
        "load is bounded in time. Each phase runs in its own process with `bench/settings.py`: "
        "the project's settings with `DEBUG` off.",
        "",
        "## Machine",
        "",
    ]
    for key, value in results.get("machine", {}).items():
        out.append(f"- {key}: {value}")
    out += [
        "",
        "Other processes may share the machine (see the load averages): absolute times move "
        "with them; the ratios less, since each figure and its bound run in turns in the same "
        "minutes.",
    ]
    if "python_gauge_ms_at_start" in results.get("machine", {}):
        out += [
            "",
            "The Python gauge is the fastest of 5 runs of a fixed loop of the interpreter "
            "(`bench/__main__.py`, `python_gauge_ms`) at the start and at the end of the run: "
            "a shared host's speed changes from one run to the next, and two runs' absolute "
            "times compare only as their gauges do.",
        ]
    out += ["", "## Sizes", ""]
    generated = results.get("generate", {})
    out += error_line(generated)
    if generated.get("rows"):
        out.append(
            f"Main database `{results['databases']['main']}`: {fmt(settings['proposals'])} "
            f"proposals in every state, made in {fmt(generated.get('seconds'))} s with COPY:"
        )
        out += ["", "| table | rows |", "|---|---:|"]
        out += [f"| {name} | {fmt(count)} |" for name, count in generated["rows"].items()]
        by_state = results.get("pages", {}).get("proposals_by_state")
        if by_state:
            out += [
                "",
                "Proposals by state: "
                + ", ".join(f"{k} {fmt(v)}" for k, v in by_state.items())
                + ".",
            ]
        out.append("")
    out += [
        f"Scan database `{results['databases']['scan']}`: a group with its history (proposals "
        "in every state) holding the first number of open proposals, then grown with open "
        "proposals (timed to occasions more than 30 days away) to "
        + ", ".join(fmt(size) for size in settings["scan_sizes"])
        + " open proposals; at every size the same 112 open proposals sit on the 6 occasions "
        "whose reminders are due (one of them 1 day past its deadline).",
        "",
        "## Summary",
        "",
        "| # | figure | system | lower bound, or why none | ratio | target | |",
        "|---|---|---:|---:|---:|---|---|",
    ]
    for row in rows:
        ratio = f"{row['ratio']:g}×" if row["ratio"] is not None else "—"
        out.append(
            f"| {row['target_no']} | {row['label']} | {row['system']} | {row['bound']} | "
            f"{ratio} | {row['target']} | {verdict(row['met'])} |"
        )
    out += ["", "![Each figure against its target](chart.svg)", ""]
    out += pages_section(results.get("pages", {}))
    out += transitions_section(results.get("transitions", {}))
    out += scan_section(results.get("scan", {}), settings)
    out += mail_section(results.get("mail", {}))
    out += load_section(results.get("load", {}))
    out += markdown_section(results.get("markdown", {}))
    out += report_capabilities.capabilities_section(results.get("capabilities", {}))
    out += report_capabilities.fanout_section(results.get("fanout", {}))
    out += report_capabilities.memory_section(results.get("memory", {}))
    return "\n".join(out) + "\n"


def markdown_section(result: dict[str, Any]) -> list[str]:
    from bench.markdown import table

    out = ["## 6. Markdown rendering", ""]
    out += error_line(result)
    if "ms" not in result:
        return out
    return out + [
        "Milliseconds to render and sanitise one text with `proposals.markdown.markdown_to_html` "
        f"(the best of {result['repeat']}), for normal texts and for adversarial ones up to the "
        "longest text a proposal may hold: the time grows in proportion to the size.",
        "",
        *table(result),
        "",
    ]


def pages_section(pages: dict[str, Any]) -> list[str]:
    out = ["## 1. Pages and API", ""]
    out += error_line(pages)
    out += [
        "Requests go through Django's whole stack (middleware, authentication, the view, the "
        "serializer or template) in one process, as the secretariat (who sees every proposal) "
        "unless said otherwise. Each lower bound does the same work the fastest hand-written "
        "way (`bench/pages.py`), through one psycopg connection: "
        + (
            "it checks the token and reads the person's roles in one query (the API), or the "
            "session and the second factor, then the roles (the pages)"
            if pages.get("bound_token_with_roles")
            # Runs before the token's query read the roles read them apart in the bounds too.
            else "it checks the token (the API) or the session and the second factor (the "
            "pages), and reads the person's roles, in one query each"
        )
        + "; it selects the same rows with SQL written for the purpose, with what "
        "the JSON or the page shows and what the rules read (authors, contributors, themes, the "
        "current revision's reviews, the endorsements of full members in force, the occasion's "
        "deadline, quorum and late rule), and what the page shows is visible to the person as "
        "the system decides. It decides the transitions the person may run with a hand-written "
        "check of each predicate the lifecycle declares (roles, authorship, never having "
        "written the proposal, one review per revision, a title, a text, a body, the deadline, "
        "a request for changes, the quorum, late submissions), reading the declarations "
        "themselves (`proposals.lifecycle.TRANSITIONS`) for the names, their order, their "
        "source states and which predicates apply. It computes the forecasts shown with the "
        "same code on the same learned durations (learned once an hour), their milestones in "
        "one query. It writes the JSON with `json.dumps` and the page's HTML with f-strings, "
        "in the person's language and time zone. The dashboard's bound also records the visit, "
        "reads what changed since the last one and the unread notices' count, and writes the "
        "session back when the system does (once a minute); it leaves out the site's "
        "navigation and footer, which are the same text on every page.",
        "",
    ]
    same = pages.get("same_output", {})
    if same:
        out += [
            "Same output, checked in this run (and in quick mode): "
            + "; ".join(
                f"{PAGE_FIGURES.get(key, key).replace(' (page size 50, filters)', '')}: "
                + (
                    "the bound's JSON, parsed, equals the system's"
                    + (
                        " (fields left out: " + ", ".join(entry["fields_left_out"]) + ")"
                        if entry.get("fields_left_out")
                        else ", every field"
                    )
                    if "links" not in entry
                    else f"the same {entry['links']} links to proposals and actions, in the "
                    f"same order, and the same section counts ({', '.join(entry['counts'])})"
                )
                for key, entry in same.items()
            )
            + ". A run whose bound differs stops with the difference.",
            "",
        ]
    out += [
        "| figure | request | system (median) | lower bound | ratio | runs |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for key, label in PAGE_FIGURES.items():
        figure = pages.get("figures", {}).get(key)
        if figure:
            out.append(
                f"| {label} | `{figure['what']}` | {fmt(figure['system_ms'])} ms | "
                f"{fmt(figure['bound_ms'], 2)} ms | {figure['ratio']}× | {figure['runs']} |"
            )
    queries = pages.get("queries", {})
    if queries:
        listing = queries.get("api_list", {})
        out += [
            "",
            f"Queries: the list runs {listing.get('page_size_10')} queries for a page of 10 and "
            f"{listing.get('page_size_50')} for a page of 50"
            + (
                " (constant in the page size)"
                if listing.get("page_size_10") == listing.get("page_size_50")
                else " (**not constant**)"
            )
            + f"; the detail {queries.get('api_detail')}; the dashboard "
            f"{queries.get('dashboard_drafter')} (drafter) and {queries.get('dashboard_secretariat')} "
            "(secretariat).",
        ]
        if "api_list_bound" in queries:
            out += [
                "",
                f"Their bounds run {queries['api_list_bound']} statements (list), "
                f"{queries.get('api_detail_bound')} (detail), "
                f"{queries.get('dashboard_drafter_bound')} and "
                f"{queries.get('dashboard_secretariat_bound')} (the dashboards).",
            ]
    timed = pages.get("sql_time", {})
    if timed:
        out += [
            "",
            "Database time (each SELECT of one request run again under `EXPLAIN ANALYZE`, "
            "planning plus execution added up) against the whole request:",
            "",
            "| request | queries | SQL time | whole request (median) | bound's SQL time |",
            "|---|---:|---:|---:|---:|",
        ]
        for key in ("api_list", "api_detail"):
            entry = timed.get(key)
            figure = pages.get("figures", {}).get(key)
            if entry and figure:
                out.append(
                    f"| {PAGE_FIGURES[key]} | {entry['queries']} | {fmt(entry['sql_ms'], 2)} ms | "
                    f"{fmt(figure['system_ms'])} ms | {fmt(entry['bound_sql_ms'], 2)} ms |"
                )
    for key, title in (("what_if", "list API"), ("what_if_detail", "detail API")):
        whatif = pages.get(key, {})
        if not whatif:
            continue
        out += [
            "",
            f"What-if runs of the {title} (a part of its work switched off in this process, to "
            "size each cause and what its fix would gain):",
            "",
            "| variant | median | ratio to the bound |",
            "|---|---:|---:|",
        ]
        for name, figure in whatif.items():
            out.append(f"| {name} | {fmt(figure['system_ms'])} ms | {figure['ratio']}× |")
    indexed = pages.get("what_if_index")
    if indexed:
        out += [
            "",
            "What-if with an index on `proposals_proposal (state, updated_at DESC, id DESC)`, "
            "created for this measure and dropped after it: the list "
            f"{fmt(indexed['system_ms'])} ms, its bound {fmt(indexed['bound_ms'])} ms "
            f"({indexed['ratio']}×)"
            + (
                f"; the list without DISTINCT on the theme filter "
                f"{fmt(indexed['system_without_distinct_ms'])} ms "
                f"({indexed['system_without_distinct_ms'] / indexed['bound_ms']:.2f}×)."
                if indexed.get("system_without_distinct_ms")
                else "."
            ),
        ]
    if "api_small" in queries:
        out += [
            "",
            f"One small object: the API runs {queries['api_small']} queries, the bare view "
            f"{queries.get('api_small_bare')} (the token with its person, then the occasion). "
            "The bare view is a Django REST framework `APIView` with the same serializer and "
            "token table, served by Django's handler without middleware, throttles or roles "
            "(`bench/bare.py`).",
        ]
    small_parts = pages.get("what_if_small") or {}
    if small_parts:
        out += [
            "",
            "Where the small object's extra time goes: the same request measured again in "
            "turns with the bare view, one part of the fixed cost replaced by nothing in the "
            "benchmark's process only ("
            + (
                # Runs before the roles came with the token had a variant without their query.
                "the permission handed the roles read beforehand; "
                if "without the roles query" in small_parts
                else ""
            )
            + "no throttle; a handler that loads no middleware):",
            "",
            "| variant | median | over the bare view |",
            "|---|---:|---:|",
        ]
        for name, entry in small_parts.items():
            out.append(f"| {name} | {fmt(entry['system_ms'], 2)} ms | {entry['ratio']:.2f}× |")
    if pages.get("api_root_ms") is not None:
        out += [
            "",
            f"For scale: the API root (`GET /api/`, token authentication, no proposal) takes "
            f"{fmt(pages['api_root_ms'], 2)} ms, the fixed price of any authenticated API request "
            "through Django and Django REST framework here.",
        ]
    proposal_page = pages.get("proposal_page")
    if proposal_page:
        out += [
            "",
            f"The proposal page (`{proposal_page['what']}`, the same proposal as the detail): "
            f"{fmt(proposal_page['system_ms'])} ms (median of {proposal_page['runs']}), "
            f"{proposal_page['queries']} queries. It has no lower bound yet: a bound doing its "
            "work by hand (every action with the reasons of those refused, the endorsements, "
            "the revisions, the timeline in words, the next step, the discussion and its "
            "comment form, the forecast) is not written, so it has no ratio and no row in the "
            "summary.",
        ]
        if proposal_page.get("profile"):
            out += [
                "",
                "Profile of the proposal page (functions with the most time of their own):",
                "",
            ]
            out += profile_table(proposal_page["profile"])
    profiles = pages.get("profiles", {})
    for key, title in (
        ("api_small", "small-object API request"),
        ("api_list", "list API"),
        ("api_detail", "detail API"),
        ("dashboard_secretariat", "dashboard (secretariat)"),
    ):
        if profiles.get(key):
            out += ["", f"Profile of the {title} (functions with the most time of their own):", ""]
            out += profile_table(profiles[key])
    out.append("")
    return out


def transitions_section(result: dict[str, Any]) -> list[str]:
    out = ["## 2. Transitions", ""]
    out += error_line(result)
    if "system_per_second" not in result:
        return out
    out += [
        f"`{result['transition']}` through `POST /api/proposals/{{id}}/transitions/{result['transition']}/`, "
        "each on a different draft, by its author (token), one after the other, beside a raw "
        "`UPDATE` of the state and an `INSERT` of the log row in one transaction on another draft. "
        f"{result['runs']} runs of {result['per_run']} of each, in turns; medians.",
        "",
        "| | per second | per transition |",
        "|---|---:|---:|",
        f"| through the API | {fmt(result['system_per_second'])} | {fmt(result['system_ms'], 2)} ms |",
        f"| raw UPDATE + INSERT | {fmt(result['bound_per_second'])} | {fmt(result['bound_ms'], 3)} ms |",
        "",
        f"The API does {result['ratio']}× the bound's time per transition, in "
        f"{result['queries']} queries: the token, the requester's roles, the proposal's visibility, "
        "the row lock with the rules' data (authors, themes, reviews, endorsements), the checks, "
        "the update, the log row, the outbox rows for the reviewers and their ids, the task "
        "queued in Redis after commit, and the proposal read again for the answer. Profile:",
        "",
    ]
    out += profile_table(result.get("profile", []), unit="transition")
    out.append("")
    return out


def scan_section(result: dict[str, Any], settings: dict[str, Any]) -> list[str]:
    out = ["## 3. Reminder scan", ""]
    out += error_line(result)
    if not result.get("sizes"):
        return out
    out += [
        "`workflow.reminders.reminders_scan()` (the source of `proposals/reminders.py`) from "
        "nothing written, at each size; each run starts by deleting the reminders and stages the "
        f"previous one wrote. Median of {result['repeat']} runs.",
        "",
        "| open proposals | scan (median) | fastest–slowest | reminders written | queries explained | sequential scans |",
        "|---:|---:|---:|---:|---:|---|",
    ]
    for size in result["sizes"]:
        out.append(
            f"| {fmt(size['open_proposals'])} | {fmt(size['scan_ms'])} ms | "
            f"{fmt(size['spread_ms'][0])}–{fmt(size['spread_ms'][1])} ms | "
            f"{fmt(size['reminders_written'])} | {size['queries']} | "
            f"{', '.join(size['seq_scans']) or 'none'} |"
        )
    out += [
        "",
        f"Growth from the smallest to the largest size: **{result['growth']}×** (target ≤ "
        f"{SCAN_GROWTH_TARGET:g}×).",
    ]
    if 1_000_000 not in settings["scan_sizes"] and max(settings["scan_sizes"]) < 1_000_000:
        out += [
            "",
            "The 1M size was not run here (sizes "
            + ", ".join(fmt(s) for s in settings["scan_sizes"])
            + "); run it with `python -m bench --only scan --scan-sizes 10000,100000,1000000`.",
        ]
    out += ["", *million_section(result)]
    watched = ", ".join(f"`{t}`" for t in result.get("watched_tables", []))
    out += [
        "",
        f"Query plans at the largest size (`EXPLAIN ANALYZE` of each SELECT, `EXPLAIN` of each "
        f"UPDATE; the INSERTs are bulk inserts). A sequential scan of {watched} would fail the "
        "target; one of a small table (people, memberships, rules) reads a few hundred rows.",
        "",
    ]
    for plan in result["sizes"][-1]["plans"]:
        out += plan_details(
            "<code>" + html.escape(plan["sql"][:160]) + "</code>", plan["sql"], plan["plan"]
        )
    return out


def million_section(result: dict[str, Any]) -> list[str]:
    """The list by cursor and the dashboards at each size of the scan's database."""
    from bench.million import CURSOR_LIST, FIGURES

    sizes = [size for size in result.get("sizes", []) if size.get("pages_at_size")]
    if not sizes:
        return []
    out = [
        "### The list and the dashboards at each size",
        "",
        "In the same database at each size (the group's history, then open proposals added: "
        "the people, occasions and themes do not change), the list API read by cursor "
        f"(`{CURSOR_LIST}`, its first page and the page reached by following `next` four "
        "times) as the secretariat with a token, and the dashboard of a drafter (`o2d1`) and "
        "of the secretariat, through Django's whole stack in the benchmark's process. "
        "Medians (p50) and the queries of one request:",
        "",
        "| open proposals | all proposals | " + " | ".join(FIGURES.values()) + " |",
        "|---:|---:|" + "---:|" * len(FIGURES),
    ]
    for size in sizes:
        figures = size["pages_at_size"]
        out.append(
            f"| {fmt(size['open_proposals'])} | {fmt(size.get('proposals'))} | "
            + " | ".join(
                f"{fmt(figures[key]['p50_ms'])} ms ({figures[key]['queries']} q)"
                if key in figures
                else "—"
                for key in FIGURES
            )
            + " |"
        )
    growth = result.get("pages_growth") or {}
    if growth:
        out += [
            "",
            f"Growth from {fmt(growth['from_open_proposals'])} to "
            f"{fmt(growth['to_open_proposals'])} open proposals (target ≤ "
            f"{MILLION_GROWTH_TARGET:g}×): "
            + "; ".join(
                f"{label[0].lower()}{label[1:]} **{growth[key]['ratio']}×**"
                for key, label in FIGURES.items()
                if key in growth
            )
            + ".",
        ]
    largest = sizes[-1]["pages_at_size"]
    out += [
        "",
        f"The slowest queries of each request at {fmt(sizes[-1]['open_proposals'])} open "
        "proposals (`EXPLAIN ANALYZE`, planning and execution):",
        "",
    ]
    for key, label in FIGURES.items():
        for plan in largest.get(key, {}).get("slowest", []):
            summary = (
                f"{html.escape(label)}: {fmt(plan['ms'], 2)} ms, <code>"
                + html.escape(plan["sql"][:120])
                + "</code>"
            )
            out += plan_details(summary, plan["sql"], plan["plan"])
    return out


def mail_section(result: dict[str, Any]) -> list[str]:
    out = ["## 4. Mail", ""]
    out += error_line(result)
    if "share_of_loop" not in result:
        return out
    loop = result.get("loop", {})
    out += [
        f"{fmt(result['emails'])} reminders (copies of those the scan wrote: the same people, "
        "templates and contexts) dispatched with `workflow.delivery.deliveries_dispatch` "
        f"(batches of {result.get('batch_size')}) to one Celery worker (`--pool=solo`, Redis "
        "broker) sending to a local aiosmtpd sink in another process, timed from the dispatch "
        "until none waits. The bound is a loop over the same rows, in the same order, that "
        "renders each email (`workflow.emails.delivery_message`: the same templates, contexts, "
        "language and time zone) and sends it through Django's SMTP backend over one "
        "connection to the same sink, without database, broker or worker "
        f"(about {fmt(result['email_bytes'])} bytes per email). Both ran warm, one after the "
        "other.",
        "",
        "| | seconds | emails per second | CPU ms per email (own process) |",
        "|---|---:|---:|---:|",
        f"| one worker | {fmt(result['worker_seconds'], 2)} | {fmt(result['worker_per_second'])} "
        f"| {fmt(result.get('worker_cpu_ms_per_email'), 2)} |",
        f"| render and send loop (bound) | {fmt(result['loop_seconds'], 2)} "
        f"| {fmt(result['loop_per_second'])} | {fmt(loop.get('cpu_ms_per_email'), 2)} |",
        "",
        f"The worker reaches **{result['share_of_loop']:.0%}** of the loop (target ≥ "
        f"{MAIL_SHARE_TARGET:.0%}) and drains in {fmt(result['worker_seconds'], 1)} s (target ≤ "
        f"{MAIL_DRAIN_TARGET:g} s). Statuses after the run: "
        + ", ".join(f"{k} {fmt(v)}" for k, v in result.get("statuses_last_run", {}).items())
        + ".",
        "",
        f"The loop's time per email: rendering {fmt(loop.get('render_ms_per_email'), 2)} ms, "
        f"MIME building {fmt(loop.get('mime_ms_per_email'), 2)} ms, SMTP exchange "
        f"{fmt(loop.get('smtp_ms_per_email'), 2)} ms. Sending alone (the same emails rendered "
        "beforehand, `smtplib` over one connection; not a bound, it leaves the rendering out): "
        f"{fmt(result['sending_only_per_second'])} emails/s.",
        "",
    ]
    if result.get("profile"):
        out += [
            "Profile of `deliveries_send` (run in the benchmark's process on batches of "
            "copies; cumulative milliseconds per email):",
            "",
        ]
        out += profile_table(result["profile"], limit=12, unit="email")
        out.append("")
    return out


def load_section(result: dict[str, Any]) -> list[str]:
    out = ["## 5. Under load", ""]
    out += error_line(result)
    if "steady" not in result:
        return out
    maximum, steady = result["maximum"], result["steady"]
    mix = result["mix"] if isinstance(result["mix"], dict) else {}
    paths = list(mix.values()) if mix else list(result["mix"])
    server = result.get("server", "gunicorn `config.wsgi`")
    out += [
        f"`{server}` ({result['workers']} {result.get('worker_class', 'sync')} workers) on "
        "127.0.0.1 with PostgreSQL, the API's throttles at their production rates; a Python "
        "asyncio load generator (`bench/load.py`) in the benchmark's process, one new "
        "connection per request. The requests cycle through "
        + ", ".join(f"`{path}`" for path in paths)
        + (
            f", spread over {result['people']} people of every role (each with their own token, "
            "page session and calendar link); each transition submits a draft of its own with "
            "its author's token."
            if result.get("people")
            else " as the secretariat."
        ),
        "",
        f"- Maximum throughput ({result['clients']} clients in a closed loop): "
        f"**{fmt(maximum['per_second'])} requests/s**, {maximum['errors']} errors"
        + errors_by_status(maximum)
        + ".",
        f"- Constant rate at half of it, {fmt(steady['rate'])} requests/s for "
        f"{fmt(steady['requests'])} requests (open loop, latency from each request's planned "
        f"start): p50 {fmt(steady['p50_ms'])} ms, **p95 {fmt(steady['p95_ms'])} ms**, p99 "
        f"{fmt(steady['p99_ms'])} ms, max {fmt(steady['max_ms'])} ms, **{steady['errors']} "
        "errors**" + errors_by_status(steady) + ".",
    ]
    if result.get("transitions_missing"):
        out.append(
            f"- {result['transitions_missing']} transition turns found no draft left and read a "
            "detail instead."
        )
    out += [
        "",
        "The latency of a request is at least its service time: the slowest request of the mix "
        "in section 1 is the floor of this p95 whatever the load.",
        "",
    ]
    by_request = steady.get("by_request", {})
    if by_request:
        out += ["| request | p50 | p95 |", "|---|---:|---:|"]
        for kind, entry in by_request.items():
            out.append(
                f"| {kind}: `{mix.get(kind, kind)}` | {fmt(entry['p50_ms'])} ms | "
                f"{fmt(entry['p95_ms'])} ms |"
            )
        out.append("")
    cpu_rows = [(label, run["cpu"]) for label, run in (("maximum", maximum), ("half", steady))]
    if all(cpu for _label, cpu in cpu_rows):
        out += [
            "What the run cost the machine's "
            f"{result.get('cores', '?')} cores (CPU time from /proc: the generator is this "
            "process, gunicorn its master and workers, PostgreSQL the server processes of the "
            "benchmark's database), as a share of the cores over the run and per request:",
            "",
            "| run | generator | gunicorn | PostgreSQL |",
            "|---|---:|---:|---:|",
        ]
        for label, cpu in cpu_rows:
            share, per_request = cpu["share_of_cores"], cpu.get("cpu_ms_per_request", {})
            out.append(
                f"| {label} | "
                + " | ".join(
                    f"{fmt(100 * (share[name] or 0), 1)}% ({fmt(per_request.get(name), 2)} ms)"
                    for name in ("generator", "gunicorn", "postgresql")
                )
                + " |"
            )
        out.append("")
    memory = result.get("worker_rss_mb_after")
    if memory:
        sizes = [size for size in memory.values() if size is not None]
        out += [
            "Resident memory (VmRSS) of each gunicorn worker after the load: "
            + ", ".join(f"{fmt(size)} MB" for size in sizes)
            + (f" (target 7: under {WORKER_RSS_TARGET_MB:g} MB)." if sizes else "."),
            "",
        ]
    return out


def errors_by_status(run: dict[str, Any]) -> str:
    """The failed requests by kind and status, as ` (list 429: 3, ...)`, or nothing."""
    failed = run.get("errors_by_status") or {}
    return (
        " (" + ", ".join(f"{key}: {count}" for key, count in failed.items()) + ")" if failed else ""
    )
