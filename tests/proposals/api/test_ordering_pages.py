"""Walking the pages of a list in any ordering returns each row exactly once: every ordering
ends with a unique tie-breaker (the id)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import pytest
from rest_framework.test import APIClient

from proposals.models import Occasion, Proposal
from tests.factories import Group, OccasionFactory, ProposalFactory, proposal_draft
from tests.proposals.api.helpers import client_for

pytestmark = pytest.mark.django_db

PROPOSAL_ORDERINGS = [
    "deadline",
    "-deadline",
    "title",
    "-title",
    "state",
    "-state",
    "created_at",
    "-updated_at",
    "id",
    "-id",
]


def walk_pages(client: APIClient, url: str) -> list[dict[str, Any]]:
    """Every row of every page, following `next` from `url` to the end."""
    rows: list[dict[str, Any]] = []
    next_url: str | None = url
    while next_url:
        response = client.get(next_url)
        assert response.status_code == 200, response.json()
        page = response.json()
        rows.extend(page["results"])
        next_url = page["next"]
        assert len(rows) <= 1000, "the pages do not end"
    return rows


def superuser_client() -> APIClient:
    from proposals.models import Person

    person = Person.objects.filter(is_superuser=True).order_by("pk").first()
    assert person is not None
    return client_for(person)


def demo_of_41_proposals() -> None:
    """The demo's proposals and copies of them, 41 in all, spread over the demo's occasions
    (and none), as an integrator found them: many share a deadline, a title or a state."""
    demo = list(Proposal.objects.order_by("pk"))
    occasions = [*Occasion.objects.order_by("pk"), None]
    for index in range(41 - len(demo)):
        model = demo[index % len(demo)]
        ProposalFactory.create(
            title=model.title,
            state=model.state,
            lead_organization=model.lead_organization,
            created_by=model.created_by,
            target_body=model.target_body,
            occasion=occasions[index % len(occasions)],
            created_at=model.created_at,
            updated_at=model.updated_at,
        )


@pytest.mark.parametrize("ordering", PROPOSAL_ORDERINGS)
def test_the_demo_proposals_walked_five_by_five_in_any_ordering_appear_once_each(
    demo_loaded: None, ordering: str
) -> None:
    demo_of_41_proposals()
    ids = set(Proposal.objects.values_list("pk", flat=True))
    assert len(ids) >= 41  # the demo's archive of earlier occasions makes more
    shared = Counter(Proposal.objects.values_list("occasion__submission_deadline", flat=True))
    assert max(shared.values()) > 1, "the demo has proposals that share a deadline"
    rows = walk_pages(superuser_client(), f"/api/proposals/?page_size=5&ordering={ordering}")
    seen = Counter(row["id"] for row in rows)
    assert [pk for pk, times in seen.items() if times > 1] == []
    assert set(seen) == ids


def test_proposals_without_a_deadline_come_last_in_both_directions(group: Group) -> None:
    later = OccasionFactory.create(
        submission_deadline=group.occasion.submission_deadline + dt.timedelta(days=1)
    )
    early = proposal_draft(group, title="Early")
    late = proposal_draft(group, title="Late", occasion=later)
    undated = [proposal_draft(group, title=f"Undated {n}", occasion=None) for n in range(3)]
    client = client_for(group.secretariat)
    expected_tail = [proposal.pk for proposal in undated]
    rising = walk_pages(client, "/api/proposals/?page_size=2&ordering=deadline")
    falling = walk_pages(client, "/api/proposals/?page_size=2&ordering=-deadline")
    assert [row["id"] for row in rising] == [early.pk, late.pk, *expected_tail]
    assert [row["id"] for row in falling] == [late.pk, early.pk, *reversed(expected_tail)]


LISTS = [
    ("/api/organizations/", ["name", "-name", "joined_on", "-joined_on"]),
    ("/api/people/", ["last_name", "-last_name", "username"]),
    ("/api/occasions/", ["deadline", "-deadline", "starts_on", "name"]),
    ("/api/bodies/", ["name", "-name"]),
    ("/api/presidencies/", ["starts_on", "-starts_on"]),
]


@pytest.mark.parametrize(("url", "orderings"), LISTS, ids=[url for url, _ in LISTS])
def test_every_reference_list_walked_two_by_two_in_any_ordering_gives_each_row_once(
    demo_loaded: None, url: str, orderings: list[str]
) -> None:
    client = superuser_client()
    everything = {row["id"] for row in walk_pages(client, f"{url}?page_size=100")}
    for ordering in ["", *orderings]:
        rows = walk_pages(client, f"{url}?page_size=2&ordering={ordering}")
        ids = [row["id"] for row in rows]
        assert len(ids) == len(set(ids)), ordering
        assert set(ids) == everything, ordering
