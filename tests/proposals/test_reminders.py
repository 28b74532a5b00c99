"""Who is reminded of what before a deadline, and when: each reminder is written once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from proposals.models import Proposal, ReminderRule
from proposals.reminders import reminder_recipients
from proposals.selectors import (
    presidency_ids,
    proposals_with_rule_data,
    representatives_of_full_members,
    reviewer_ids,
    secretariat_ids,
)
from proposals.services import endorsement_create, occasion_move_deadline
from tests.factories import Group, OccasionFactory, PersonFactory, proposal_draft
from workflow.delivery import deliveries_send
from workflow.models import Delivery, ReminderStage
from workflow.reminders import reminders_scan
from workflow.services import transition_run

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)


def fresh(proposal: Proposal) -> Proposal:
    return proposals_with_rule_data().get(pk=proposal.pk)


def run(proposal: Proposal, name: str, actor, comment: str = "", **arguments) -> Proposal:
    return transition_run(
        obj=fresh(proposal), name=name, actor=actor, comment=comment, arguments=arguments
    ).obj


def in_review(group: Group, **kwargs) -> Proposal:
    return run(proposal_draft(group, **kwargs), "submit_for_review", group.drafter)


def in_endorsement(group: Group, **kwargs) -> Proposal:
    return run(in_review(group, **kwargs), "approve", group.reviewer)


def recipients(group: Group, proposal: Proposal, *, late: bool = False) -> dict[str, str]:
    """username → email event, as the reminder rules decide for the proposal now."""
    chosen = reminder_recipients(
        fresh(proposal),
        late=late,
        reviewers=reviewer_ids(),
        representatives=representatives_of_full_members(),
        secretariat=secretariat_ids(),
        presidency=presidency_ids(),
    )
    names = dict(
        PersonFactory._meta.model.objects.filter(pk__in=chosen).values_list("pk", "username")
    )
    return {names[pk]: event for pk, event in chosen.items()}


def reminders(**filters) -> list[tuple[str, str, str]]:
    """(username, event, stage) of the reminders written, sorted."""
    rows = (
        Delivery.objects.filter(channel="email")
        .filter(kind=Delivery.Kind.REMINDER, **filters)
        .values_list("recipient__username", "template", "stage")
    )
    return sorted((user, template.rsplit("/", 1)[-1], stage) for user, template, stage in rows)


def deadline_in(group: Group, delta: dt.timedelta) -> dt.datetime:
    """Move the group's occasion's deadline without recording a move (a fresh occasion)."""
    deadline = timezone.now() + delta
    type(group.occasion).objects.filter(pk=group.occasion.pk).update(submission_deadline=deadline)
    group.occasion.refresh_from_db()
    return deadline


# Who is reminded, per state


def test_authors_of_a_draft_are_reminded(group: Group) -> None:
    proposal = proposal_draft(group)
    proposal.authors.add(group.co_drafter)
    assert recipients(group, proposal) == {"claire": "reminder_draft", "pierre": "reminder_draft"}


def test_in_review_only_reviewers_who_have_not_decided_on_the_current_revision(
    group: Group,
) -> None:
    group.occasion.required_approvals = 2
    group.occasion.save()
    proposal = in_review(group)
    assert recipients(group, proposal) == {"rita": "reminder_review", "ines": "reminder_review"}
    proposal = run(proposal, "approve", group.reviewer)
    assert recipients(group, proposal) == {"ines": "reminder_review"}


def test_a_reviewer_who_wrote_the_proposal_is_not_asked_to_review_it(group: Group) -> None:
    proposal = proposal_draft(group)
    proposal.authors.add(group.second_reviewer)
    proposal = in_review_from(group, proposal)
    assert recipients(group, proposal) == {"rita": "reminder_review"}


def in_review_from(group: Group, proposal: Proposal) -> Proposal:
    return run(proposal, "submit_for_review", group.drafter)


def test_in_endorsement_representatives_who_have_not_endorsed_and_the_authors(
    group: Group,
) -> None:
    proposal = in_endorsement(group)
    assert recipients(group, proposal) == {
        "claire": "reminder_endorsements_missing",
        "marianne": "reminder_endorse",
        "youssef": "reminder_endorse",
        "lena": "reminder_endorse",
    }
    endorsement_create(proposal=fresh(proposal), person=group.representative_ma)
    assert "youssef" not in recipients(group, proposal)


def test_observers_are_never_asked_to_endorse(group: Group) -> None:
    proposal = in_endorsement(group)
    assert "gabriel" not in recipients(group, proposal)
    assert group.observer.pk not in set().union(*representatives_of_full_members().values())


def test_once_the_quorum_is_reached_the_secretariat_and_the_presidency_are_reminded(
    group: Group,
) -> None:
    proposal = in_endorsement(group)
    endorsement_create(proposal=fresh(proposal), person=group.representative_fr)
    endorsement_create(proposal=fresh(proposal), person=group.representative_ma)
    assert recipients(group, proposal) == {
        "sam": "reminder_submit",
        "marianne": "reminder_submit",
    }


def test_past_the_deadline_only_the_secretariat_is_reminded(group: Group) -> None:
    proposal = in_endorsement(group)
    assert recipients(group, proposal, late=True) == {"sam": "reminder_overdue"}


# When: the scan


def test_a_reminder_is_written_once_however_often_the_scan_runs(group: Group) -> None:
    deadline_in(group, 6 * DAY)
    proposal_draft(group)
    now = timezone.now()
    first = reminders_scan(now=now)
    second = reminders_scan(now=now)
    third = reminders_scan(now=now + dt.timedelta(minutes=1))
    assert len(first) == 1
    assert second == third == []
    assert reminders() == [("claire", "reminder_draft", "v1:d7")]
    delivery = Delivery.objects.filter(channel="email").get()
    assert delivery.key == (
        f"reminder:occasion:{group.occasion.pk}:v1:d7:proposal{delivery.object_id}"
        f":p{group.drafter.pk}"
    )


def test_nothing_is_written_before_the_first_offset(group: Group) -> None:
    deadline_in(group, 45 * DAY)
    proposal_draft(group)
    assert reminders_scan(now=timezone.now()) == []
    assert not ReminderStage.objects.exists()


def test_each_offset_comes_due_in_turn(group: Group) -> None:
    deadline = deadline_in(group, 40 * DAY)
    proposal_draft(group)
    for days in (30, 14, 7, 2, 1):
        reminders_scan(now=deadline - days * DAY + dt.timedelta(minutes=1))
    stages = [stage for _user, _event, stage in reminders()]
    assert sorted(stages) == ["v1:d1", "v1:d14", "v1:d2", "v1:d30", "v1:d7"]


def test_after_a_downtime_only_the_latest_offset_that_came_due_is_written(group: Group) -> None:
    deadline = deadline_in(group, 40 * DAY)
    proposal_draft(group)
    reminders_scan(now=deadline - 30 * DAY)
    # Down from before the 14-day reminder until after the 7-day one came due.
    reminders_scan(now=deadline - 5 * DAY)
    assert reminders() == [
        ("claire", "reminder_draft", "v1:d30"),
        ("claire", "reminder_draft", "v1:d7"),
    ]


def test_an_earlier_reminder_still_waiting_is_superseded_by_a_later_one(group: Group) -> None:
    deadline = deadline_in(group, 40 * DAY)
    proposal_draft(group)
    reminders_scan(now=deadline - 14 * DAY)
    reminders_scan(now=deadline - 7 * DAY)
    statuses = dict(Delivery.objects.filter(channel="email").values_list("stage", "status"))
    assert statuses == {"v1:d14": "superseded", "v1:d7": "pending"}


def test_a_moved_deadline_gets_its_own_reminders(group: Group) -> None:
    deadline_in(group, 6 * DAY)
    proposal_draft(group)
    now = timezone.now()
    reminders_scan(now=now)
    occasion_move_deadline(
        occasion=group.occasion, new_deadline=now + 13 * DAY, actor=group.secretariat
    )
    reminders_scan(now=now + dt.timedelta(minutes=1))
    assert reminders() == [
        ("claire", "reminder_draft", "v1:d7"),
        ("claire", "reminder_draft", "v2:d14"),
    ]
    statuses = dict(Delivery.objects.filter(channel="email").values_list("stage", "status"))
    assert statuses == {"v1:d7": "superseded", "v2:d14": "pending"}


def test_past_the_deadline_the_secretariat_is_reminded_once_of_what_was_not_submitted(
    group: Group,
) -> None:
    deadline = deadline_in(group, 3 * DAY)
    in_endorsement(group)
    submitted = in_endorsement(group, title="Already submitted")
    endorsement_create(proposal=fresh(submitted), person=group.representative_fr)
    endorsement_create(proposal=fresh(submitted), person=group.representative_ma)
    run(submitted, "submit", group.secretariat)
    after = deadline + dt.timedelta(hours=2)
    reminders_scan(now=after)
    reminders_scan(now=after + DAY)
    assert reminders() == [("sam", "reminder_overdue", "v1:late")]


def test_a_deadline_long_past_is_not_reminded_after_a_downtime(group: Group) -> None:
    deadline = deadline_in(group, 3 * DAY)
    proposal_draft(group)
    assert reminders_scan(now=deadline + 10 * DAY) == []


def test_an_occasion_rule_overrides_its_kind_which_overrides_the_defaults(group: Group) -> None:
    deadline = deadline_in(group, 20 * DAY)
    other = OccasionFactory(name="Other summit", submission_deadline=deadline)
    proposal_draft(group)
    proposal_draft(group, occasion=other)
    ReminderRule.objects.create(occasion_kind="summit", offsets=[10, 3])
    ReminderRule.objects.create(occasion=group.occasion, offsets=[5])
    reminders_scan(now=deadline - 9 * DAY)
    assert sorted(Delivery.objects.filter(channel="email").values_list("stage", flat=True)) == [
        "v1:d10"
    ]
    reminders_scan(now=deadline - 2 * DAY)
    assert sorted(Delivery.objects.filter(channel="email").values_list("stage", flat=True)) == [
        "v1:d10",
        "v1:d3",
        "v1:d5",
    ]


def test_reminders_ask_to_act_so_they_reach_people_who_turned_news_off(group: Group) -> None:
    group.drafter.optional_notifications = False
    group.drafter.save()
    deadline_in(group, 6 * DAY)
    proposal_draft(group)
    reminders_scan(now=timezone.now())
    assert reminders() == [("claire", "reminder_draft", "v1:d7")]
    assert Delivery.objects.filter(channel="email").get().essential


def test_inactive_people_are_not_reminded(group: Group) -> None:
    group.drafter.is_active = False
    group.drafter.save()
    deadline_in(group, 6 * DAY)
    proposal_draft(group)
    assert reminders_scan(now=timezone.now()) == []


def test_a_reminder_that_a_later_one_replaced_is_not_sent_even_if_its_message_comes_late(
    group: Group,
) -> None:
    deadline = deadline_in(group, 40 * DAY)
    proposal_draft(group)
    ids = reminders_scan(now=deadline - 14 * DAY)
    # Its task was lost; meanwhile the 7-day reminder came due (and was not scanned yet).
    report = deliveries_send(ids, now=deadline - 7 * DAY)
    assert report.sent == 0
    assert Delivery.objects.filter(channel="email").get().status == Delivery.Status.SUPERSEDED
    assert mail.outbox == []


# The command


def test_send_due_reminders_runs_the_scan_once(group: Group, capsys) -> None:
    deadline = deadline_in(group, 40 * DAY)
    proposal_draft(group)
    call_command("send_due_reminders", "--now", (deadline - 7 * DAY).isoformat())
    assert "1 reminders written" in capsys.readouterr().out
    assert reminders() == [("claire", "reminder_draft", "v1:d7")]


def test_send_due_reminders_can_send_from_its_own_process(group: Group, settings) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    deadline_in(group, 6 * DAY)
    proposal_draft(group)
    call_command("send_due_reminders", "--send")
    assert [m.to for m in mail.outbox] == [["claire@example.org"]]
    assert Delivery.objects.filter(channel="email").get().status == Delivery.Status.SENT


def test_send_due_reminders_refuses_a_moment_without_a_time_zone(db) -> None:
    with pytest.raises(CommandError, match="time zone"):
        call_command("send_due_reminders", "--now", "2026-09-01T08:00:00")


def test_the_scan_runs_a_constant_number_of_queries(
    group: Group, django_assert_max_num_queries
) -> None:
    deadline = deadline_in(group, 40 * DAY)
    proposal_draft(group)
    # The outbox reads the people's standing and their choice for reminders (in the pages,
    # by email or in the digest): two queries.
    with django_assert_max_num_queries(32) as first:
        reminders_scan(now=deadline - 30 * DAY)
    for index in range(10):
        proposal_draft(group, title=f"More {index}")
        other = OccasionFactory(name=f"Summit {index}", submission_deadline=deadline)
        proposal_draft(group, occasion=other)
    # SQLite splits the insert of the 42 rows (email and in-page) in two; PostgreSQL does not.
    split = 0 if connection.vendor == "postgresql" else 1
    with django_assert_max_num_queries(len(first.captured_queries) + split):
        ids = reminders_scan(now=deadline - 14 * DAY)
    assert len(ids) == 21
    with django_assert_max_num_queries(5):  # the deadlines, and the heartbeat's one UPDATE
        assert reminders_scan(now=deadline - 14 * DAY + dt.timedelta(minutes=1)) == []
