"""Every saved edit of a draft's text is a revision, numbered from 1."""

from __future__ import annotations

import pytest

from proposals.models import ProposalState, Revision
from proposals.services import proposal_create, proposal_update
from tests.factories import Group, proposal_draft
from workflow.errors import RefusalKind, Refused
from workflow.models import TransitionLog
from workflow.services import transition_run

pytestmark = pytest.mark.django_db


def test_a_new_proposal_has_revision_1_and_a_creation_log(group: Group) -> None:
    proposal = proposal_create(author=group.drafter, title="Public procurement", text="Text")
    assert proposal.lead_organization == group.france
    assert list(proposal.revisions.values_list("number", "title")) == [(1, "Public procurement")]
    log = TransitionLog.objects.for_object(proposal).get()
    assert (log.transition, log.source, log.target) == ("create", "", "draft")


def test_people_who_do_not_draft_cannot_create_proposals(group: Group) -> None:
    for person in (group.representative_lu, group.reviewer, group.outsider):
        with pytest.raises(Refused) as caught:
            proposal_create(author=person, title="A title")
        assert caught.value.kind == RefusalKind.PERMISSION
    with pytest.raises(Refused):
        proposal_create(author=group.drafter, title="For Morocco", lead_organization=group.morocco)


def test_observers_draft_for_their_organisation(group: Group) -> None:
    proposal = proposal_create(author=group.observer, title="Québec's proposal")
    assert proposal.lead_organization == group.quebec


def test_each_edit_of_the_text_makes_a_new_numbered_revision(group: Group) -> None:
    proposal = proposal_draft(group)
    proposal = proposal_update(proposal=proposal, editor=group.drafter, text="Second text")
    proposal = proposal_update(proposal=proposal, editor=group.drafter, title="Third title")
    assert proposal.revision == 3
    assert list(Revision.objects.filter(proposal=proposal).values_list("number", "text")) == [
        (1, "# Proposal\n\nThe text."),
        (2, "Second text"),
        (3, "Second text"),
    ]
    assert Revision.objects.get(proposal=proposal, number=3).title == "Third title"


def test_an_edit_that_changes_no_text_makes_no_revision(group: Group) -> None:
    proposal = proposal_draft(group)
    proposal = proposal_update(proposal=proposal, editor=group.drafter, language="fr")
    assert (proposal.revision, proposal.language) == (1, "fr")


def test_an_edit_based_on_an_older_revision_is_refused_and_loses_nothing(group: Group) -> None:
    proposal = proposal_draft(group)
    proposal_update(
        proposal=proposal, editor=group.drafter, text="Claire's text", expected_revision=1
    )
    with pytest.raises(Refused) as caught:
        proposal_update(
            proposal=proposal, editor=group.drafter, text="Stale text", expected_revision=1
        )
    assert caught.value.kind == RefusalKind.CONFLICT
    assert "revision 2" in caught.value.reasons[0]
    assert Revision.objects.filter(proposal=proposal).count() == 2


def test_only_authors_edit_and_only_drafts(group: Group) -> None:
    proposal = proposal_draft(group)
    with pytest.raises(Refused) as caught:
        proposal_update(proposal=proposal, editor=group.co_drafter, text="Not mine")
    assert caught.value.kind == RefusalKind.PERMISSION
    transition_run(obj=proposal, name="submit_for_review", actor=group.drafter)
    proposal.refresh_from_db()
    assert proposal.state == ProposalState.IN_REVIEW
    with pytest.raises(Refused) as caught:
        proposal_update(proposal=proposal, editor=group.drafter, text="Too late")
    assert caught.value.kind == RefusalKind.STATE
