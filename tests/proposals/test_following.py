"""Following, notices in the pages, and how each kind reaches a person (the outbox decides)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import pytest
from django.utils import timezone

from proposals import discussion, rules
from proposals.following import follow_start, follow_stop, is_following, proposal_follower_ids
from proposals.models import Follow, Person, Proposal
from proposals.notifications import notification_modes_of, notification_modes_set
from proposals.services import (
    endorsement_create,
    occasion_move_deadline,
    proposal_create,
    proposal_update,
)
from tests.factories import Group, proposal_draft
from tests.proposals.api.helpers import fresh, proposal_in, run
from workflow.delivery import deliveries_claim
from workflow.errors import Refused
from workflow.models import AuditEvent, Delivery, NotificationPreference
from workflow.policy import Notice
from workflow.reminders import reminders_scan
from workflow.services import deliveries_enqueue

pytestmark = pytest.mark.django_db


def notice(
    person: Person,
    event: str = "proposal.revised",
    template: str = "proposals/email/revised",
    **fields: Any,
) -> Notice:
    return Notice(recipient_id=person.pk, template=template, event=event, **fields)


def rows_to(person: Person, channel: str) -> list[Delivery]:
    return list(Delivery.objects.filter(recipient=person, channel=channel))


# The outbox: every notice also reaches the pages, once per person and event


def test_each_notice_reaches_the_pages_once_per_person_and_event(group: Group) -> None:
    claire = group.drafter
    deliveries_enqueue(
        [notice(claire), notice(claire, "proposal.moved", template="proposals/email/moved")],
        key_prefix="one-event",
    )
    assert len(rows_to(claire, "email")) == 2  # two emails of the event (two templates)
    (page,) = rows_to(claire, "page")  # but one notice in the pages: the first one's
    assert (page.event, page.status, page.read_at) == ("proposal.revised", "sent", None)
    assert page.event_id == rows_to(claire, "email")[0].event_id
    # A repeat of the event (the same key prefix) writes nothing more, in the pages either.
    deliveries_enqueue([notice(claire)], key_prefix="one-event")
    assert Delivery.objects.filter(recipient=claire).count() == 3


def test_security_notices_go_by_email_only(group: Group) -> None:
    deliveries_enqueue(
        [notice(group.drafter, "account.email_changed")],
        key_prefix="security",
        kind=Delivery.Kind.SECURITY,
    )
    assert [row.status for row in rows_to(group.drafter, "email")] == ["pending"]
    assert rows_to(group.drafter, "page") == []


def test_no_worker_takes_an_in_page_row_and_nothing_counts_it_as_waiting(group: Group) -> None:
    deliveries_enqueue([notice(group.drafter)], key_prefix="news")
    page = rows_to(group.drafter, "page")[0]
    assert deliveries_claim([page.pk]) == []
    assert Delivery.objects.get(pk=page.pk).status == "sent"
    assert not Delivery.objects.filter(
        channel="page", status__in=["pending", "sending", "digest", "failed"]
    ).exists()


@pytest.mark.parametrize(
    ("mode", "email_status"), [("page", None), ("email", "pending"), ("digest", "digest")]
)
def test_news_reaches_a_person_as_they_chose_for_its_kind(
    group: Group, mode: str, email_status: str | None
) -> None:
    claire = group.drafter
    notification_modes_set(person=claire, wanted={"proposal.revised": mode}, actor=claire)
    deliveries_enqueue([notice(claire), notice(group.co_drafter)], key_prefix="news")
    assert [row.status for row in rows_to(claire, "email")] == (
        [email_status] if email_status else []
    )
    assert len(rows_to(claire, "page")) == 1
    assert [row.status for row in rows_to(group.co_drafter, "email")] == ["pending"]


def test_the_daily_digest_is_the_default_of_the_kinds_not_chosen(group: Group) -> None:
    claire = group.drafter
    Person.objects.filter(pk=claire.pk).update(daily_digest=True)
    notification_modes_set(person=claire, wanted={"proposal.moved": "email"}, actor=claire)
    deliveries_enqueue(
        [notice(claire), notice(claire, "proposal.moved", template="proposals/email/moved")],
        key_prefix="news",
    )
    statuses = {row.event: row.status for row in rows_to(claire, "email")}
    assert statuses == {"proposal.revised": "digest", "proposal.moved": "pending"}
    claire = Person.objects.get(pk=claire.pk)
    modes = {c.event: c.mode for _g, choices in notification_modes_of(claire) for c in choices}
    assert (modes["proposal.revised"], modes["proposal.moved"]) == ("digest", "email")


def test_optional_notifications_off_keep_news_in_the_pages(group: Group) -> None:
    Person.objects.filter(pk=group.drafter.pk).update(optional_notifications=False)
    deliveries_enqueue([notice(group.drafter)], key_prefix="news")
    deliveries_enqueue(
        [notice(group.drafter, "proposal.changes_requested", essential=True)], key_prefix="act"
    )
    assert [row.event for row in rows_to(group.drafter, "email")] == ["proposal.changes_requested"]
    assert len(rows_to(group.drafter, "page")) == 2


def test_reminders_cannot_be_turned_off(group: Group) -> None:
    claire = group.drafter
    with pytest.raises(Refused) as refused:
        notification_modes_set(person=claire, wanted={"reminder.any": "page"}, actor=claire)
    (reason,) = refused.value.errors["reminder.any"]
    assert getattr(reason, "code", "") == "notification_mode_refused"
    assert not NotificationPreference.objects.exists()
    # Even a choice stored some other way does not keep a reminder from the email.
    NotificationPreference.objects.create(person=claire, event="reminder.any", enabled=False)
    deadline = timezone.now() + dt.timedelta(days=6)
    type(group.occasion).objects.filter(pk=group.occasion.pk).update(submission_deadline=deadline)
    proposal_draft(group)
    reminders_scan(now=timezone.now())
    assert [row.event for row in rows_to(claire, "email")] == ["reminder.draft"]
    assert [row.event for row in rows_to(claire, "page")] == ["reminder.draft"]


def test_reminders_wait_for_the_digest_when_the_person_chose_it_for_them(group: Group) -> None:
    claire = group.drafter
    notification_modes_set(person=claire, wanted={"reminder.any": "digest"}, actor=claire)
    deadline = timezone.now() + dt.timedelta(days=6)
    type(group.occasion).objects.filter(pk=group.occasion.pk).update(submission_deadline=deadline)
    proposal_draft(group)
    reminders_scan(now=timezone.now())
    assert [row.status for row in rows_to(claire, "email")] == ["digest"]


def test_a_change_of_mode_is_audited_and_a_repeat_writes_nothing(group: Group) -> None:
    claire = group.drafter
    notification_modes_set(person=claire, wanted={"comment.posted": "digest"}, actor=claire)
    notification_modes_set(person=claire, wanted={"comment.posted": "digest"}, actor=claire)
    event = AuditEvent.objects.get(action="notification_preference.changed")
    assert (event.before["mode"], event.after["mode"]) == ("email", "digest")


# Following


def test_authors_reviewers_and_endorsers_follow_automatically(group: Group) -> None:
    proposal = proposal_create(
        author=group.drafter,
        title="Oceans",
        text="Text.",
        lead_organization=group.france,
        target_body=group.body,
        occasion=group.occasion,
        co_authors=[group.co_drafter],
    )
    assert set(Follow.objects.filter(proposal=proposal).values_list("person", "automatic")) == {
        (group.drafter.pk, True),
        (group.co_drafter.pk, True),
    }
    proposal = run(proposal, "submit_for_review", group.drafter)
    proposal = run(proposal, "approve", group.reviewer)
    endorsement_create(proposal=fresh(proposal), person=group.representative_ma)
    assert {group.reviewer.pk, group.representative_ma.pk} <= set(
        Follow.objects.filter(proposal=proposal, active=True).values_list("person", flat=True)
    )


def test_an_author_who_unfollowed_is_never_followed_again_automatically(group: Group) -> None:
    proposal = proposal_create(
        author=group.drafter,
        title="Oceans",
        lead_organization=group.france,
        co_authors=[group.co_drafter],
    )
    follow_stop(person=group.co_drafter, proposal=proposal)
    proposal_update(proposal=fresh(proposal), editor=group.drafter, co_authors=[group.co_drafter])
    assert not is_following(group.co_drafter, proposal=proposal)
    assert AuditEvent.objects.filter(action="follow.stopped", subject=group.co_drafter).exists()
    follow_start(person=group.co_drafter, proposal=proposal)
    assert is_following(group.co_drafter, proposal=proposal)
    assert not Follow.objects.get(person=group.co_drafter, proposal=proposal).automatic


def test_nobody_follows_what_they_may_not_see(group: Group) -> None:
    draft = proposal_draft(group)
    for person in (group.reviewer, group.outsider):
        with pytest.raises(Refused):
            follow_start(person=person, proposal=draft)
    with pytest.raises(Refused):
        follow_start(person=group.outsider, occasion=group.occasion)
    assert not Follow.objects.exists()


def test_unfollowing_a_proposal_of_a_followed_occasion_stops_that_proposal_only(
    group: Group,
) -> None:
    first, second = proposal_in(group, "in_review"), proposal_in(group, "in_review")
    follow_start(person=group.observer, occasion=group.occasion)
    follow_stop(person=group.observer, proposal=first)
    assert group.observer.pk not in proposal_follower_ids(first)
    assert group.observer.pk in proposal_follower_ids(second)


def test_followers_hear_of_transitions_but_never_the_actor_nor_twice(group: Group) -> None:
    proposal = proposal_in(group, "in_review")
    follow_start(person=group.observer, proposal=proposal)
    follow_start(person=group.reviewer, proposal=proposal)
    follow_start(person=group.drafter, proposal=proposal)
    run(proposal, "approve", group.reviewer)
    moved = Delivery.objects.filter(event="proposal.moved")
    assert set(moved.values_list("recipient", flat=True)) == {group.observer.pk}
    # The author hears of it by their own notice, which says more, once in the pages.
    assert [row.event for row in rows_to(group.drafter, "page")] == ["proposal.approved"]


def test_followers_of_a_proposal_sent_back_to_draft_hear_only_if_they_may_see_it(
    group: Group,
) -> None:
    proposal = proposal_in(group, "in_review")
    follow_start(person=group.observer, proposal=proposal)  # Québec: not France's drafts
    follow_start(person=group.co_drafter, proposal=proposal)  # France: sees its drafts
    run(proposal, "request_changes", group.reviewer, "Shorter.")
    moved = Delivery.objects.filter(event="proposal.moved")
    assert set(moved.values_list("recipient", flat=True)) == {group.co_drafter.pk}


def test_a_deadline_move_tells_each_follower_once_naming_the_occasion_only(group: Group) -> None:
    draft, open_one = proposal_draft(group, title="Secret draft"), proposal_in(group, "in_review")
    follow_start(person=group.observer, occasion=group.occasion)
    follow_start(person=group.representative_lu, proposal=open_one)
    occasion_move_deadline(
        occasion=group.occasion,
        new_deadline=group.occasion.submission_deadline + dt.timedelta(days=3),
        actor=group.secretariat,
        reason="The venue changed.",
    )
    rows = Delivery.objects.filter(event="occasion.deadline_moved")
    assert Counter(rows.values_list("recipient", "channel")) == {
        (group.observer.pk, "email"): 1,
        (group.observer.pk, "page"): 1,
        (group.representative_lu.pk, "email"): 1,
        (group.representative_lu.pk, "page"): 1,
    }
    assert all("Secret draft" not in str(row.context) for row in rows)
    assert draft.pk


# The visibility walk: every kind of notice, and nobody told of what they may not see


def everyone(group: Group) -> list[Person]:
    return list(Person.objects.all())


def check_nobody_told_of_what_they_may_not_see(seen: set[int]) -> set[str]:
    """Every row written since the last check goes to someone who may see its proposal, and
    exists once per person, event and channel; returns the kinds of those rows."""
    rows = list(Delivery.objects.exclude(pk__in=seen).exclude(channel="webhook"))
    kinds = set()
    for row in rows:
        seen.add(row.pk)
        kinds.add(row.event)
        assert row.recipient is not None
        if row.content_type is not None and row.content_type.model == "proposal":
            assert row.object_id is not None
            proposal = fresh(Proposal.objects.get(pk=row.object_id))
            assert rules.may_view(proposal, row.recipient), (row.event, row.recipient)
        if row.event == "occasion.deadline_moved":
            assert set(row.context) >= {"occasion", "deadline"}
            assert "title" not in row.context and "proposal_id" not in row.context
    page_rows = Counter((row.event_id, row.recipient_id) for row in rows if row.channel == "page")
    assert all(count == 1 for count in page_rows.values())
    return kinds


def test_no_notice_of_any_kind_reaches_someone_who_may_not_see_its_proposal(
    group: Group,
) -> None:
    """Everyone follows the occasion, and a row of Follow on each proposal exists for every
    person (even the outsider, as if written before they lost sight of it): each kind of
    notice is produced while the proposal is a draft, then along its whole life."""
    people = everyone(group)
    for person in people:
        Follow.objects.create(person=person, occasion=group.occasion)
    seen: set[int] = set()
    kinds: set[str] = set()
    draft = proposal_create(
        author=group.drafter,
        title="Draft nobody else sees",
        text="Text.",
        lead_organization=group.france,
        target_body=group.body,
        occasion=group.occasion,
    )
    withdrawn = proposal_draft(group, title="Withdrawn draft")
    for proposal in (draft, withdrawn):
        Follow.objects.bulk_create(
            [Follow(person=person, proposal=proposal) for person in people],
            ignore_conflicts=True,
        )
    # While a draft: a revision, a deadline move, reminders, comments, a withdrawal.
    draft = proposal_update(proposal=fresh(draft), editor=group.drafter, text="Text, revised.")
    occasion_move_deadline(
        occasion=group.occasion,
        new_deadline=timezone.now() + dt.timedelta(days=6),
        actor=group.secretariat,
    )
    reminders_scan(now=timezone.now())
    if hasattr(discussion, "comment_create"):
        for body in ("Looks good.", "What do @rita and @pierre think?"):
            try:
                discussion.comment_create(proposal=fresh(draft), author=group.drafter, body=body)
            except Refused:  # a mention of someone who may not see the draft is refused
                pass
    from proposals.attachments import attachment_add
    from tests.proposals.attachment_files import PDF, upload

    attachment_add(
        proposal=fresh(draft), person=group.drafter, title="Annex", upload=upload("a.pdf", PDF)
    )
    run(withdrawn, "withdraw", group.secretariat, "Merged into the other one.")
    kinds |= check_nobody_told_of_what_they_may_not_see(seen)
    draft_kinds = set(kinds)
    # Its whole life, and a revision after changes were requested.
    proposal = run(draft, "submit_for_review", group.drafter)
    proposal = run(proposal, "request_changes", group.reviewer, "Shorter.")
    proposal_update(proposal=fresh(proposal), editor=group.drafter, text="Shorter.")
    proposal = run(proposal, "submit_for_review", group.drafter)
    proposal = run(proposal, "approve", group.reviewer)
    endorsement_create(proposal=fresh(proposal), person=group.representative_ma)
    endorsement_create(proposal=fresh(proposal), person=group.representative_lu)
    proposal = run(proposal, "submit", group.secretariat)
    run(proposal, "record_outcome", group.secretariat, outcome="adopted")
    kinds |= check_nobody_told_of_what_they_may_not_see(seen)
    assert {
        "proposal.revised",
        "occasion.deadline_moved",
        "reminder.draft",
        "proposal.withdrawn",
        "proposal.moved",
        "proposal.attached",
    } <= draft_kinds
    assert {
        "proposal.review_requested",
        "proposal.changes_requested",
        "proposal.approved",
        "proposal.endorsement_opened",
        "proposal.quorum_reached",
        "proposal.submitted",
        "proposal.outcome_recorded",
    } <= kinds
    if hasattr(discussion, "comment_create"):
        assert "comment.posted" in draft_kinds
    # The outsider, who follows everything, heard of nothing.
    assert not Delivery.objects.filter(recipient=group.outsider).exists()
