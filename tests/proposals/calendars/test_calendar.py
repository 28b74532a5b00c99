"""Calendar feeds: a secret, revocable link per person; one .ics per occasion; time zones in."""

from __future__ import annotations

import datetime as dt
from typing import Any

import icalendar
import pytest
from django.test import Client
from django.utils import timezone

from proposals.models import Person
from proposals.services import calendar_token_regenerate, occasion_move_deadline
from tests.factories import Group, OccasionFactory, proposal_draft

pytestmark = pytest.mark.django_db


def feed(person: Person) -> icalendar.Calendar:
    response = Client().get(f"/calendar/{person.calendar_token}.ics")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return icalendar.Calendar.from_ical(response.content)


def events(calendar: icalendar.Calendar) -> dict[str, Any]:
    return {str(event["uid"]).split("@")[0]: event for event in calendar.walk("VEVENT")}


def test_a_persons_feed_has_the_occasions_of_their_proposals_with_deadlines(group: Group) -> None:
    proposal_draft(group)
    OccasionFactory(name="Unrelated summit", timezone="Asia/Tokyo")
    calendar = feed(group.drafter)
    found = events(calendar)
    occasion = group.occasion
    assert set(found) == {f"occasion-{occasion.pk}", f"deadline-{occasion.pk}"}
    deadline = found[f"deadline-{occasion.pk}"]
    assert deadline["summary"] == "Submission deadline: UNGA 81"
    assert deadline.decoded("dtstart") == occasion.submission_deadline.replace(microsecond=0)
    assert deadline["dtstart"].params["TZID"] == "America/New_York"
    assert found[f"occasion-{occasion.pk}"].decoded("dtstart") == occasion.starts_on


def test_every_time_zone_used_is_described_so_every_calendar_app_accepts_it(
    group: Group,
) -> None:
    proposal_draft(group)
    calendar = feed(group.drafter)
    assert [tz["tzid"] for tz in calendar.walk("VTIMEZONE")] == ["America/New_York"]
    assert calendar.get_missing_tzids() == set()
    assert calendar["version"] == "2.0"
    assert calendar["prodid"]
    assert all("dtstamp" in event for event in calendar.walk("VEVENT"))


def test_the_secretariat_follows_every_occasion(group: Group) -> None:
    other: Any = OccasionFactory(
        name="Law consultation", kind="law_consultation", timezone="America/Guayaquil"
    )
    found = events(feed(group.secretariat))
    assert {f"deadline-{group.occasion.pk}", f"deadline-{other.pk}"} <= set(found)


def test_someone_outside_the_group_has_an_empty_feed(group: Group) -> None:
    assert events(feed(group.outsider)) == {}


def test_a_moved_deadline_updates_the_same_event(group: Group) -> None:
    proposal_draft(group)
    new_deadline = timezone.now() + dt.timedelta(days=40)
    occasion_move_deadline(
        occasion=group.occasion, new_deadline=new_deadline, actor=group.secretariat
    )
    deadline = events(feed(group.drafter))[f"deadline-{group.occasion.pk}"]
    assert deadline["sequence"] == 1
    assert deadline.decoded("dtstart") == new_deadline.replace(microsecond=0)


def test_an_unknown_or_renewed_link_finds_no_calendar(group: Group) -> None:
    assert Client().get("/calendar/not-a-token.ics").status_code == 404
    old = group.drafter.calendar_token
    new = calendar_token_regenerate(person=group.drafter)
    assert new != old
    assert Client().get(f"/calendar/{old}.ics").status_code == 404
    assert Client().get(f"/calendar/{new}.ics").status_code == 200


def test_an_inactive_persons_link_stops_working(group: Group) -> None:
    group.drafter.is_active = False
    group.drafter.save()
    assert Client().get(f"/calendar/{group.drafter.calendar_token}.ics").status_code == 404


def test_an_occasion_downloads_as_ics_for_people_who_are_signed_in(group: Group) -> None:
    anonymous = Client().get(f"/occasions/{group.occasion.pk}.ics")
    assert anonymous.status_code == 302
    client = Client()
    client.force_login(group.drafter)
    response = client.get(f"/occasions/{group.occasion.pk}.ics")
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        f'attachment; filename="occasion-{group.occasion.pk}.ics"'
    )
    calendar = icalendar.Calendar.from_ical(response.content)
    assert calendar.get_missing_tzids() == set()
    assert len(list(calendar.walk("VEVENT"))) == 2
    assert client.get("/occasions/999999.ics").status_code == 404


def test_the_feed_lists_the_proposals_the_person_follows(group: Group) -> None:
    proposal_draft(group, title="Fair trade in public procurement")
    deadline = events(feed(group.drafter))[f"deadline-{group.occasion.pk}"]
    assert "Fair trade in public procurement (Draft)" in str(deadline["description"])


def test_the_feed_runs_a_constant_number_of_queries(
    group: Group, django_assert_max_num_queries
) -> None:
    proposal_draft(group)
    feed(group.secretariat)
    with django_assert_max_num_queries(10) as few:
        feed(group.secretariat)
    for index in range(5):
        occasion = OccasionFactory(name=f"Summit {index}")
        proposal_draft(group, occasion=occasion)
    with django_assert_max_num_queries(len(few.captured_queries)):
        feed(group.secretariat)
