"""Pages run a constant number of queries whatever the number of rows (pinned here)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from proposals.discussion import comment_create, comment_delete, comment_edit, comment_hide
from proposals.models import Proposal
from proposals.notifications import OPTIONAL_NOTIFICATIONS, notification_choices_set
from proposals.services import endorsement_create, proposal_update
from tests.factories import Group, proposal_draft
from tests.proposals.web.helpers import endorsed, fresh, in_endorsement, in_review, run, signed_in

pytestmark = pytest.mark.django_db


def queries(client: Client, url: str) -> int:
    client.get(url)  # warm the content-type cache
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def assert_constant(client: Client, url: str, add_rows: Callable[[], Any], expected: int) -> None:
    one = queries(client, url)
    add_rows()
    many = queries(client, url)
    assert (one, many) == (expected, expected)


def some_of_everything(group: Group) -> None:
    for _ in range(3):
        proposal_draft(group)
        in_review(group)
        endorsed(group)
        run(endorsed(group), "submit", group.secretariat)


def test_the_dashboard_runs_a_constant_number_of_queries(group: Group) -> None:
    def more() -> None:
        some_of_everything(group)
        in_endorsement(group)  # awaits Morocco's endorsement

    more()
    # Sign-in and roles 4, one query per section shown, the rows' rule data 6, deadlines 1,
    # the header's unread count 1, "since your last visit" 2 (the visit's mark, the notices).
    # Sam's session is verified by an authenticator app: one more query reads the device.
    # The forecast of the rows 1 (the log's last row names the learned durations, cached; the
    # milestones come with the rows); the secretariat's also weighs the first open proposals by
    # deadline, 1.
    expected = {"claire": 15, "rita": 16, "youssef": 16, "sam": 19}
    counted = {}
    for person in (group.drafter, group.reviewer, group.representative_ma, group.secretariat):
        client = signed_in(person)
        one = queries(client, reverse("proposals:home"))
        more()
        counted[person.username] = (one, queries(client, reverse("proposals:home")))
    assert counted == {name: (count, count) for name, count in expected.items()}


def test_the_list_runs_a_constant_number_of_queries(group: Group) -> None:
    in_review(group)
    client = signed_in(group.drafter)
    assert_constant(
        client,
        reverse("proposals:proposal_list") + "?state=in_review&search=Proposal",
        lambda: some_of_everything(group),
        10,  # 9, and the header's unread count
    )
    assert_constant(
        client, reverse("proposals:proposal_list"), lambda: some_of_everything(group), 10
    )


def test_the_proposal_page_runs_a_constant_number_of_queries(group: Group) -> None:
    # The files panel reads the proposal's files in one query on every proposal page.
    # Short of its quorum before and after: "who acts next" names the representatives still
    # missing, in one query (16 = 12, that one, the discussion's comments, the header's unread
    # count and whether the person follows the proposal; the forecast's milestones come with the
    # proposal).
    group.occasion.endorsement_quorum = 5
    group.occasion.save()
    proposal = in_endorsement(group)
    endorsement_create(proposal=fresh(proposal), person=group.representative_ma)
    url = reverse("proposals:proposal_detail", args=[proposal.pk])

    def more() -> None:
        endorsement_create(proposal=fresh(proposal), person=group.representative_lu)
        endorsement_create(proposal=fresh(proposal), person=group.representative_fr)

    assert_constant(signed_in(group.representative_ma), url, more, 16)


def test_the_proposal_page_in_review_runs_a_constant_number_of_queries(group: Group) -> None:
    # "Who acts next" names the reviewers who have not decided, in one query.
    group.occasion.required_approvals = 3
    group.occasion.save()
    proposal = in_review(group)
    url = reverse("proposals:proposal_detail", args=[proposal.pk])

    def more() -> None:
        run(proposal, "approve", group.reviewer)
        run(proposal, "approve", group.second_reviewer)

    assert_constant(signed_in(group.drafter), url, more, 16)


def test_a_proposal_with_a_long_history_runs_the_same_queries(group: Group) -> None:
    proposal = proposal_draft(group)
    url = reverse("proposals:proposal_detail", args=[proposal.pk])

    def more() -> None:
        current: Proposal = proposal
        for round_number in range(3):
            current = run(current, "submit_for_review", group.drafter)
            current = run(current, "request_changes", group.reviewer, comment="Again.")
            proposal_update(proposal=fresh(current), editor=group.drafter, text=f"v{round_number}")

    assert_constant(signed_in(group.drafter), url, more, 15)


def test_a_long_discussion_runs_the_same_queries(group: Group) -> None:
    """Threads, replies, anchored, edited, deleted and hidden comments, with mentions: the
    comments, their edits and their mentions are three queries whatever their number."""
    proposal = in_review(group, text="First paragraph.\n\nSecond paragraph.")
    url = reverse("proposals:proposal_detail", args=[proposal.pk])
    revision = proposal.revisions.get(number=1)

    def talk() -> None:
        first = comment_create(
            proposal=proposal,
            author=group.reviewer,
            body="Why @claire?",
            revision=revision,
            paragraph=2,
        )
        reply = comment_create(
            proposal=proposal, author=group.drafter, body="Because.", parent=first
        )
        comment_edit(comment=reply, editor=group.drafter, body="Because @rita asked.")
        comment_hide(comment=first, actor=group.secretariat, reason="Off topic.")
        comment_delete(
            comment=comment_create(proposal=proposal, author=group.drafter, body="Oops."),
            actor=group.drafter,
        )

    def talk_more() -> None:
        for _ in range(4):
            talk()

    talk()
    assert_constant(signed_in(group.observer), url, talk_more, 18)


def test_the_delivery_log_runs_a_constant_number_of_queries(group: Group) -> None:
    in_review(group)
    assert_constant(
        signed_in(group.secretariat),
        reverse("proposals:delivery_log"),
        lambda: some_of_everything(group),
        7,  # 5, the device that verified the secretariat's session, the header's unread count
    )


def test_the_occasions_page_runs_a_constant_number_of_queries(group: Group) -> None:
    in_review(group)
    assert_constant(
        signed_in(group.drafter),
        reverse("proposals:occasion_list"),
        lambda: some_of_everything(group),
        6,  # 5, and the header's unread count
    )


def test_the_settings_page_runs_a_constant_number_of_queries(group: Group) -> None:
    def more() -> None:
        notification_choices_set(
            person=group.drafter,
            wanted={kind.event: False for kind in OPTIONAL_NOTIFICATIONS},
            actor=group.drafter,
        )

    # Session, person, roles (memberships and presidency), the notification choices, and the
    # header's unread count.
    assert_constant(signed_in(group.drafter), reverse("proposals:settings"), more, 5)
