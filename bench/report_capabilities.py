"""The report's summary rows and sections of the new capabilities (bench/capabilities.py), the
fan-out of notices (bench/fanout.py) and the worker's memory (bench/memory.py)."""

from __future__ import annotations

from typing import Any

from bench.report_text import error_line, fmt

CAPABILITIES_SECTION = 7
FANOUT_SECTION = 8
MEMORY_SECTION = 9


def summary_rows(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows of the summary table (see bench.report.summary_rows), one per target."""
    rows: list[dict[str, Any]] = []
    capabilities = results.get("capabilities", {})
    dossier = capabilities.get("dossier", {})
    if "render_seconds" in dossier:
        rows.append(
            _row(
                "dossier",
                CAPABILITIES_SECTION,
                f"Dossier PDF of {dossier['pages']} pages",
                f"{fmt(dossier['render_seconds'], 2)} s",
                dossier["render_seconds"],
                dossier["target_seconds"],
                "s",
                dossier["met"],
            )
        )
    forecast = capabilities.get("forecast", {})
    if "total_seconds" in forecast:
        rows.append(
            _row(
                "forecast",
                CAPABILITIES_SECTION,
                f"At-risk forecast of {fmt(forecast['forecast'])} open proposals (learning "
                "included)",
                f"{fmt(forecast['total_seconds'], 2)} s",
                forecast["total_seconds"],
                forecast["target_seconds"],
                "s",
                forecast["met"],
            )
        )
    feed = capabilities.get("calendar_import", {})
    if "first" in feed:
        slowest = max(feed["first"]["seconds"], feed["changed"]["seconds"])
        rows.append(
            _row(
                "calendar_import",
                CAPABILITIES_SECTION,
                f"Calendar feed of {fmt(feed['events'])} events, imported then read with "
                f"{fmt(feed['changed_events'])} changed",
                f"{fmt(feed['first']['seconds'], 2)} s, {fmt(feed['changed']['seconds'], 2)} s",
                slowest,
                feed["target_seconds"],
                "s",
                feed["met"],
            )
        )
    search = capabilities.get("search", {})
    if "p50_ms" in search:
        rows.append(
            _row(
                "search",
                CAPABILITIES_SECTION,
                f"Search through the list API ({len(search['queries'])} queries), p50",
                f"{fmt(search['p50_ms'])} ms",
                search["p50_ms"],
                search["target_ms"],
                "ms",
                search["met"],
            )
        )
    fanout = results.get("fanout", {})
    if fanout.get("followers") and fanout.get("webhooks"):
        followers, webhooks = fanout["followers"][-1], fanout["webhooks"][-1]
        rows.append(
            {
                "key": "fanout",
                "target_no": FANOUT_SECTION,
                "label": f"One transition's notice to {fmt(followers['told'])} followers and "
                f"{fmt(webhooks['endpoints'])} webhook endpoints",
                "system": f"{fmt(followers['seconds'], 2)} s in-page; webhooks written "
                f"{fmt(webhooks['write_seconds'], 2)} s, posted {fmt(webhooks['post_seconds'], 2)} s",
                "bound": "no bound: measured beside the mail",
                "ratio": None,
                "target": "no target",
                "normalised": None,
                "met": None,
            }
        )
    memory = results.get("memory", {})
    if "second_half_growth" in memory:
        rows.append(
            {
                "key": "memory",
                "target_no": MEMORY_SECTION,
                "label": f"Worker RSS while sending {fmt(memory['emails'])} emails",
                "system": f"{fmt(memory['start_mib'])} → {fmt(memory['end_mib'])} MiB "
                f"(peak {fmt(memory['peak_mib'])}); second half "
                f"{memory['second_half_growth']:+.1%}",
                "bound": "no bound: its own start",
                "ratio": None,
                "target": f"flat: < {memory['flat_growth_limit']:.0%} growth over the second half",
                "normalised": max(memory["second_half_growth"], 0.0) / memory["flat_growth_limit"]
                or None,
                "met": memory["flat"],
            }
        )
    return rows


def _row(
    key: str,
    section: int,
    label: str,
    system: str,
    value: float,
    target: float,
    unit: str,
    met: bool,
) -> dict[str, Any]:
    return {
        "key": key,
        "target_no": section,
        "label": label,
        "system": system,
        "bound": "no bound: the target is a time",
        "ratio": None,
        "target": f"≤ {target:g} {unit}",
        "normalised": value / target if target else None,
        "met": met,
    }


def capabilities_section(result: dict[str, Any]) -> list[str]:
    out = [f"## {CAPABILITIES_SECTION}. New capabilities", ""]
    out += error_line(result)
    if not result or "error" in result:
        return out
    out += [
        "Each measured in one process on the main database (`bench/capabilities.py`), through "
        "the product's own functions; their targets are times, with no lower bound.",
        "",
    ]
    dossier = result.get("dossier", {})
    out += ["### Dossier PDF", ""] + error_line(dossier)
    if "render_seconds" in dossier:
        out += [
            f"The dossier of proposal {dossier['proposal']} (in endorsement) with a text of "
            f"{fmt(dossier['sections'])} Markdown sections ({fmt(dossier['text_characters'])} "
            "characters: headings, paragraphs, lists, tables) rendered by "
            f"`proposals.dossiers.render.dossier_pdf`: **{dossier['pages']} pages** (counted "
            f"with pypdf), {fmt(dossier['bytes'])} bytes, **{fmt(dossier['render_seconds'], 3)} "
            f"s** (median of {dossier['runs']}; fastest–slowest "
            f"{fmt(dossier['render_spread_ms'][0])}–{fmt(dossier['render_spread_ms'][1])} ms; "
            f"target ≤ {dossier['target_seconds']:g} s). Its facts (read as at submission) took "
            f"{fmt(dossier['facts_ms'])} ms in {dossier['facts_queries']} queries, apart.",
            "",
        ]
    forecast = result.get("forecast", {})
    out += ["### At-risk forecast", ""] + error_line(forecast)
    if "total_seconds" in forecast:
        out += [
            f"Every open proposal whose deadline is ahead ({fmt(forecast['forecast'])} of "
            f"{fmt(forecast['open_proposals'])} open; {fmt(forecast['at_risk'])} at risk, "
            f"{fmt(forecast['without_probability'])} without a probability), median of "
            f"{forecast['runs']}:",
            "",
            "| what | seconds |",
            "|---|---:|",
            "| **nothing learned: `open_forecasts()` learns from "
            # Runs before the milestones were kept on the proposals learned from the log and
            # measured that change as a what-if.
            + (
                "the whole log"
                if "what_if_milestones_kept_seconds" in forecast
                else "every proposal's milestones"
            )
            + ", then forecasts every one (what the target covers)** | "
            f"**{fmt(forecast['total_seconds'], 3)}** |",
            f"| the learning alone (`durations_learn`, timed apart) | "
            f"{fmt(forecast['learn_seconds'], 3)} |",
            f"| the same within the hour (learned durations and draws kept) | "
            f"{fmt(forecast['forecast_learned_known_seconds'], 3)} |",
            "",
            f"The pass with nothing learned ran {forecast['queries']} queries; target ≤ "
            f"{forecast['target_seconds']:g} s.",
            "",
        ]
        if forecast.get("what_if_milestones_kept_seconds") is not None:
            out += [
                "What-if: the same pass with each proposal's milestones kept in a table of "
                "their own (made from the log for this measure and dropped after; no grouping "
                "of the log), learning from its rows and forecasting the open ones': "
                f"{fmt(forecast['what_if_milestones_kept_seconds'], 3)} s.",
                "",
            ]
    feed = result.get("calendar_import", {})
    out += ["### Calendar feed import", ""] + error_line(feed)
    if "first" in feed:
        out += [
            f"A feed of {fmt(feed['events'])} all-day events ({fmt(feed['feed_bytes'])} bytes) "
            "served by an `http.server` thread on 127.0.0.1 with its ETag, read end to end by "
            "`calendar_feed_read` (the GET, the parsing, one occasion and one audit row per "
            "event, in one transaction); then the same feed with "
            f"{fmt(feed['changed_events'])} events changed (half renamed, half a week later: "
            "their deadlines move), then unchanged (the server answers 304).",
            "",
            "| reading | seconds | queries | status | what it did |",
            "|---|---:|---:|---|---|",
        ]
        for name in ("first", "changed", "unchanged"):
            reading = feed[name]
            did = ", ".join(f"{k} {v}" for k, v in reading["counts"].items() if v)
            out.append(
                f"| {name} | {fmt(reading['seconds'], 3)} | {fmt(reading['queries'])} | "
                f"{reading['status']} | {did or '—'} |"
            )
        out += ["", f"Target ≤ {feed['target_seconds']:g} s for each reading.", ""]
    search = result.get("search", {})
    out += ["### Search", ""] + error_line(search)
    if "p50_ms" in search:
        out += [
            "`GET /api/proposals/?search=…` as the secretariat (who sees every proposal), "
            "numbered pages (the default, with the count) and cursor pages "
            f"(`&pagination=cursor`); {search['runs']} runs of each query:",
            "",
            "| query | search | found | p50 | p50, cursor pages | queries | SQL time |",
            "|---|---|---:|---:|---:|---:|---:|",
        ]
        for row in search["queries"]:
            out.append(
                f"| {row['what']} | `{row['search']}` | {fmt(row['found'])} | "
                f"{fmt(row['p50_ms'])} ms | {fmt(row['cursor_p50_ms'])} ms | "
                f"{row['queries']} | {fmt(row['sql_ms'])} ms |"
            )
        out += [
            "",
            f"Over all queries: **p50 {fmt(search['p50_ms'])} ms**, p95 "
            f"{fmt(search['p95_ms'])} ms; cursor pages p50 {fmt(search['cursor_p50_ms'])} ms "
            f"(target p50 ≤ {search['target_ms']:g} ms). SQL time: each SELECT of one request run "
            "again under `EXPLAIN ANALYZE`.",
            "",
        ]
    return out


def fanout_section(result: dict[str, Any]) -> list[str]:
    out = [f"## {FANOUT_SECTION}. Fan-out of a transition's notice", ""]
    out += error_line(result)
    if not result.get("followers"):
        return out
    out += [
        f"Proposal {result['proposal']} (in endorsement) followed, for this measure, by N more "
        "people: the notices of one approval to its followers "
        "(`followers_told_of_transition`, then `deliveries_enqueue`: one in-page row each, "
        "delivered, and the emails they chose), timed from the lookup of the followers to the "
        "commit:",
        "",
        "| followers told | rows written | seconds | followers per second | queries |",
        "|---:|---|---:|---:|---:|",
    ]
    for entry in result["followers"]:
        rows = ", ".join(f"{k} {fmt(v)}" for k, v in sorted(entry["rows"].items()))
        out.append(
            f"| {fmt(entry['told'])} | {rows} | {fmt(entry['seconds'], 3)} | "
            f"{fmt(entry['followers_per_second'])} | {entry['queries']} |"
        )
    out += [
        "",
        "The same transition's `proposal.transitioned` webhook rows for M endpoints of the "
        "proposal's organisation (`webhook_events_write`, to the commit), then posted by "
        "`webhooks_send` in this process (as one worker does, one connection per post) to an "
        "`http.server` receiver on 127.0.0.1 answering 204:",
        "",
        "| endpoints | rows written | write seconds | queries | post seconds | posted per second | received |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for entry in result.get("webhooks", []):
        out.append(
            f"| {fmt(entry['endpoints'])} | {fmt(entry['rows_written'])} | "
            f"{fmt(entry['write_seconds'], 3)} | {entry['write_queries']} | "
            f"{fmt(entry['post_seconds'], 3)} | {fmt(entry['posted_per_second'])} | "
            f"{fmt(entry['received'])} |"
        )
    out.append("")
    return out


def memory_section(result: dict[str, Any]) -> list[str]:
    out = [f"## {MEMORY_SECTION}. Worker memory", ""]
    out += error_line(result)
    if "second_half_growth" not in result:
        return out
    out += [
        f"One Celery worker (`--pool=solo`) sent {fmt(result['emails'])} reminders (copies, as "
        f"in the mail section) to the local SMTP sink in {fmt(result['seconds'])} s "
        f"({fmt(result['per_second'])}/s; statuses "
        + ", ".join(f"{k} {fmt(v)}" for k, v in result["statuses"].items())
        + "). Its resident memory (VmRSS of the worker and its children, from /proc) was read "
        f"every second ({fmt(result['samples'])} samples):",
        "",
        f"- start {fmt(result['start_mib'])} MiB (before the first email), peak "
        f"{fmt(result['peak_mib'])} MiB, end {fmt(result['end_mib'])} MiB;",
        f"- second half of the sending: a least-squares line through the samples goes from "
        f"{fmt(result['second_half_fitted_mib'][0])} to "
        f"{fmt(result['second_half_fitted_mib'][1])} MiB "
        f"({result['second_half_growth']:+.2%}, "
        f"{fmt(result['second_half_slope_mib_per_minute'], 3)} MiB a minute).",
        "",
        f"Judged flat when that growth is under {result['flat_growth_limit']:.0%}: **"
        + ("flat" if result["flat"] else "not flat")
        + "**.",
        "",
        "| emails sent | seconds | RSS (MiB) |",
        "|---:|---:|---:|",
    ]
    out += [
        f"| {fmt(m['sent'])} | {fmt(m['seconds'])} | {fmt(m['mib'])} |" for m in result["marks"]
    ]
    out.append("")
    return out
