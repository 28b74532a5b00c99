"""Shared steps of the page tests: signing in, moving a proposal along."""

from __future__ import annotations

from typing import Any

from django.test import Client

from proposals.models import Proposal
from proposals.selectors import proposals_with_rule_data
from proposals.services import endorsement_create
from tests.factories import Group, client_signed_in, proposal_draft
from workflow.services import transition_run


def signed_in(person: Any) -> Client:
    """A client signed in as the person, verified by an app where the person must use one."""
    return client_signed_in(Client(), person)


def fresh(proposal: Proposal) -> Proposal:
    return proposals_with_rule_data().get(pk=proposal.pk)


def run(proposal: Proposal, name: str, actor: Any, comment: str = "", **arguments: Any) -> Proposal:
    return transition_run(
        obj=fresh(proposal), name=name, actor=actor, comment=comment, arguments=arguments
    ).obj


def in_review(group: Group, **kwargs: Any) -> Proposal:
    return run(proposal_draft(group, **kwargs), "submit_for_review", group.drafter)


def in_endorsement(group: Group, **kwargs: Any) -> Proposal:
    return run(in_review(group, **kwargs), "approve", group.reviewer)


def endorsed(group: Group, *people: Any, **kwargs: Any) -> Proposal:
    proposal = in_endorsement(group, **kwargs)
    for person in people or (group.representative_fr, group.representative_ma):
        endorsement_create(proposal=fresh(proposal), person=person)
    return fresh(proposal)
