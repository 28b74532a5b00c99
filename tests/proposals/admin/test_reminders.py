"""Reminder rules in the admin."""

from __future__ import annotations

import pytest
from django.test import Client

from proposals.models import Person, ReminderRule
from tests.factories import Group, client_signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_(group: Group) -> Client:
    admin = Person.objects.create_superuser(username="admin", password="x", email="a@b.org")
    return client_signed_in(Client(), admin)


def test_the_admin_sets_offsets_typed_as_a_list_of_days(admin_client_: Client) -> None:
    response = admin_client_.post(
        "/admin/proposals/reminderrule/add/",
        {"occasion_kind": "law_consultation", "occasion": "", "offsets": "7, 21,3"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert ReminderRule.objects.get().offsets == [21, 7, 3]


@pytest.mark.parametrize(
    ("offsets", "message"),
    [
        ("soon", "Give whole numbers of days"),
        ("7, 7", "Each offset may be given only once."),
        ("0", "between 1 and 365"),
    ],
)
def test_the_admin_refuses_offsets_that_are_not_days(
    admin_client_: Client, offsets: str, message: str
) -> None:
    response = admin_client_.post(
        "/admin/proposals/reminderrule/add/",
        {"occasion_kind": "summit", "occasion": "", "offsets": offsets},
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ReminderRule.objects.exists()


def test_a_rule_is_for_a_kind_or_an_occasion_not_both(admin_client_: Client, group: Group) -> None:
    response = admin_client_.post(
        "/admin/proposals/reminderrule/add/",
        {"occasion_kind": "summit", "occasion": str(group.occasion.pk), "offsets": "7"},
    )
    assert response.status_code == 200
    assert "not both" in response.content.decode()


def test_the_rules_are_listed(admin_client_: Client, group: Group) -> None:
    ReminderRule.objects.create(occasion=group.occasion, offsets=[5, 1])
    response = admin_client_.get("/admin/proposals/reminderrule/")
    assert response.status_code == 200
    assert "UNGA 81: 5, 1 days before" in response.content.decode()
