"""Target 1: the proposal list API, a proposal's detail and the dashboard page, each beside
its lower bound: the same rows fetched with raw SQL through psycopg, made into JSON or HTML
by hand. Requests go through Django's whole stack (middleware, authentication, views,
serializers, templates) in this process, without a network in between.
"""

from __future__ import annotations

import cProfile
import gc
import html
import io
import json
import pstats
import statistics
import zoneinfo
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from bench import db
from bench.timing import seconds, side_by_side

LIST_FILTERS = "state=in_review&state=endorsement&theme=8"
DASHBOARD_ROWS = 20  # rows shown per section of the dashboard

PROPOSAL_COLUMNS = """
    p.id, p.title, p.summary, p.text, p.state, p.lead_organization_id, p.target_body_id,
    p.occasion_id, p.language, p.revision, p.created_at, p.updated_at,
    o.submission_deadline, o.timezone, o.endorsement_quorum, o.accepts_late_submissions,
    ARRAY(SELECT a.person_id FROM proposals_proposal_authors a
          WHERE a.proposal_id = p.id ORDER BY a.person_id),
    ARRAY(SELECT t.theme_id FROM proposals_proposal_themes t
          WHERE t.proposal_id = p.id ORDER BY t.theme_id),
    s.body_id, s.submitted_at, s.reference,
    oc.result, oc.decided_on, oc.note, oc.link, oc.recorded_at,
    (SELECT count(DISTINCT e.organization_id) FROM proposals_endorsement e
       JOIN proposals_organization g ON g.id = e.organization_id
      WHERE e.proposal_id = p.id AND e.withdrawn_at IS NULL AND g.status = 'member'),
    EXISTS (SELECT 1 FROM proposals_review r JOIN proposals_revision v ON v.id = r.revision_id
             WHERE r.proposal_id = p.id AND v.number = p.revision AND r.reviewer_id = %(me)s)
"""
PROPOSAL_FROM = """
    FROM proposals_proposal p
    LEFT JOIN proposals_occasion o ON o.id = p.occasion_id
    LEFT JOIN proposals_submission s ON s.proposal_id = p.id
    LEFT JOIN proposals_outcome oc ON oc.proposal_id = p.id
"""
LIST_WHERE = """
    WHERE p.state = ANY(%(states)s) AND EXISTS (
        SELECT 1 FROM proposals_proposal_themes t
         WHERE t.proposal_id = p.id AND t.theme_id = %(theme)s)
"""
# The page's ids first (sorted on two columns only), then the related data of those rows only.
LIST_SQL = f"""
    WITH page AS (
        SELECT p.id, p.updated_at FROM proposals_proposal p {LIST_WHERE}
        ORDER BY p.updated_at DESC, p.id DESC LIMIT %(limit)s)
    SELECT {PROPOSAL_COLUMNS} {PROPOSAL_FROM} JOIN page ON page.id = p.id
    ORDER BY page.updated_at DESC, page.id DESC
"""
COUNT_SQL = f"SELECT count(*) FROM proposals_proposal p {LIST_WHERE}"
DETAIL_SQL = f"SELECT {PROPOSAL_COLUMNS} {PROPOSAL_FROM} WHERE p.id = %(id)s"


def iso(moment: datetime | None, zone: zoneinfo.ZoneInfo) -> str | None:
    return moment.astimezone(zone).isoformat() if moment is not None else None


def text_to_html(text: str) -> str:
    """Paragraphs of escaped text: the hand-made stand-in for the Markdown rendering."""
    return "".join(f"<p>{html.escape(part)}</p>" for part in text.split("\n\n") if part)


@cache
def declared_sources() -> dict[str, list[str]]:
    """Each transition's source states, in the lifecycle's order (proposals.lifecycle)."""
    from proposals.lifecycle import TRANSITIONS

    return {name: action.sources for name, action in TRANSITIONS.items()}


def transitions_by_hand(
    row: tuple[Any, ...], me: int, secretariat: bool, now: datetime
) -> list[str]:
    """The transitions a person may run: the lifecycle's declarations give the names, their
    order and their source states; the row's precomputed facts stand in for the rules (the
    bound's shortcut)."""
    state, deadline, quorum, late_ok = row[4], row[12], row[14], row[15]
    authors, counted, reviewed = row[16], row[26], row[27]
    author = me in authors
    passed = deadline is not None and deadline < now
    allowed_by_facts = {
        "submit_for_review": author and not passed,
        "approve": secretariat and not author and not reviewed,
        "request_changes": secretariat and not author and not reviewed,
        "submit": secretariat and counted >= quorum and (late_ok or not passed),
        "record_outcome": secretariat,
        "withdraw": secretariat or author,
    }
    return [
        name
        for name, sources in declared_sources().items()
        if state in sources and allowed_by_facts[name]
    ]


def proposal_json(
    row: tuple[Any, ...], zone: zoneinfo.ZoneInfo, me: int, now: datetime
) -> dict[str, Any]:
    occasion_zone = zoneinfo.ZoneInfo(row[13]) if row[13] else zone
    return {
        "id": row[0],
        "title": row[1],
        "summary": row[2],
        "text": row[3],
        "text_html": text_to_html(row[3]),
        "state": row[4],
        "lead_organization": row[5],
        "authors": row[16],
        "target_body": row[6],
        "occasion": row[7],
        "themes": row[17],
        "language": row[8],
        "revision": row[9],
        "outcome": None
        if row[21] is None
        else {
            "result": row[21],
            "decided_on": row[22].isoformat(),
            "note": row[23],
            "link": row[24],
            "recorded_at": iso(row[25], zone),
        },
        "submission": None
        if row[18] is None
        else {"body": row[18], "submitted_at": iso(row[19], zone), "reference": row[20]},
        "deadline": iso(row[12], occasion_zone),
        "created_at": iso(row[10], zone),
        "updated_at": iso(row[11], zone),
        "transitions": transitions_by_hand(row, me, True, now),
    }


class RawBound:
    """The lower bounds: one psycopg connection, SQL written for the purpose, output by hand."""

    def __init__(self, url: str, person_id: int, zone: str) -> None:
        self.connection = db.connect(url, autocommit=True)
        self.me = person_id
        self.zone = zoneinfo.ZoneInfo(zone)

    def proposal_list(self, page_size: int) -> bytes:
        from django.utils import timezone

        now = timezone.now()
        params = {
            "states": ["in_review", "endorsement"],
            "theme": 8,
            "me": self.me,
            "limit": page_size,
        }
        with self.connection.cursor() as cursor:
            count = cursor.execute(COUNT_SQL, params).fetchone()
            rows = cursor.execute(LIST_SQL, params).fetchall()
        body = {
            "count": count[0] if count else 0,
            "next": None,
            "previous": None,
            "results": [proposal_json(row, self.zone, self.me, now) for row in rows],
        }
        return json.dumps(body, separators=(",", ":")).encode()

    def proposal_detail(self, proposal_id: int) -> bytes:
        from django.utils import timezone

        with self.connection.cursor() as cursor:
            row = cursor.execute(DETAIL_SQL, {"id": proposal_id, "me": self.me}).fetchone()
        assert row is not None
        return json.dumps(proposal_json(row, self.zone, self.me, timezone.now())).encode()

    def dashboard(self, person: Any) -> bytes:
        """The dashboard's sections with SQL that selects only the rows shown (the first 20 of
        each by deadline, with the section's count)."""
        from django.utils import timezone

        from proposals.selectors import roles_of

        roles = roles_of(person)
        now = timezone.now()
        me = person.pk
        authored = "EXISTS (SELECT 1 FROM proposals_proposal_authors a WHERE a.proposal_id = p.id AND a.person_id = %(me)s)"
        sections: list[tuple[str, str]] = [("My drafts", f"p.state = 'draft' AND {authored}")]
        if roles.may_review:
            sections.append(
                (
                    "Awaiting my review",
                    f"p.state = 'in_review' AND NOT {authored} AND NOT EXISTS (SELECT 1 FROM proposals_review r JOIN proposals_revision v ON v.id = r.revision_id WHERE r.proposal_id = p.id AND v.number = p.revision AND r.reviewer_id = %(me)s)",
                )
            )
        if roles.representative_organization_ids:
            sections.append(
                (
                    "Awaiting my organisation's endorsement",
                    "p.state = 'endorsement' AND NOT EXISTS (SELECT 1 FROM proposals_endorsement e WHERE e.proposal_id = p.id AND e.withdrawn_at IS NULL AND e.organization_id = ANY(%(orgs)s))",
                )
            )
        if roles.secretariat:
            sections.append(
                (
                    "Ready to submit",
                    "p.state = 'endorsement' AND (SELECT count(DISTINCT e.organization_id) FROM proposals_endorsement e JOIN proposals_organization g ON g.id = e.organization_id WHERE e.proposal_id = p.id AND e.withdrawn_at IS NULL AND g.status = 'member') >= o.endorsement_quorum",
                )
            )
        sections.append(
            (
                "My proposals in review or endorsement",
                f"p.state IN ('in_review', 'endorsement') AND {authored}",
            )
        )
        params = {
            "me": me,
            "orgs": list(roles.representative_organization_ids),
            "shown": DASHBOARD_ROWS,
        }
        parts = [
            "<!doctype html><html><head><title>Dashboard</title></head><body><main><h1>Dashboard</h1>"
        ]
        with self.connection.cursor() as cursor:
            for heading, where in sections:
                rows = cursor.execute(
                    "SELECT p.id, p.title, p.state, g.name, o.id, o.name, o.submission_deadline,"
                    " count(*) OVER ()"
                    " FROM proposals_proposal p JOIN proposals_organization g ON g.id = p.lead_organization_id"
                    f" LEFT JOIN proposals_occasion o ON o.id = p.occasion_id WHERE {where}"
                    " ORDER BY o.submission_deadline, p.id LIMIT %(shown)s",
                    params,
                ).fetchall()
                total = rows[0][7] if rows else 0
                parts.append(f"<section><h2>{heading} <span>{total}</span></h2><table><tbody>")
                for pid, title, state, lead, oid, oname, deadline, _total in rows:
                    days = (deadline - now).days if deadline else 0
                    parts.append(
                        f'<tr><td><a href="/proposals/{pid}/">{html.escape(title)}</a></td>'
                        f'<td><span class="state state-{state}">{state}</span></td>'
                        f"<td>{html.escape(lead)}</td>"
                        f'<td><a href="/occasions/{oid}/">{html.escape(oname or "")}</a></td>'
                        f"<td><time>{iso(deadline, self.zone)}</time> {days} days left</td></tr>"
                    )
                if total > len(rows):
                    parts.append(f'<tr><td><a href="/proposals/">All {total}</a></td></tr>')
                parts.append("</tbody></table></section>")
            visible = (
                ""
                if roles.sees_everything
                else (
                    "AND (p.state <> 'draft' OR p.lead_organization_id = ANY(%(member_of)s) OR "
                    "EXISTS (SELECT 1 FROM proposals_proposal_authors a WHERE a.proposal_id = p.id AND a.person_id = %(me)s))"
                )
            )
            deadlines = cursor.execute(
                "SELECT o.id, o.name, o.submission_deadline, (SELECT count(*) FROM proposals_proposal p"
                f" WHERE p.occasion_id = o.id AND p.state IN ('draft', 'in_review', 'endorsement') {visible})"
                " FROM proposals_occasion o WHERE o.submission_deadline BETWEEN %(start)s AND %(end)s"
                " ORDER BY o.submission_deadline",
                {
                    "start": now - timedelta(days=60),
                    "end": now + timedelta(days=180),
                    "me": me,
                    "member_of": list(roles.organization_ids),
                },
            ).fetchall()
        parts.append("<section><h2>Upcoming deadlines</h2><ul>")
        shown = [d for d in deadlines if d[2] >= now or d[3] > 0][:12]
        for oid, name, deadline, count in shown:
            parts.append(
                f'<li><a href="/occasions/{oid}/">{html.escape(name)}</a> '
                f"<time>{iso(deadline, self.zone)}</time> {count} open proposals</li>"
            )
        parts.append("</ul></section></main></body></html>")
        return "".join(parts).encode()


def execution_ms(cursor: Any, statement: str, params: Any = None) -> float:
    """Planning plus execution time of one SELECT, as PostgreSQL measures it."""
    cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, params)
    plan = cursor.fetchone()[0]
    plan = plan[0] if isinstance(plan, list) else plan
    return float(plan["Planning Time"]) + float(plan["Execution Time"])


def sql_time(action: Callable[[], Any]) -> dict[str, Any]:
    """How much of a request is the database's own work: its SELECTs run again under EXPLAIN
    ANALYZE, their planning and execution times added up."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        action()
    selects = [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"].lstrip().upper().startswith("SELECT")
    ]
    with connection.cursor() as cursor:
        total = sum(execution_ms(cursor, statement) for statement in selects)
    return {
        "queries": len(captured.captured_queries),
        "selects": len(selects),
        "sql_ms": round(total, 2),
    }


def query_count(action: Callable[[], Any]) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        action()
    return len(queries)


def profile_top(
    action: Callable[[], Any], runs: int = 3, limit: int = 12, focus: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    """Where the time of `action` goes: the functions with the most time of their own, or,
    with `focus`, the functions of those names by the time spent in them and their callees."""
    gc.collect()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(runs):
        action()
    profiler.disable()
    stats = pstats.Stats(profiler, stream=io.StringIO())
    total = sum(entry[2] for entry in stats.stats.values())  # type: ignore[attr-defined]
    rows = []
    for (filename, line, function), entry in stats.stats.items():  # type: ignore[attr-defined]
        if focus and function not in focus:
            continue
        rows.append((entry[2], entry[3], filename, line, function))
    rows.sort(reverse=True, key=lambda row: row[1] if focus else row[0])
    return [
        {
            "function": f"{short_path(filename)}:{line}({function})",
            "own_share": round(own / total, 3) if total else 0,
            "cumulative_ms_per_run": round(cumulative / runs * 1000, 2),
        }
        for own, cumulative, filename, line, function in rows[:limit]
    ]


def short_path(filename: str) -> str:
    for marker in ("site-packages/", "/work/main/", str(db.ROOT) + "/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


def what_if(action: Callable[[], Any], bound_ms: float, repeat: int) -> dict[str, Any]:
    """The list measured again with one part of its work replaced by nothing, in this process
    only: how much each cause costs, and so what its fix would gain."""
    from unittest import mock

    from proposals.api.serializers import ProposalSerializer
    from proposals.filtersets import ProposalFilter

    def no_markdown() -> Any:
        return mock.patch.object(ProposalSerializer, "get_text_html", lambda self, proposal: "")

    def no_transitions() -> Any:
        return mock.patch.object(ProposalSerializer, "get_transitions", lambda self, proposal: [])

    def no_distinct() -> Any:
        # One theme per filter: its join yields each proposal once, DISTINCT or not.
        return mock.patch.object(ProposalFilter.base_filters["theme"], "distinct", False)

    variants: dict[str, list[Any]] = {
        "as measured": [],
        "without the Markdown rendering (text_html)": [no_markdown()],
        "without the transitions of each row": [no_transitions()],
        "without DISTINCT on the theme filter": [no_distinct()],
        "without the transitions nor DISTINCT": [no_transitions(), no_distinct()],
    }
    measured: dict[str, Any] = {}
    for name, patches in variants.items():
        if any(not hasattr(patch.getter(), patch.attribute) for patch in patches):
            continue  # that part of the work is no longer there
        for patch in patches:
            patch.start()
        try:
            action()
            median = statistics.median(seconds(action) for _ in range(repeat)) * 1000
        finally:
            for patch in patches:
                patch.stop()
        measured[name] = {"system_ms": round(median, 2), "ratio": round(median / bound_ms, 2)}
    return measured


INDEX_NAME = "bench_what_if_state_updated"


def index_what_if(
    url: str, system: Callable[[], Any], bound: Callable[[], Any], repeat: int
) -> dict[str, Any]:
    """The list and its bound again with an index on (state, updated_at, id), made for this
    measure in the benchmark's database and dropped after it."""
    with db.connect(url, autocommit=True) as connection:
        connection.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX_NAME} ON proposals_proposal "
            "(state, updated_at DESC, id DESC)"
        )
        connection.execute("ANALYZE proposals_proposal")
    try:
        measured = side_by_side(system, bound, repeat=repeat)
        from unittest import mock

        from proposals.filtersets import ProposalFilter

        with mock.patch.object(ProposalFilter.base_filters["theme"], "distinct", False):
            system()
            measured["system_without_distinct_ms"] = round(
                statistics.median(seconds(system) for _ in range(repeat)) * 1000, 2
            )
    finally:
        with db.connect(url, autocommit=True) as connection:
            connection.execute(f"DROP INDEX IF EXISTS {INDEX_NAME}")
    return measured


def ok(response: Any) -> bytes:
    if response.status_code != 200:
        raise RuntimeError(f"{response.status_code} from {response.request['PATH_INFO']}")
    return bytes(response.content)


def run(config: dict[str, Any]) -> dict[str, Any]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bench.accounts import api_token_key, session_verified
    from bench.bare import bare_client
    from proposals.models import Occasion, Person, Proposal

    repeat = config["repeat"]
    url = config["database_url"]
    secretary = Person.objects.get(username="secretariat1")
    api = Client(HTTP_AUTHORIZATION=f"Token {api_token_key(secretary)}")
    bound = RawBound(url, secretary.pk, secretary.timezone)
    results: dict[str, Any] = {"figures": {}, "queries": {}, "profiles": {}}

    def api_list(size: int) -> Callable[[], bytes]:
        return lambda: ok(api.get(f"/api/proposals/?{LIST_FILTERS}&page_size={size}"))

    figures = results["figures"]
    figures["api_list"] = side_by_side(api_list(50), lambda: bound.proposal_list(50), repeat=repeat)
    figures["api_list"]["what"] = f"GET /api/proposals/?{LIST_FILTERS}&page_size=50"
    results["queries"]["api_list"] = {
        "page_size_10": query_count(api_list(10)),
        "page_size_50": query_count(api_list(50)),
    }

    detail = (
        Proposal.objects.filter(state="endorsement", revision__gte=2)
        .order_by("id")
        .values_list("id", flat=True)
        .first()
    ) or Proposal.objects.values_list("id", flat=True).first()
    assert detail is not None
    figures["api_detail"] = side_by_side(
        lambda: ok(api.get(f"/api/proposals/{detail}/")),
        lambda: bound.proposal_detail(detail),
        repeat=repeat,
    )
    figures["api_detail"]["what"] = f"GET /api/proposals/{detail}/ (a proposal in endorsement)"
    results["queries"]["api_detail"] = query_count(lambda: ok(api.get(f"/api/proposals/{detail}/")))

    with bound.connection.cursor() as cursor:
        params = {
            "states": ["in_review", "endorsement"],
            "theme": 8,
            "me": secretary.pk,
            "limit": 50,
        }
        bound_sql = execution_ms(cursor, COUNT_SQL, params) + execution_ms(cursor, LIST_SQL, params)
        detail_sql = execution_ms(cursor, DETAIL_SQL, {"id": detail, "me": secretary.pk})
    results["sql_time"] = {
        "api_list": {**sql_time(api_list(50)), "bound_sql_ms": round(bound_sql, 2)},
        "api_detail": {
            **sql_time(lambda: ok(api.get(f"/api/proposals/{detail}/"))),
            "bound_sql_ms": round(detail_sql, 2),
        },
    }
    results["what_if"] = what_if(api_list(50), figures["api_list"]["bound_ms"], repeat)
    results["what_if_detail"] = what_if(
        lambda: ok(api.get(f"/api/proposals/{detail}/")), figures["api_detail"]["bound_ms"], repeat
    )
    results["what_if_index"] = index_what_if(
        url, api_list(50), lambda: bound.proposal_list(50), repeat
    )
    # The fixed price of an authenticated API request: the API root (token, links, JSON), and
    # one small object beside a bare Django REST framework view answering the same JSON.
    root = [seconds(lambda: ok(api.get("/api/"))) for _ in range(repeat + 1)][1:]
    results["api_root_ms"] = round(statistics.median(root) * 1000, 2)
    occasion = Occasion.objects.values_list("id", flat=True).order_by("id").first()
    bare = bare_client(HTTP_AUTHORIZATION=f"Token {api_token_key(secretary)}")
    small, bare_small = f"/api/occasions/{occasion}/", f"/bare/occasions/{occasion}/"
    if json.loads(ok(api.get(small))) != json.loads(ok(bare.get(bare_small))):
        raise RuntimeError("the bare view does not answer the same JSON as the API")
    figures["api_small"] = side_by_side(
        lambda: ok(api.get(small)), lambda: ok(bare.get(bare_small)), repeat=repeat
    )
    figures["api_small"]["what"] = f"GET {small} (one occasion) beside a bare DRF view"
    results["queries"]["api_small"] = query_count(lambda: ok(api.get(small)))
    results["queries"]["api_small_bare"] = query_count(lambda: ok(bare.get(bare_small)))
    results["profiles"]["api_small"] = profile_top(lambda: ok(api.get(small)))
    profile_runs = 1 if repeat == 1 else 3
    results["profiles"]["api_list"] = profile_top(api_list(50), runs=profile_runs)
    results["profiles"]["api_detail"] = profile_top(
        lambda: ok(api.get(f"/api/proposals/{detail}/"))
    )
    # The dashboards last: they load many rows, whose garbage would weigh on what follows.
    for username, label in (
        ("o2d1", "dashboard_drafter"),
        ("secretariat1", "dashboard_secretariat"),
    ):
        person = Person.objects.get(username=username)
        page = Client()
        page.force_login(person)
        session_verified(page.session, person)
        person_bound = RawBound(url, person.pk, person.timezone)
        figures[label] = side_by_side(
            lambda page=page: ok(page.get("/")),  # type: ignore[misc]
            lambda person_bound=person_bound, person=person: person_bound.dashboard(person),  # type: ignore[misc]
            repeat=max(1, repeat // 5),
        )
        figures[label]["what"] = f"GET / (the dashboard) as {username}"
        with CaptureQueriesContext(connection) as queries:
            results["profiles"][label] = profile_top(lambda page=page: ok(page.get("/")), runs=1)  # type: ignore[misc]
        results["queries"][label] = len(queries)

    counts = {
        state: Proposal.objects.filter(state=state).count()
        for state in ("draft", "in_review", "endorsement", "submitted", "closed", "withdrawn")
    }
    results["proposals_by_state"] = counts
    return results
