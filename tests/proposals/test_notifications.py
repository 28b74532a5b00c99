"""The kinds of email a person may turn off, and their choices (proposals/notifications.py)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from django.utils.functional import Promise

from proposals.models import Person
from proposals.notifications import (
    NOTIFICATION_GROUPS,
    OPTIONAL_NOTIFICATIONS,
    notification_choices_of,
    notification_choices_set,
)
from proposals.services import endorsement_create, proposal_update
from tests.factories import Group, proposal_draft
from tests.proposals.api.helpers import fresh, proposal_in, run
from workflow.errors import RefusalKind, Refused
from workflow.models import AuditEvent, Delivery, NotificationPreference

pytestmark = pytest.mark.django_db

KINDS = [
    "proposal.approved",
    "proposal.submitted",
    "proposal.outcome_recorded",
    "proposal.withdrawn",
]


def wanted_of(person: Person) -> dict[str, bool]:
    return {choice.event: choice.enabled for choice in notification_choices_of(person)}


def test_every_kind_is_on_by_email_until_turned_off(group: Group) -> None:
    choices = notification_choices_of(group.drafter)
    assert [choice.event for choice in choices] == KINDS
    assert {choice.channel for choice in choices} == {"email"}
    assert all(choice.enabled for choice in choices)
    assert all(str(choice.label) and str(choice.description) for choice in choices)


def test_labels_and_descriptions_are_translated_when_read() -> None:
    for kind in OPTIONAL_NOTIFICATIONS:
        assert isinstance(kind.label, Promise) and isinstance(kind.description, Promise)


def test_a_kind_turned_off_is_one_audit_row_and_the_others_stay(group: Group) -> None:
    choices = notification_choices_set(
        person=group.drafter, wanted={"proposal.approved": False}, actor=group.drafter
    )
    assert {choice.event: choice.enabled for choice in choices} == {
        "proposal.approved": False,
        "proposal.submitted": True,
        "proposal.outcome_recorded": True,
        "proposal.withdrawn": True,
    }
    assert wanted_of(group.drafter)["proposal.approved"] is False
    event = AuditEvent.objects.get(action="notification_preference.changed")
    assert (event.actor, event.subject) == (group.drafter, group.drafter)
    assert event.before == {"event": "proposal.approved", "channel": "email", "enabled": True}
    assert event.after == {"event": "proposal.approved", "channel": "email", "enabled": False}


def test_choices_that_change_nothing_write_nothing(group: Group) -> None:
    notification_choices_set(
        person=group.drafter, wanted=dict.fromkeys(KINDS, True), actor=group.drafter
    )
    assert not NotificationPreference.objects.exists()
    notification_choices_set(
        person=group.drafter, wanted={"proposal.withdrawn": False}, actor=group.drafter
    )
    notification_choices_set(
        person=group.drafter,
        wanted={"proposal.withdrawn": False, "proposal.submitted": True},
        actor=group.drafter,
    )
    assert AuditEvent.objects.filter(action="notification_preference.changed").count() == 1


def test_several_kinds_change_at_once_and_come_back_on(group: Group) -> None:
    notification_choices_set(
        person=group.drafter, wanted=dict.fromkeys(KINDS, False), actor=group.drafter
    )
    assert set(wanted_of(group.drafter).values()) == {False}
    notification_choices_set(
        person=group.drafter, wanted={"proposal.submitted": True}, actor=group.drafter
    )
    assert [kind for kind, on in wanted_of(group.drafter).items() if on] == ["proposal.submitted"]
    assert AuditEvent.objects.filter(action="notification_preference.changed").count() == 5
    assert wanted_of(group.co_drafter) == dict.fromkeys(KINDS, True)


@pytest.mark.parametrize(
    "event",
    ["proposal.review_requested", "reminder.submit", "account.email_changed", "nonsense", ""],
)
def test_a_kind_that_cannot_be_turned_off_refuses_the_whole_change(
    group: Group, event: str
) -> None:
    with pytest.raises(Refused) as refused:
        notification_choices_set(
            person=group.drafter,
            wanted={"proposal.approved": False, event: False},
            actor=group.drafter,
        )
    assert refused.value.kind == RefusalKind.INVALID
    assert refused.value.codes == ["notification_unknown"]
    assert list(refused.value.errors) == [event]
    assert "proposal.approved" in refused.value.reasons[0]  # it names the kinds there are
    assert not NotificationPreference.objects.exists()
    assert not AuditEvent.objects.exists()


def test_a_value_other_than_true_or_false_is_refused(group: Group) -> None:
    with pytest.raises(Refused) as refused:
        notification_choices_set(
            person=group.drafter,
            wanted={"proposal.approved": "false"},  # type: ignore[dict-item]
            actor=group.drafter,
        )
    assert refused.value.codes == ["notification_not_boolean"]
    assert not NotificationPreference.objects.exists()


def test_the_kinds_are_exactly_the_news_the_lifecycle_sends_without_asking_to_act(
    group: Group,
) -> None:
    """Every kind listed is sent by some transition with essential=False, and every notice so
    sent is listed: a new piece of news must be added to OPTIONAL_NOTIFICATIONS."""
    proposal_in(group, "closed")  # approved, submitted, outcome recorded
    run(proposal_in(group, "in_review"), "withdraw", group.secretariat, "Merged elsewhere.")
    optional = set(
        Delivery.objects.filter(channel="email")
        .filter(essential=False)
        .exclude(kind=Delivery.Kind.SECURITY)
        .values_list("event", flat=True)
    )
    news = {
        kind.event for group in NOTIFICATION_GROUPS if "page" in group.modes for kind in group.kinds
    }
    assert set(KINDS) <= optional <= news  # and followers' news (proposal.moved)


def test_a_kind_turned_off_is_not_written_and_the_rest_still_is(group: Group) -> None:
    notification_choices_set(
        person=group.drafter, wanted={"proposal.submitted": False}, actor=group.drafter
    )
    proposal = proposal_draft(group, authors=[group.drafter, group.co_drafter])
    proposal = run(proposal, "submit_for_review", group.drafter)
    proposal = run(proposal, "request_changes", group.reviewer, "Shorter, please.")
    proposal_update(proposal=fresh(proposal), editor=group.drafter, text="Shorter.")
    proposal = run(run(proposal, "submit_for_review", group.drafter), "approve", group.reviewer)
    for person in (group.representative_ma, group.representative_lu):
        endorsement_create(proposal=fresh(proposal), person=person)
    run(proposal, "submit", group.secretariat, reference="A/81/2")
    told = set(
        Delivery.objects.filter(channel="email")
        .filter(recipient__in=[group.drafter, group.co_drafter])
        .values_list("recipient__username", "event")
    )
    assert ("claire", "proposal.submitted") not in told
    assert ("pierre", "proposal.submitted") in told
    # What asks to act still comes, and the other news too.
    assert {("claire", "proposal.changes_requested"), ("claire", "proposal.approved")} <= told


def test_the_global_switch_silences_every_kind_whatever_is_chosen(group: Group) -> None:
    Person.objects.filter(pk=group.drafter.pk).update(optional_notifications=False)
    assert wanted_of(group.drafter) == dict.fromkeys(KINDS, True)  # the choices stay as they are
    decided_on = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    run(
        proposal_in(group, "submitted"),
        "record_outcome",
        group.secretariat,
        outcome="adopted",
        decided_on=decided_on,
    )
    assert (
        not Delivery.objects.filter(channel="email")
        .filter(recipient=group.drafter, essential=False)
        .exists()
    )
