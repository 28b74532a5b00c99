"""The bodies' calendar feeds in the API: read by the group, written by the secretariat through
the audited services; occasions say where they came from."""

from __future__ import annotations

import pytest

from proposals import calendar_import
from proposals.models import CalendarFeed, Occasion
from tests.factories import group_setup
from tests.proposals.api.helpers import client_for
from tests.proposals.feed_server import event, feed_server, ics

pytestmark = pytest.mark.django_db

EVENT = event(
    "hearing-1@body.example", "Public hearing", ";VALUE=DATE:20270510", ";VALUE=DATE:20270511"
)


def test_feeds_are_listed_under_their_body_and_occasions_name_their_source(settings) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    group = group_setup()
    with feed_server() as server:
        url = server.serve("/feed.ics", ics(EVENT, "UID:bad@x\r\nSUMMARY:No date"))
        secretariat = client_for(group.secretariat)
        answer = secretariat.post(
            f"/api/bodies/{group.body.pk}/feeds/",
            {"url": url, "name": "Hearings", "occasion_kind": "law_consultation"},
            format="json",
        )
        assert answer.status_code == 201, answer.content
        feed_id = answer.json()["id"]
        calendar_import.calendar_feed_read(feed_id=feed_id)
    drafter = client_for(group.drafter)
    listed = drafter.get(f"/api/bodies/{group.body.pk}/feeds/").json()
    (feed,) = listed["results"] if isinstance(listed, dict) else listed
    assert feed["status"] == CalendarFeed.Status.FAILED
    assert "1 event of the feed could not be read" in feed["last_error"]
    assert feed["problems"][0]["uid"] == "bad@x"
    assert feed["occasion_count"] == 1
    occasion = Occasion.objects.get(feed_id=feed_id)
    shown = drafter.get(f"/api/occasions/{occasion.pk}/").json()
    assert shown["feed"] == feed_id and shown["body"] == group.body.pk
    assert shown["feed_uid"] == "hearing-1@body.example" and shown["imported_at"]
    assert shown["pinned_fields"] == [] and shown["cancelled_at"] is None
    # Drafters read; only the secretariat writes.
    refused = drafter.patch(
        f"/api/bodies/{group.body.pk}/feeds/{feed_id}/", {"active": False}, format="json"
    )
    assert refused.status_code == 403
    changed = client_for(group.secretariat).patch(
        f"/api/bodies/{group.body.pk}/feeds/{feed_id}/", {"active": False}, format="json"
    )
    assert changed.status_code == 200 and changed.json()["active"] is False
    # A pinned field shows in the API after a hand edit through it.
    client_for(group.secretariat).patch(
        f"/api/occasions/{occasion.pk}/", {"name": "Hearing (renamed)"}, format="json"
    )
    assert drafter.get(f"/api/occasions/{occasion.pk}/").json()["pinned_fields"] == ["name"]
    gone = client_for(group.secretariat).delete(f"/api/bodies/{group.body.pk}/feeds/{feed_id}/")
    assert gone.status_code == 204
    assert Occasion.objects.filter(pk=occasion.pk).exists()


def test_a_private_feed_url_is_a_clear_400(settings) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    group = group_setup()
    answer = client_for(group.secretariat).post(
        f"/api/bodies/{group.body.pk}/feeds/",
        {"url": "http://127.0.0.1:8000/feed.ics", "occasion_kind": "summit"},
        format="json",
    )
    assert answer.status_code == 400
    assert "url" in str(answer.json())
    assert not CalendarFeed.objects.exists()


def test_an_unknown_body_is_a_404() -> None:
    group = group_setup()
    assert client_for(group.drafter).get("/api/bodies/999999/feeds/").status_code == 404
