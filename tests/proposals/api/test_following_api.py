"""/api/proposals/{id}/follow/, /api/occasions/{id}/follow/ and /api/notifications/."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from proposals.following import is_following
from tests.factories import Group, proposal_draft
from tests.proposals.api.helpers import client_for, proposal_in, run
from workflow.models import AuditEvent, Delivery

pytestmark = pytest.mark.django_db


def asked_to_review(group: Group, count: int) -> None:
    for _ in range(count):
        run(proposal_draft(group), "submit_for_review", group.drafter)


def test_put_follows_get_says_so_and_delete_unfollows(group: Group) -> None:
    proposal = proposal_in(group, "in_review")
    client = client_for(group.observer)
    url = f"/api/proposals/{proposal.pk}/follow/"
    assert client.get(url).json() == {"following": False}
    assert client.put(url).json() == {"following": True}
    assert client.put(url).status_code == 200  # again: nothing more written
    assert is_following(group.observer, proposal=proposal)
    assert client.delete(url).json() == {"following": False}
    assert [e.action for e in AuditEvent.objects.order_by("at", "id")] == [
        "follow.started",
        "follow.stopped",
    ]


def test_a_draft_one_may_not_see_is_a_404_and_anonymous_a_401(group: Group) -> None:
    draft = proposal_draft(group)
    response = client_for(group.observer).put(f"/api/proposals/{draft.pk}/follow/")
    assert response.status_code == 404
    assert set(response.json()) >= {"detail", "code"}
    assert APIClient().put(f"/api/proposals/{draft.pk}/follow/").status_code == 401


def test_following_an_occasion(group: Group) -> None:
    url = f"/api/occasions/{group.occasion.pk}/follow/"
    assert client_for(group.observer).put(url).json() == {"following": True}
    assert client_for(group.outsider).put(url).status_code == 403
    assert client_for(group.observer).get("/api/occasions/999999/follow/").status_code == 404


def test_the_list_the_unread_filter_and_marking_read(group: Group) -> None:
    asked_to_review(group, 3)
    client = client_for(group.reviewer)
    body = client.get("/api/notifications/").json()
    assert body["count"] == 3
    first = body["results"][0]
    assert first["event"] == "proposal.review_requested" and first["unread"] is True
    assert first["text"].endswith("awaits your review.")
    assert first["path"] == f"/proposals/{first['proposal']}/"
    response = client.post(f"/api/notifications/{first['id']}/read/")
    assert response.status_code == 200 and response.json()["unread"] is False
    assert client.get("/api/notifications/?unread=true").json()["count"] == 2
    assert client.get("/api/notifications/?unread=false").json()["count"] == 1
    assert client.post("/api/notifications/read-all/").json() == {"marked": 2}
    assert client.get("/api/notifications/?unread=true").json()["count"] == 0


def test_the_text_is_in_the_reader_s_language(group: Group) -> None:
    asked_to_review(group, 1)
    client = client_for(group.reviewer)
    text = client.get("/api/notifications/", HTTP_ACCEPT_LANGUAGE="fr").json()["results"][0]
    assert "attend votre relecture" in text["text"]


def test_a_wrong_filter_is_a_400_and_someone_else_s_notice_a_404(group: Group) -> None:
    asked_to_review(group, 1)
    response = client_for(group.reviewer).get("/api/notifications/?unread=maybe")
    assert response.status_code == 400
    assert response.json()["reason_codes"] == ["notification_filter_invalid"]
    row = Delivery.objects.get(recipient=group.reviewer, channel="page")
    assert client_for(group.drafter).post(f"/api/notifications/{row.pk}/read/").status_code == 404
    assert Delivery.objects.get(pk=row.pk).read_at is None


def test_cursor_pages_walk_the_list(group: Group) -> None:
    asked_to_review(group, 3)
    client = client_for(group.reviewer)
    page = client.get("/api/notifications/?pagination=cursor&page_size=2").json()
    assert len(page["results"]) == 2 and page["next"]
    rest = client.get(page["next"]).json()
    assert len(rest["results"]) == 1


def test_the_list_runs_a_constant_number_of_queries(group: Group) -> None:
    client = client_for(group.reviewer)
    asked_to_review(group, 1)
    client.get("/api/notifications/")
    with CaptureQueriesContext(connection) as one:
        client.get("/api/notifications/")
    asked_to_review(group, 5)
    with CaptureQueriesContext(connection) as many:
        assert client.get("/api/notifications/").json()["count"] == 6
    assert len(one) == len(many)
