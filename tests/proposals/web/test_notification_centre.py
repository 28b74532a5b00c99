"""The notification centre, the header's unread count, following from the pages, and the
dashboard's "since your last visit"."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from proposals.following import follow_start, is_following
from proposals.forecast import durations_learned
from proposals.models import Person
from proposals.notification_centre import VISIT_GAP
from proposals.services import occasion_move_deadline, proposal_update
from tests.factories import Group, proposal_draft
from tests.proposals.web.helpers import fresh, in_review, run, signed_in
from workflow.models import AuditEvent, Delivery

pytestmark = pytest.mark.django_db

CENTRE = "/notifications/"


def badge(html: str) -> str | None:
    """The count the header shows, or None when it shows none."""
    match = re.search(r'<span class="count" id="notification-count"[^>]*>(\d+)</span>', html)
    return match.group(1) if match else None


def news_for_rita(group: Group, count: int) -> None:
    """Rita (a reviewer) is asked to review `count` proposals: one notice each."""
    for _ in range(count):
        run(proposal_draft(group), "submit_for_review", group.drafter)


def test_the_badge_counts_the_unread_and_clears_when_all_are_read(group: Group) -> None:
    client = signed_in(group.reviewer)
    assert badge(client.get(reverse("proposals:home")).content.decode()) is None
    news_for_rita(group, 2)
    html = client.get(reverse("proposals:proposal_list")).content.decode()
    assert badge(html) == "2"
    assert 'id="notification-badge"' in html and ", 2 unread" in html
    response = client.post(reverse("proposals:notifications_read_all"))
    assert response.status_code == 302 and response["Location"] == CENTRE
    assert badge(client.get(CENTRE).content.decode()) is None
    assert AuditEvent.objects.filter(action="notification.all_read").count() == 1


def test_the_centre_groups_by_proposal_links_each_notice_and_marks_one_read(
    group: Group,
) -> None:
    proposal = in_review(group, title="Oceans")
    follow_start(person=group.observer, proposal=proposal)
    proposal = run(proposal, "request_changes", group.reviewer, "Shorter.")
    proposal_update(proposal=fresh(proposal), editor=group.drafter, text="Shorter text.")
    client = signed_in(group.co_drafter)  # France: follows nothing, but may see the draft
    follow_start(person=group.co_drafter, proposal=proposal)
    proposal_update(proposal=fresh(proposal), editor=group.drafter, text="Shorter again.")
    html = client.get(CENTRE).content.decode()
    assert f'<a href="/proposals/{proposal.pk}/">Oceans</a>' in html
    diff = f"/proposals/{proposal.pk}/diff/?from=2&amp;to=3"
    assert f'<a href="{diff}">Claire wrote revision 3 of “Oceans”.</a>' in html
    (row,) = Delivery.objects.filter(recipient=group.co_drafter, channel="page")
    assert f'id="notification-{row.pk}"' in html and badge(html) == "1"
    response = client.post(
        reverse("proposals:notification_read", args=[row.pk]), {"next": CENTRE + "?unread=1"}
    )
    assert response["Location"] == CENTRE + "?unread=1"
    html = client.get(CENTRE + "?unread=1").content.decode()
    assert "You have read every notification." in html and badge(html) is None
    assert Delivery.objects.get(pk=row.pk).read_at is not None


def test_someone_else_s_notice_cannot_be_marked_read(group: Group) -> None:
    news_for_rita(group, 1)
    row = Delivery.objects.get(recipient=group.reviewer, channel="page")
    response = signed_in(group.drafter).post(reverse("proposals:notification_read", args=[row.pk]))
    assert response.status_code == 404
    assert Delivery.objects.get(pk=row.pk).read_at is None


def test_marking_read_needs_a_post_with_its_csrf_token(group: Group) -> None:
    news_for_rita(group, 1)
    client = signed_in(group.reviewer)
    client.handler.enforce_csrf_checks = True
    assert client.get(reverse("proposals:notifications_read_all")).status_code == 405
    assert client.post(reverse("proposals:notifications_read_all")).status_code == 403
    html = client.get(CENTRE).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert token is not None
    response = client.post(
        reverse("proposals:notifications_read_all"), {"csrfmiddlewaretoken": token.group(1)}
    )
    assert response.status_code == 302
    unread = Delivery.objects.filter(recipient=group.reviewer, channel="page", read_at=None)
    assert not unread.exists()


@pytest.mark.parametrize(
    ("language", "sentence", "mark"),
    [
        ("fr", "«\u00a0Proposal", "Marquer comme lu"),
        ("es", "«Proposal", "Marcar como leída"),
    ],
)
def test_the_centre_speaks_the_reader_s_language_whatever_the_notice_was_written_in(
    group: Group, language: str, sentence: str, mark: str
) -> None:
    news_for_rita(group, 1)  # written while English was active
    Person.objects.filter(pk=group.reviewer.pk).update(language=language)
    html = signed_in(Person.objects.get(pk=group.reviewer.pk)).get(CENTRE).content.decode()
    assert f'<html lang="{language}"' in html
    assert sentence in html and mark in html
    assert "awaits your review" not in html


def test_the_centre_runs_a_constant_number_of_queries(group: Group) -> None:
    client = signed_in(group.reviewer)
    news_for_rita(group, 1)
    client.get(CENTRE)
    with CaptureQueriesContext(connection) as one:
        client.get(CENTRE)
    news_for_rita(group, 6)
    with CaptureQueriesContext(connection) as many:
        client.get(CENTRE)
    # Sign-in and roles, the header's count, the page's count and rows.
    assert len(one) == len(many)


def test_following_and_unfollowing_from_the_proposal_page(group: Group) -> None:
    proposal = in_review(group)
    client = signed_in(group.observer)
    html = client.get(reverse("proposals:proposal_detail", args=[proposal.pk])).content.decode()
    assert 'id="follow-button"' in html and ">Follow</button>" in html
    url = reverse("proposals:proposal_follow", args=[proposal.pk])
    client.post(url, {"follow": "1"})
    assert is_following(group.observer, proposal=proposal)
    html = client.get(reverse("proposals:proposal_detail", args=[proposal.pk])).content.decode()
    assert ">Following</button>" in html
    client.post(url, {"follow": "0"})
    assert not is_following(group.observer, proposal=proposal)
    # A draft the person may not see is not found.
    draft = proposal_draft(group)
    response = client.post(reverse("proposals:proposal_follow", args=[draft.pk]), {"follow": "1"})
    assert response.status_code == 404


def test_following_an_occasion_from_its_page(group: Group) -> None:
    client = signed_in(group.observer)
    client.post(reverse("proposals:occasion_follow", args=[group.occasion.pk]), {"follow": "1"})
    assert is_following(group.observer, occasion=group.occasion)
    html = client.get(
        reverse("proposals:occasion_detail", args=[group.occasion.pk])
    ).content.decode()
    assert ">Following</button>" in html


# Since your last visit


def test_the_dashboard_shows_what_changed_since_the_previous_visit_until_the_next(
    group: Group,
) -> None:
    client = signed_in(group.observer)
    html = client.get(reverse("proposals:home")).content.decode()
    assert 'id="since-last-visit"' in html and "from your next visit on" in html
    follow_start(person=group.observer, occasion=group.occasion)
    occasion_move_deadline(
        occasion=group.occasion,
        new_deadline=group.occasion.submission_deadline + dt.timedelta(days=2),
        actor=group.secretariat,
    )
    # What happened during the visit shows on the next view.
    html = client.get(reverse("proposals:home")).content.decode()
    assert "The deadline of “UNGA 81” moved" in html
    # A visit later: shown, and still shown on a reload of the same visit.
    now = timezone.now()
    Person.objects.filter(pk=group.observer.pk).update(last_visit_at=now - dt.timedelta(hours=2))
    Delivery.objects.update(created_at=now - dt.timedelta(hours=1))
    for _reload in range(2):
        html = client.get(reverse("proposals:home")).content.decode()
        assert "The deadline of “UNGA 81” moved" in html
    # The next visit (the last view a while ago, after the move) counts from there.
    Person.objects.filter(pk=group.observer.pk).update(last_visit_at=now - VISIT_GAP * 2)
    html = client.get(reverse("proposals:home")).content.decode()
    assert "Nothing changed on what you follow since your last visit." in html


def test_the_dashboard_s_box_runs_a_constant_number_of_queries(group: Group) -> None:
    client = signed_in(group.reviewer)
    Person.objects.filter(pk=group.reviewer.pk).update(
        last_visit_at=timezone.now() - dt.timedelta(days=1)
    )
    client.get(reverse("proposals:home"))
    news_for_rita(group, 1)
    durations_learned()  # the forecast's hourly learning is done before either page counts
    Person.objects.filter(pk=group.reviewer.pk).update(
        last_visit_at=timezone.now() - dt.timedelta(days=1)
    )
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("proposals:home"))
    news_for_rita(group, 5)
    Person.objects.filter(pk=group.reviewer.pk).update(
        last_visit_at=timezone.now() - dt.timedelta(days=1)
    )
    with CaptureQueriesContext(connection) as many:
        html = client.get(reverse("proposals:home")).content.decode()
    assert html.count("awaits your review") >= 5
    assert len(one) == len(many)
