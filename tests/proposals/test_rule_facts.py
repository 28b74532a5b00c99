"""The transitions' row lock reads what the rules read in one query (JSON on PostgreSQL and on
SQLite), and whom a transition tells in one more: both say what the reads of many queries say."""

from __future__ import annotations

from typing import Any, cast

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from proposals.following import follow_stop, proposal_follower_ids
from proposals.lifecycle import ProposalPolicy, transitions_allowed
from proposals.models import Follow, Proposal
from proposals.notices import audience_of
from proposals.selectors import (
    proposals_visible_to,
    proposals_with_rule_data,
    proposals_with_rule_facts,
    representatives_of_full_members,
    reviewer_ids,
    rule_facts_kept,
)
from tests.factories import Group, proposal_draft
from tests.proposals.api.helpers import proposal_in
from workflow.preferences import email_modes, notification_preference_set

pytestmark = pytest.mark.django_db


def facts(proposal: Proposal) -> dict[str, Any]:
    """What the rules and the answer read of a proposal's relations."""
    return {
        "authors": [(p.pk, str(p)) for p in proposal.authors.all()],
        "contributors": [p.pk for p in proposal.contributors.all()],
        "themes": [t.pk for t in proposal.themes.all()],
        "reviews": [
            (r.pk, r.reviewer_id, r.decision, r.revision.number, r.comment, r.created_at)
            for r in proposal.reviews.all()
        ],
        "endorsements": [
            (
                e.pk,
                e.organization_id,
                e.organization.is_full_member,
                str(e.organization),
                e.endorsed_by_id,
                e.created_at,
                e.withdrawn_at,
            )
            for e in proposal.endorsements.all()
        ],
    }


@pytest.mark.parametrize("state", ["draft", "in_review", "endorsement", "submitted"])
def test_the_facts_read_in_one_query_are_those_of_the_prefetches(group: Group, state: str) -> None:
    proposal = proposal_in(group, state)
    proposal.themes.set([3, 8])
    prefetched = proposals_with_rule_data().get(pk=proposal.pk)
    proposals_with_rule_facts().get(pk=proposal.pk)  # SQLite's JSON support is probed once
    with CaptureQueriesContext(connection) as queries:
        read = rule_facts_kept(proposals_with_rule_facts().get(pk=proposal.pk))
        assert facts(read) == facts(prefetched)
    assert len(queries) == 1
    for person in (group.drafter, group.reviewer, group.secretariat, group.representative_lu):
        assert transitions_allowed([read], person) == transitions_allowed([prefetched], person)
    assert cast(Any, read).facts_revision_id == proposal.revisions.get(number=proposal.revision).pk


def test_the_lock_reads_only_a_proposal_the_person_may_see(group: Group) -> None:
    draft = proposal_draft(group)
    policy = ProposalPolicy()
    assert policy.lock(draft, visible_to=group.drafter).pk == draft.pk
    with pytest.raises(Proposal.DoesNotExist):
        policy.lock(draft, visible_to=group.representative_ma)  # a Moroccan: a French draft
    assert not proposals_visible_to(group.representative_ma).filter(pk=draft.pk).exists()


def test_the_audience_says_what_the_reads_of_each_group_say(group: Group) -> None:
    proposal = proposal_in(group, "in_review")
    Follow.objects.create(person=group.observer, proposal=proposal)
    Follow.objects.create(person=group.outsider, proposal=proposal)  # sees nothing: not told
    Follow.objects.create(person=group.representative_lu, occasion=proposal.occasion)
    Follow.objects.create(person=group.representative_ma, occasion=proposal.occasion)
    follow_stop(person=group.representative_ma, proposal=proposal)  # this one only
    group.second_reviewer.is_active = False
    group.second_reviewer.save()
    notification_preference_set(
        person=group.drafter, event="proposal.moved", enabled=False, actor=group.drafter
    )
    group.co_drafter.daily_digest = True
    group.co_drafter.save()
    proposal = proposals_with_rule_data().get(pk=proposal.pk)
    with CaptureQueriesContext(connection) as queries:
        audience = audience_of(proposal, reviewers=True, representatives=True)
    assert len(queries) == 1
    assert audience.follower_ids() == proposal_follower_ids(proposal)
    assert audience.reviewer_ids() == reviewer_ids()
    assert audience.representative_ids() == set().union(*representatives_of_full_members().values())
    everyone = set(audience.listeners)
    assert audience.active(everyone) == {pk for pk in everyone if pk != group.second_reviewer.pk}
    wanted = {(pk, event) for pk in everyone for event in ("proposal.moved", "proposal.approved")}
    known = {pk: listener.settings for pk, listener in audience.listeners.items()}
    assert email_modes(wanted, known) == email_modes(wanted)
    notices = audience.notices(
        proposal, "moved", everyone, group.reviewer, essential=False, transition="approve"
    )
    assert group.reviewer.pk not in {notice.recipient_id for notice in notices}
    assert all(notice.settings is not None for notice in notices)
    assert notices[0].context["transition"] == "approve"
