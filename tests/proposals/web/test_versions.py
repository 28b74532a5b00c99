"""The pages carry the version of the proposal the person saw (a hidden field, and `?version=`
on the links to an action's own page): an action on a proposal that changed since is refused
with a message, and nothing changes."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from proposals.models import Endorsement, Proposal, ProposalState, Review
from proposals.services import endorsement_create
from tests.factories import Group, OccasionFactory, proposal_draft
from tests.proposals.web.helpers import fresh, in_endorsement, in_review, run, signed_in
from workflow.models import TransitionLog

pytestmark = pytest.mark.django_db

CHANGED = (
    "Someone changed this proposal while you were acting: it is now %s. Reload it and try again."
)


def version_of(proposal: Proposal) -> int:
    return Proposal.objects.values_list("version", flat=True).get(pk=proposal.pk)


def messages_of(response: object) -> list[str]:
    return [str(message) for message in response.context["messages"]]  # type: ignore[attr-defined]


def hidden_versions(html: str) -> list[str]:
    return re.findall(r'<input type="hidden" name="version" value="(\d+)"', html)


def test_the_proposal_page_carries_its_version_into_every_action(group: Group) -> None:
    proposal = proposal_draft(group)
    html = signed_in(group.drafter).get(reverse("proposals:proposal_detail", args=[proposal.pk]))
    content = html.content.decode()
    assert hidden_versions(content) == ["1"]  # the "Submit for review" button
    withdraw = reverse("proposals:proposal_transition", args=[proposal.pk, "withdraw"])
    assert f'href="{withdraw}?version=1"' in content


def test_a_button_pressed_on_a_stale_page_is_refused_with_a_message(group: Group) -> None:
    proposal = in_review(group, occasion=OccasionFactory.create(required_approvals=2))
    client = signed_in(group.second_reviewer)
    page = client.get(reverse("proposals:proposal_detail", args=[proposal.pk])).content.decode()
    approve = reverse("proposals:proposal_transition", args=[proposal.pk, "approve"])
    (seen,) = re.findall(rf'href="{approve}\?version=(\d+)"', page)  # Approve has its own page
    run(proposal, "approve", group.reviewer)  # meanwhile: still in review, one version further
    logged = TransitionLog.objects.for_object(proposal).count()

    response = client.post(
        reverse("proposals:proposal_transition", args=[proposal.pk, "approve"]),
        {"version": seen},
        follow=True,
    )

    assert messages_of(response) == [CHANGED % "in review"]
    assert response.redirect_chain[-1][0] == reverse(
        "proposals:proposal_detail", args=[proposal.pk]
    )
    assert not Review.objects.filter(proposal=proposal, reviewer=group.second_reviewer).exists()
    assert TransitionLog.objects.for_object(proposal).count() == logged
    assert fresh(proposal).state == ProposalState.IN_REVIEW


def test_an_actions_own_page_keeps_the_version_the_proposal_page_showed(group: Group) -> None:
    proposal = in_endorsement(group)
    endorsement_create(proposal=fresh(proposal), person=group.representative_fr)
    endorsement_create(proposal=fresh(proposal), person=group.representative_ma)
    seen = version_of(proposal)
    client = signed_in(group.secretariat)
    url = reverse("proposals:proposal_transition", args=[proposal.pk, "submit"])
    form = client.get(f"{url}?version={seen}").content.decode()
    assert hidden_versions(form) == [str(seen)]
    endorsement_create(proposal=fresh(proposal), person=group.representative_lu)  # meanwhile

    response = client.post(url, {"reference": "A/81/1", "version": seen}, follow=True)

    assert messages_of(response) == [CHANGED % "open for endorsement"]
    assert fresh(proposal).state == ProposalState.ENDORSEMENT
    response = client.post(url, {"reference": "A/81/1", "version": seen + 1}, follow=True)
    assert fresh(proposal).state == ProposalState.SUBMITTED


def test_an_endorsement_confirmed_on_a_stale_page_is_refused_with_a_message(group: Group) -> None:
    proposal = in_endorsement(group)
    client = signed_in(group.representative_ma)
    url = reverse("proposals:proposal_endorse", args=[proposal.pk])
    seen = version_of(proposal)
    assert hidden_versions(client.get(f"{url}?version={seen}").content.decode()) == [str(seen)]
    endorsement_create(proposal=fresh(proposal), person=group.representative_fr)  # meanwhile

    response = client.post(url, {"organization": group.morocco.pk, "version": seen}, follow=True)

    assert messages_of(response) == [CHANGED % "open for endorsement"]
    assert not Endorsement.objects.filter(proposal=proposal, organization=group.morocco).exists()


def test_withdrawing_an_endorsement_from_a_stale_page_is_refused_with_a_message(
    group: Group,
) -> None:
    proposal = in_endorsement(group)
    endorsement = endorsement_create(proposal=fresh(proposal), person=group.representative_ma)
    client = signed_in(group.representative_ma)
    url = reverse("proposals:endorsement_withdraw", args=[proposal.pk, endorsement.pk])
    seen = version_of(proposal)
    assert hidden_versions(client.get(url).content.decode()) == [str(seen)]
    endorsement_create(proposal=fresh(proposal), person=group.representative_fr)  # meanwhile

    response = client.post(url, {"version": seen}, follow=True)

    assert messages_of(response) == [CHANGED % "open for endorsement"]
    assert Endorsement.objects.get(pk=endorsement.pk).withdrawn_at is None
