"""/api/audit-events/: the audit trail in the API, with the pages' filters, numbered and cursor
pages, and CSV; a person reads only their own part of it."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import Group
from tests.proposals.api.helpers import client_for, proposal_in
from workflow.audit import audit_record

pytestmark = pytest.mark.django_db
URL = "/api/audit-events/"


@pytest.fixture
def trail(group: Group) -> None:
    proposal_in(group, "endorsement")
    audit_record(
        action="person.roles_changed",
        actor=group.secretariat,
        subject=group.observer,
        obj=group.observer,
        before={"roles": []},
        after={"roles": ["drafter"]},
    )
    audit_record(action="token.created", actor=group.reviewer, subject=group.reviewer)


def test_the_secretariat_lists_the_whole_trail_newest_first_and_filtered(
    group: Group, trail: None
) -> None:
    client = client_for(group.secretariat)
    response = client.get(URL)
    assert response.status_code == 200
    body = response.json()
    kinds = {entry["kind"] for entry in body["results"]}
    assert kinds == {"transition", "audit"}
    moments = [entry["at"] for entry in body["results"]]
    assert moments == sorted(moments, reverse=True)
    assert body["count"] == len(body["results"])
    approve = client.get(URL, {"action": "approve"}).json()["results"]
    assert [(e["actor"], e["label"], e["before"]["state"]) for e in approve] == [
        ("rita", "A reviewer approved the proposal", "in_review")
    ]
    observer = client.get(URL, {"person": group.observer.username}).json()["results"]
    assert [(e["action"], e["actor"], e["subject"]) for e in observer] == [
        ("person.roles_changed", "sam", "gabriel")
    ]
    french = client.get(URL, {"action": "approve"}, HTTP_ACCEPT_LANGUAGE="fr").json()
    assert french["results"][0]["label"] == "Un relecteur a approuvé la proposition"


def test_a_person_lists_only_their_own_part_and_anonymous_is_a_401(
    group: Group, trail: None
) -> None:
    results = client_for(group.observer).get(URL).json()["results"]
    assert [entry["action"] for entry in results] == ["person.roles_changed"]
    for person in (group.drafter, group.reviewer, group.representative_ma, group.outsider):
        for entry in client_for(person).get(URL, {"page_size": 100}).json()["results"]:
            assert person.username in (entry["actor"], entry["subject"])
    assert client_for(None).get(URL).status_code == 401


def test_bad_filters_are_a_400_in_the_apis_error_shape(group: Group) -> None:
    response = client_for(group.secretariat).get(
        URL, {"since": "2026-02-30", "organization": "x", "proposal": "0", "action": "A;B"}
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert set(body) >= {"detail", "reasons", "reason_codes", "since", "organization"}
    assert set(body) >= {"proposal", "action"}
    out_of_range = client_for(group.secretariat).get(URL, {"until": "9999-12-31"})
    assert out_of_range.status_code == 400
    assert out_of_range.json()["until"] == ["Give a date between the years 1900 and 2200."]
    bad_cursor = client_for(group.secretariat).get(URL, {"cursor": "not-a-cursor"})
    assert bad_cursor.status_code == 400 and "cursor" in bad_cursor.json()


def test_cursor_pages_walk_the_whole_trail_forwards_and_back(group: Group, trail: None) -> None:
    client = client_for(group.secretariat)
    everything = [
        (e["kind"], e["id"]) for e in client.get(URL, {"page_size": 100}).json()["results"]
    ]
    assert len(everything) >= 6
    walked, pages = [], []
    url: str | None = f"{URL}?pagination=cursor&page_size=2"
    while url:
        page = client.get(url).json()
        pages.append(page)
        walked += [(e["kind"], e["id"]) for e in page["results"]]
        url = page["next"]
    assert walked == everything
    assert pages[0]["previous"] is None
    back = client.get(pages[-1]["previous"]).json()
    assert back["results"] == pages[-2]["results"]


def test_the_trail_is_given_as_csv_for_machines(group: Group, trail: None) -> None:
    response = client_for(group.secretariat).get(URL, {"format": "csv", "action": "approve"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
    rows = list(csv.DictReader(io.StringIO(body)))
    assert [(row["kind"], row["action"], row["actor"]) for row in rows] == [
        ("transition", "approve", "rita")
    ]
    assert json.loads(rows[0]["before"]) == {"state": "in_review"}
    assert rows[0]["at"].endswith("+00:00")


def test_the_list_runs_a_constant_number_of_queries(group: Group, trail: None) -> None:
    client = client_for(group.secretariat)
    client.get(URL)
    with CaptureQueriesContext(connection) as few:
        assert client.get(URL, {"page_size": 5}).status_code == 200
    for number in range(30):
        audit_record(
            action="person.settings_changed",
            actor=group.drafter if number % 2 else group.reviewer,
            subject=group.co_drafter,
        )
    with CaptureQueriesContext(connection) as many:
        assert client.get(URL, {"page_size": 40}).status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries)
    with CaptureQueriesContext(connection) as cursor:
        assert client.get(URL, {"page_size": "40", "pagination": "cursor"}).status_code == 200
    assert len(cursor.captured_queries) == len(few.captured_queries) - 1  # no count


def test_the_route_is_in_the_schema(group: Group) -> None:
    schema = client_for(group.secretariat).get(
        reverse("schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json"
    )
    paths = json.loads(schema.content)["paths"]
    operation = paths["/api/audit-events/"]["get"]
    names = {parameter["name"] for parameter in operation["parameters"]}
    assert {"person", "organization", "proposal", "action", "since", "until", "cursor"} <= names
