"""Helpers of the API tests: token clients, and proposals brought to each state."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from proposals.models import Person, Proposal, ProposalState
from proposals.selectors import proposals_with_rule_data
from proposals.services import endorsement_create
from tests.factories import Group, api_token_key, proposal_draft
from workflow.services import transition_run

STATES = [state.value for state in ProposalState]


def client_for(person: Person | None) -> APIClient:
    """A client that sends the person's token (none for an anonymous client)."""
    client = APIClient()
    if person is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_key(person)}")
    return client


def fresh(proposal: Proposal) -> Proposal:
    return proposals_with_rule_data().get(pk=proposal.pk)


def run(proposal: Proposal, name: str, actor: Any, comment: str = "", **arguments: Any) -> Proposal:
    return transition_run(
        obj=fresh(proposal), name=name, actor=actor, comment=comment, arguments=arguments
    ).obj


def proposal_in(group: Group, state: str, **kwargs: Any) -> Proposal:
    """A proposal by the group's drafter (France), brought to `state` by the transitions.

    From endorsement on, Morocco and Luxembourg have endorsed it (the quorum of 2).
    """
    proposal = proposal_draft(group, **kwargs)
    if state == ProposalState.DRAFT:
        return fresh(proposal)
    proposal = run(proposal, "submit_for_review", group.drafter)
    if state == ProposalState.IN_REVIEW:
        return fresh(proposal)
    proposal = run(proposal, "approve", group.reviewer)
    for person in (group.representative_ma, group.representative_lu):
        endorsement_create(proposal=fresh(proposal), person=person)
    if state == ProposalState.ENDORSEMENT:
        return fresh(proposal)
    if state == ProposalState.WITHDRAWN:
        return fresh(run(proposal, "withdraw", group.drafter, "No longer needed."))
    proposal = run(proposal, "submit", group.secretariat, reference="A/81/1")
    if state == ProposalState.SUBMITTED:
        return fresh(proposal)
    decided_on = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    return fresh(
        run(proposal, "record_outcome", group.secretariat, outcome="adopted", decided_on=decided_on)
    )


def run_at_once(actions: list[Callable[[], Any]]) -> list[Any]:
    """Run each action in its own thread (its own connection), all released together;
    the result of each, or the exception it raised."""
    barrier = threading.Barrier(len(actions))
    outcomes: list[Any] = [None] * len(actions)

    def worker(index: int, action: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=30)
            outcomes[index] = action()
        except Exception as error:  # the outcome is what the test checks
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread is still waiting"
    return outcomes
