"""The admin's "Actions" panel carries the version of the proposal it showed: a transition on a
proposal that changed since is refused by the service with a message, and nothing changes."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from proposals.models import Proposal, ProposalState
from proposals.services import occasion_move_deadline
from tests.factories import Group, client_signed_in
from tests.proposals.api.helpers import proposal_in

pytestmark = pytest.mark.django_db


def test_a_transition_from_a_stale_panel_is_refused_with_a_message(group: Group) -> None:
    sam = group.secretariat
    sam.is_staff = True
    sam.save(update_fields=["is_staff"])
    sam.user_permissions.add(Permission.objects.get(codename="view_proposal"))
    client = client_signed_in(Client(), sam)
    proposal = proposal_in(group, "endorsement")  # endorsed by two members: ready to submit
    page = client.get(reverse("admin:proposals_proposal_change", args=[proposal.pk]))
    html = page.content.decode()
    assert "seen_state" not in html
    (seen,) = re.findall(r'<input type="hidden" name="version" value="(\d+)">', html)
    assert int(seen) == proposal.version
    occasion = proposal.occasion
    assert occasion is not None
    occasion_move_deadline(  # meanwhile: the proposal shows another deadline
        occasion=occasion,
        new_deadline=occasion.submission_deadline + dt.timedelta(days=1),
        actor=sam,
    )
    url = reverse("admin:proposals_proposal_transition", args=[proposal.pk])
    data = {"transition": "submit", "transition-reference": "ILC/2027/12", "version": seen}

    response = client.post(url, data, follow=True)

    assert [str(m) for m in response.context["messages"]] == [
        "Someone changed this proposal while you were acting: it is now open for endorsement. "
        "Reload it and try again."
    ]
    assert Proposal.objects.get(pk=proposal.pk).state == ProposalState.ENDORSEMENT
    data["version"] = str(int(seen) + 1)
    response = client.post(url, data, follow=True)
    assert [str(m) for m in response.context["messages"]] == [
        "Submit to body: the proposal is now submitted."
    ]
    assert Proposal.objects.get(pk=proposal.pk).state == ProposalState.SUBMITTED
