"""The bodies' pages: a body's calendar feeds, their status and problems, the occasions they
brought, the secretariat's forms; an imported occasion says where it came from."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from proposals import calendar_import
from proposals.models import CalendarFeed, Occasion
from proposals.reference import occasion_update
from tests.factories import group_setup
from tests.proposals.feed_server import event, feed_server, ics
from tests.proposals.web.helpers import signed_in

pytestmark = pytest.mark.django_db

HEARING = event("h1@body.example", "Public hearing", ";VALUE=DATE:20270510", ";VALUE=DATE:20270512")


def _uploaded(group, content: str = "") -> CalendarFeed:
    feed, _result = calendar_import.calendar_feed_upload(
        actor=group.secretariat,
        body=group.body,
        name="Hearings",
        content=(content or ics(HEARING, "UID:nodate@x\r\nSUMMARY:Undated")).encode(),
        occasion_kind="law_consultation",
    )
    return feed


def test_the_body_page_shows_feeds_their_problems_and_occasions_to_members() -> None:
    group = group_setup()
    _uploaded(group)
    page = signed_in(group.drafter).get(reverse("proposals:body_detail", args=[group.body.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Hearings" in html and "Public hearing" in html
    assert "1 event of the feed could not be read" in html and "Undated" in html
    assert "Attach a calendar feed" not in html  # members read; the secretariat edits
    listing = signed_in(group.drafter).get(reverse("proposals:body_list"))
    assert group.body.name in listing.content.decode()


def test_only_the_secretariat_posts_to_the_body_page() -> None:
    group = group_setup()
    url = reverse("proposals:body_detail", args=[group.body.pk])
    upload = SimpleUploadedFile("cal.ics", ics(HEARING).encode(), content_type="text/calendar")
    refused = signed_in(group.drafter).post(url, {"upload-file": upload})
    assert refused.status_code == 403
    assert not CalendarFeed.objects.exists()


def test_the_secretariat_uploads_a_file_and_attaches_a_url(settings) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    group = group_setup()
    client = signed_in(group.secretariat)
    url = reverse("proposals:body_detail", args=[group.body.pk])
    form = {
        "occasion_kind": "law_consultation",
        "deadline_rule": "event_end",
        "lead_days": "14",
        "default_timezone": "Europe/Paris",
    }
    upload = SimpleUploadedFile("cal.ics", ics(HEARING).encode(), content_type="text/calendar")
    answer = client.post(
        url, {**{f"upload-{k}": v for k, v in form.items()}, "upload-file": upload}
    )
    assert answer.status_code == 302, answer.content.decode()[:2000]
    assert Occasion.objects.filter(feed_uid="h1@body.example").exists()
    bad = SimpleUploadedFile("page.html", b"<html></html>", content_type="text/html")
    answer = client.post(url, {**{f"upload-{k}": v for k, v in form.items()}, "upload-file": bad})
    assert answer.status_code == 400
    assert "not an iCalendar file" in answer.content.decode()
    with feed_server() as server:
        feed_url = server.serve("/feed.ics", ics(HEARING))
        answer = client.post(url, {**{f"url-{k}": v for k, v in form.items()}, "url-url": feed_url})
        assert answer.status_code == 302
        feed = CalendarFeed.objects.get(url=feed_url)
        read = client.post(reverse("proposals:feed_read_now", args=[group.body.pk, feed.pk]))
        assert read.status_code == 302
    feed.refresh_from_db()
    assert feed.status == CalendarFeed.Status.OK
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    answer = client.post(
        url, {**{f"url-{k}": v for k, v in form.items()}, "url-url": "http://127.0.0.1/x.ics"}
    )
    assert answer.status_code == 400 and "private" in answer.content.decode()


def test_an_imported_occasion_says_where_it_came_from_and_shows_its_pins() -> None:
    group = group_setup()
    feed = _uploaded(group, ics(HEARING))
    occasion = Occasion.objects.get(feed=feed)
    occasion_update(actor=group.secretariat, occasion=occasion, changes={"location": "Rabat"})
    page = signed_in(group.secretariat).get(
        reverse("proposals:occasion_detail", args=[occasion.pk])
    )
    html = page.content.decode()
    assert "h1@body.example" in html and "Hearings" in html and group.body.name in html
    assert "let the feed update it" in html
    answer = signed_in(group.secretariat).post(
        reverse("proposals:occasion_unpin", args=[occasion.pk]), {"field": "location"}
    )
    assert answer.status_code == 302
    occasion.refresh_from_db()
    assert occasion.pinned_fields == []


def test_the_body_page_reads_in_a_constant_number_of_queries(django_assert_max_num_queries) -> None:
    group = group_setup()
    for index in range(3):
        _uploaded(group, ics(HEARING.replace("h1@", f"h{index}@")))
    client = signed_in(group.secretariat)
    url = reverse("proposals:body_detail", args=[group.body.pk])
    client.get(url)
    with django_assert_max_num_queries(14):
        client.get(url)
    for index in range(3, 12):
        _uploaded(group, ics(HEARING.replace("h1@", f"h{index}@")))
    with django_assert_max_num_queries(14):
        client.get(url)


def test_a_failed_feed_is_in_the_delivery_log_with_its_reason() -> None:
    group = group_setup()
    _uploaded(group)
    page = signed_in(group.secretariat).get(reverse("proposals:delivery_log"))
    html = page.content.decode()
    assert (
        "A body&#x27;s calendar feed could not be read" in html or "calendar feed could not" in html
    )
    assert "1 event of the feed could not be read" in html
