"""The delivery log and the reminder rules through the API."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from proposals.models import Person, ReminderRule
from tests.factories import Group, api_token_key, proposal_draft
from workflow.models import Delivery
from workflow.reminders import reminders_scan

pytestmark = pytest.mark.django_db


def client_for(person: Person | None) -> APIClient:
    client = APIClient()
    if person is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_key(person)}")
    return client


def some_deliveries(group: Group, count: int = 3) -> None:
    type(group.occasion).objects.filter(pk=group.occasion.pk).update(
        submission_deadline=timezone.now() + dt.timedelta(days=6)
    )
    for index in range(count):
        proposal_draft(group, title=f"Proposal {index}")
    reminders_scan(now=timezone.now())


# The delivery log


def test_the_secretariat_reads_who_was_reminded_of_what_and_with_what_result(
    group: Group,
) -> None:
    some_deliveries(group, 1)
    response = client_for(group.secretariat).get("/api/deliveries/")
    assert response.status_code == 200
    (row,) = response.json()["results"]
    assert row["kind"] == "reminder"
    assert row["event"] == "reminder_draft"
    assert row["status"] == "pending"
    assert row["recipient"]["username"] == "claire"
    assert row["about"]["type"] == "proposal"
    assert row["title"] == "Proposal 0"
    assert row["stage"] == "v1:d7"


@pytest.mark.parametrize(
    "who", ["drafter", "reviewer", "representative_fr", "observer", "outsider"]
)
def test_nobody_but_the_secretariat_reads_the_delivery_log(group: Group, who: str) -> None:
    some_deliveries(group, 1)
    response = client_for(getattr(group, who)).get("/api/deliveries/")
    assert response.status_code == 403
    assert response.json()["reasons"] == ["Only the secretariat can read the delivery log."]


def test_the_delivery_log_needs_credentials(group: Group) -> None:
    assert client_for(None).get("/api/deliveries/").status_code == 401


def test_the_delivery_log_filters_by_status_kind_and_recipient(group: Group) -> None:
    some_deliveries(group, 2)
    first = Delivery.objects.filter(channel="email").order_by("id")[0]  # not an in-page row
    Delivery.objects.filter(pk=first.pk).update(
        status=Delivery.Status.FAILED, last_error="550 No such user"
    )
    client = client_for(group.secretariat)
    failed = client.get("/api/deliveries/", {"status": "failed"}).json()["results"]
    assert [row["last_error"] for row in failed] == ["550 No such user"]
    assert client.get("/api/deliveries/", {"kind": "notification"}).json()["count"] == 0
    mine = client.get("/api/deliveries/", {"recipient": group.drafter.pk}).json()
    assert mine["count"] == 2
    assert client.get("/api/deliveries/", {"recipient_username": "sam"}).json()["count"] == 0


def test_a_filter_value_that_is_not_understood_is_a_400(group: Group) -> None:
    response = client_for(group.secretariat).get("/api/deliveries/", {"status": "lost"})
    assert response.status_code == 400


def test_the_delivery_log_runs_a_constant_number_of_queries(
    group: Group, django_assert_max_num_queries
) -> None:
    some_deliveries(group, 1)
    client = client_for(group.secretariat)
    client.get("/api/deliveries/")
    with django_assert_max_num_queries(7) as few:
        client.get("/api/deliveries/")
    for index in range(10):
        Delivery.objects.create(
            key=f"extra{index}",
            kind=Delivery.Kind.NOTIFICATION,
            recipient=Person.objects.create(username=f"extra{index}"),
            template="proposals/email/submitted",
            context={"title": f"Extra {index}"},
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/api/deliveries/")
    assert response.json()["count"] >= 11


# Reminder rules


def test_the_secretariat_sets_the_offsets_of_a_kind_of_occasion(group: Group) -> None:
    response = client_for(group.secretariat).post(
        "/api/reminder-rules/",
        {"occasion_kind": "law_consultation", "offsets": [3, 21, 10]},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["offsets"] == [21, 10, 3]
    rule = ReminderRule.objects.get()
    assert (rule.occasion_kind, rule.occasion_id) == ("law_consultation", None)


def test_an_occasion_rule_is_changed_with_patch(group: Group) -> None:
    rule = ReminderRule.objects.create(occasion=group.occasion, offsets=[7])
    client = client_for(group.secretariat)
    response = client.patch(f"/api/reminder-rules/{rule.pk}/", {"offsets": [5, 1]}, format="json")
    assert response.status_code == 200
    rule.refresh_from_db()
    assert rule.offsets == [5, 1]


def test_people_of_the_group_read_the_rules_but_only_the_secretariat_writes(
    group: Group,
) -> None:
    ReminderRule.objects.create(occasion_kind="summit", offsets=[10])
    drafter = client_for(group.drafter)
    assert drafter.get("/api/reminder-rules/").json()["count"] == 1
    response = drafter.post(
        "/api/reminder-rules/", {"occasion_kind": "law_consultation", "offsets": [3]}, format="json"
    )
    assert response.status_code == 403
    assert client_for(group.outsider).get("/api/reminder-rules/").status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"occasion_kind": "summit", "offsets": []}, "offsets"),
        ({"occasion_kind": "summit", "offsets": [0]}, "offsets"),
        ({"occasion_kind": "summit", "offsets": [400]}, "offsets"),
        ({"occasion_kind": "summit", "offsets": [7, 7]}, "offsets"),
        ({"occasion_kind": "summit", "offsets": ["soon"]}, "offsets"),
        ({"occasion_kind": "party", "offsets": [7]}, "occasion_kind"),
        ({"offsets": [7]}, None),
    ],
)
def test_a_bad_rule_is_refused_with_the_reason(group: Group, body: dict, field: str | None) -> None:
    response = client_for(group.secretariat).post("/api/reminder-rules/", body, format="json")
    assert response.status_code == 400
    if field:
        assert field in response.json()
    assert response.json()["reasons"]


def test_a_second_rule_for_the_same_kind_is_refused(group: Group) -> None:
    ReminderRule.objects.create(occasion_kind="summit", offsets=[10])
    response = client_for(group.secretariat).post(
        "/api/reminder-rules/", {"occasion_kind": "summit", "offsets": [3]}, format="json"
    )
    assert response.status_code == 400
    assert "occasion_kind" in response.json()


# The calendar link


def test_renewing_the_calendar_link_makes_the_old_one_stop_working(group: Group) -> None:
    client = client_for(group.drafter)
    old = client.get("/api/calendar-link/").json()["url"]
    assert APIClient().get(old.replace("http://testserver", "")).status_code == 200
    response = client.post("/api/calendar-link/")
    assert response.status_code == 201
    new = response.json()["url"]
    assert new != old
    assert APIClient().get(old.replace("http://testserver", "")).status_code == 404
    assert APIClient().get(new.replace("http://testserver", "")).status_code == 200
