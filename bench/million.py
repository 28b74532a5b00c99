"""Target 2: the proposal list API read by cursor, and the dashboards, at each size of the
scan's database (bench/scan.py grows it to 1M open proposals): medians at each size, and the
growth from 100,000 to the largest size.

The same requests as section 1 (the list's filters and page size, the drafter o2d1 and the
secretariat), the list asked with `pagination=cursor`: its first page, and the page reached by
following `next` CURSOR_STEPS times. At the largest size, each SELECT of these requests runs
again under EXPLAIN ANALYZE, so that a growth has its cause beside it.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from typing import Any

from bench.pages import LIST_FILTERS, ok
from bench.report_text import shorten
from bench.timing import seconds

CURSOR_LIST = f"/api/proposals/?pagination=cursor&{LIST_FILTERS}&page_size=50"
CURSOR_STEPS = 4  # the page measured after the first: the fifth
GROWTH_FROM = 100_000  # the size the growth is measured from (else the smallest)
FIGURES = {
    "list_first": "List API by cursor, first page",
    "list_later": f"List API by cursor, page {CURSOR_STEPS + 1}",
    "dashboard_drafter": "Dashboard page (a drafter)",
    "dashboard_secretariat": "Dashboard page (the secretariat)",
}


def median_ms(action: Callable[[], Any], runs: int) -> dict[str, Any]:
    action()  # warm: the forecast's learned durations, the caches of this size
    times = [seconds(action) for _ in range(runs)]
    return {
        "p50_ms": round(statistics.median(times) * 1000, 2),
        "spread_ms": [round(min(times) * 1000, 2), round(max(times) * 1000, 2)],
        "runs": runs,
    }


def captured_selects(action: Callable[[], Any]) -> tuple[int, list[str]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        action()
    statements = [q["sql"] for q in captured.captured_queries]
    return len(statements), [s for s in statements if s.lstrip().upper().startswith("SELECT")]


def slowest_plans(action: Callable[[], Any], keep: int = 3) -> list[dict[str, Any]]:
    """The request's SELECTs under EXPLAIN ANALYZE, the slowest `keep` with their plans."""
    from django.db import connection

    _count, selects = captured_selects(action)
    explained: list[dict[str, Any]] = []
    with connection.cursor() as cursor:
        for statement in selects:
            cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + statement)
            found = cursor.fetchone()[0]
            found = found[0] if isinstance(found, list) else found
            cursor.execute("EXPLAIN (ANALYZE, COSTS OFF, SUMMARY OFF) " + statement)
            explained.append(
                {
                    "sql": shorten(statement, limit=600),
                    "ms": round(float(found["Planning Time"]) + float(found["Execution Time"]), 2),
                    "plan": "\n".join(row[0] for row in cursor.fetchall()),
                }
            )
    explained.sort(key=lambda entry: -entry["ms"])
    return explained[:keep]


def measure(config: dict[str, Any], *, explain: bool) -> dict[str, Any]:
    """The four figures at the database's present size, with their query counts."""
    from django.test import Client

    from bench.accounts import api_token_key, session_verified
    from proposals.models import Person

    runs = config["repeat"]
    secretary = Person.objects.get(username="secretariat1")
    api = Client(HTTP_AUTHORIZATION=f"Token {api_token_key(secretary)}")
    later = CURSOR_LIST
    for _ in range(CURSOR_STEPS):
        following = api.get(later).json().get("next")
        if following is None:
            break
        later = following
    actions: dict[str, Callable[[], Any]] = {
        "list_first": lambda: ok(api.get(CURSOR_LIST)),
        "list_later": lambda: ok(api.get(later)),
    }
    for username, key in (("o2d1", "dashboard_drafter"), ("secretariat1", "dashboard_secretariat")):
        person = Person.objects.get(username=username)
        page = Client()
        page.force_login(person)
        session_verified(page.session, person)
        actions[key] = lambda page=page: ok(page.get("/"))  # type: ignore[misc]
    figures: dict[str, Any] = {}
    for key, action in actions.items():
        figure = median_ms(action, runs if key.startswith("list") else max(1, runs // 3))
        figure["queries"] = captured_selects(action)[0]
        if explain:
            figure["slowest"] = slowest_plans(action)
        figures[key] = figure
    return figures


def growth_base(targets: list[int]) -> int:
    """The size the growth is measured from: 100,000 open proposals, else the smallest."""
    return GROWTH_FROM if GROWTH_FROM in targets else targets[0]


def growth(sizes: list[dict[str, Any]]) -> dict[str, Any]:
    """Each figure's p50 at the largest size over its p50 at 100,000 open proposals (or at the
    smallest size when 100,000 was not measured)."""
    measured = [size for size in sizes if size.get("pages_at_size")]
    if len(measured) < 2:
        return {}
    base = next((s for s in measured if s.get("target") == GROWTH_FROM), measured[0])
    top = measured[-1]
    if base is top:
        return {}
    result: dict[str, Any] = {
        "from_open_proposals": base["open_proposals"],
        "to_open_proposals": top["open_proposals"],
    }
    for key in FIGURES:
        first = base["pages_at_size"].get(key, {}).get("p50_ms")
        last = top["pages_at_size"].get(key, {}).get("p50_ms")
        if first and last:
            result[key] = {"from_ms": first, "to_ms": last, "ratio": round(last / first, 2)}
    return result


# Growing a database tenfold by copies, for a measure of the growth on a machine too busy to
# generate a million proposals (bench.generate writes about 2,000 a second on an idle one).

COPIED: dict[str, dict[str, str | None]] = {
    # table: (columns given new values, or dropped for a new identity)
    "proposals_proposal": {"id": "id + {k} * {P}"},
    "proposals_proposal_authors": {"id": None, "proposal_id": "proposal_id + {k} * {P}"},
    "proposals_proposal_contributors": {"id": None, "proposal_id": "proposal_id + {k} * {P}"},
    "proposals_proposal_themes": {"id": None, "proposal_id": "proposal_id + {k} * {P}"},
    "proposals_revision": {"id": "id + {k} * {V}", "proposal_id": "proposal_id + {k} * {P}"},
    "proposals_review": {
        "id": None,
        "proposal_id": "proposal_id + {k} * {P}",
        "revision_id": "revision_id + {k} * {V}",
    },
    "proposals_endorsement": {"id": None, "proposal_id": "proposal_id + {k} * {P}"},
    "proposals_submission": {
        "id": None,
        "proposal_id": "proposal_id + {k} * {P}",
        "revision_id": "revision_id + {k} * {V}",
    },
    "proposals_outcome": {"id": None, "proposal_id": "proposal_id + {k} * {P}"},
    "workflow_transitionlog": {"id": None, "object_id": "object_id + {k} * {P}"},
}


def copies_add(url: str, copies: int) -> dict[str, Any]:
    """Add `copies` copies of every proposal with what the list and the dashboards read of it
    (authors, contributors, themes, revisions, reviews, endorsements, submission, outcome, its
    log): the same people, occasions and shape, new ids. INSERT ... SELECT in PostgreSQL."""
    import time

    from bench import db

    started = time.perf_counter()
    with db.connect(url, autocommit=True) as connection:
        proposals = connection.execute("SELECT max(id) FROM proposals_proposal").fetchone()
        revisions = connection.execute("SELECT max(id) FROM proposals_revision").fetchone()
        log_type = connection.execute(
            "SELECT id FROM django_content_type WHERE app_label = 'proposals' "
            "AND model = 'proposal'"
        ).fetchone()
        assert proposals and revisions and log_type
        P, V = proposals[0] + 1, revisions[0] + 1  # noqa: N806
        connection.execute("ALTER TABLE proposals_proposal DISABLE TRIGGER USER")
        try:
            for table, changed in COPIED.items():
                columns = [
                    row[0]
                    for row in connection.execute(
                        "SELECT column_name FROM information_schema.columns "
                        "WHERE table_name = %s ORDER BY ordinal_position",
                        (table,),
                    ).fetchall()
                    if changed.get(row[0], "") is not None
                ]
                values = [
                    f"({str(changed[c]).format(k='k', P=P, V=V)})" if c in changed else c
                    for c in columns
                ]
                where = f"WHERE content_type_id = {log_type[0]}" if "object_id" in changed else ""
                connection.execute(
                    f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(values)} "  # noqa: S608
                    f"FROM {table} CROSS JOIN generate_series(1, {copies}) AS k {where}"
                )
                print(f"copied {table}", flush=True)
        finally:
            connection.execute("ALTER TABLE proposals_proposal ENABLE TRIGGER USER")
        for table in ("proposals_proposal", "proposals_revision"):
            connection.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        connection.execute("VACUUM ANALYZE")
        total = connection.execute("SELECT count(*) FROM proposals_proposal").fetchone()
    return {"proposals": total[0] if total else 0, "seconds": round(time.perf_counter() - started)}


def main(argv: list[str] | None = None) -> None:
    """python -m bench.million URL OUT.json [COPIES]: the four figures on the database of URL,
    then on it grown by COPIES copies (9: ten times the proposals)."""
    import json
    import sys
    from pathlib import Path

    from bench.generate import django_setup

    url, out, *rest = argv if argv is not None else sys.argv[1:]
    copies = int(rest[0]) if rest else 9
    django_setup(url)
    from proposals.models import Proposal

    config = {"repeat": 15}
    sizes: list[dict[str, Any]] = [{"proposals": Proposal.objects.count(), "target": GROWTH_FROM}]
    sizes[0]["open_proposals"] = sizes[0]["proposals"]
    sizes[0]["pages_at_size"] = measure(config, explain=False)
    grown = copies_add(url, copies)
    sizes.append({**grown, "open_proposals": grown["proposals"]})
    sizes[1]["pages_at_size"] = measure(config, explain=True)
    Path(out).write_text(json.dumps({"sizes": sizes, "growth": growth(sizes)}, indent=2))


if __name__ == "__main__":
    main()
