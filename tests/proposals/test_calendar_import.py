"""Deadlines imported from the bodies' calendars, read from a feed served by the test on
127.0.0.1 (tests/proposals/feed_server.py): first import, idempotent re-reading, a moved event,
a cancelled event, a pinned field, broken feeds and the address guard."""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone

from proposals import calendar_import
from proposals.calendar_import import feed_report
from proposals.models import CalendarFeed, DeadlineChange, Occasion, ProposalState
from proposals.reference import occasion_update
from proposals.reminders import OccasionDeadlines
from tests.factories import Group, group_setup, proposal_draft
from tests.proposals.feed_server import FeedServer, event, feed_server, ics
from workflow.errors import Refused
from workflow.models import AuditEvent, Delivery

pytestmark = pytest.mark.django_db

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
CONSULTATION = event(
    "consult-1@parliament.example",
    "Consultation on the water law",
    ";TZID=Europe/Paris:20270110T090000",
    ";TZID=Europe/Paris:20270215T180000",
    extra="LOCATION:Paris, France",
)
SESSION = event(
    "session-2@parliament.example",
    "Spring session",
    ";VALUE=DATE:20270301",
    ";VALUE=DATE:20270304",
)


@pytest.fixture
def server(settings) -> Iterator[FeedServer]:
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True  # the feed is served on 127.0.0.1
    with feed_server() as running:
        yield running


@pytest.fixture
def group(db: None) -> Group:
    return group_setup()


def attach(group: Group, url: str, **options: object) -> CalendarFeed:
    values: dict[str, Any] = {
        "occasion_kind": Occasion.Kind.LAW_CONSULTATION,
        "name": "Parliament consultations",
        "default_timezone": "Europe/Paris",
    }
    values.update(options)
    return calendar_import.calendar_feed_create(
        actor=group.secretariat, body=group.body, url=url, **values
    )


def read(feed: CalendarFeed) -> calendar_import.ImportResult:
    return calendar_import.calendar_feed_read(feed_id=feed.pk)


def imported(feed: CalendarFeed) -> dict[str, Occasion]:
    return {o.feed_uid: o for o in Occasion.objects.filter(feed=feed)}


def test_first_import_creates_occasions_mapped_by_the_feeds_rule(group: Group, server) -> None:
    url = server.serve("/feed.ics", ics(CONSULTATION, SESSION))
    feed = attach(group, url)
    result = read(feed)
    feed.refresh_from_db()
    assert feed.status == CalendarFeed.Status.OK, feed.last_error
    assert feed.etag and feed.last_modified and feed.succeeded_at
    assert len(result.created) == 2
    occasions = imported(feed)
    consultation = occasions["consult-1@parliament.example"]
    assert consultation.name == "Consultation on the water law"
    assert consultation.location == "Paris, France"
    assert consultation.timezone == "Europe/Paris"
    assert consultation.kind == Occasion.Kind.LAW_CONSULTATION
    assert consultation.body == group.body
    assert (consultation.starts_on, consultation.ends_on) == (
        dt.date(2027, 1, 10),
        dt.date(2027, 2, 15),
    )
    # EVENT_END: the event's end.
    assert consultation.submission_deadline == dt.datetime(2027, 2, 15, 18, 0, tzinfo=PARIS)
    assert consultation.imported_at is not None and consultation.deadline_version == 1
    session = occasions["session-2@parliament.example"]
    # An all-day event's DTEND is exclusive: its last day is 3 March, the deadline that day's end.
    assert (session.starts_on, session.ends_on) == (dt.date(2027, 3, 1), dt.date(2027, 3, 3))
    assert session.submission_deadline == dt.datetime(2027, 3, 3, 23, 59, 59, tzinfo=PARIS)
    assert AuditEvent.objects.filter(action="occasion.created", object_id=str(session.pk)).exists()


def test_before_start_rule_closes_lead_days_before_the_start_at_the_days_end(group, server) -> None:
    summit = event(
        "summit@un.example",
        "Summit of the Future",
        ";TZID=America/New_York:20270920T100000",
        ";TZID=America/New_York:20270923T170000",
    )
    url = server.serve("/summits.ics", ics(summit))
    feed = attach(
        group, url, occasion_kind=Occasion.Kind.SUMMIT, deadline_rule="before_start", lead_days=30
    )
    read(feed)
    occasion = imported(feed)["summit@un.example"]
    new_york = zoneinfo.ZoneInfo("America/New_York")
    assert occasion.timezone == "America/New_York"
    assert occasion.submission_deadline == dt.datetime(2027, 8, 21, 23, 59, 59, tzinfo=new_york)


def test_reading_again_changes_nothing(group: Group, server) -> None:
    url = server.serve("/feed.ics", ics(CONSULTATION, SESSION))
    feed = attach(group, url)
    read(feed)
    audit_rows = AuditEvent.objects.count()
    # Unchanged on the server: a conditional GET, answered 304.
    assert read(feed).status == CalendarFeed.Status.NOT_MODIFIED
    assert server.requests[-1][1] == CalendarFeed.objects.get(pk=feed.pk).etag
    # Read in full again (no ETag kept): the same events change nothing.
    CalendarFeed.objects.filter(pk=feed.pk).update(etag="", last_modified="")
    result = read(feed)
    assert result.status == CalendarFeed.Status.OK
    assert (result.created, result.updated, result.moved, result.unchanged) == ([], [], [], 2)
    assert not DeadlineChange.objects.exists()
    assert Occasion.objects.filter(feed=feed).count() == 2
    assert (
        not AuditEvent.objects.filter(action__startswith="occasion.")
        .exclude(action="occasion.created")
        .exists()
    )
    assert AuditEvent.objects.count() == audit_rows  # nothing to record


def test_a_moved_event_moves_the_deadline_through_the_deadline_service(group, server) -> None:
    url = server.serve("/feed.ics", ics(CONSULTATION))
    feed = attach(group, url)
    read(feed)
    occasion = imported(feed)["consult-1@parliament.example"]
    proposal = proposal_draft(group, occasion=occasion)
    moved = CONSULTATION.replace("20270215T180000", "20270301T120000").replace(
        "Paris, France", "Lyon, France"
    )
    server.serve("/feed.ics", ics(moved))
    result = read(feed)
    assert result.moved == [occasion.pk] and result.updated == [occasion.pk]
    occasion.refresh_from_db()
    assert occasion.submission_deadline == dt.datetime(2027, 3, 1, 12, 0, tzinfo=PARIS)
    assert occasion.deadline_version == 2
    assert occasion.location == "Lyon, France"
    change = DeadlineChange.objects.get(occasion=occasion)
    assert change.version == 2 and change.changed_by is None
    assert "Parliament consultations" in change.reason
    assert AuditEvent.objects.filter(action="occasion.deadline_moved").count() == 1
    # Reminders restart: the engine sees the deadline's new version.
    (deadline,) = OccasionDeadlines().deadlines_of([str(occasion.pk)])
    assert deadline.version == 2
    proposal.refresh_from_db()
    assert proposal.version >= 2


def test_a_cancelled_event_is_flagged_its_reminders_stop_and_authors_are_told(
    group, server
) -> None:
    url = server.serve("/feed.ics", ics(CONSULTATION))
    feed = attach(group, url)
    read(feed)
    occasion = imported(feed)["consult-1@parliament.example"]
    proposal_draft(group, occasion=occasion)
    submitted = proposal_draft(group, occasion=occasion, created_by=group.co_drafter)
    type(submitted).objects.filter(pk=submitted.pk).update(state=ProposalState.SUBMITTED)
    server.serve("/feed.ics", ics(CONSULTATION + "\r\nSTATUS:CANCELLED"))
    result = read(feed)
    assert result.cancelled == [occasion.pk]
    occasion.refresh_from_db()
    assert occasion.cancelled_at is not None
    assert Occasion.objects.filter(pk=occasion.pk).exists()  # never deleted
    # Its reminders stop: the reminder source no longer lists its deadline.
    window = OccasionDeadlines().deadlines_between(
        occasion.submission_deadline - dt.timedelta(days=1), occasion.submission_deadline
    )
    assert occasion.pk not in [d.obj.pk for d in window]
    assert OccasionDeadlines().deadlines_of([str(occasion.pk)]) == []
    # The authors of its open proposals are told, once; not those of a submitted one.
    told = Delivery.objects.filter(event="occasion.cancelled", channel=Delivery.Channel.EMAIL)
    assert set(told.values_list("recipient_id", flat=True)) == {group.drafter.pk}
    assert AuditEvent.objects.filter(
        action="occasion.cancelled", object_id=str(occasion.pk)
    ).exists()
    CalendarFeed.objects.filter(pk=feed.pk).update(etag="")
    read(feed)
    assert told.count() == 1
    # Back in the feed, not cancelled: the occasion is too.
    server.serve("/feed.ics", ics(CONSULTATION))
    assert read(feed).restored == [occasion.pk]
    occasion.refresh_from_db()
    assert occasion.cancelled_at is None


def test_a_field_edited_by_hand_is_pinned_and_kept(group: Group, server) -> None:
    url = server.serve("/feed.ics", ics(CONSULTATION))
    feed = attach(group, url)
    read(feed)
    occasion = imported(feed)["consult-1@parliament.example"]
    occasion_update(
        actor=group.secretariat, occasion=occasion, changes={"name": "Water law (2nd reading)"}
    )
    occasion.refresh_from_db()
    assert occasion.pinned_fields == ["name"]
    server.serve(
        "/feed.ics",
        ics(CONSULTATION.replace("the water law", "the new water law").replace("Paris,", "Nice,")),
    )
    read(feed)
    occasion.refresh_from_db()
    assert occasion.name == "Water law (2nd reading)"
    assert occasion.location == "Nice, France"  # not pinned: the feed still writes it
    # The secretariat lets the feed write it again.
    calendar_import.occasion_unpin(actor=group.secretariat, occasion=occasion, field_name="name")
    read(feed)
    occasion.refresh_from_db()
    assert occasion.name == "Consultation on the new water law"
    assert occasion.pinned_fields == []


def test_an_edit_by_the_system_pins_nothing(group: Group, server) -> None:
    url = server.serve("/feed.ics", ics(CONSULTATION))
    feed = attach(group, url)
    read(feed)
    occasion = imported(feed)["consult-1@parliament.example"]
    occasion_update(actor=None, occasion=occasion, changes={"name": "Renamed"})
    occasion.refresh_from_db()
    assert occasion.pinned_fields == []


def _broken(group: Group, server: FeedServer, url: str) -> tuple[CalendarFeed, Occasion]:
    """A feed that was read well once, then `url` breaks it."""
    good = server.serve("/good.ics", ics(CONSULTATION))
    feed = attach(group, good)
    read(feed)
    occasion = imported(feed)["consult-1@parliament.example"]
    calendar_import.calendar_feed_update(actor=group.secretariat, feed=feed, changes={"url": url})
    return feed, occasion


def _unchanged(occasion: Occasion) -> None:
    again = Occasion.objects.get(pk=occasion.pk)
    assert [getattr(again, f) for f in calendar_import.IMPORTED_FIELDS] == [
        getattr(occasion, f) for f in calendar_import.IMPORTED_FIELDS
    ]
    assert again.cancelled_at is None and again.feed_id == occasion.feed_id


@pytest.mark.parametrize(
    ("case", "words"),
    [
        ("404", "HTTP status 404"),
        ("unreachable", "could not be reached"),
        ("html", "not an iCalendar file"),
        ("too_big", "larger than"),
    ],
)
def test_a_broken_feed_is_reported_and_loses_nothing(group, server, settings, case, words) -> None:
    if case == "404":
        url = server.url("/missing.ics")
    elif case == "unreachable":
        url = "http://127.0.0.1:9/feed.ics"  # the discard port: nothing listens
    elif case == "html":
        url = server.serve("/page.html", "<!DOCTYPE html><html><body>Calendar</body></html>")
    else:
        settings.CALENDAR_FEED_MAX_BYTES = 2000
        url = server.serve(
            "/huge.ics", ics(*[CONSULTATION.replace("consult-1", f"c{i}") for i in range(50)])
        )
    feed, occasion = _broken(group, server, url)
    result = read(feed)
    feed.refresh_from_db()
    assert result.status == feed.status == CalendarFeed.Status.FAILED
    report = feed_report(feed.last_error)
    assert words in report.reason
    _unchanged(occasion)
    assert Occasion.objects.filter(feed=feed).count() == 1
    # The secretariat is told once, whatever the number of failing readings.
    read(feed)
    notices = Delivery.objects.filter(event="calendar_feed.failed", channel=Delivery.Channel.EMAIL)
    assert list(notices.values_list("recipient_id", flat=True)) == [group.secretariat.pk]
    assert AuditEvent.objects.filter(action="calendar_feed.failed").count() == 1


def test_a_streamed_feed_is_cut_at_the_size_limit(group, server, settings) -> None:
    settings.CALENDAR_FEED_MAX_BYTES = 1000
    big = ics(*[CONSULTATION.replace("consult-1", f"c{i}") for i in range(20)])
    url = server.serve("/stream.ics", big, declare_length=False)
    feed = attach(group, url)
    read(feed)
    feed.refresh_from_db()
    assert "larger than" in feed_report(feed.last_error).reason
    assert not Occasion.objects.filter(feed=feed).exists()


def test_events_without_dates_or_with_unknown_zones_are_skipped_and_listed(group, server) -> None:
    no_date = "UID:nodate@x\r\nSUMMARY:Undated hearing"
    mars = event("mars@x", "Hearing on Mars", ";TZID=Mars/Olympus:20270110T090000")
    url = server.serve("/mixed.ics", ics(CONSULTATION, no_date, mars))
    feed = attach(group, url)
    result = read(feed)
    feed.refresh_from_db()
    assert feed.status == CalendarFeed.Status.FAILED
    assert len(result.created) == 1  # the good event is imported
    report = feed_report(feed.last_error)
    assert "2 events of the feed could not be read" in report.reason
    lines = report.lines()
    assert any("Undated hearing" in line and "no start date" in line for line in lines)
    assert any("Mars/Olympus" in line and "unknown" in line for line in lines)
    # Unchanged on the server: still reported, not "unchanged".
    read(feed)
    feed.refresh_from_db()
    assert feed.status == CalendarFeed.Status.FAILED


def test_private_addresses_are_refused_when_not_allowed(group, server, settings) -> None:
    url = server.serve("/feed.ics", ics(CONSULTATION))
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    with pytest.raises(Refused) as refused:
        attach(group, url)
    assert "url" in refused.value.errors
    # Attached while allowed, read when no longer: the guard runs again at every reading.
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    feed = attach(group, url)
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    read(feed)
    feed.refresh_from_db()
    assert feed.status == CalendarFeed.Status.FAILED
    assert "refused" in feed_report(feed.last_error).reason
    assert server.requests == []


def test_a_redirect_is_followed_through_the_guard(group, server) -> None:
    target = server.serve("/feed.ics", ics(CONSULTATION))
    moved = server.serve("/old.ics", "", status=301, location=target)
    feed = attach(group, moved)
    assert len(read(feed).created) == 1
    server.serve("/loop.ics", "", status=302, location=server.url("/loop.ics"))
    calendar_import.calendar_feed_update(
        actor=group.secretariat, feed=feed, changes={"url": server.url("/loop.ics")}
    )
    read(feed)
    feed.refresh_from_db()
    assert "redirects too many times" in feed_report(feed.last_error).reason


def test_an_uploaded_file_is_imported_the_same_way(group: Group) -> None:
    feed, result = calendar_import.calendar_feed_upload(
        actor=group.secretariat,
        body=group.body,
        content=ics(CONSULTATION, SESSION).encode(),
        occasion_kind=Occasion.Kind.WORKING_SESSION,
        default_timezone="Europe/Paris",
    )
    assert feed.url == "" and not feed.active and len(result.created) == 2
    with pytest.raises(Refused):
        calendar_import.calendar_feed_upload(
            actor=group.secretariat,
            body=group.body,
            content=b"<html></html>",
            occasion_kind=Occasion.Kind.WORKING_SESSION,
        )
    assert CalendarFeed.objects.count() == 1


def test_only_the_secretariat_manages_feeds(group: Group, server) -> None:
    url = server.serve("/feed.ics", ics(CONSULTATION))
    with pytest.raises(Refused):
        calendar_import.calendar_feed_create(
            actor=group.drafter, body=group.body, url=url, occasion_kind="summit"
        )


def test_a_removed_feed_leaves_its_occasions(group: Group, server) -> None:
    feed = attach(group, server.serve("/feed.ics", ics(CONSULTATION, SESSION)))
    read(feed)
    calendar_import.calendar_feed_delete(actor=group.secretariat, feed=feed)
    assert Occasion.objects.filter(feed_uid__endswith="@parliament.example").count() == 2


def test_importing_reads_the_feeds_occasions_in_one_query(
    group, server, django_assert_max_num_queries
) -> None:
    events = [CONSULTATION.replace("consult-1", f"c{i}") for i in range(40)]
    feed = attach(group, server.serve("/many.ics", ics(*events)))
    read(feed)
    CalendarFeed.objects.filter(pk=feed.pk).update(etag="")
    # Re-reading 40 unchanged events: a constant number of queries, not one per event.
    with django_assert_max_num_queries(8):
        read(feed)


def test_the_failure_report_is_kept_as_codes_and_said_in_the_readers_language() -> None:
    stored = json.dumps({"code": "http", "params": {"status": 503}, "events": []})
    from django.utils import translation

    with translation.override("fr"):
        assert feed_report(stored).reason
    assert feed_report(stored).reason == "The feed's server answered with HTTP status 503."
    assert feed_report("").reason == ""
    assert timezone.now()
