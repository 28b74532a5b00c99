"""Writes beyond transitions leave a row in the audit trail, in the same transaction."""

from __future__ import annotations

import datetime as dt

import pytest

from proposals.services import (
    calendar_token_regenerate,
    occasion_move_deadline,
    proposal_update,
)
from tests.factories import BodyFactory, Group, proposal_draft
from tests.proposals.api.helpers import fresh
from workflow.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_a_deadline_move_is_audited_with_both_deadlines_and_the_reason(group: Group) -> None:
    old = group.occasion.submission_deadline
    new = old + dt.timedelta(days=3)
    occasion_move_deadline(
        occasion=group.occasion, new_deadline=new, actor=group.secretariat, reason="Extended."
    )
    event = AuditEvent.objects.get(action="occasion.deadline_moved")
    assert (event.actor, event.object_id) == (group.secretariat, str(group.occasion.pk))
    assert event.before == {"submission_deadline": old.isoformat()}
    assert event.after == {"submission_deadline": new.isoformat(), "reason": "Extended."}


def test_a_renewed_calendar_link_is_a_security_event_without_the_secret(group: Group) -> None:
    token = calendar_token_regenerate(person=group.drafter)
    event = AuditEvent.objects.get(action="person.calendar_link_renewed")
    assert (event.subject, event.security) == (group.drafter, True)
    assert token not in str(event.before) + str(event.after)


def test_an_edit_of_a_proposal_records_what_changed(group: Group) -> None:
    proposal = proposal_draft(group)
    body = BodyFactory.create(name="ECOSOC")
    proposal_update(
        proposal=fresh(proposal),
        editor=group.drafter,
        target_body=body,
        text="A new text.",
        co_authors=[group.co_drafter],
    )
    event = AuditEvent.objects.get(action="proposal.edited")
    assert event.actor == group.drafter
    assert event.before == {
        "revision": 1,
        "target_body": group.body.pk,
        "authors": [group.drafter.pk],
    }
    assert event.after == {
        "revision": 2,
        "target_body": body.pk,
        "authors": sorted([group.drafter.pk, group.co_drafter.pk]),
    }


def test_an_edit_that_changes_nothing_records_nothing(group: Group) -> None:
    proposal = proposal_draft(group)
    proposal_update(proposal=fresh(proposal), editor=group.drafter, title=proposal.title)
    assert not AuditEvent.objects.filter(action="proposal.edited").exists()
