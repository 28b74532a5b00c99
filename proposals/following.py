"""Who follows what: people follow a proposal or an occasion, and are told of what happens to it."""

from __future__ import annotations

from django.db.models import Q

from proposals.models import Follow, Proposal
from proposals.selectors import people_who_may_view


def proposal_follower_ids(proposal: Proposal) -> set[int]:
    """The people who follow the proposal, or its occasion without having unfollowed the
    proposal, and who may see it: a follower is never told of what they may not see."""
    about = Q(proposal=proposal)
    if proposal.occasion_id is not None:
        about |= Q(occasion_id=proposal.occasion_id)
    following: set[int] = set()
    left: set[int] = set()
    for person_id, active, on_proposal in Follow.objects.filter(about).values_list(
        "person_id", "active", "proposal_id"
    ):
        if active:
            following.add(person_id)
        elif on_proposal is not None:
            left.add(person_id)
    return people_who_may_view(proposal, following - left)
