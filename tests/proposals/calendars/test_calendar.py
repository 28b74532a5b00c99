"""Calendar feeds: a secret, revocable link per person; one .ics per occasion; time zones in."""

from __future__ import annotations

import datetime as dt
from typing import Any

import icalendar
import pytest
from django.test import Client
from django.utils import timezone

from proposals import reference, services
from proposals.accounts import api_token_create
from proposals.calendar_generation import calendar_generation_bump
from proposals.calendars import feeds
from proposals.calendars import views as calendar_views
from proposals.models import ApiToken, Person
from proposals.services import calendar_token_regenerate, occasion_move_deadline
from tests.factories import Group, OccasionFactory, proposal_draft
from tests.proposals.api.helpers import client_for

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


def test_an_event_names_a_few_proposals_the_persons_own_first_and_counts_the_others(
    group: Group,
) -> None:
    """However many proposals an occasion gathers, an event names LISTED_PER_OCCASION of them:
    the feed stays small and its description readable in a calendar app."""
    for number in range(feeds.LISTED_PER_OCCASION + 2):
        proposal_draft(group, title=f"Drafted by Claire {number:02}")
    proposal_draft(group, title="Zero waste, by Pierre", created_by=group.co_drafter)

    def named(person: Person) -> list[str]:
        description = str(events(feed(person))[f"deadline-{group.occasion.pk}"]["description"])
        return [line for line in description.splitlines() if line.startswith(("•", "…"))]

    for_pierre = named(group.co_drafter)
    assert len(for_pierre) == feeds.LISTED_PER_OCCASION + 1
    assert for_pierre[0] == "• Zero waste, by Pierre (Draft)"  # his own, first
    assert for_pierre[1] == "• Drafted by Claire 00 (Draft)"
    assert for_pierre[-1] == "… and 3 more proposals, listed on the occasion's page"
    for_claire = named(group.drafter)
    assert for_claire[0] == "• Drafted by Claire 00 (Draft)"
    assert for_claire[-1] == "… and 3 more proposals, listed on the occasion's page"


def test_the_feed_runs_a_constant_number_of_queries(
    group: Group, django_assert_max_num_queries
) -> None:
    proposal_draft(group)
    feed(group.secretariat)
    calendar_generation_bump()  # a write: the feed is read again, not served as kept
    with django_assert_max_num_queries(10) as few:
        feed(group.secretariat)
    for index in range(5):
        occasion = OccasionFactory(name=f"Summit {index}")
        proposal_draft(group, occasion=occasion)
    with django_assert_max_num_queries(len(few.captured_queries)):
        feed(group.secretariat)


# Calendar clients: events that behave, validators and conditional requests, languages.


def test_a_deadline_is_a_short_event_with_an_alarm_the_day_before(group: Group) -> None:
    proposal_draft(group)
    deadline = events(feed(group.drafter))[f"deadline-{group.occasion.pk}"]
    start = deadline.decoded("dtstart")
    assert deadline.decoded("dtend") - start == dt.timedelta(minutes=30)
    assert deadline["dtend"].params["TZID"] == "America/New_York"
    assert "duration" not in deadline
    [alarm] = deadline.walk("VALARM")
    assert alarm["action"] == "DISPLAY"
    assert alarm.decoded("trigger") == dt.timedelta(days=-1)


def test_moving_an_occasions_dates_raises_its_sequence_and_keeps_its_uid(group: Group) -> None:
    proposal_draft(group)
    occasion = group.occasion
    before = events(feed(group.drafter))
    assert before[f"occasion-{occasion.pk}"]["sequence"] == 0
    reference.occasion_update(
        actor=group.secretariat,
        occasion=occasion,
        changes={
            "starts_on": occasion.starts_on + dt.timedelta(days=2),
            "ends_on": occasion.ends_on + dt.timedelta(days=2),
        },
    )
    occasion.refresh_from_db()
    assert occasion.dates_version == 2
    after = events(feed(group.drafter))
    moved = after[f"occasion-{occasion.pk}"]
    assert moved["uid"] == before[f"occasion-{occasion.pk}"]["uid"]
    assert moved["sequence"] == 1
    assert moved.decoded("dtstart") == occasion.starts_on
    # The deadline's event names the occasion: a rename updates it too, and neither goes back.
    reference.occasion_update(
        actor=group.secretariat, occasion=occasion, changes={"name": "UNGA 81, resumed"}
    )
    renamed = events(feed(group.drafter))
    assert renamed[f"occasion-{occasion.pk}"]["sequence"] == 2
    assert renamed[f"deadline-{occasion.pk}"]["sequence"] == 2
    assert renamed[f"deadline-{occasion.pk}"]["summary"] == (
        "Submission deadline: UNGA 81, resumed"
    )


def test_changing_what_the_calendar_does_not_show_leaves_the_sequence(group: Group) -> None:
    reference.occasion_update(
        actor=group.secretariat, occasion=group.occasion, changes={"endorsement_quorum": 3}
    )
    group.occasion.refresh_from_db()
    assert group.occasion.dates_version == 1


def test_head_answers_like_get_without_a_body(group: Group) -> None:
    proposal_draft(group)
    url = f"/calendar/{group.drafter.calendar_token}.ics"
    got = Client().get(url)
    head = Client().head(url)
    assert head.status_code == 200
    assert head.content == b""
    for header in ("Content-Type", "ETag", "Last-Modified", "Content-Language", "Cache-Control"):
        assert head[header] == got[header], header
    assert head["Content-Length"] == str(len(got.content))
    client = Client()
    client.force_login(group.drafter)
    download = client.head(f"/occasions/{group.occasion.pk}.ics")
    assert download.status_code == 200
    assert download["ETag"]
    assert Client().head("/calendar/not-a-token.ics").status_code == 404


def test_a_feed_that_did_not_change_answers_not_modified(group: Group) -> None:
    proposal_draft(group)
    url = f"/calendar/{group.drafter.calendar_token}.ics"
    first = Client().get(url)
    etag, last_modified = first["ETag"], first["Last-Modified"]
    by_etag = Client().get(url, HTTP_IF_NONE_MATCH=etag)
    assert by_etag.status_code == 304
    assert by_etag.content == b""
    assert by_etag["ETag"] == etag
    assert Client().get(url, HTTP_IF_MODIFIED_SINCE=last_modified).status_code == 304
    assert Client().head(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert Client().get(url, HTTP_IF_NONE_MATCH='"something-else"').status_code == 200


def test_a_change_the_feed_shows_answers_in_full_again(group: Group) -> None:
    proposal = proposal_draft(group)
    url = f"/calendar/{group.drafter.calendar_token}.ics"
    first = Client().get(url)
    etag, last_modified = first["ETag"], first["Last-Modified"]
    services.proposal_update(proposal=proposal, editor=group.drafter, title="A title that changed")
    by_etag = Client().get(url, HTTP_IF_NONE_MATCH=etag)
    assert by_etag.status_code == 200
    assert "A title that changed" in by_etag.content.decode()
    assert by_etag["ETag"] != etag
    # Even within the same second, the new version is newer than the one the client holds.
    by_date = Client().get(url, HTTP_IF_MODIFIED_SINCE=last_modified)
    assert by_date.status_code == 200
    occasion_move_deadline(
        occasion=group.occasion,
        new_deadline=timezone.now() + dt.timedelta(days=50),
        actor=group.secretariat,
    )
    assert Client().get(url, HTTP_IF_NONE_MATCH=by_etag["ETag"]).status_code == 200


def test_an_occasion_download_answers_not_modified_while_it_is_unchanged(group: Group) -> None:
    client = Client()
    client.force_login(group.drafter)
    url = f"/occasions/{group.occasion.pk}.ics"
    first = client.get(url)
    assert client.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    reference.occasion_update(
        actor=group.secretariat, occasion=group.occasion, changes={"location": "Geneva"}
    )
    assert client.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 200


def test_a_not_modified_answer_runs_a_constant_number_of_queries(
    group: Group, django_assert_max_num_queries
) -> None:
    proposal_draft(group)
    url = f"/calendar/{group.secretariat.calendar_token}.ics"
    etag = Client().get(url)["ETag"]
    with django_assert_max_num_queries(10) as few:
        assert Client().get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    # Read now: the next request empties the connection's log the count is a slice of.
    few_count = len(few.captured_queries)
    for index in range(5):
        occasion = OccasionFactory(name=f"Summit {index}")
        proposal_draft(group, occasion=occasion)
    etag = Client().get(url)["ETag"]
    with django_assert_max_num_queries(few_count):
        assert Client().get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_a_french_persons_feed_is_in_french(group: Group) -> None:
    proposal_draft(group)
    group.drafter.language = "fr"
    group.drafter.save(update_fields=["language"])
    response = Client().get(
        f"/calendar/{group.drafter.calendar_token}.ics", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response["Content-Language"] == "fr"
    deadline = events(icalendar.Calendar.from_ical(response.content))[
        f"deadline-{group.occasion.pk}"
    ]
    assert str(deadline["summary"]).startswith("Date limite")


def test_an_occasion_download_is_in_the_readers_language(group: Group) -> None:
    group.drafter.language = "es"
    group.drafter.save(update_fields=["language"])
    client = Client()
    client.force_login(group.drafter)
    response = client.get(f"/occasions/{group.occasion.pk}.ics")
    assert response["Content-Language"] == "es"


def test_the_feeds_parse_in_icalendar_and_vobject(group: Group) -> None:
    import vobject  # type: ignore[import-untyped]

    proposal_draft(group, title="Fair trade — «quotes», commas; and a very long title " * 3)
    OccasionFactory(name="Law consultation", kind="law_consultation", timezone="Asia/Tokyo")
    client = Client()
    client.force_login(group.drafter)
    bodies = [
        Client().get(f"/calendar/{group.secretariat.calendar_token}.ics").content,
        client.get(f"/occasions/{group.occasion.pk}.ics").content,
    ]
    for body in bodies:
        assert icalendar.Calendar.from_ical(body).walk("VEVENT")
        parsed = vobject.readOne(body.decode())
        vevents = parsed.contents["vevent"]
        assert vevents
        for vevent in vevents:
            start = vevent.dtstart.value
            end = vevent.dtend.value
            assert end > start
            if vevent.uid.value.startswith("deadline-"):
                assert start.tzinfo is not None
                assert end - start == dt.timedelta(minutes=30)
                assert vevent.valarm.trigger.value == dt.timedelta(days=-1)


# Token authentication for scripts


def test_a_script_downloads_an_occasion_with_an_api_token(group: Group) -> None:
    _, key = api_token_create(
        person=group.drafter,
        kind=ApiToken.Kind.SCRIPT,
        name="Script",
        expires_at=timezone.now() + dt.timedelta(days=30),
    )
    response = Client().get(
        f"/occasions/{group.occasion.pk}.ics", HTTP_AUTHORIZATION=f"Token {key}"
    )
    assert response.status_code == 200
    assert icalendar.Calendar.from_ical(response.content).walk("VEVENT")


def test_a_bad_token_is_refused_with_401_not_sent_to_the_login_page(group: Group) -> None:
    for header in ("Token not-a-token", "Token", "Token a b"):
        response = Client().get(f"/occasions/{group.occasion.pk}.ics", HTTP_AUTHORIZATION=header)
        assert response.status_code == 401, header
        assert response["WWW-Authenticate"] == "Token"
        assert response.content


def test_an_occasion_moved_through_the_api_is_a_new_sequence_of_the_same_event(
    group: Group,
) -> None:
    proposal_draft(group)
    occasion = group.occasion
    response = client_for(group.secretariat).patch(
        f"/api/occasions/{occasion.pk}/",
        {"starts_on": "2030-11-10", "ends_on": "2030-11-21", "location": "Belém, Brazil"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    event = events(feed(group.drafter))[f"occasion-{occasion.pk}"]
    assert event["sequence"] == 1
    assert event.decoded("dtstart") == dt.date(2030, 11, 10)
    assert event["location"] == "Belém, Brazil"


def test_a_new_translation_of_the_calendars_words_is_a_new_version(
    group: Group, monkeypatch: pytest.MonkeyPatch
) -> None:
    proposal_draft(group)
    url = f"/calendar/{group.drafter.calendar_token}.ics"
    etag = Client().get(url)["ETag"]
    assert Client().get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    reworded = [*feeds.calendar_wording(), "Date butoir : %(occasion)s"]
    monkeypatch.setattr(feeds, "calendar_wording", lambda: reworded)
    assert Client().get(url, HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_a_feed_is_served_while_the_cache_is_down(
    group: Group, monkeypatch: pytest.MonkeyPatch
) -> None:
    proposal_draft(group)
    url = f"/calendar/{group.drafter.calendar_token}.ics"
    etag = Client().get(url)["ETag"]

    def down(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(calendar_views.cache, "get", down)
    response = Client().get(url)
    assert response.status_code == 200
    assert response["Last-Modified"]
    assert Client().get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_a_not_modified_answer_writes_no_icalendar(
    group: Group, monkeypatch: pytest.MonkeyPatch
) -> None:
    proposal_draft(group)
    url = f"/calendar/{group.drafter.calendar_token}.ics"
    etag = Client().get(url)["ETag"]

    def written(*args: Any, **kwargs: Any) -> bytes:
        raise AssertionError("the iCalendar was written for a 304")

    monkeypatch.setattr(calendar_views, "calendar_render", written)
    assert Client().get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
