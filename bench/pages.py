"""Target 1: the proposal list API, a proposal's detail, the proposal page and the dashboard,
each beside its lower bound: the same work done the fastest hand-written way. The bound checks
the token and reads the person's roles in one query (the API), or the session and then the roles
(the pages), as the system does; fetches the same rows with SQL written for the purpose through psycopg; decides the
transitions the person may run with hand-written checks of every predicate the lifecycle
declares (proposals.lifecycle, proposals.rules), reading the declarations themselves for the
names, their order, their source states and which predicates apply; computes the same
forecasts (proposals.forecast.forecast_one on the same learned durations, which are learned
once an hour); and writes the same JSON with `json.dumps`, or the page's HTML with f-strings.
`same_output` checks, in quick mode too, that the bound answers what the system answers.

Requests go through Django's whole stack (middleware, authentication, views, serializers,
templates) in this process, without a network in between.
"""

from __future__ import annotations

import cProfile
import gc
import html
import io
import json
import pstats
import re
import statistics
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any
from urllib.parse import urlencode

from bench import db
from bench.timing import seconds, side_by_side

LIST_FILTERS = "state=in_review&state=endorsement&theme=8"
LIST_QUERY = {"state": ["in_review", "endorsement"], "theme": ["8"]}
DASHBOARD_ROWS = 20  # rows shown per section of the dashboard
SERVER = "http://testserver"  # the test client's host, in the links the API writes
OPEN = ("draft", "in_review", "endorsement")
MILESTONES = ("draft", "in_review", "endorsement", "submitted", "withdrawn")

# The token, its person and the person's roles (proposals.accounts.api_token_authenticate with
# proposals.selectors.roles_read_with): one query, a row per membership (one row of NULLs for a
# person without any). A page's session reads the roles apart (proposals.selectors.roles_of).
MEMBERSHIP_COLUMNS = """
    m.organization_id, m.role, g.status, g.is_secretariat,
    EXISTS (SELECT 1 FROM proposals_presidencyterm t
             WHERE t.organization_id = m.organization_id
               AND t.starts_on <= %(today)s AND t.ends_on >= %(today)s)
"""
KEY_PERSON_ROLES_SQL = f"""
    SELECT t.id, t.revoked_at, t.expires_at, t.last_used_at, u.id, u.is_active,
           u.is_superuser, u.timezone, {MEMBERSHIP_COLUMNS}
      FROM proposals_apitoken t JOIN proposals_person u ON u.id = t.person_id
      LEFT JOIN (proposals_membership m
                 JOIN proposals_organization g ON g.id = m.organization_id AND g.status <> 'former')
        ON m.person_id = u.id
     WHERE t.digest = %(digest)s
"""  # noqa: S608 (no input)
KEY_USED_SQL = "UPDATE proposals_apitoken SET last_used_at = %(now)s WHERE id = %(id)s"
ROLES_SQL = f"""
    SELECT {MEMBERSHIP_COLUMNS}
      FROM proposals_membership m JOIN proposals_organization g ON g.id = m.organization_id
     WHERE m.person_id = %(me)s AND g.status <> 'former'
"""  # noqa: S608 (no input)

# proposals.forecast.milestones_loaded: when the proposal first reached each state, on its row.
MILESTONE_COLUMNS = ", ".join(
    f"EXTRACT(EPOCH FROM p.reached_{state}_at)::double precision" for state in MILESTONES
)
# What the JSON shows and what the rules read, one row per proposal.
PROPOSAL_COLUMNS = f"""
    p.id, p.title, p.summary, p.text, p.text_html, p.state, p.lead_organization_id,
    p.target_body_id, p.occasion_id, p.language, p.revision, p.version, p.created_at,
    p.updated_at,
    o.submission_deadline, o.timezone, o.endorsement_quorum, o.accepts_late_submissions, o.kind,
    ARRAY(SELECT a.person_id FROM proposals_proposal_authors a
            JOIN proposals_person u ON u.id = a.person_id
           WHERE a.proposal_id = p.id ORDER BY u.username),
    ARRAY(SELECT c.person_id FROM proposals_proposal_contributors c WHERE c.proposal_id = p.id),
    ARRAY(SELECT t.theme_id FROM proposals_proposal_themes t
           WHERE t.proposal_id = p.id ORDER BY t.theme_id),
    s.body_id, s.submitted_at, s.reference, s.number, s.fingerprint, s.dossier,
    s.dossier_sha256, s.dossier_size, s.dossier_rendered_at,
    oc.result, oc.decided_on, oc.note, oc.link, oc.recorded_at,
    (SELECT count(DISTINCT e.organization_id) FROM proposals_endorsement e
       JOIN proposals_organization g ON g.id = e.organization_id
      WHERE e.proposal_id = p.id AND e.withdrawn_at IS NULL AND g.status = 'member'),
    ARRAY(SELECT r.reviewer_id::text || ':' || r.decision
            FROM proposals_review r JOIN proposals_revision v ON v.id = r.revision_id
           WHERE r.proposal_id = p.id AND v.number = p.revision),
    {MILESTONE_COLUMNS}
"""
COLUMN = {
    name: index
    for index, name in enumerate(
        "id title summary text text_html state lead target_body occasion language revision "
        "version created_at updated_at deadline zone quorum late_ok kind authors contributors "
        "themes body submitted_at reference number fingerprint dossier sha256 size rendered_at "
        "result decided_on note link recorded_at counted current_reviews milestones".split()
    )
}
PROPOSAL_FROM = """
    FROM proposals_proposal p
    LEFT JOIN proposals_occasion o ON o.id = p.occasion_id
    LEFT JOIN proposals_submission s ON s.proposal_id = p.id
    LEFT JOIN proposals_outcome oc ON oc.proposal_id = p.id
"""
# proposals.selectors.proposals_visible_to: %(all)s for who sees everything, else drafts for
# their authors and their lead organisation, everything from review on for the group.
VISIBLE = """
    (%(all)s OR EXISTS (SELECT 1 FROM proposals_proposal_authors a
                         WHERE a.proposal_id = p.id AND a.person_id = %(me)s)
     OR p.lead_organization_id = ANY(%(member_of)s) OR (%(in_group)s AND p.state <> 'draft'))
"""
LIST_WHERE = f"""
    WHERE p.state = ANY(%(states)s) AND EXISTS (
        SELECT 1 FROM proposals_proposal_themes t
         WHERE t.proposal_id = p.id AND t.theme_id = %(theme)s) AND {VISIBLE}
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
DETAIL_SQL = f"SELECT {PROPOSAL_COLUMNS} {PROPOSAL_FROM} WHERE p.id = %(id)s AND {VISIBLE}"


def iso(moment: datetime | None, zone: zoneinfo.ZoneInfo) -> str | None:
    """A moment in the person's zone as Django REST framework writes it (UTC as Z)."""
    if moment is None:
        return None
    text = moment.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


@dataclass(frozen=True)
class Facts:
    """What the hand-written checks read of one proposal and its reader."""

    me: int
    secretariat: bool
    may_review: bool
    state: str
    row: tuple[Any, ...]
    now: datetime

    def get(self, name: str) -> Any:
        return self.row[COLUMN[name]]

    @property
    def author(self) -> bool:
        return self.me in self.get("authors")

    @property
    def ever_wrote(self) -> bool:
        return self.author or self.me in self.get("contributors")

    @property
    def passed(self) -> bool:
        deadline = self.get("deadline")
        return deadline is not None and self.now > deadline

    @property
    def current_reviews(self) -> list[tuple[int, str]]:
        pairs = (entry.split(":", 1) for entry in self.get("current_reviews"))
        return [(int(reviewer), decision) for reviewer, decision in pairs]


# Each predicate the lifecycle names (Action.who and Action.when), checked by hand on the row's
# facts; keyed by the predicate's qualified name, so that a predicate added to the declarations
# without its check here stops the benchmark instead of being skipped.
CHECKS: dict[str, Callable[[Facts], bool]] = {
    # rules.must_be_author: an author of the proposal.
    "must_be_author.<locals>.check": lambda f: f.author,
    # rules.must_be_secretariat: the person's roles say secretariat.
    "must_be_secretariat.<locals>.check": lambda f: f.secretariat,
    # rules.must_be_author_or_secretariat.
    "must_be_author_or_secretariat.<locals>.check": lambda f: f.secretariat or f.author,
    # rules.independent_reviewer: named reviewer (or the secretariat), never wrote it
    # (an author, or a contributor of a revision).
    "independent_reviewer": lambda f: f.may_review and not f.ever_wrote,
    # rules.ready_for_review: a title, a text, a body, an occasion whose deadline is ahead, no
    # request for changes on the current revision.
    "ready_for_review": lambda f: (
        bool(f.get("title").strip())
        and bool(f.get("text").strip())
        and f.get("target_body") is not None
        and f.get("occasion") is not None
        and not f.passed
        and all(decision != "request_changes" for _who, decision in f.current_reviews)
    ),
    # rules.not_reviewed_yet: this person did not review the current revision.
    "not_reviewed_yet": lambda f: all(who != f.me for who, _decision in f.current_reviews),
    # rules.ready_to_submit: an occasion, its quorum of distinct full members endorsing (in
    # force), and the deadline ahead unless the occasion accepts late submissions.
    "ready_to_submit": lambda f: (
        f.get("occasion") is not None
        and f.get("counted") >= f.get("quorum")
        and (f.get("late_ok") or not f.passed)
    ),
}


@cache
def declared_checks() -> list[tuple[str, tuple[str, ...], list[Callable[[Facts], bool]]]]:
    """Each transition of the lifecycle in its order (proposals.lifecycle.TRANSITIONS): its
    name, its source states and the hand-written check of each predicate it declares."""
    from proposals.lifecycle import TRANSITIONS

    return [
        (
            name,
            tuple(action.sources),
            [CHECKS[check.__qualname__] for check in (*action.who, *action.when)],
        )
        for name, action in TRANSITIONS.items()
    ]


def transitions_by_hand(facts: Facts) -> list[str]:
    """proposals.lifecycle.transitions_allowed for one proposal, by the checks above."""
    return [
        name
        for name, sources, checks in declared_checks()
        if facts.state in sources and all(check(facts) for check in checks)
    ]


@dataclass(frozen=True)
class Reader:
    """The person a bound answers, as the token and roles queries found them."""

    me: int
    zone: zoneinfo.ZoneInfo
    superuser: bool
    organization_ids: list[int]
    drafter_organization_ids: list[int]
    representative_organization_ids: list[int]
    reviewer: bool
    secretariat: bool
    presidency: bool

    @property
    def sees_everything(self) -> bool:
        return self.secretariat or self.presidency or self.superuser

    @property
    def in_group(self) -> bool:
        return bool(self.organization_ids) or self.superuser

    def visibility(self) -> dict[str, Any]:
        return {
            "all": self.sees_everything,
            "me": self.me,
            "member_of": self.organization_ids,
            "in_group": self.in_group,
        }


def reader_of(execute: Callable[[str, Any], Any], me: int, superuser: bool, zone: str) -> Reader:
    """proposals.selectors.roles_of by hand: one query (run by `execute`)."""
    from django.utils import timezone

    memberships = execute(ROLES_SQL, {"me": me, "today": timezone.localdate()}).fetchall()
    return reader_built(me, superuser, zone, memberships)


def reader_built(me: int, superuser: bool, zone: str, memberships: list[Any]) -> Reader:
    """The reader from the rows of MEMBERSHIP_COLUMNS (organisation, role, its status, whether
    it is the secretariat, whether it chairs today)."""
    return Reader(
        me=me,
        zone=zoneinfo.ZoneInfo(zone),
        superuser=superuser,
        organization_ids=sorted({m[0] for m in memberships}),
        drafter_organization_ids=sorted({m[0] for m in memberships if m[1] == "drafter"}),
        representative_organization_ids=sorted(
            {m[0] for m in memberships if m[1] == "representative" and m[2] == "member"}
        ),
        reviewer=any(m[1] == "reviewer" for m in memberships),
        secretariat=any(m[1] == "secretariat" and m[3] for m in memberships),
        presidency=any(m[1] == "representative" and m[4] for m in memberships),
    )


def forecast_json(forecast: Any) -> dict[str, Any]:
    """proposals.api.serializers.ForecastSerializer's output, by hand."""
    return {
        "probability": forecast.probability,
        "expected_submission": forecast.expected_submission.isoformat()
        if forecast.expected_submission
        else None,
        "weighing_step": forecast.weighing_step,
        "typical_days": forecast.typical_days,
        "days_left": forecast.days_left,
        "at_risk": forecast.at_risk,
        "reason": forecast.reason or None,
    }


class RawBound:
    """The lower bounds: one psycopg connection, SQL written for the purpose, output by hand."""

    def __init__(self, url: str, person_id: int, zone: str, token: str = "") -> None:
        from django.contrib.contenttypes.models import ContentType
        from django.urls import reverse

        from proposals.accounts import token_digest
        from proposals.models import Proposal

        self.connection = db.connect(url, autocommit=True)
        self.me = person_id
        self.zone = zoneinfo.ZoneInfo(zone)
        self.digest = token_digest(token) if token else ""
        self.proposal_type = ContentType.objects.get_for_model(Proposal).pk
        self.dossier_path = reverse("proposal-dossier", kwargs={"proposal_id": 0})[: -len("0/")]
        self.statements: list[tuple[str, Any]] | None = None
        """The statements run, when a list is set here (to measure their SQL time)."""
        self.dossier_path_end = (
            "/" + reverse("proposal-dossier", kwargs={"proposal_id": 0}).split("/0/", 1)[1]
        )

    def execute(self, cursor: Any, statement: str, params: Any = None) -> Any:
        if self.statements is not None:
            self.statements.append((statement, params))
        return cursor.execute(statement, params)

    def token_reader(self, cursor: Any, now: datetime) -> Reader:
        """The token's person with their roles in one query (refused as the API refuses:
        unknown, revoked, expired or deactivated), its last use marked once a minute."""
        from django.utils import timezone

        rows = self.execute(
            cursor, KEY_PERSON_ROLES_SQL, {"digest": self.digest, "today": timezone.localdate()}
        ).fetchall()
        found = rows[0] if rows else None
        if found is None or found[1] is not None or found[2] <= now or not found[5]:
            raise RuntimeError("the bound's token does not work")
        if found[3] is None or found[3] <= now - timedelta(minutes=1):
            self.execute(cursor, KEY_USED_SQL, {"now": now, "id": found[0]})
        memberships = [row[8:] for row in rows if row[8] is not None]
        return reader_built(found[4], found[6], found[7], memberships)

    def forecasts(self, cursor: Any, rows: list[tuple[Any, ...]], now: datetime) -> dict[int, Any]:
        """proposals.forecast.forecasts_for: the milestones read with the rows, the same
        learned durations and the same per-proposal computation."""
        from proposals.forecast import ALL_KINDS, Milestones, durations_learned, forecast_one

        open_rows = [row for row in rows if row[COLUMN["state"]] in OPEN]
        if not open_rows:
            return {}
        learned = durations_learned()
        milestones = COLUMN["milestones"]
        reached = {row[0]: Milestones(*row[milestones : milestones + 5]) for row in open_rows}
        result = {}
        for row in open_rows:
            zone = row[COLUMN["zone"]]
            result[row[0]] = forecast_json(
                forecast_one(
                    learned,
                    kind=row[COLUMN["kind"]] if row[COLUMN["occasion"]] else ALL_KINDS,
                    deadline=row[COLUMN["deadline"]],
                    reached=reached.get(row[0]),
                    now=now,
                    zone=zoneinfo.ZoneInfo(zone) if zone else None,
                )
            )
        return result

    def proposal_json(
        self, row: tuple[Any, ...], reader: Reader, now: datetime, forecasts: dict[int, Any]
    ) -> dict[str, Any]:
        """proposals.api.serializers.ProposalSerializer's output, by hand."""

        def get(name: str) -> Any:
            return row[COLUMN[name]]

        zone = reader.zone
        deadline = get("deadline")
        facts = Facts(
            me=reader.me,
            secretariat=reader.secretariat,
            may_review=reader.reviewer or reader.secretariat,
            state=get("state"),
            row=row,
            now=now,
        )
        number = get("number")
        ready = bool(get("dossier"))
        return {
            "id": get("id"),
            "title": get("title"),
            "summary": get("summary"),
            "text": get("text"),
            "text_html": get("text_html"),
            "state": get("state"),
            "lead_organization": get("lead"),
            "authors": get("authors"),
            "target_body": get("target_body"),
            "occasion": get("occasion"),
            "themes": get("themes"),
            "language": get("language"),
            "revision": get("revision"),
            "version": get("version"),
            "outcome": None
            if get("result") is None
            else {
                "result": get("result"),
                "decided_on": get("decided_on").isoformat(),
                "note": get("note"),
                "link": get("link"),
                "recorded_at": iso(get("recorded_at"), zone),
            },
            "submission": None
            if get("body") is None
            else {
                "body": get("body"),
                "submitted_at": iso(get("submitted_at"), zone),
                "reference": get("reference"),
                "number": number,
                "fingerprint": get("fingerprint"),
                "dossier": None
                if not number
                else {
                    "ready": ready,
                    "url": f"{SERVER}{self.dossier_path}{get('id')}{self.dossier_path_end}",
                    "sha256": get("sha256") if ready else None,
                    "size": get("size") if ready else None,
                    "rendered_at": iso(get("rendered_at"), zone) if ready else None,
                },
            },
            "deadline": deadline.astimezone(zoneinfo.ZoneInfo(get("zone"))).isoformat()
            if deadline is not None
            else None,
            "created_at": iso(get("created_at"), zone),
            "updated_at": iso(get("updated_at"), zone),
            "transitions": transitions_by_hand(facts),
            "forecast": forecasts.get(get("id")),
        }

    def statements_count(self, action: Callable[[], Any]) -> int:
        """How many statements the action runs."""
        self.statements = []
        try:
            action()
            return len(self.statements)
        finally:
            self.statements = None

    def sql_ms(self, action: Callable[[], Any]) -> float:
        """The database's own time of the action's SELECTs, run again under EXPLAIN ANALYZE."""
        self.statements = []
        try:
            action()
            run = self.statements
        finally:
            self.statements = None
        with self.connection.cursor() as cursor:
            return sum(
                execution_ms(cursor, statement, params)
                for statement, params in run
                if statement.lstrip().upper().startswith(("SELECT", "WITH"))
            )

    def proposal_list(self, page_size: int) -> bytes:
        from django.utils import timezone

        now = timezone.now()
        with self.connection.cursor() as cursor:
            reader = self.token_reader(cursor, now)
            params = {
                "states": LIST_QUERY["state"],
                "theme": int(LIST_QUERY["theme"][0]),
                "limit": page_size,
                **reader.visibility(),
            }
            found = self.execute(cursor, COUNT_SQL, params).fetchone()
            count = found[0] if found else 0
            rows = self.execute(cursor, LIST_SQL, params).fetchall() if count else []
            forecasts = self.forecasts(cursor, rows, now)
        following = None
        if count > page_size:
            query = {**LIST_QUERY, "page": ["2"], "page_size": [str(page_size)]}
            following = f"{SERVER}/api/proposals/?{urlencode(sorted(query.items()), doseq=True)}"
        body = {
            "count": count,
            "next": following,
            "previous": None,
            "results": [self.proposal_json(row, reader, now, forecasts) for row in rows],
        }
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()

    def proposal_detail(self, proposal_id: int) -> bytes:
        from django.utils import timezone

        now = timezone.now()
        with self.connection.cursor() as cursor:
            reader = self.token_reader(cursor, now)
            row = self.execute(
                cursor, DETAIL_SQL, {"id": proposal_id, **reader.visibility()}
            ).fetchone()
            if row is None:
                raise RuntimeError("the bound does not see the proposal")
            forecasts = self.forecasts(cursor, [row], now)
        return json.dumps(
            self.proposal_json(row, reader, now, forecasts),
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()


# The dashboard (proposals.web.views.dashboard), by hand. Each section's selection mirrors its
# selector in proposals.selectors, the visibility proposals_visible_to (VISIBLE above).
AUTHORED = (
    "EXISTS (SELECT 1 FROM proposals_proposal_authors a"
    " WHERE a.proposal_id = p.id AND a.person_id = %(me)s)"
)
FULL_MEMBER_ENDORSEMENTS = (
    "(SELECT count(DISTINCT e.organization_id) FROM proposals_endorsement e"
    " JOIN proposals_organization g ON g.id = e.organization_id"
    " WHERE e.proposal_id = p.id AND e.withdrawn_at IS NULL AND g.status = 'member')"
)
SECTIONS: dict[str, tuple[str, str]] = {
    # proposals_authored_by, in draft.
    "drafts": ("My drafts", f"p.state = 'draft' AND {AUTHORED}"),
    # proposals_awaiting_review_by: in review, not an author, not reviewed in its revision.
    "to_review": (
        "Awaiting my review",
        f"p.state = 'in_review' AND NOT {AUTHORED} AND NOT EXISTS (SELECT 1 FROM"
        " proposals_review r JOIN proposals_revision v ON v.id = r.revision_id"
        " WHERE r.proposal_id = p.id AND r.reviewer_id = %(me)s AND v.number = p.revision)",
    ),
    # proposals_awaiting_endorsement_by: open for endorsement, not endorsed (in force) by one
    # at least of the members the person represents, short of its quorum.
    "to_endorse": (
        "Awaiting my organisation's endorsement",
        "p.state = 'endorsement' AND EXISTS (SELECT 1 FROM unnest(%(represented)s::bigint[])"
        " AS mine(id) WHERE NOT EXISTS (SELECT 1 FROM proposals_endorsement e"
        " WHERE e.proposal_id = p.id AND e.organization_id = mine.id"
        " AND e.withdrawn_at IS NULL))"
        f" AND (p.occasion_id IS NULL OR {FULL_MEMBER_ENDORSEMENTS} < o.endorsement_quorum)",
    ),
    # proposals_ready_to_submit: the occasion's quorum of full members reached.
    "to_submit": (
        "Ready to submit",
        f"p.state = 'endorsement' AND {FULL_MEMBER_ENDORSEMENTS} >= o.endorsement_quorum",
    ),
    "mine_moving": (
        "My proposals in review or endorsement",
        f"p.state IN ('in_review', 'endorsement') AND {AUTHORED}",
    ),
}
SECTION_SQL = (
    "SELECT p.id, count(*) OVER () FROM proposals_proposal p"
    " LEFT JOIN proposals_occasion o ON o.id = p.occasion_id"
    " WHERE {where} AND " + VISIBLE + " ORDER BY o.submission_deadline, p.id LIMIT %(shown)s"
)
# What the table, the quorum phrase, the changes requested and the forecast read of a row.
ROW_COLUMNS = f"""
    p.id, p.title, p.state, g.kind, g.country, g.short_name, g.name, o.id, o.name,
    o.submission_deadline, o.kind, o.timezone, o.endorsement_quorum, {FULL_MEMBER_ENDORSEMENTS},
    (SELECT coalesce(nullif(trim(u.first_name || ' ' || u.last_name), ''), u.username)
       FROM proposals_review r JOIN proposals_person u ON u.id = r.reviewer_id
      WHERE r.proposal_id = p.id AND r.decision = 'request_changes' AND p.state = 'draft'
      ORDER BY r.created_at DESC, r.id DESC LIMIT 1),
    {MILESTONE_COLUMNS}
"""
ROW_MILESTONES = 15  # the first of ROW_COLUMNS' milestones
ROW_FROM = """
    FROM proposals_proposal p JOIN proposals_organization g ON g.id = p.lead_organization_id
    LEFT JOIN proposals_occasion o ON o.id = p.occasion_id
"""
ROWS_SQL = f"SELECT {ROW_COLUMNS} {ROW_FROM} WHERE p.id = ANY(%(ids)s)"
# _at_risk: who oversees every proposal weighs the first open ones by deadline too.
OVERSEEN_SQL = (
    f"SELECT {ROW_COLUMNS} {ROW_FROM} WHERE p.state IN ('draft', 'in_review', 'endorsement')"
    " AND o.submission_deadline > %(now)s AND " + VISIBLE + " ORDER BY o.submission_deadline,"
    " p.id LIMIT 50"
)
# _upcoming_deadlines: the occasions of the coming months with their open proposals counted.
DEADLINES_SQL = (
    "SELECT * FROM (SELECT o.id, o.name, o.submission_deadline, (SELECT count(*)"
    " FROM proposals_proposal p WHERE p.occasion_id = o.id"
    " AND p.state IN ('draft', 'in_review', 'endorsement') AND " + VISIBLE + ") AS open_count"
    " FROM proposals_occasion o WHERE o.submission_deadline BETWEEN %(start)s AND %(end)s) d"
    " WHERE d.submission_deadline >= %(now)s OR d.open_count > 0"
    " ORDER BY d.submission_deadline LIMIT 12"
)
SESSION_SQL = (
    "SELECT session_data FROM django_session WHERE session_key = %(key)s AND expire_date > %(now)s"
)
PERSON_SQL = """
    SELECT u.id, u.is_active, u.is_superuser, u.timezone, u.language, u.last_visit_at,
           u.first_name, u.last_name, u.username, u.welcomed_at IS NULL,
           EXISTS (SELECT 1 FROM otp_totp_totpdevice d WHERE d.user_id = u.id AND d.confirmed)
      FROM proposals_person u WHERE u.id = %(id)s
"""
VISIT_SQL = "UPDATE proposals_person SET last_visit_at = %(now)s WHERE id = %(me)s"
NOTICES_SQL = """
    SELECT id, event, context, content_type_id, object_id, created_at FROM workflow_delivery
     WHERE recipient_id = %(me)s AND channel = 'page' AND created_at > %(since)s
     ORDER BY created_at DESC, id DESC LIMIT 20
"""
UNREAD_SQL = (
    "SELECT count(*) FROM workflow_delivery"
    " WHERE recipient_id = %(me)s AND channel = 'page' AND read_at IS NULL"
)
SESSION_SAVE_SQL = (
    "UPDATE django_session SET session_data = %(data)s, expire_date = %(expires)s"
    " WHERE session_key = %(key)s"
)


def organization_name(kind: str, country: str, short_name: str, name: str) -> str:
    """str(Organization): a State by its country's name in the reader's language."""
    from proposals.localized import country_name

    if kind == "state" and country:
        return country_name(country) or name
    return short_name or name


class PageBound:
    """The dashboard's lower bound: the session (read, checked for its idle and absolute
    limits, written at most once a minute as the system does), the person with their second
    factor, their roles, then the page's own queries and HTML written by hand. Dates, numbers
    and phrases go through the same localisation as the page (the person's language,
    `proposals.localized`, the same translated sentences)."""

    def __init__(self, url: str, session_key: str) -> None:
        from django.contrib.contenttypes.models import ContentType
        from django.urls import reverse

        from proposals.models import Occasion, Proposal

        self.connection = db.connect(url, autocommit=True)
        self.session_key = session_key
        self.executed = 0
        self.proposal_type = ContentType.objects.get_for_model(Proposal).pk
        self.occasion_type = ContentType.objects.get_for_model(Occasion).pk
        self.create_path = reverse("proposals:proposal_create")
        self.list_path = reverse("proposals:proposal_list")
        self.notifications_path = reverse("proposals:notifications")
        self.occasions_path = reverse("proposals:occasion_list")

    def session_person(self, cursor: Any, now: datetime) -> tuple[Any, dict[str, Any]]:
        """The session's person, signed in and verified by their second factor; the session
        written back when the system writes it (its last use once a minute)."""
        from django.conf import settings
        from django.contrib.sessions.backends.db import SessionStore
        from django_otp import DEVICE_ID_SESSION_KEY

        from proposals.web.session_timeout import (
            LAST_SEEN_KEY,
            REFRESH_EVERY_SECONDS,
            STARTED_KEY,
            idle_seconds_allowed,
        )

        found = self.execute(cursor, SESSION_SQL, {"key": self.session_key, "now": now}).fetchone()
        if found is None:
            raise RuntimeError("the bound's session is not known")
        store = SessionStore()
        data = store.decode(found[0])
        moment = now.timestamp()
        last_seen, started = data.get(LAST_SEEN_KEY), data.get(STARTED_KEY)
        if (last_seen is not None and moment - last_seen > idle_seconds_allowed()) or (
            started is not None and moment - started > settings.SESSION_COOKIE_AGE
        ):
            raise RuntimeError("the bound's session ended")
        person = self.execute(cursor, PERSON_SQL, {"id": int(data["_auth_user_id"])}).fetchone()
        if person is None or not person[1] or (person[10] and DEVICE_ID_SESSION_KEY not in data):
            raise RuntimeError("the bound's person is not signed in and verified")
        if person[9]:  # proposals.web.views.invitations.welcome_first
            raise RuntimeError("a first visit is welcomed: the bound does not measure it")
        data["_bound_write"] = last_seen is None or moment - last_seen >= REFRESH_EVERY_SECONDS
        if data["_bound_write"]:
            data[LAST_SEEN_KEY] = moment
        return person, data

    def statements_count(self) -> int:
        """How many statements one dashboard of the bound runs."""
        before = self.executed
        self.dashboard()
        return self.executed - before

    def execute(self, cursor: Any, statement: str, params: Any = None) -> Any:
        self.executed += 1
        return cursor.execute(statement, params)

    def session_save(self, cursor: Any, data: dict[str, Any], now: datetime) -> None:
        from django.conf import settings
        from django.contrib.sessions.backends.db import SessionStore

        if data.pop("_bound_write", False):
            self.execute(
                cursor,
                SESSION_SAVE_SQL,
                {
                    "data": SessionStore().encode(data),
                    "expires": now + timedelta(seconds=settings.SESSION_COOKIE_AGE),
                    "key": self.session_key,
                },
            )

    def dashboard(self) -> bytes:
        from django.utils import timezone, translation
        from django.utils.dateparse import parse_datetime
        from django.utils.translation import gettext as _

        from proposals.notification_centre import VISIT_GAP
        from proposals.web.views.notifications import SINCE_KEY

        now = timezone.now()
        with self.connection.cursor() as cursor:
            person, session = self.session_person(cursor, now)
            me, zone = person[0], zoneinfo.ZoneInfo(person[3])
            with translation.override(person[4]), timezone.override(zone):
                reader = reader_of(
                    lambda st, pa: self.execute(cursor, st, pa), me, person[2], person[3]
                )
                visibility = reader.visibility()
                chosen = ["drafts"]
                if reader.reviewer or reader.secretariat:
                    chosen.append("to_review")
                if reader.representative_organization_ids:
                    chosen.append("to_endorse")
                if reader.secretariat:
                    chosen.append("to_submit")
                chosen.append("mine_moving")
                params = {
                    **visibility,
                    "represented": reader.representative_organization_ids,
                    "shown": DASHBOARD_ROWS,
                    "now": now,
                }
                firsts = {
                    name: self.execute(
                        cursor, SECTION_SQL.format(where=SECTIONS[name][1]), params
                    ).fetchall()
                    for name in chosen
                }
                shown = sorted({pk for rows in firsts.values() for pk, _count in rows})
                rows = {
                    row[0]: row for row in self.execute(cursor, ROWS_SQL, {"ids": shown}).fetchall()
                }
                weighed = dict(rows)
                if reader.sees_everything:
                    for row in self.execute(cursor, OVERSEEN_SQL, params).fetchall():
                        weighed.setdefault(row[0], row)
                forecasts = self.forecasts(cursor, list(weighed.values()), now)
                at_risk = sorted(
                    (
                        (weighed[pk], forecast)
                        for pk, forecast in forecasts.items()
                        if forecast.at_risk
                    ),
                    key=lambda pair: (pair[1].probability or 0, pair[0][0]),
                )
                deadlines = self.execute(
                    cursor,
                    DEADLINES_SQL,
                    {
                        **visibility,
                        "now": now,
                        "start": now - timedelta(days=60),
                        "end": now + timedelta(days=180),
                    },
                ).fetchall()
                # since_last_visit: the visit recorded, its notices.
                previous = person[5]
                counting = parse_datetime(session.get(SINCE_KEY) or "")
                if counting is None or previous is None or now - previous >= VISIT_GAP:
                    counting = previous or now
                self.execute(cursor, VISIT_SQL, {"now": now, "me": me})
                if session.get(SINCE_KEY) != counting.isoformat():
                    session[SINCE_KEY] = counting.isoformat()
                    session["_bound_write"] = True
                notices = self.execute(
                    cursor, NOTICES_SQL, {"me": me, "since": counting}
                ).fetchall()
                unread = self.execute(cursor, UNREAD_SQL, {"me": me}).fetchone()
                self.session_save(cursor, session, now)
                parts = [
                    "<!doctype html><html><head><title>",
                    html.escape(_("Dashboard")),
                    "</title></head><body><nav>",
                    f'<a href="{self.notifications_path}">{unread[0] if unread else 0}</a>',
                    "</nav><main><h1>",
                    html.escape(_("Dashboard")),
                    "</h1>",
                ]
                parts += self.since_box(notices, counting, previous is None)
                if reader.drafter_organization_ids:
                    parts.append(
                        f'<p><a class="button" href="{self.create_path}">'
                        f"{html.escape(_('New proposal'))}</a></p>"
                    )
                if at_risk:
                    parts.append(
                        f'<section class="panel at-risk-panel"><h2>'
                        f"{html.escape(_('At risk of missing their deadline'))} "
                        f'<span class="count">{len(at_risk)}</span></h2><ul class="at-risk">'
                    )
                    for row, forecast in at_risk:
                        parts.append(
                            f'<li><a href="/proposals/{row[0]}/">{html.escape(row[1])}</a> '
                            f'<span class="muted small">{html.escape(row[8] or "")}</span><br>'
                            f"{forecast_text(forecast)}</li>"
                        )
                    parts.append("</ul></section>")
                for name in chosen:
                    section_rows = [rows[pk] for pk, _count in firsts[name] if pk in rows]
                    count = firsts[name][0][1] if firsts[name] else 0
                    if name == "drafts" and not (reader.drafter_organization_ids or count):
                        continue
                    if name == "mine_moving" and not section_rows:
                        continue
                    parts += self.section(
                        name, section_rows, count, now, name in ("to_endorse", "to_submit")
                    )
                parts += self.deadlines_box(deadlines, now)
                parts.append("</main></body></html>")
        return "".join(parts).encode()

    def forecasts(self, cursor: Any, rows: list[tuple[Any, ...]], now: datetime) -> dict[int, Any]:
        """proposals.forecast.forecasts_for on the rows (their milestones read with them)."""
        from proposals.forecast import ALL_KINDS, Milestones, durations_learned, forecast_one

        open_rows = [row for row in rows if row[2] in OPEN]
        if not open_rows:
            return {}
        learned = durations_learned()
        reached = {
            row[0]: Milestones(*row[ROW_MILESTONES : ROW_MILESTONES + 5]) for row in open_rows
        }
        return {
            row[0]: forecast_one(
                learned,
                kind=row[10] if row[7] else ALL_KINDS,
                deadline=row[9],
                reached=reached.get(row[0]),
                now=now,
                zone=zoneinfo.ZoneInfo(row[11]) if row[11] else None,
            )
            for row in open_rows
        }

    def section(
        self, name: str, rows: list[tuple[Any, ...]], count: int, now: datetime, counts: bool
    ) -> list[str]:
        """One section's table (proposals/_proposal_table.html), and its link to them all."""
        from django.utils.translation import gettext as _
        from django.utils.translation import ngettext

        from proposals.localized import datetime_text
        from proposals.models import ProposalState
        from proposals.rules import endorsements_needed_phrase

        states = dict(ProposalState.choices)
        parts = [
            f'<section class="panel"><h2>{html.escape(_(SECTIONS[name][0]))} '
            f'<span class="count">{count}</span></h2><table class="proposals"><tbody>'
        ]
        for row in rows:
            (pk, title, state, kind, country, short, lead, oid, oname, deadline) = row[:10]
            note = ""
            if counts:
                counted, quorum = row[13], row[12] or 0
                if oid is not None and counted >= quorum:
                    note = ngettext(
                        "Quorum reached: %(count)s endorsement, %(quorum)s needed.",
                        "Quorum reached: %(count)s endorsements, %(quorum)s needed.",
                        counted,
                    ) % {"count": counted, "quorum": quorum}
                else:
                    note = endorsements_needed_phrase(counted, quorum)
                note = f'<div class="muted small">{html.escape(note)}</div>'
            if row[14]:
                note += (
                    '<div class="small changes-requested-mark">'
                    + html.escape(_("Changes requested by %(reviewer)s") % {"reviewer": row[14]})
                    + "</div>"
                )
            parts.append(
                f'<tr><td><a href="/proposals/{pk}/">{html.escape(title)}</a>{note}</td>'
                f'<td><span class="state state-{state}">{html.escape(str(states[state]))}</span>'
                f"</td><td>{html.escape(organization_name(kind, country, short, lead))}</td>"
            )
            if oid is None:
                parts.append('<td><span class="muted">—</span></td><td>—</td></tr>')
                continue
            status = deadline_badge(deadline, now) if state in OPEN else ""
            parts.append(
                f'<td><a href="/occasions/{oid}/">{html.escape(oname)}</a></td>'
                f'<td><time datetime="{deadline.astimezone(zoneinfo.ZoneInfo("UTC")).isoformat()}">'
                f"{datetime_text(deadline)}</time> {status}</td></tr>"
            )
        parts.append("</tbody></table>")
        if count > len(rows):
            parts.append(
                f'<p><a href="{self.list_path}">'
                + html.escape(ngettext("All %(count)s", "All %(count)s", count) % {"count": count})
                + "</a></p>"
            )
        parts.append("</section>")
        return parts

    def since_box(self, notices: list[tuple[Any, ...]], since: datetime, first: bool) -> list[str]:
        """proposals/_since_last_visit.html: the notices grouped by what they are about."""
        from django.utils.translation import gettext as _

        from proposals.localized import datetime_text

        parts = [
            f'<section class="panel" id="since-last-visit"><h2>'
            f"{html.escape(_('Since your last visit'))} "
            f'<span class="count">{len(notices)}{"+" if len(notices) >= 20 else ""}</span></h2>'
        ]
        groups: dict[tuple[int, int], list[tuple[Any, ...]]] = {}
        for notice in notices:
            groups.setdefault((notice[3], notice[4]), []).append(notice)
        for (kind, pk), items in groups.items():
            context = items[0][2] or {}
            if kind == self.proposal_type:
                title, path = context.get("title") or _("A proposal"), f"/proposals/{pk}/"
            elif kind == self.occasion_type:
                title, path = context.get("occasion") or _("An occasion"), f"/occasions/{pk}/"
            else:
                title, path = _("Other notices"), ""
            parts.append(f'<h3><a href="{path}">{html.escape(str(title))}</a></h3><ul>')
            parts += [
                f"<li>{html.escape(item[1])} <time>{datetime_text(item[5])}</time></li>"
                for item in items
            ]
            parts.append("</ul>")
        if not notices:
            parts.append(
                "<p>"
                + html.escape(
                    _(
                        "Welcome: from your next visit on, what changed on what you follow shows here."
                    )
                    if first
                    else _("Nothing changed on what you follow since your last visit.")
                )
                + "</p>"
            )
        parts.append(f'<p><a href="{self.notifications_path}">{_("All my notifications")}</a></p>')
        parts.append("</section>")
        return parts

    def deadlines_box(self, deadlines: list[tuple[Any, ...]], now: datetime) -> list[str]:
        from django.utils.translation import gettext as _
        from django.utils.translation import ngettext

        from proposals.localized import datetime_text

        parts = [f'<section class="panel"><h2>{html.escape(_("Upcoming deadlines"))}</h2><ul>']
        for oid, name, deadline, count in deadlines:
            parts.append(
                f'<li><a href="/occasions/{oid}/">{html.escape(name)}</a> '
                f"<time>{datetime_text(deadline)}</time> {deadline_badge(deadline, now)} "
                + html.escape(
                    ngettext("%(count)s open proposal", "%(count)s open proposals", count)
                    % {"count": count}
                )
                + "</li>"
            )
        parts.append(f'</ul><p><a href="{self.occasions_path}">')
        parts.append(html.escape(_("All occasions and the calendar")) + "</a></p></section>")
        return parts


def deadline_badge(deadline: datetime, now: datetime) -> str:
    """proposals/_deadline.html by hand."""
    from django.utils.translation import gettext as _
    from django.utils.translation import ngettext

    seconds_left = (deadline - now).total_seconds()
    days = int(abs(seconds_left) // 86400)
    if seconds_left < 0:
        text = ngettext("overdue by %(days)s day", "overdue by %(days)s days", days)
        return f'<span class="badge overdue">{text % {"days": days}}</span>'
    if days == 0:
        return f'<span class="badge soon">{_("due within a day")}</span>'
    text = ngettext("%(days)s day left", "%(days)s days left", days) % {"days": days}
    return f'<span class="badge{" soon" if days < 8 else ""}">{text}</span>'


FORECAST_STEP_PHRASES = {
    "draft": (
        "At risk: finishing the draft usually takes %(days)s day",
        "At risk: finishing the draft usually takes %(days)s days",
    ),
    "in_review": (
        "At risk: review usually takes %(days)s day",
        "At risk: review usually takes %(days)s days",
    ),
    "endorsement": (
        "At risk: gathering endorsements usually takes %(days)s day",
        "At risk: gathering endorsements usually takes %(days)s days",
    ),
}


def forecast_text(forecast: Any) -> str:
    """proposals/_forecast.html for a proposal at risk (it has a probability)."""
    from django.utils.translation import gettext as _
    from django.utils.translation import ngettext

    from proposals.localized import date_text

    singular, plural = FORECAST_STEP_PHRASES[forecast.weighing_step]
    step = ngettext(singular, plural, forecast.typical_days) % {"days": forecast.typical_days}
    left = ngettext("%(days)s day is left.", "%(days)s days are left.", forecast.days_left) % {
        "days": forecast.days_left
    }
    chance = _("%(percent)s chance of submission in time; expected around %(date)s.") % {
        "percent": forecast.percent_text,
        "date": date_text(forecast.expected_submission),
    }
    return (
        f'<span class="forecast at-risk"><strong>{html.escape(step)}{_("; ")}'
        f"{html.escape(left)}</strong><br>{html.escape(chance)}</span>"
    )


PROPOSAL_LINK = re.compile(r'href="/proposals/(\d+|new)/"')
SECTION_COUNT = re.compile(r'class="count">(\d+\+?)<')


def page_facts(page: bytes) -> dict[str, list[str]]:
    """What a page shows that its bound must show too: the proposals it links to (and the new
    proposal button), in order, and the counts of its sections."""
    text = page.decode()
    return {"links": PROPOSAL_LINK.findall(text), "counts": SECTION_COUNT.findall(text)}


def same_page(system: bytes, bound: bytes) -> dict[str, Any]:
    """The same proposals, actions and counts on the page and on its bound, or the run stops."""
    shown, drawn = page_facts(system), page_facts(bound)
    if shown != drawn:
        raise RuntimeError(f"the bound does not show what the page shows: {shown} != {drawn}")
    return {"equal": True, "links": len(shown["links"]), "counts": shown["counts"]}


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
    }
    if getattr(ProposalFilter.base_filters.get("theme"), "distinct", False):
        variants["without DISTINCT on the theme filter"] = [no_distinct()]
        variants["without the transitions nor DISTINCT"] = [no_transitions(), no_distinct()]
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

        if getattr(ProposalFilter.base_filters.get("theme"), "distinct", False):
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


def proposal_page_measure(proposal_id: int, repeat: int) -> dict[str, Any]:
    """The proposal page (/proposals/{id}/) as the secretariat: its median, its queries and
    where its time goes. Its lower bound is not written yet (see the report)."""
    from django.test import Client

    from bench.accounts import session_verified
    from proposals.models import Person

    person = Person.objects.get(username="secretariat1")
    page = Client()
    page.force_login(person)
    session_verified(page.session, person)
    path = f"/proposals/{proposal_id}/"
    ok(page.get("/"))  # a first visit is welcomed instead
    ok(page.get(path))
    times = [seconds(lambda: ok(page.get(path))) for _ in range(repeat)]
    return {
        "what": f"GET {path} as secretariat1",
        "system_ms": round(statistics.median(times) * 1000, 2),
        "runs": repeat,
        "queries": query_count(lambda: ok(page.get(path))),
        "profile": profile_top(lambda: ok(page.get(path))),
    }


JSON_LEGITIMATELY_DIFFERENT: dict[str, str] = {}
"""Fields of the API's JSON the bound may answer differently, and why (none today)."""


def json_differences(system: Any, bound: Any, where: str = "") -> list[str]:
    """Where two parsed JSON documents differ, as paths (at most a few per list)."""
    if isinstance(system, dict) and isinstance(bound, dict):
        found = []
        for name in sorted(set(system) | set(bound)):
            if name in JSON_LEGITIMATELY_DIFFERENT:
                continue
            if name not in system or name not in bound:
                found.append(
                    f"{where}.{name}: only in the {'bound' if name in bound else 'system'}"
                )
                continue
            found += json_differences(system[name], bound[name], f"{where}.{name}")
        return found
    if isinstance(system, list) and isinstance(bound, list):
        if len(system) != len(bound):
            return [f"{where}: {len(system)} items in the system, {len(bound)} in the bound"]
        return [
            difference
            for index, (a, b) in enumerate(zip(system, bound, strict=True))
            for difference in json_differences(a, b, f"{where}[{index}]")
        ]
    return [] if system == bound else [f"{where}: {system!r} in the system, {bound!r} in the bound"]


def same_json(system: bytes, bound: bytes) -> dict[str, Any]:
    """The bound's JSON against the system's, parsed: equal, or the run stops and says where."""
    differences = json_differences(json.loads(system), json.loads(bound))
    if differences:
        raise RuntimeError(
            "the bound does not answer the system's JSON: " + "; ".join(differences[:8])
        )
    return {"equal": True, "fields_left_out": dict(JSON_LEGITIMATELY_DIFFERENT)}


def run(config: dict[str, Any]) -> dict[str, Any]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bench.accounts import api_token_key, session_verified
    from bench.bare import bare_client, fixed_cost_what_if
    from proposals.models import Occasion, Person, Proposal

    repeat = config["repeat"]
    url = config["database_url"]
    secretary = Person.objects.get(username="secretariat1")
    key = api_token_key(secretary)
    api = Client(HTTP_AUTHORIZATION=f"Token {key}")
    bound = RawBound(url, secretary.pk, secretary.timezone, token=key)
    results: dict[str, Any] = {"figures": {}, "queries": {}, "profiles": {}, "same_output": {}}

    def api_list(size: int) -> Callable[[], bytes]:
        return lambda: ok(api.get(f"/api/proposals/?{LIST_FILTERS}&page_size={size}"))

    figures = results["figures"]
    results["same_output"]["api_list"] = same_json(api_list(50)(), bound.proposal_list(50))
    figures["api_list"] = side_by_side(api_list(50), lambda: bound.proposal_list(50), repeat=repeat)
    figures["api_list"]["what"] = f"GET /api/proposals/?{LIST_FILTERS}&page_size=50"
    results["queries"]["api_list_bound"] = bound.statements_count(lambda: bound.proposal_list(50))
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
    results["same_output"]["api_detail"] = same_json(
        ok(api.get(f"/api/proposals/{detail}/")), bound.proposal_detail(detail)
    )
    figures["api_detail"] = side_by_side(
        lambda: ok(api.get(f"/api/proposals/{detail}/")),
        lambda: bound.proposal_detail(detail),
        repeat=repeat,
    )
    figures["api_detail"]["what"] = f"GET /api/proposals/{detail}/ (a proposal in endorsement)"
    results["queries"]["api_detail_bound"] = bound.statements_count(
        lambda: bound.proposal_detail(detail)
    )
    results["queries"]["api_detail"] = query_count(lambda: ok(api.get(f"/api/proposals/{detail}/")))

    bound_sql = bound.sql_ms(lambda: bound.proposal_list(50))
    detail_sql = bound.sql_ms(lambda: bound.proposal_detail(detail))
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
    results["bound_token_with_roles"] = True  # the report's description of the bounds
    results["what_if_small"] = fixed_cost_what_if(
        api_token_key(secretary), small, bare_small, repeat
    )
    results["profiles"]["api_small"] = profile_top(lambda: ok(api.get(small)))
    profile_runs = 1 if repeat == 1 else 3
    results["profiles"]["api_list"] = profile_top(api_list(50), runs=profile_runs)
    results["profiles"]["api_detail"] = profile_top(
        lambda: ok(api.get(f"/api/proposals/{detail}/"))
    )
    results["proposal_page"] = proposal_page_measure(detail, repeat)
    # The dashboards last: they load many rows, whose garbage would weigh on what follows.
    for username, label in (
        ("o2d1", "dashboard_drafter"),
        ("secretariat1", "dashboard_secretariat"),
    ):
        person = Person.objects.get(username=username)
        page = Client()
        page.force_login(person)
        session_verified(page.session, person)
        person_bound = PageBound(url, page.session.session_key or "")
        ok(page.get("/"))  # a first visit is welcomed instead (invitations.welcome_first)
        results["same_output"][label] = same_page(ok(page.get("/")), person_bound.dashboard())
        figures[label] = side_by_side(
            lambda page=page: ok(page.get("/")),  # type: ignore[misc]
            person_bound.dashboard,
            repeat=max(1, repeat // 5),
        )
        results["queries"][f"{label}_bound"] = person_bound.statements_count()
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
