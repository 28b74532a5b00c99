"""bench/REPORT.md and bench/chart.svg from the results of a run."""

from __future__ import annotations

import html
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

PAGE_TARGET = 3.0
SCAN_GROWTH_TARGET = 2.0
MAIL_SHARE_TARGET = 0.70
MAIL_DRAIN_TARGET = 60.0
P95_TARGET = 50.0

PAGE_FIGURES = {
    "api_list": "Proposal list API (page size 50, filters)",
    "api_detail": "Proposal detail API",
    "dashboard_drafter": "Dashboard page (a drafter)",
    "dashboard_secretariat": "Dashboard page (the secretariat)",
}

# What the profiles and query plans showed for each figure that misses its target, and the
# fix. The numbers of the run are in the tables; these say why.
CAUSES = {
    "api_list": """\
**Cause (SQL time, what-if runs and profile above).** The query count is constant (the same
for a page of 10 and of 50). The text's HTML is read as stored (rendered when the text is
saved). What is left in Python is `transition_options` for each of the 50 rows (every
permission and condition rule of all six transitions, with the reasons of each refused one
translated and formatted, only to keep the names of the allowed ones) and the serializer's
work per row; in SQL, the ORM's count and page cost more than the bound's (the SQL-time
line). Neither dropping the `DISTINCT` of the theme filter nor an index on (state,
updated_at, id) changes the ORM's time (the what-if lines), though the index speeds up the
bound's own SQL.

**Fix (workflow/services.py, proposals/api/serializers.py).** `get_transitions` asks only
which transitions are allowed: a `transitions_allowed(*, obj, actor, now=None) -> list[str]`
in workflow/services.py that runs the same `_permission_refusal` and `_situation_refusal`
without building the options, called with one `now` for the whole page (the what-if line
without the transitions bounds its gain).""",
    "api_detail": """\
**Cause (SQL time, what-if runs and profile above).** For one proposal neither the Markdown
rendering nor the transition checks weigh much (the what-if lines), and the framework's fixed
price is small (the API root line). The time goes to 8 round trips to PostgreSQL (the token,
the requester's roles: memberships and the current presidency, the proposal with its joins,
then four prefetches: authors, themes, reviews with revisions, endorsements with
organisations): a couple of milliseconds of PostgreSQL's own work, several of waiting on the
connection, and as many again of the ORM compiling the eight queries (`get_select`,
`deepcopy` of querysets in the profile). The bound reads the same data in one query with
subqueries. With the ORM's prefetches this figure stays near ten times its bound.

**Fix (proposals/selectors.py).** Fewer round trips for a single object: `roles_of` reads
the current presidency term on every request; caching it for a minute in Django's cache saves
one query per request, everywhere. Each round trip saved is about a millisecond here. Folding
the prefetches into one query would take a hand-written selector for the rules' data; short
of that, the 3× target over a single hand-written query is out of reach of an ORM view with
prefetches.""",
    "dashboard": """\
**Cause (profile above).** The dashboard now selects each section's rows in SQL and shows the
first 20 of each with its count (see "What changed during this work"). What is left is the
template rendering of up to five tables of 20 rows (date formatting and translation per row,
`_resolve_lookup` in the profile) and the rule data read for the rows shown (one query and
its prefetches), against hand-written HTML in the bound.

**Fix (proposals/templates/proposals/_proposal_table.html).** Only if it stays above the
target: render the deadline cell once per occasion rather than per row (the same occasion
repeats down a section sorted by deadline), for instance with `{% ifchanged %}`.""",
}


CAUSES["transitions"] = """\
**Where the difference goes.** The raw bound pays one commit, like the API; the rest is the
API's reads and Python. The visibility check reads the proposal alone; then the proposal is
loaded twice with every relation the rules read (`proposals_with_rule_data`: the proposal with
its joins, then its authors, themes, reviews with their revisions, endorsements with their
organisations): once under the row lock by `transition_run`, and once more by
`ProposalChildViewSet.proposal_data` for the answer. The policy then reads the reviewers to
notify, writes the log row and one outbox row per reviewer, reads their ids back, and the
task goes to Redis after the commit.

**Possible gain (proposals/api/views.py, proposals/selectors.py).** Serialise `result.obj`,
already loaded with its rule data under the lock, re-reading only the relations a transition
may change (reviews and endorsements), for instance with a selector
`proposal_relations_refresh(proposal, "reviews", "endorsements")` that drops them from
`proposal._prefetched_objects_cache` and calls `prefetch_related_objects` with the same
`Prefetch` querysets as `proposals_with_rule_data`: three queries fewer per transition."""

CAUSES["scan_history"] = """\
**To watch (proposals/reminders.py).** The scan reads its proposals through
`proposals_with_rule_data`, whose `select_related` joins `proposals_submission` and
`proposals_outcome`; an open proposal has neither, yet PostgreSQL answers the two left joins by
reading both tables whole (the plan below: a sequential scan of each, hashed against the 112
proposals). They hold the closed history, so that part grows with the proposals *ever
submitted*, not with the open ones: on the 100k main database it reads 50,207 submissions and
40,088 outcomes per scan. The fix is one line in `OccasionDeadlines.reminders`: after
`proposals_with_rule_data(...)`, add `.select_related(None).select_related("occasion")`
(the rules read only the occasion among the joined relations); the prefetches stay."""

CAUSES["mail"] = """\
**Cause (the rendering loop, the what-if and the profile above).** The bare loop sends emails
rendered beforehand; each reminder the worker sends is first rendered (three templates in the
recipient's language and time zone) and built into a MIME message by Django and Python's
`email` package. Those two steps alone cost more than the whole SMTP exchange with the sink,
so even a loop that only renders and sends, without database or worker, reaches a fraction of
the bare loop (the rendering-loop line). Against the pre-rendered loop the 70 % target is out
of reach of any sender that renders each email with Django. The worker then adds, per email,
an `UPDATE` of its row in its own commit (`_mark_sent`) and, per batch of 50, the claim and the
Celery task; not waiting for the disk on those commits gains a tenth to a fifth (the what-if line),
so the rest is Python work around each email.

**Fixes (workflow/delivery.py, not the benchmark's files).**
1. `deliveries_send`: mark the sent rows in one `UPDATE ... WHERE id IN (...)` every 10 emails
   and at the end of the batch (and before re-raising on an interruption), instead of one
   commit per email; a worker killed in between re-sends at most those 10.
2. Restate the target against the rendering loop (the fastest way to do the same work,
   rendering included), which the worker can approach; the pre-rendered loop measures the
   SMTP sink, not the sending."""

CAUSES["load"] = """\
**Cause (the table above and section 1).** At half the maximum throughput a request waits
little in a queue, so the p95 of the mix is the service time of its slowest third: the list
API (page size 50, two states and a theme), whose median is far above 50 ms. Even its lower
bound is about 50 ms on this data without an index that serves the sort (section 1), since
the count and the page read every proposal in review or in endorsement (about 15,000); with
such an index the bound falls to about 20 ms. The proposal page and the detail API stay near
or under 50 ms under the same load (the table).

**Fix.** The list's own (section 1: the allowed transitions without formatted refusal
reasons), and a cheaper count: every request of the list counts the 15,000 matches for its
`count` field. Django REST framework's `CursorPagination` does not count, for clients that
page through; or the count can be capped (the first 1,000 matches, shown as "1,000+")."""


# What the runs of this benchmark led to change in the code, with the figures measured before
# and after (full runs at 100k proposals on 2026-11-28, same machine).
CHANGES = """\
## What changed during this work

The first full runs found the causes below; the fixes were made in the project's code
(not in bench/) and the later runs measured them:

| change | before | after |
|---|---|---|
| The proposal's Markdown is rendered and sanitised once, when the text is saved (`Proposal.text_html`), instead of on every read of the list, the detail and the proposal page | list API 193 ms, 3.11× its bound; the what-if without rendering: 122 ms, 1.96× | list API 123–132 ms, 2.3–2.4× its bound: **met** |
| The dashboard selects each section's rows in SQL (`proposals_awaiting_review_by`, `proposals_awaiting_endorsement_by`, `proposals_ready_to_submit`, ...) and shows the first 20 of each with its count, instead of loading every open proposal with its relations and sorting them in Python | drafter 10.2 s (616× its bound), secretariat 13.5 s (63×): it read about 15,000 proposals and their relations on every view | drafter 64 ms (2.9×), secretariat 129 ms (1.2×): **met** |
| The transition API's visibility check reads the proposal alone; the rule data is read once under the lock and once for the answer | 26 queries, 27.8 transitions/s | 22 queries, 29.3 transitions/s |
| The worker claims a batch with one `UPDATE` per outcome instead of a `bulk_update` with `CASE` clauses | 152.9 emails/s | 132.6 emails/s: no gain measurable against the run-to-run spread on this shared machine; the per-email costs (rendering, MIME building, one commit per email) dominate (section 4) |

"""


def fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


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
        rows.append(
            {
                "key": key,
                "target_no": 1,
                "label": label,
                "system": f"{fmt(figure['system_ms'])} ms",
                "bound": f"{fmt(figure['bound_ms'])} ms",
                "ratio": figure["ratio"],
                "target": f"≤ {PAGE_TARGET:g}×",
                "normalised": figure["ratio"] / PAGE_TARGET if figure["ratio"] else None,
                "met": figure["ratio"] is not None and figure["ratio"] <= PAGE_TARGET,
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
                "target": "measured (no bound set)",
                "normalised": None,
                "met": None,
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
                "bound": f"{fmt(first['scan_ms'])} ms (the smallest size)",
                "ratio": growth,
                "target": f"≤ {SCAN_GROWTH_TARGET:g}× growth, no seq scan",
                "normalised": growth / SCAN_GROWTH_TARGET if growth else None,
                "met": growth is not None and growth <= SCAN_GROWTH_TARGET and not watched,
            }
        )
    mail = results.get("mail", {})
    if "share_of_bare" in mail:
        share = mail["share_of_bare"]
        rows.append(
            {
                "key": "mail",
                "target_no": 4,
                "label": f"Mail: {fmt(mail['emails'])} reminders, one worker",
                "system": f"{fmt(mail['worker_per_second'])}/s ({fmt(mail['worker_seconds'])} s)",
                "bound": f"{fmt(mail['bare_per_second'])}/s (smtplib loop)",
                "ratio": round(1 / share, 2) if share else None,
                "target": f"≥ {MAIL_SHARE_TARGET:.0%} of bare, ≤ {MAIL_DRAIN_TARGET:g} s",
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
                "bound": f"max {fmt(load['maximum']['per_second'])}/s",
                "ratio": None,
                "target": f"p95 ≤ {P95_TARGET:g} ms, no error",
                "normalised": steady["p95_ms"] / P95_TARGET,
                "met": steady["p95_ms"] <= P95_TARGET and steady["errors"] == 0,
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


def error_line(section: dict[str, Any]) -> list[str]:
    if "error" in section:
        return [f"**This phase failed:** `{section['error']}`", ""]
    return []


def write(results: dict[str, Any], output: Path) -> None:
    rows = summary_rows(results)
    (output / "chart.svg").write_text(chart_svg(rows))
    (output / "REPORT.md").write_text(markdown(results, rows))


def markdown(results: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    settings = results["settings"]
    quick = results.get("quick")
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    out: list[str] = [
        "# Benchmarks",
        "",
        f"Written by `{'python -m bench --quick' if quick else 'make bench'}` on {now}, in "
        f"{fmt(results.get('total_seconds'))} s. Every figure is measured in the same run as its "
        "lower bound (the fastest way to do the same work on this machine), in turns; times are "
        "medians of the repeated runs.",
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
        "| # | figure | system | lower bound | ratio | target | |",
        "|---|---|---:|---:|---:|---|---|",
    ]
    for row in rows:
        ratio = f"{row['ratio']:g}×" if row["ratio"] is not None else "—"
        out.append(
            f"| {row['target_no']} | {row['label']} | {row['system']} | {row['bound']} | "
            f"{ratio} | {row['target']} | {verdict(row['met'])} |"
        )
    out += ["", "![Each figure against its target](chart.svg)", ""]
    if not quick:
        out += [CHANGES]
    out += pages_section(results.get("pages", {}), rows)
    out += transitions_section(results.get("transitions", {}))
    out += scan_section(results.get("scan", {}), settings)
    missed = {row["key"] for row in rows if row["met"] is False}
    out += mail_section(results.get("mail", {}), "mail" in missed)
    out += load_section(results.get("load", {}), "load" in missed)
    out += markdown_section(results.get("markdown", {}))
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


def pages_section(pages: dict[str, Any], rows: list[dict[str, Any]]) -> list[str]:
    out = ["## 1. Pages and API", ""]
    out += error_line(pages)
    out += [
        "Requests go through Django's whole stack (middleware, authentication, the view, the "
        "serializer or template) in one process, as the secretariat (who sees every proposal) "
        "unless said otherwise. The lower bound fetches the same rows with hand-written SQL "
        "through psycopg (one query for the page and one count, subqueries for authors, themes, "
        "endorsements and reviews) and writes the JSON with `json.dumps` or the HTML with "
        "f-strings; it escapes the text into paragraphs instead of rendering Markdown.",
        "",
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
    if pages.get("api_root_ms") is not None:
        out += [
            "",
            f"For scale: the API root (`GET /api/`, token authentication, no proposal) takes "
            f"{fmt(pages['api_root_ms'], 2)} ms, the fixed price of any authenticated API request "
            "through Django and Django REST framework here.",
        ]
    missed = {row["key"] for row in rows if row["met"] is False}
    profiles = pages.get("profiles", {})
    for key, title in (
        ("api_list", "list API"),
        ("api_detail", "detail API"),
        ("dashboard_secretariat", "dashboard (secretariat)"),
    ):
        if profiles.get(key):
            out += ["", f"Profile of the {title} (functions with the most time of their own):", ""]
            out += profile_table(profiles[key])
    for key in ("api_list", "api_detail"):
        if key in missed:
            out += ["", CAUSES[key]]
    if missed & {"dashboard_drafter", "dashboard_secretariat"}:
        out += ["", CAUSES["dashboard"]]
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
    out += ["", CAUSES["transitions"], ""]
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
    history = sorted(
        {t for size in result["sizes"] for t in size["seq_scans"]}
        & {"proposals_submission", "proposals_outcome"}
    )
    if history:
        out += ["", CAUSES["scan_history"]]
    watched = ", ".join(f"`{t}`" for t in result.get("watched_tables", []))
    out += [
        "",
        f"Query plans at the largest size (`EXPLAIN ANALYZE` of each SELECT, `EXPLAIN` of each "
        f"UPDATE; the INSERTs are bulk inserts). A sequential scan of {watched} would fail the "
        "target; one of a small table (people, memberships, rules) reads a few hundred rows.",
        "",
    ]
    for plan in result["sizes"][-1]["plans"]:
        out += [
            "<details><summary><code>" + html.escape(plan["sql"][:160]) + "</code></summary>",
            "",
            "```sql",
            plan["sql"],
            "```",
            "",
            "```",
            plan["plan"],
            "```",
            "</details>",
            "",
        ]
    return out


def mail_section(result: dict[str, Any], missed: bool) -> list[str]:
    out = ["## 4. Mail", ""]
    out += error_line(result)
    if "share_of_bare" not in result:
        return out
    out += [
        f"{fmt(result['emails'])} reminders (copies of those the scan wrote: the same people, "
        "templates and contexts) dispatched with `workflow.delivery.deliveries_dispatch` "
        f"(batches of {result.get('batch_size')}) to one Celery worker (`--pool=solo`, Redis "
        "broker) sending to a local aiosmtpd sink in another process, timed from the dispatch "
        "until none waits. The bound sends the same emails, rendered beforehand "
        f"(about {fmt(result['email_bytes'])} bytes each), with `smtplib` over one connection to "
        "the same sink.",
        "",
        "| | seconds | emails per second |",
        "|---|---:|---:|",
        f"| one worker | {fmt(result['worker_seconds'], 2)} | {fmt(result['worker_per_second'])} |",
        f"| bare smtplib loop | {fmt(result['bare_seconds'], 2)} | {fmt(result['bare_per_second'])} |",
        "",
        f"The worker reaches **{result['share_of_bare']:.0%}** of the bare loop (target ≥ "
        f"{MAIL_SHARE_TARGET:.0%}) and drains in {fmt(result['worker_seconds'], 1)} s (target ≤ "
        f"{MAIL_DRAIN_TARGET:g} s). Statuses after the run: "
        + ", ".join(f"{k} {fmt(v)}" for k, v in result.get("statuses_last_run", {}).items())
        + ".",
        "",
    ]
    rendering = result.get("rendering_loop")
    if rendering:
        out += [
            f"Rendering loop: the same emails rendered (`workflow.emails.delivery_message`) and "
            f"built into MIME bytes one by one and sent with `smtplib` over one connection, "
            f"without database or worker: {fmt(rendering['per_second'])} emails/s over "
            f"{fmt(rendering['emails'])} emails; rendering {fmt(rendering['render_ms_per_email'], 2)} "
            f"ms and MIME building {fmt(rendering['mime_ms_per_email'], 2)} ms per email. The worker "
            f"reaches {result['share_of_rendering_loop']:.0%} of this loop.",
            "",
        ]
    what_if = result.get("what_if_asynchronous_commit")
    if what_if:
        out += [
            f"What-if, the same {fmt(result['emails'])} emails with `synchronous_commit = off` for "
            f"the worker: {fmt(what_if['worker_seconds'], 2)} s, "
            f"{fmt(what_if['worker_per_second'])} emails/s, "
            f"{what_if['worker_per_second'] / result['bare_per_second']:.0%} of the bare loop.",
            "",
        ]
    if result.get("profile"):
        out += [
            "Profile of `deliveries_send` (run in the benchmark's process on batches of "
            "copies; cumulative milliseconds per email):",
            "",
        ]
        out += profile_table(result["profile"], limit=11, unit="email")
        out.append("")
    if missed:
        out += [CAUSES["mail"], ""]
    return out


def load_section(result: dict[str, Any], missed: bool) -> list[str]:
    out = ["## 5. Under load", ""]
    out += error_line(result)
    if "steady" not in result:
        return out
    maximum, steady = result["maximum"], result["steady"]
    mix = result["mix"]
    paths = list(mix.values()) if isinstance(mix, dict) else list(mix)
    out += [
        f"gunicorn ({result['workers']} sync workers, `config.wsgi`) on 127.0.0.1 with PostgreSQL; "
        "a Python asyncio load generator (`bench/load.py`) in the benchmark's process, one new "
        "connection per request. The requests cycle through "
        + ", ".join(f"`{path}`" for path in paths)
        + " as the secretariat.",
        "",
        f"- Maximum throughput ({result['clients']} clients in a closed loop): "
        f"**{fmt(maximum['per_second'])} requests/s**, {maximum['errors']} errors.",
        f"- Constant rate at half of it, {fmt(steady['rate'])} requests/s for "
        f"{fmt(steady['requests'])} requests (open loop, latency from each request's planned "
        f"start): p50 {fmt(steady['p50_ms'])} ms, **p95 {fmt(steady['p95_ms'])} ms**, p99 "
        f"{fmt(steady['p99_ms'])} ms, max {fmt(steady['max_ms'])} ms, **{steady['errors']} "
        "errors**.",
        "",
        "The latency of a request is at least its service time: the list API's median in "
        "section 1 is the floor of this p95 whatever the load.",
        "",
    ]
    by_request = steady.get("by_request", {})
    if by_request:
        out += ["| request | p50 | p95 |", "|---|---:|---:|"]
        mix = result["mix"] if isinstance(result["mix"], dict) else {}
        for kind, entry in by_request.items():
            out.append(
                f"| {kind}: `{mix.get(kind, kind)}` | {fmt(entry['p50_ms'])} ms | "
                f"{fmt(entry['p95_ms'])} ms |"
            )
        out.append("")
    if missed:
        out += [CAUSES["load"], ""]
    return out
