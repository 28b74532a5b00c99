"""Cursor pages: a keyset on (ordering key, id), for clients that walk a long list while others
write. No row is repeated, and none that existed throughout the walk is skipped."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from proposals.models import Proposal
from tests.factories import Group, OccasionFactory, proposal_draft
from tests.proposals.api.helpers import client_for
from tests.proposals.api.test_ordering_pages import (
    PROPOSAL_ORDERINGS,
    demo_of_41_proposals,
    superuser_client,
)

pytestmark = pytest.mark.django_db


def page_of(client: APIClient, url: str) -> dict[str, Any]:
    response = client.get(url)
    assert response.status_code == 200, response.json()
    return response.json()


def walk(client: APIClient, url: str, *, link: str = "next") -> list[int]:
    """The ids of every row, page after page, following `link` from `url` to the end."""
    ids: list[int] = []
    next_url: str | None = url
    while next_url:
        page = page_of(client, next_url)
        assert "count" not in page
        ids.extend(row["id"] for row in page["results"])
        next_url = page[link]
        assert len(ids) <= 1000, "the pages do not end"
    return ids


@pytest.mark.parametrize("ordering", PROPOSAL_ORDERINGS)
def test_the_demo_proposals_walked_by_cursor_in_any_ordering_appear_once_each_in_order(
    demo_loaded: None, ordering: str
) -> None:
    demo_of_41_proposals()  # 41 at least: the demo's archive of closed proposals adds more
    client = superuser_client()
    numbered: list[int] = []
    next_url: str | None = f"/api/proposals/?page_size=100&ordering={ordering}"
    while next_url:
        page = page_of(client, next_url)
        numbered.extend(row["id"] for row in page["results"])
        next_url = page["next"]
    assert len(numbered) == Proposal.objects.count() >= 41

    walked = walk(client, f"/api/proposals/?pagination=cursor&page_size=5&ordering={ordering}")

    assert walked == numbered


def test_the_previous_links_walk_back_to_the_first_page(group: Group) -> None:
    for number in range(7):
        proposal_draft(
            group, title=f"Title {number % 3}", occasion=None if number % 2 else group.occasion
        )
    client = client_for(group.secretariat)
    url = "/api/proposals/?pagination=cursor&page_size=2&ordering=title"
    pages = [page_of(client, url)]
    while pages[-1]["next"]:
        pages.append(page_of(client, pages[-1]["next"]))
    assert pages[0]["previous"] is None
    assert pages[-1]["next"] is None

    backwards = [pages[-1]]
    while backwards[-1]["previous"]:
        backwards.append(page_of(client, backwards[-1]["previous"]))

    assert [page["results"] for page in backwards] == [page["results"] for page in reversed(pages)]


def test_a_cursor_walk_by_deadline_puts_proposals_without_one_last_both_ways(
    group: Group,
) -> None:
    later = OccasionFactory.create(
        submission_deadline=group.occasion.submission_deadline + dt.timedelta(days=1)
    )
    early = [proposal_draft(group) for _ in range(3)]
    late = [proposal_draft(group, occasion=later) for _ in range(2)]
    undated = [proposal_draft(group, occasion=None) for _ in range(3)]
    client = client_for(group.secretariat)
    ids = [p.pk for p in early + late + undated]

    rising = walk(client, "/api/proposals/?pagination=cursor&page_size=2&ordering=deadline")
    falling = walk(client, "/api/proposals/?pagination=cursor&page_size=2&ordering=-deadline")

    assert rising == sorted(ids[:3]) + sorted(ids[3:5]) + sorted(ids[5:])
    assert falling == sorted(ids[3:5], reverse=True) + sorted(ids[:3], reverse=True) + sorted(
        ids[5:], reverse=True
    )


@pytest.mark.parametrize("ordering", ["deadline", "-deadline", "title", "-id", "-updated_at"])
def test_a_walk_while_someone_inserts_and_deletes_repeats_nothing_and_skips_no_lasting_row(
    group: Group, ordering: str
) -> None:
    occasions = [group.occasion, *OccasionFactory.create_batch(2), None]
    for number in range(30):
        proposal_draft(group, title=f"T{number % 4}", occasion=occasions[number % 4])
    client = client_for(group.secretariat)
    lasting = set(Proposal.objects.values_list("pk", flat=True))
    deleted: set[int] = set()
    seen: list[int] = []
    next_url: str | None = f"/api/proposals/?pagination=cursor&page_size=4&ordering={ordering}"
    turn = 0
    while next_url:
        page = page_of(client, next_url)
        seen.extend(row["id"] for row in page["results"])
        next_url = page["next"]
        # Meanwhile, someone writes: new rows in every part of the order, one row gone from
        # the pages already read and one from those still to come.
        turn += 1
        for offset in range(3):
            proposal_draft(group, title=f"T{(turn + offset) % 4}", occasion=occasions[offset])
        unread = Proposal.objects.exclude(pk__in=seen).exclude(pk__in=deleted).order_by("?")
        read = Proposal.objects.filter(pk__in=seen).exclude(pk__in=deleted).order_by("?")
        for victim in (unread.first(), read.first()):
            if victim is not None:
                deleted.add(victim.pk)
                victim.delete()
        assert turn < 100, "the pages do not end"

    assert [pk for pk, times in Counter(seen).items() if times > 1] == []
    assert lasting - deleted <= set(seen)


def test_a_cursor_page_reads_by_keyset_without_offset_or_count(group: Group) -> None:
    for _ in range(6):
        proposal_draft(group)
    client = client_for(group.secretariat)
    first = page_of(client, "/api/proposals/?pagination=cursor&page_size=2&ordering=deadline")
    numbered_queries = CaptureQueriesContext(connection)
    with numbered_queries:
        page_of(client, "/api/proposals/?page=2&page_size=2&ordering=deadline")
    cursor_queries = CaptureQueriesContext(connection)
    with cursor_queries:
        page_of(client, first["next"])

    statements = [query["sql"].upper() for query in cursor_queries.captured_queries]
    proposal_reads = [sql for sql in statements if 'FROM "PROPOSALS_PROPOSAL"' in sql]
    assert not any(" OFFSET " in sql or "COUNT(" in sql for sql in proposal_reads)
    assert any('"PROPOSALS_OCCASION"."SUBMISSION_DEADLINE" >' in sql for sql in proposal_reads)
    assert len(cursor_queries) == len(numbered_queries) - 1  # no count


def test_a_cursor_names_no_page_number_and_keeps_the_filters(group: Group) -> None:
    for _ in range(3):
        proposal_draft(group)
    client = client_for(group.secretariat)
    page = page_of(client, "/api/proposals/?pagination=cursor&page_size=2&state=draft")
    query = parse_qs(urlsplit(page["next"]).query)
    assert set(query) == {"cursor", "page_size", "state"}
    assert len(page_of(client, page["next"])["results"]) == 1


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("cursor=not-a-cursor", "cursor"),
        ("cursor=eyJvIjpbInBrIl0sInYiOlsieCJdLCJiIjpmYWxzZX0", "cursor"),  # a text as the id
        ("cursor=&page=2", "page"),
        ("pagination=pages", "pagination"),
        ("pagination=page&cursor=abc", "cursor"),
        ("page_size=null", "page_size"),
        ("page_size=false", "page_size"),
        ("page_size=0", "page_size"),
    ],
)
def test_a_bad_cursor_or_paging_parameter_is_a_400_that_names_it(
    group: Group, query: str, field: str
) -> None:
    response = client_for(group.secretariat).get(f"/api/proposals/?{query}")
    assert response.status_code == 400
    body = response.json()
    assert field in body
    assert body["reasons"]


def test_a_cursor_of_another_ordering_is_a_400_that_says_so(group: Group) -> None:
    for _ in range(3):
        proposal_draft(group)
    client = client_for(group.secretariat)
    by_title = page_of(client, "/api/proposals/?pagination=cursor&page_size=1&ordering=title")
    cursor = parse_qs(urlsplit(by_title["next"]).query)["cursor"][0]
    response = client.get(f"/api/proposals/?cursor={cursor}&ordering=-deadline")
    assert response.status_code == 400
    assert "another ordering" in response.json()["detail"] + " ".join(response.json()["reasons"])


def test_every_list_of_the_api_can_be_walked_by_cursor(demo_loaded: None) -> None:
    client = superuser_client()
    for url in [
        "/api/organizations/",
        "/api/people/",
        "/api/occasions/",
        "/api/bodies/",
        "/api/presidencies/",
        "/api/security-events/",
    ]:
        numbered = [row["id"] for row in page_of(client, f"{url}?page_size=100")["results"]]
        assert walk(client, f"{url}?pagination=cursor&page_size=3") == numbered, url


def test_the_schema_declares_both_ways_of_paging(group: Group) -> None:
    schema = client_for(group.secretariat).get("/api/schema/?format=json").json()
    parameters = {p["name"]: p for p in schema["paths"]["/api/proposals/"]["get"]["parameters"]}
    assert parameters["pagination"]["schema"]["enum"] == ["page", "cursor"]
    assert parameters["cursor"]["schema"]["type"] == "string"
    page = schema["components"]["schemas"]["PaginatedProposalList"]
    assert "count" not in page["required"]
    assert set(page["required"]) >= {"next", "previous", "results"}


def plan_nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    nodes = [plan]
    for child in plan.get("Plans", []):
        nodes.extend(plan_nodes(child))
    return nodes


@pytest.mark.parametrize(
    ("ordering", "index"),
    [
        ("", "proposal_updated_id"),
        ("-updated_at", "proposal_updated_id"),
        ("title", "proposal_title_id"),
        ("created_at", "proposal_created_id"),
        ("id", "proposals_proposal_pkey"),
    ],
)
def test_a_cursor_page_deep_in_a_long_list_reads_only_its_rows_from_an_index(
    postgres: None, ordering: str, index: str
) -> None:
    """With 20 000 proposals, the fifth page reads about a page of rows, starting in the
    ordering's index where the fourth ended: what a page costs does not grow with its depth
    (an offset would read every row before it)."""
    from tests.factories import group_setup

    group = group_setup()
    model = proposal_draft(group)
    with connection.cursor() as cursor:
        columns = [str(f.column) for f in Proposal._meta.concrete_fields if f.column != "id"]
        varied = {
            "title": "'Title ' || (g %% 700)",
            "created_at": "now() - (g %% 5000) * interval '1 minute'",
            "updated_at": "now() - (g %% 3000) * interval '1 minute'",
        }
        select = ", ".join(varied.get(column, column) for column in columns)
        # The model's own column names and fixed expressions: nothing comes from outside.
        copies = (
            f"INSERT INTO proposals_proposal ({', '.join(columns)}) "  # noqa: S608
            f"SELECT {select} FROM proposals_proposal, generate_series(1, 20000) g "
            f"WHERE proposals_proposal.id = %s"
        )
        cursor.execute(copies, [model.pk])
        cursor.execute("ANALYZE proposals_proposal")
    client = client_for(group.secretariat)
    order = f"&ordering={ordering}" if ordering else ""
    page = page_of(client, f"/api/proposals/?pagination=cursor&page_size=100{order}")
    for _ in range(3):
        page = page_of(client, page["next"])
    with CaptureQueriesContext(connection) as captured:
        page_of(client, page["next"])
    [sql] = [
        query["sql"]
        for query in captured.captured_queries
        if 'FROM "proposals_proposal"' in query["sql"] and "LIMIT 101" in query["sql"]
    ]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}")
        plan = cursor.fetchone()[0][0]["Plan"]
    scans = [node for node in plan_nodes(plan) if node.get("Relation Name") == "proposals_proposal"]
    assert [node["Node Type"] for node in scans] in (["Index Scan"], ["Index Only Scan"]), plan
    assert scans[0]["Index Name"] == index
    assert scans[0]["Actual Rows"] + scans[0].get("Rows Removed by Filter", 0) < 300


@pytest.mark.parametrize("ordering", ["title", "-deadline"])
def test_a_cursor_walk_while_another_connection_writes_repeats_nothing_and_skips_nothing(
    postgres: None, ordering: str
) -> None:
    """A writer on its own connection inserts and deletes proposals all through the walk; of the
    rows it never touches, each is seen once."""
    import threading
    import time

    from tests.factories import group_setup

    group = group_setup()
    occasions = [group.occasion, OccasionFactory.create(), None]
    rows = [proposal_draft(group, title=f"T{n % 7}", occasion=occasions[n % 3]) for n in range(60)]
    lasting = {row.pk for row in rows[::2]}
    deletable = [row.pk for row in rows[1::2]]
    stop = threading.Event()
    writes: list[str] = []

    def writer() -> None:
        try:
            number = 0
            while not stop.is_set():
                number += 1
                new = proposal_draft(group, title=f"T{number % 7}", occasion=occasions[number % 3])
                deletable.append(new.pk)
                Proposal.objects.filter(pk=deletable.pop(number % len(deletable))).delete()
                writes.append("insert and delete")
                time.sleep(0.005)
        finally:
            connection.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        client = client_for(group.secretariat)
        seen: list[int] = []
        next_url: str | None = f"/api/proposals/?pagination=cursor&page_size=5&ordering={ordering}"
        while next_url:
            page = page_of(client, next_url)
            seen.extend(row["id"] for row in page["results"])
            next_url = page["next"]
            time.sleep(0.05)
            assert len(seen) < 2000, "the pages do not end"
    finally:
        stop.set()
        thread.join(timeout=30)

    assert len(writes) >= 5, "the writer wrote during the walk"
    assert [pk for pk, times in Counter(seen).items() if times > 1] == []
    assert lasting <= set(seen)
