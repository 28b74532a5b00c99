"""A person leaves the group (proposals.departures): drafts handed on, roles ended, access
revoked, reminders stopped; endorsements and history kept. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from proposals import departures, services
from proposals.accounts import TokenRefused, api_token_authenticate
from proposals.audited import SYSTEM
from proposals.following import proposal_follower_ids
from proposals.models import Membership, Person, Proposal, ProposalState, Role
from proposals.rules import endorsements_counted
from proposals.selectors import roles_of
from proposals.tasks import departures_due as departures_due_task
from tests.factories import Group, api_token_key, client_signed_in, proposal_draft
from tests.proposals.api.helpers import fresh, proposal_in, run
from workflow.errors import RefusalKind, Refused
from workflow.models import AuditEvent, Delivery
from workflow.policy import Notice
from workflow.services import deliveries_enqueue

pytestmark = pytest.mark.django_db


def today() -> dt.date:
    return timezone.localdate()


def reloaded(person: Person) -> Person:
    return Person.objects.get(pk=person.pk)


def actions_about(person: Person) -> list[str]:
    return list(
        AuditEvent.objects.filter(subject_id=person.pk)
        .order_by("pk")
        .values_list("action", flat=True)
    )


def co_written(group: Group) -> Proposal:
    """A draft of France by the drafter and the co-drafter."""
    return proposal_draft(group, authors=[group.drafter, group.co_drafter])


# The plan


def test_the_plan_lists_each_open_proposal_with_who_may_take_it_over(group: Group) -> None:
    alone = proposal_draft(group, title="Alone")
    shared = proposal_draft(group, title="Shared", authors=[group.drafter, group.co_drafter])
    proposal_in(group, "submitted")  # not open: nothing to hand over
    plan = departures.departure_plan(group.drafter)
    by_title = {handover.proposal.title: handover for handover in plan.handovers}
    assert set(by_title) == {"Alone", "Shared"}
    assert by_title["Alone"].needs_successor
    assert by_title["Alone"].candidates == [group.co_drafter]  # France's other drafter
    assert not by_title["Shared"].needs_successor
    assert by_title["Shared"].co_authors == [group.co_drafter]
    assert alone.pk != shared.pk


def test_the_plan_warns_when_an_organisation_would_have_no_representative(group: Group) -> None:
    plan = departures.departure_plan(group.representative_lu)
    assert plan.unrepresented == [group.luxembourg]
    assert "Luxembourg" in plan.warnings[0] and "appoint" in plan.warnings[0]
    Membership.objects.create(
        person=group.drafter, organization=group.luxembourg, role=Role.REPRESENTATIVE
    )
    assert departures.departure_plan(group.representative_lu).warnings == []


def test_reviews_not_yet_decided_are_listed_and_nothing_is_assigned(group: Group) -> None:
    proposal = proposal_in(group, "in_review")
    plan = departures.departure_plan(group.reviewer)
    assert [p.pk for p in plan.reviews_undecided] == [proposal.pk]
    assert plan.handovers == []


# Recording a departure today


def test_a_departure_today_hands_drafts_on_and_revokes_everything(group: Group) -> None:
    leaver = group.drafter
    alone = proposal_draft(group, title="Alone")
    shared = co_written(group)
    key = api_token_key(leaver)
    old_calendar = leaver.calendar_token
    departures.departure_record(
        actor=group.secretariat,
        person=leaver,
        left_on=today(),
        successors={alone.pk: group.co_drafter.pk},
    )
    leaver = reloaded(leaver)
    assert leaver.left_on == today()
    assert not leaver.is_active
    assert not leaver.memberships.exists()
    assert not roles_of(leaver).in_group
    for proposal in (alone, shared):
        proposal = fresh(proposal)
        assert {a.pk for a in proposal.authors.all()} == {group.co_drafter.pk}
        assert group.co_drafter in proposal.contributors.all()
        assert leaver in proposal.contributors.all()  # the history keeps who wrote it
    with pytest.raises(TokenRefused):
        api_token_authenticate(key)
    assert leaver.calendar_token != old_calendar
    assert Client().get(f"/calendar/{old_calendar}.ics").status_code == 404
    assert Client().get(f"/calendar/{leaver.calendar_token}.ics").status_code == 404


def test_the_history_keeps_who_did_what(group: Group) -> None:
    alone = proposal_draft(group)
    api_token_key(group.drafter)
    departures.departure_record(
        actor=group.secretariat,
        person=group.drafter,
        left_on=today(),
        successors={alone.pk: group.co_drafter.pk},
    )
    rows = AuditEvent.objects.filter(subject_id=group.drafter.pk).order_by("pk")
    actions = [row.action for row in rows]
    for action in (
        "person.departure_recorded",
        "person.roles_changed",
        "token.revoked",
        "person.deactivated",
        "person.calendar_link_renewed",
        "person.left",
    ):
        assert action in actions
    assert all(
        row.actor_id == group.secretariat.pk for row in rows if row.action != "token.revoked"
    )
    recorded = rows.get(action="person.departure_recorded")
    assert recorded.after["successors"] == {str(alone.pk): group.co_drafter.pk}
    roles = rows.get(action="person.roles_changed")
    assert roles.after == {"roles": []} and roles.before["roles"]
    edits = AuditEvent.objects.filter(action="proposal.edited", object_id=str(alone.pk))
    assert [(e.before["authors"], e.after["authors"]) for e in edits.order_by("pk")] == [
        ([group.drafter.pk], sorted([group.drafter.pk, group.co_drafter.pk])),
        (sorted([group.drafter.pk, group.co_drafter.pk]), [group.co_drafter.pk]),
    ]


def test_endorsements_given_stay_valid_and_keep_counting(group: Group) -> None:
    proposal = proposal_in(group, "endorsement")
    assert endorsements_counted(fresh(proposal)) == 2
    departures.departure_record(
        actor=group.secretariat, person=group.representative_lu, left_on=today()
    )
    proposal = fresh(proposal)
    assert endorsements_counted(proposal) == 2
    endorsement = proposal.endorsements.get(organization=group.luxembourg)
    assert endorsement.endorsed_by_id == group.representative_lu.pk
    assert endorsement.withdrawn_at is None
    run(proposal, "submit", group.secretariat, reference="A/81/2")
    assert fresh(proposal).state == ProposalState.SUBMITTED


def test_a_proposal_handed_on_stays_with_its_successor_through_an_edit(group: Group) -> None:
    alone = proposal_draft(group)
    departures.departure_record(
        actor=group.secretariat,
        person=group.drafter,
        left_on=today(),
        successors={alone.pk: group.co_drafter.pk},
    )
    services.proposal_update(
        proposal=fresh(alone), editor=group.co_drafter, co_authors=[], title="Taken over"
    )
    assert {a.pk for a in fresh(alone).authors.all()} == {group.co_drafter.pk}


def test_the_successor_may_be_another_drafter_of_the_lead_organisation(group: Group) -> None:
    """A third drafter of France takes over a draft the co-drafter also writes."""
    third = Person.objects.create(username="lucie", email="lucie@example.org")
    Membership.objects.create(person=third, organization=group.france, role=Role.DRAFTER)
    shared = co_written(group)
    departures.departure_record(
        actor=group.secretariat,
        person=group.drafter,
        left_on=today(),
        successors={shared.pk: third.pk},
    )
    assert {a.pk for a in fresh(shared).authors.all()} == {group.co_drafter.pk, third.pk}
    assert third.pk in proposal_follower_ids(shared)  # an author follows what they write


# Reminders and notices stop


def test_nothing_but_security_notices_is_written_to_a_person_who_left(group: Group) -> None:
    departures.departure_record(actor=group.secretariat, person=group.reviewer, left_on=today())
    before = Delivery.objects.filter(recipient=group.reviewer).count()
    ids = deliveries_enqueue(
        [
            Notice(
                recipient_id=group.reviewer.pk,
                template="proposals/email/review_requested",
                event="proposal.review_requested",
                essential=True,
            ),
            Notice(
                recipient_id=group.second_reviewer.pk,
                template="proposals/email/review_requested",
                event="proposal.review_requested",
                essential=True,
            ),
        ],
        key_prefix="departure-test",
    )
    assert Delivery.objects.filter(recipient=group.reviewer).count() == before
    assert list(Delivery.objects.filter(pk__in=ids).values_list("recipient_id", flat=True)) == [
        group.second_reviewer.pk
    ]


def test_a_reviewer_who_left_is_no_longer_among_those_reminded(group: Group) -> None:
    from proposals.reminders import reminder_recipients
    from proposals.selectors import representatives_of_full_members, reviewer_ids

    proposal = proposal_in(group, "in_review")
    departures.departure_record(actor=group.secretariat, person=group.reviewer, left_on=today())
    recipients = reminder_recipients(
        fresh(proposal),
        late=False,
        reviewers=reviewer_ids(),
        representatives=representatives_of_full_members(),
        secretariat=set(),
        presidency=set(),
    )
    assert group.reviewer.pk not in recipients
    assert group.second_reviewer.pk in recipients


# Sign-in, sessions


def test_the_person_can_no_longer_sign_in_and_their_session_ends(group: Group) -> None:
    group.drafter.set_password("demo-password-1")
    group.drafter.save()
    client = client_signed_in(Client(), group.drafter)
    assert client.get(reverse("proposals:settings")).status_code == 200
    departures.departure_record(actor=group.secretariat, person=group.drafter, left_on=today())
    response = client.get(reverse("proposals:settings"))
    assert response.status_code == 302 and "/login" in response["Location"]
    login = Client().post(
        reverse("login"), {"username": group.drafter.username, "password": "demo-password-1"}
    )
    assert login.status_code == 200  # the form again, with its error: no session
    assert "_auth_user_id" not in login.wsgi_request.session


# A departure on a later day, carried out by the sweep


def test_a_later_departure_waits_for_its_day_and_the_sweep_carries_it_out(group: Group) -> None:
    alone = proposal_draft(group)
    key = api_token_key(group.drafter)
    day = today() + dt.timedelta(days=10)
    departures.departure_record(
        actor=group.secretariat,
        person=group.drafter,
        left_on=day,
        successors={alone.pk: group.co_drafter.pk},
    )
    drafter = reloaded(group.drafter)
    assert drafter.is_active and drafter.memberships.exists()
    assert {a.pk for a in fresh(alone).authors.all()} == {group.drafter.pk, group.co_drafter.pk}
    assert departures.departures_due() == []
    api_token_authenticate(key)  # still works until the day
    with time_machine.travel(
        dt.datetime.combine(day, dt.time(0, 5), tzinfo=timezone.get_current_timezone()),
        tick=False,
    ):
        assert departures_due_task.apply().get() == 1
        assert departures.departures_due() == []  # once
    drafter = reloaded(group.drafter)
    assert not drafter.is_active and not drafter.memberships.exists()
    assert {a.pk for a in fresh(alone).authors.all()} == {group.co_drafter.pk}
    with pytest.raises(TokenRefused):
        api_token_authenticate(key)
    left = AuditEvent.objects.get(action="person.left", subject_id=drafter.pk)
    assert left.actor_id is None  # the system carried it out; the secretariat recorded it
    recorded = AuditEvent.objects.get(action="person.departure_recorded", subject_id=drafter.pk)
    assert recorded.actor_id == group.secretariat.pk


def test_a_person_leaving_later_cannot_start_a_proposal_alone(group: Group) -> None:
    """Drafts started after the departure is recorded would have no successor chosen."""
    departures.departure_record(
        actor=group.secretariat, person=group.drafter, left_on=today() + dt.timedelta(days=3)
    )
    with pytest.raises(Refused) as refused:
        services.proposal_create(author=reloaded(group.drafter), title="Late start")
    assert refused.value.kind == RefusalKind.PERMISSION


# Refusals: clear, and nothing changed


def refused_with(kind: RefusalKind, **arguments: Any) -> Refused:
    with pytest.raises(Refused) as refused:
        departures.departure_record(**arguments)
    assert refused.value.kind == kind
    return refused.value


def nothing_changed(group: Group, proposal: Proposal | None = None) -> None:
    drafter = reloaded(group.drafter)
    assert drafter.left_on is None and drafter.is_active and drafter.memberships.exists()
    assert not AuditEvent.objects.filter(action__startswith="person.depart").exists()
    if proposal is not None:
        assert {a.pk for a in fresh(proposal).authors.all()} == {group.drafter.pk}


def test_a_draft_left_without_an_author_is_refused(group: Group) -> None:
    alone = proposal_draft(group, title="Orphan")
    refusal = refused_with(
        RefusalKind.INVALID, actor=group.secretariat, person=group.drafter, left_on=today()
    )
    assert "“Orphan” has no other author" in refusal.errors["handovers"][0]
    nothing_changed(group, alone)


def test_a_successor_who_is_not_a_drafter_of_the_lead_organisation_is_refused(
    group: Group,
) -> None:
    alone = proposal_draft(group, title="Orphan")
    refusal = refused_with(
        RefusalKind.INVALID,
        actor=group.secretariat,
        person=group.drafter,
        left_on=today(),
        successors={alone.pk: group.representative_ma.pk},  # Morocco's drafter
    )
    assert "neither one of its authors nor a drafter of France" in refusal.reasons[0]
    nothing_changed(group, alone)


def test_a_proposal_that_is_not_theirs_is_refused(group: Group) -> None:
    other = proposal_draft(group, created_by=group.co_drafter)
    refusal = refused_with(
        RefusalKind.INVALID,
        actor=group.secretariat,
        person=group.drafter,
        left_on=today(),
        successors={other.pk: group.co_drafter.pk},
    )
    assert f"Proposal {other.pk} is not an open proposal" in refusal.reasons[0]
    nothing_changed(group)


def test_a_day_in_the_past_is_refused(group: Group) -> None:
    refusal = refused_with(
        RefusalKind.INVALID,
        actor=group.secretariat,
        person=group.drafter,
        left_on=today() - dt.timedelta(days=1),
    )
    assert set(refusal.errors) == {"left_on"}
    nothing_changed(group)


def test_a_day_before_the_person_joined_is_refused(group: Group) -> None:
    Person.objects.filter(pk=group.drafter.pk).update(
        date_joined=timezone.now() + dt.timedelta(days=5)
    )
    refusal = refused_with(
        RefusalKind.INVALID,
        actor=group.secretariat,
        person=reloaded(group.drafter),
        left_on=today() + dt.timedelta(days=1),
    )
    assert "joined on" in refusal.errors["left_on"][0]
    nothing_changed(group)


def test_a_person_who_already_left_is_refused(group: Group) -> None:
    departures.departure_record(actor=group.secretariat, person=group.reviewer, left_on=today())
    count = AuditEvent.objects.count()
    refusal = refused_with(
        RefusalKind.CONFLICT, actor=group.secretariat, person=group.reviewer, left_on=today()
    )
    assert "already recorded" in refusal.reasons[0]
    assert AuditEvent.objects.count() == count


def test_only_the_secretariat_records_a_departure_and_never_ones_own(group: Group) -> None:
    refused_with(
        RefusalKind.PERMISSION, actor=group.co_drafter, person=group.drafter, left_on=today()
    )
    refused_with(
        RefusalKind.PERMISSION, actor=group.secretariat, person=group.secretariat, left_on=today()
    )
    nothing_changed(group)


def test_a_failure_half_way_leaves_nothing_done(group: Group, monkeypatch: Any) -> None:
    alone = proposal_draft(group)

    def broken(**kwargs: Any) -> str:
        raise RuntimeError("calendar down")

    monkeypatch.setattr(departures, "calendar_token_regenerate", broken)
    with pytest.raises(RuntimeError):
        departures.departure_record(
            actor=group.secretariat,
            person=group.drafter,
            left_on=today(),
            successors={alone.pk: group.co_drafter.pk},
        )
    nothing_changed(group, alone)


# A representative asks


def test_a_representative_asks_and_the_secretariat_is_emailed(group: Group) -> None:
    departures.departure_request(
        actor=group.representative_fr,
        person=group.drafter,
        left_on=today() + dt.timedelta(days=7),
        note="Claire moves to another ministry.",
    )
    row = Delivery.objects.get(
        template="proposals/email/departure_requested", channel=Delivery.Channel.EMAIL
    )
    assert row.recipient_id == group.secretariat.pk
    assert row.context["path"] == f"/people/{group.drafter.pk}/departure/"
    assert reloaded(group.drafter).left_on is None  # nothing changes until it is recorded
    assert AuditEvent.objects.filter(
        action="person.departure_requested", actor_id=group.representative_fr.pk
    ).exists()


def test_only_a_representative_of_the_persons_organisation_asks(group: Group) -> None:
    for actor in (group.representative_ma, group.co_drafter):
        with pytest.raises(Refused) as refused:
            departures.departure_request(actor=actor, person=group.drafter, left_on=today())
        assert refused.value.kind == RefusalKind.PERMISSION
    assert not Delivery.objects.filter(template="proposals/email/departure_requested").exists()


def test_the_system_carries_out_a_departure_due_today(group: Group) -> None:
    Person.objects.filter(pk=group.reviewer.pk).update(left_on=today())
    departures.departure_carry_out(person=group.reviewer, actor=SYSTEM)
    assert not reloaded(group.reviewer).is_active
    assert "person.left" in actions_about(group.reviewer)
