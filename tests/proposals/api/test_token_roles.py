"""A token's request reads the person's roles in the token's own query: the roles `roles_of`
reads, on the person's local date."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from proposals.accounts import api_token_authenticate
from proposals.models import ApiToken, Membership, Organization, Person, PresidencyTerm, Role
from proposals.selectors import PersonRoles, roles_of
from tests.factories import Group, OrganizationFactory, PersonFactory, api_token_key
from tests.proposals.api.helpers import client_for

pytestmark = pytest.mark.django_db

TOKENS, MEMBERSHIPS = ApiToken._meta.db_table, Membership._meta.db_table


def test_a_token_request_of_a_small_object_runs_two_queries(group: Group) -> None:
    """The token with its person and their roles, then the object (the roles were a query of
    their own before)."""
    client = client_for(group.secretariat)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(f"/api/occasions/{group.occasion.pk}/")
    assert response.status_code == 200
    token_query, occasion_query = (query["sql"] for query in captured.captured_queries)
    assert TOKENS in token_query and MEMBERSHIPS in token_query
    assert MEMBERSHIPS not in occasion_query


def test_a_download_with_a_token_reads_the_roles_in_the_token_query(group: Group) -> None:
    key = api_token_key(group.drafter)
    with CaptureQueriesContext(connection) as captured:
        response: Any = Client().get(
            reverse("proposals:proposal_list_csv"), HTTP_AUTHORIZATION=f"Token {key}"
        )
        b"".join(response.streaming_content)
    assert response.status_code == 200
    statements = [query["sql"] for query in captured.captured_queries]
    [reading_memberships] = [sql for sql in statements if MEMBERSHIPS in sql]
    assert TOKENS in reading_memberships


# Saved time zone, and the zone the person's day is counted in: the furthest ahead of UTC and
# the furthest behind that people live in, and one Django does not know (the site's, UTC).
ZONES = [
    ("UTC", "UTC"),
    ("Pacific/Kiritimati", "Pacific/Kiritimati"),
    ("Pacific/Pago_Pago", "Pacific/Pago_Pago"),
    ("Nowhere/Atlantis", "UTC"),
]


def people_with_every_kind_of_role(group: Group) -> list[Person]:
    """The group's people (the presidency, an observer, the secretariat, someone with no role)
    and roles in an organisation that left, beside a current one and alone; and a superuser
    with no role."""
    left = OrganizationFactory.create(name="Left", status=Organization.Status.FORMER)
    Membership.objects.create(
        person=group.representative_ma, organization=left, role=Role.REPRESENTATIVE
    )
    only_left = PersonFactory.create(username="olga")
    Membership.objects.create(person=only_left, organization=left, role=Role.DRAFTER)
    PersonFactory.create(username="root", is_superuser=True)
    return list(Person.objects.order_by("username"))


def roles_with_the_token(person: Person, now: dt.datetime) -> PersonRoles:
    token = api_token_authenticate(api_token_key(person), now=now)
    assert "_roles" in token.person.__dict__  # read with the token
    return roles_of(token.person)


@pytest.mark.parametrize(("saved_zone", "day_zone"), ZONES)
def test_the_roles_read_with_the_token_are_those_roles_of_reads_on_the_person_s_day(
    group: Group, saved_zone: str, day_zone: str
) -> None:
    """Around the days a presidency starts and ends, when the person's date differs from
    UTC's."""
    people = people_with_every_kind_of_role(group)
    Person.objects.update(timezone=saved_zone)
    france = PresidencyTerm.objects.get(organization=group.france)
    PresidencyTerm.objects.create(
        organization=group.morocco,
        starts_on=france.ends_on + dt.timedelta(days=1),
        ends_on=france.ends_on + dt.timedelta(days=180),
    )
    instants = [
        dt.datetime.combine(day, time, tzinfo=dt.UTC) + shift
        for day in (france.starts_on, france.ends_on + dt.timedelta(days=1))
        for time, shift in (
            (dt.time(23, 30), -dt.timedelta(days=1)),
            (dt.time(0, 30), dt.timedelta()),
            (dt.time(12), dt.timedelta()),
        )
    ]
    presidencies = set()
    for now in instants:
        with time_machine.travel(now, tick=False):
            for person in people:
                with timezone.override(zoneinfo.ZoneInfo(day_zone)):
                    expected = roles_of(Person.objects.get(pk=person.pk))
                assert roles_with_the_token(person, now) == expected, (person.username, now)
                presidencies.add((person.username, expected.presidency))
    chairing = {username for username, presidency in presidencies if presidency}
    assert chairing == {"marianne", "youssef"}
    assert ("marianne", False) in presidencies and ("youssef", False) in presidencies
