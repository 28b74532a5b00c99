"""Two clients running conflicting transitions over HTTP at the same moment: one 200, the
others 409 (PostgreSQL row locks; each client in its own thread and connection)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rest_framework.test import APIClient

from proposals.models import ProposalState
from tests.factories import group_setup
from tests.proposals.api.helpers import client_for, proposal_in, run_at_once
from workflow.models import TransitionLog


def test_conflicting_transitions_over_http_one_200_the_others_409(
    django_db_serialized_rollback: None, postgres: None
) -> None:
    group = group_setup()
    proposal = proposal_in(group, "in_review")
    logged_before = TransitionLog.objects.for_object(proposal).count()
    # Each client says which version it acted on, so exactly one wins whatever the timing; no
    # transition here sends the proposal back to draft, which would hide it from the reviewers
    # (a 404 for them, by the visibility rule, rather than a 409).
    seen = {"version": proposal.version}
    calls: list[tuple[APIClient, str, dict[str, Any]]] = [
        (client_for(group.reviewer), "approve", seen),
        (client_for(group.second_reviewer), "approve", seen),
        (client_for(group.drafter), "withdraw", {"comment": "Not now.", **seen}),
        (client_for(group.secretariat), "approve", seen),
    ]

    def call(client: APIClient, name: str, body: dict[str, Any]) -> Callable[[], Any]:
        url = f"/api/proposals/{proposal.pk}/transitions/{name}/"
        return lambda: client.post(url, body, format="json")

    responses = run_at_once([call(client, name, body) for client, name, body in calls])

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200, 409, 409, 409], [r.content for r in responses]
    for response in responses:
        if response.status_code == 409:
            assert response.json()["reasons"]
    assert TransitionLog.objects.for_object(proposal).count() == logged_before + 1
    proposal.refresh_from_db()
    assert proposal.state != ProposalState.IN_REVIEW
