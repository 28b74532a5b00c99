"""Every list runs the same number of queries whatever the page holds (1 row or 20)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from proposals.models import (
    Endorsement,
    Membership,
    PresidencyTerm,
    Proposal,
    Review,
    Revision,
    Role,
)
from tests.factories import (
    BodyFactory,
    Group,
    OccasionFactory,
    OrganizationFactory,
    PersonFactory,
    proposal_draft,
)
from tests.proposals.api.helpers import client_for, proposal_in
from workflow.services import action_log

pytestmark = pytest.mark.django_db


def add_organizations(group: Group, proposal: Proposal, count: int) -> None:
    OrganizationFactory.create_batch(count)


def add_people(group: Group, proposal: Proposal, count: int) -> None:
    for person in PersonFactory.create_batch(count):
        Membership.objects.create(person=person, organization=group.morocco, role=Role.DRAFTER)
        Membership.objects.create(person=person, organization=group.quebec, role=Role.DRAFTER)


def add_presidencies(group: Group, proposal: Proposal, count: int) -> None:
    first = PresidencyTerm.objects.order_by("starts_on").first()
    assert first is not None
    for index in range(1, count + 1):
        starts_on = first.starts_on - dt.timedelta(days=200 * index)
        PresidencyTerm.objects.create(
            organization=group.morocco,
            starts_on=starts_on,
            ends_on=starts_on + dt.timedelta(days=180),
        )


def add_bodies(group: Group, proposal: Proposal, count: int) -> None:
    BodyFactory.create_batch(count)


def add_occasions(group: Group, proposal: Proposal, count: int) -> None:
    OccasionFactory.create_batch(count)


def add_proposals(group: Group, proposal: Proposal, count: int) -> None:
    for _ in range(count):
        proposal_draft(group).themes.set([1, 2])


def add_endorsements(group: Group, proposal: Proposal, count: int) -> None:
    for organization in OrganizationFactory.create_batch(count):
        Endorsement.objects.create(
            proposal=proposal, organization=organization, endorsed_by=group.secretariat
        )


def add_reviews(group: Group, proposal: Proposal, count: int) -> None:
    for reviewer in PersonFactory.create_batch(count):
        revision = Revision.objects.get(proposal=proposal, number=1)
        Review.objects.create(
            proposal=proposal, revision=revision, reviewer=reviewer, decision="approve"
        )


def add_revisions(group: Group, proposal: Proposal, count: int) -> None:
    start = proposal.revisions.count() + 1
    for number in range(start, start + count):
        Revision.objects.create(
            proposal=proposal, number=number, title="T", text=str(number), author=group.drafter
        )


def add_history(group: Group, proposal: Proposal, count: int) -> None:
    for _ in range(count):
        action_log(obj=proposal, action="comment", actor=group.reviewer, now=timezone.now())


Adder = Callable[[Group, Proposal, int], None]

# (url, how rows are added, queries for the page whatever its size: the token with the
# requester's roles in one query, then the page's own)
LISTS: list[tuple[str, Adder, int]] = [
    ("/api/organizations/", add_organizations, 3),
    ("/api/people/", add_people, 4),
    ("/api/presidencies/", add_presidencies, 3),
    ("/api/bodies/", add_bodies, 3),
    ("/api/occasions/", add_occasions, 3),
    ("/api/proposals/", add_proposals, 8),  # the forecast's milestones come with the rows
    ("/api/proposals/?format=csv", add_proposals, 4),
    ("/api/proposals/{id}/endorsements/", add_endorsements, 4),
    ("/api/proposals/{id}/reviews/", add_reviews, 4),
    ("/api/proposals/{id}/revisions/", add_revisions, 4),
    ("/api/proposals/{id}/history/", add_history, 4),
    ("/api/proposals/{id}/transitions/", add_reviews, 7),
]


def queries_of(url: str, client: APIClient) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
        assert response.status_code == 200
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
    return len(captured)


@pytest.mark.parametrize(("url", "add", "expected"), LISTS, ids=[row[0] for row in LISTS])
def test_a_list_runs_a_constant_number_of_queries(
    group: Group, url: str, add: Adder, expected: int, django_assert_num_queries
) -> None:
    proposal = proposal_in(group, "in_review")
    url = url.replace("{id}", str(proposal.pk))
    client = client_for(group.secretariat)
    add(group, proposal, 1)
    client.get(url)  # the forecast's durations are learned once after the log grew, then cached
    with django_assert_num_queries(expected):
        queries_of_page = queries_of(url, client)
    add(group, proposal, 19)
    client.get(url)
    with django_assert_num_queries(expected):
        assert queries_of(url, client) == queries_of_page
