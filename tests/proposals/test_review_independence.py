"""Nobody reviews a text they wrote: co-authors are drafters, and past authors never review."""

from __future__ import annotations

import pytest

from proposals.models import Membership, ProposalState, Role
from proposals.services import proposal_update
from tests.factories import Group, proposal_draft
from tests.proposals.api.helpers import client_for, fresh, run
from workflow.errors import Refused
from workflow.services import transition_options

pytestmark = pytest.mark.django_db


def drafting_reviewer(group: Group) -> None:
    """Ines reviews, and drafts for Morocco too."""
    Membership.objects.create(
        person=group.second_reviewer, organization=group.morocco, role=Role.DRAFTER
    )


def test_the_api_refuses_a_co_author_who_is_not_a_drafter(group: Group) -> None:
    response = client_for(group.drafter).post(
        "/api/proposals/",
        {"title": "A law", "text": "Text", "authors": [group.reviewer.pk]},
        format="json",
    )
    assert response.status_code == 400, response.json()
    assert "drafter" in str(response.json())
    assert not fresh_titles(group)


def fresh_titles(group: Group) -> list[str]:
    from proposals.models import Proposal

    return list(Proposal.objects.values_list("title", flat=True))


def test_an_edit_refuses_a_co_author_who_is_not_a_drafter(group: Group) -> None:
    proposal = proposal_draft(group)
    with pytest.raises(Refused) as refused:
        proposal_update(
            proposal=fresh(proposal), editor=group.drafter, co_authors=[group.secretariat]
        )
    assert "not a drafter" in refused.value.reasons[0]
    assert set(fresh(proposal).authors.all()) == {group.drafter}


def test_a_former_co_author_may_not_review_the_proposal(group: Group) -> None:
    drafting_reviewer(group)
    proposal = proposal_draft(group)
    proposal_update(
        proposal=fresh(proposal), editor=group.drafter, co_authors=[group.second_reviewer]
    )
    proposal_update(proposal=fresh(proposal), editor=group.drafter, co_authors=[])
    assert group.second_reviewer not in fresh(proposal).authors.all()
    proposal = run(proposal, "submit_for_review", group.drafter)
    options = {
        o.name: o for o in transition_options(obj=fresh(proposal), actor=group.second_reviewer)
    }
    assert not options["approve"].allowed
    assert options["approve"].reasons == ["You wrote this proposal, so you cannot review it."]
    response = client_for(group.second_reviewer).post(
        f"/api/proposals/{proposal.pk}/transitions/approve/", {}, format="json"
    )
    assert response.status_code == 403
    assert fresh(proposal).state == ProposalState.IN_REVIEW


def test_the_author_of_a_revision_may_not_review_even_once_removed(group: Group) -> None:
    drafting_reviewer(group)
    proposal = proposal_draft(group)
    proposal_update(
        proposal=fresh(proposal), editor=group.drafter, co_authors=[group.second_reviewer]
    )
    proposal_update(
        proposal=fresh(proposal), editor=group.second_reviewer, text="Rewritten by Ines."
    )
    proposal_update(proposal=fresh(proposal), editor=group.drafter, co_authors=[])
    proposal = run(proposal, "submit_for_review", group.drafter)
    with pytest.raises(Refused):
        run(proposal, "approve", group.second_reviewer)


def test_a_reviewer_who_never_wrote_it_still_approves(group: Group) -> None:
    drafting_reviewer(group)
    proposal = run(proposal_draft(group), "submit_for_review", group.drafter)
    assert run(proposal, "approve", group.second_reviewer).state == ProposalState.ENDORSEMENT


def test_a_former_co_author_is_neither_asked_nor_reminded_to_review(group: Group) -> None:
    import datetime as dt

    from workflow.models import Delivery
    from workflow.reminders import reminders_scan

    drafting_reviewer(group)
    proposal = proposal_draft(group)
    proposal_update(
        proposal=fresh(proposal), editor=group.drafter, co_authors=[group.second_reviewer]
    )
    proposal_update(proposal=fresh(proposal), editor=group.drafter, co_authors=[])
    run(proposal, "submit_for_review", group.drafter)
    asked = set(
        Delivery.objects.filter(template__endswith="review_requested").values_list(
            "recipient_id", flat=True
        )
    )
    assert asked == {group.reviewer.pk}
    reminders_scan(now=group.occasion.submission_deadline - dt.timedelta(days=1, hours=1))
    reminded = set(
        Delivery.objects.filter(template__endswith="reminder_review").values_list(
            "recipient_id", flat=True
        )
    )
    assert reminded == {group.reviewer.pk}
