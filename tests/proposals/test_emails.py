"""The emails people get: their language, their time and the occasion's, what to do, why."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.utils import timezone

from proposals.models import Proposal
from proposals.reminders import time_left
from proposals.selectors import proposals_with_rule_data
from tests.factories import Group, proposal_draft
from workflow.delivery import deliveries_send, digest_recipients_due, digests_send
from workflow.emails import delivery_message
from workflow.models import Delivery
from workflow.reminders import reminders_scan
from workflow.services import transition_run

pytestmark = pytest.mark.django_db

DEADLINE = dt.datetime(2026, 12, 3, 4, 59, tzinfo=dt.UTC)  # 23:59 on 2 Dec in New York
NEXT_MORNING_UTC = dt.datetime(2026, 11, 29, 7, 5, tzinfo=dt.UTC)  # the digest's hour, in UTC
NOW = dt.datetime(2026, 11, 28, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def locmem_email(settings) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = "https://tracker.example.org"


def fresh(proposal: Proposal) -> Proposal:
    return proposals_with_rule_data().get(pk=proposal.pk)


def at_deadline(group: Group) -> None:
    type(group.occasion).objects.filter(pk=group.occasion.pk).update(submission_deadline=DEADLINE)


def person_speaks(person, language: str, zone: str) -> None:
    person.language = language
    person.timezone = zone
    person.save()


def html_of(message: EmailMultiAlternatives) -> str:
    return str(message.alternatives[0][0])


def reminder_email(group: Group) -> EmailMultiAlternatives:
    reminders_scan(now=NOW)
    row = (
        Delivery.objects.filter(channel="email")
        .select_related("recipient")
        .get(recipient=group.drafter)
    )
    return delivery_message(row, NOW)


def test_a_reminder_shows_the_deadline_in_the_readers_zone_and_the_occasions(
    group: Group,
) -> None:
    person_speaks(group.drafter, "en", "Asia/Tokyo")
    at_deadline(group)
    proposal = proposal_draft(group, title="Cooperatives & the SDGs")
    message = reminder_email(group)
    # Zones by their city in the reader's language, never by their IANA identifiers.
    assert "Thursday, 3 December 2026, 13:59 (your time, Tokyo)" in message.body
    assert "Wednesday, 2 December 2026, 23:59 (New York time)" in message.body
    assert "Asia/Tokyo" not in message.body and "America/New_York" not in message.body
    assert message.subject == (
        "Deadline in 4 days, 19 hours: “Cooperatives & the SDGs” is still a draft"
    )
    assert f"https://tracker.example.org/proposals/{proposal.pk}/" in message.body
    assert "State: Draft" in message.body
    assert "What is expected of you: Finish it and submit it for review" in message.body


def test_a_reminder_is_written_in_the_readers_language(group: Group) -> None:
    person_speaks(group.drafter, "fr", "Europe/Paris")
    at_deadline(group)
    proposal_draft(group)
    message = reminder_email(group)
    html = html_of(message)
    assert '<html lang="fr">' in html
    assert "jeudi 3 décembre 2026, 05:59" in message.body
    assert "mercredi 2 décembre 2026, 23:59" in message.body


def test_a_spanish_reader_gets_spanish_dates(group: Group) -> None:
    person_speaks(group.drafter, "es", "America/Guayaquil")
    at_deadline(group)
    proposal_draft(group)
    message = reminder_email(group)
    assert "miércoles, 2 de diciembre de 2026, 23:59 (su hora local, Guayaquil)" in message.body
    assert '<html lang="es">' in html_of(message)


def test_every_email_says_why_it_was_sent_and_where_to_change_that(group: Group) -> None:
    at_deadline(group)
    proposal_draft(group)
    message = reminder_email(group)
    html = html_of(message)
    assert "because you are an author of this proposal" in message.body
    assert "https://tracker.example.org/settings/" in message.body
    assert 'href="https://tracker.example.org/settings/"' in html
    assert message.from_email
    assert message.extra_headers["Auto-Submitted"] == "auto-generated"


def test_titles_are_escaped_in_html_and_kept_whole_in_text(group: Group) -> None:
    at_deadline(group)
    proposal_draft(group, title="<b>Bold</b> & co")
    message = reminder_email(group)
    assert "“<b>Bold</b> & co”" in message.body
    assert "&lt;b&gt;Bold&lt;/b&gt; &amp; co" in html_of(message)
    assert "<b>Bold</b>" not in html_of(message)


def test_the_endorsement_reminder_counts_what_is_missing(group: Group) -> None:
    at_deadline(group)
    proposal = proposal_draft(group)
    proposal = transition_run(
        obj=fresh(proposal), name="submit_for_review", actor=group.drafter
    ).obj
    transition_run(obj=fresh(proposal), name="approve", actor=group.reviewer)
    reminders_scan(now=NOW)
    author = (
        Delivery.objects.filter(channel="email")
        .select_related("recipient")
        .get(recipient=group.drafter, kind=Delivery.Kind.REMINDER)
    )
    representative = (
        Delivery.objects.filter(channel="email")
        .select_related("recipient")
        .get(recipient=group.representative_lu, kind=Delivery.Kind.REMINDER)
    )
    assert "still needs 2 endorsements" in delivery_message(author, NOW).subject
    assert "needs 2 more endorsements" in delivery_message(representative, NOW).body
    assert "awaits your endorsement" in delivery_message(representative, NOW).subject


def test_a_sent_email_has_a_plain_text_and_an_html_part(group: Group) -> None:
    at_deadline(group)
    proposal_draft(group)
    ids = reminders_scan(now=NOW)
    deliveries_send(ids, now=NOW)
    (message,) = mail.outbox
    assert message.to == ["claire@example.org"]
    assert isinstance(message, EmailMultiAlternatives)
    assert message.alternatives[0][1] == "text/html"
    assert Delivery.objects.filter(channel="email").get().status == Delivery.Status.SENT


@pytest.mark.parametrize(
    ("left", "said"),
    [
        (dt.timedelta(days=13, hours=11, minutes=59), "13 days"),
        (dt.timedelta(days=6, hours=11, minutes=59), "6 days, 11 hours"),
        (dt.timedelta(days=1), "1 day"),
        (dt.timedelta(hours=5, minutes=3), "5 hours, 3 minutes"),
        (dt.timedelta(hours=1), "1 hour"),
        (dt.timedelta(seconds=30), "0 minutes"),
    ],
)
def test_the_time_left_is_said_in_days_and_hours(left: dt.timedelta, said: str) -> None:
    assert time_left(NOW + left, NOW) == said


# Notifications on transitions


def notified(proposal: Proposal) -> set[tuple[str, str]]:
    rows = (
        Delivery.objects.filter(channel="email")
        .filter(object_id=proposal.pk, kind=Delivery.Kind.NOTIFICATION)
        .values_list("recipient__username", "template")
    )
    return {(user, template.rsplit("/", 1)[-1]) for user, template in rows}


def test_authors_are_told_when_changes_are_requested_with_the_comment(group: Group) -> None:
    proposal = transition_run(
        obj=fresh(proposal_draft(group)), name="submit_for_review", actor=group.drafter
    ).obj
    transition_run(
        obj=fresh(proposal), name="request_changes", actor=group.reviewer, comment="Cite ILO."
    )
    assert ("claire", "changes_requested") in notified(proposal)
    row = (
        Delivery.objects.filter(channel="email")
        .select_related("recipient")
        .get(template__endswith="changes_requested")
    )
    message = delivery_message(row)
    assert "Cite ILO." in message.body
    assert "rita asked for changes" in message.body.replace("Rita", "rita")


def test_people_who_turned_news_off_are_not_told_of_an_approval_but_are_asked_to_act(
    group: Group,
) -> None:
    group.drafter.optional_notifications = False
    group.drafter.save()
    group.representative_lu.optional_notifications = False
    group.representative_lu.save()
    proposal = transition_run(
        obj=fresh(proposal_draft(group)), name="submit_for_review", actor=group.drafter
    ).obj
    transition_run(obj=fresh(proposal), name="approve", actor=group.reviewer)
    told = notified(proposal)
    assert ("claire", "approved") not in told
    assert ("lena", "endorsement_opened") in told
    assert ("gabriel", "endorsement_opened") not in told


def test_each_notification_renders_in_text_and_html(group: Group) -> None:
    proposal = transition_run(
        obj=fresh(proposal_draft(group)), name="submit_for_review", actor=group.drafter
    ).obj
    transition_run(obj=fresh(proposal), name="approve", actor=group.reviewer)
    for row in Delivery.objects.filter(channel="email").select_related("recipient"):
        message = delivery_message(row)
        assert message.subject and "{%" not in message.body
        assert "<html" in html_of(message)


# The daily digest


def test_people_who_chose_the_digest_get_one_email_a_day_with_everything(group: Group) -> None:
    group.drafter.daily_digest = True
    group.drafter.save()
    at_deadline(group)
    proposal_draft(group, title="First")
    proposal_draft(group, title="Second")
    ids = reminders_scan(now=NOW)
    assert ids == []
    assert set(Delivery.objects.filter(channel="email").values_list("status", flat=True)) == {
        Delivery.Status.DIGEST
    }
    assert digests_send(now=NOW + dt.timedelta(hours=1)).sent == 0  # not the morning yet
    report = digests_send(now=NEXT_MORNING_UTC)
    assert report.sent == 2
    (message,) = mail.outbox
    assert message.to == ["claire@example.org"]
    assert "2 messages" in message.subject
    assert "“First”" in message.body and "“Second”" in message.body
    assert message.body.count("because you chose one daily email") == 1
    assert set(Delivery.objects.filter(channel="email").values_list("status", flat=True)) == {
        Delivery.Status.SENT
    }


def test_a_notification_to_someone_who_chose_the_digest_waits_for_it(group: Group) -> None:
    for reviewer in (group.reviewer, group.second_reviewer):
        reviewer.daily_digest = True
        reviewer.save()
    proposal = transition_run(
        obj=fresh(proposal_draft(group)), name="submit_for_review", actor=group.drafter
    ).obj
    ids = list(
        Delivery.objects.filter(channel="email")
        .filter(object_id=proposal.pk)
        .values_list("id", flat=True)
    )
    assert deliveries_send(ids).sent == 0
    assert mail.outbox == []
    assert set(Delivery.objects.filter(channel="email").values_list("status", flat=True)) == {
        Delivery.Status.DIGEST
    }
    digests_send(now=timezone.now() + dt.timedelta(days=1))
    assert sorted(m.to[0] for m in mail.outbox) == ["ines@example.org", "rita@example.org"]


def test_the_digest_leaves_out_reminders_that_a_later_one_replaced(group: Group) -> None:
    group.drafter.daily_digest = True
    group.drafter.save()
    at_deadline(group)
    proposal_draft(group)
    reminders_scan(now=DEADLINE - dt.timedelta(days=7))
    reminders_scan(now=DEADLINE - dt.timedelta(days=2))
    # 07:05 UTC, the reader's digest hour, before the next reminder (1 day before) comes due
    digests_send(now=DEADLINE - dt.timedelta(days=2) + dt.timedelta(hours=2, minutes=6))
    (message,) = mail.outbox
    assert "1 message" in message.subject
    statuses = dict(Delivery.objects.filter(channel="email").values_list("stage", "status"))
    assert statuses == {"v1:d7": "superseded", "v1:d2": "sent"}


def test_a_person_without_an_email_address_fails_with_the_reason_kept(group: Group) -> None:
    group.drafter.email = ""
    group.drafter.save()
    at_deadline(group)
    proposal_draft(group)
    deliveries_send(reminders_scan(now=NOW), now=NOW)
    row = Delivery.objects.filter(channel="email").get()
    assert row.status == Delivery.Status.FAILED
    assert row.last_error == "The recipient has no email address."


def test_the_digest_leaves_in_each_readers_morning(group: Group) -> None:
    """07:00 in Guayaquil is 12:00 UTC; in Paris, 06:00 UTC (winter): each gets it then."""
    person_speaks(group.drafter, "es", "America/Guayaquil")
    group.drafter.daily_digest = True
    group.drafter.save()
    at_deadline(group)
    proposal_draft(group)
    reminders_scan(now=NOW)  # 09:00 UTC: 04:00 in Guayaquil, 10:00 in Paris
    assert digests_send(now=dt.datetime(2026, 11, 28, 11, 55, tzinfo=dt.UTC)).sent == 0
    assert mail.outbox == []
    assert digests_send(now=dt.datetime(2026, 11, 28, 12, 5, tzinfo=dt.UTC)).sent == 1
    assert mail.outbox[0].to == ["claire@example.org"]


def test_a_digest_missed_while_the_system_was_down_leaves_when_it_is_back(group: Group) -> None:
    person_speaks(group.drafter, "fr", "Europe/Paris")
    group.drafter.daily_digest = True
    group.drafter.save()
    at_deadline(group)
    proposal_draft(group)
    reminders_scan(now=NOW)  # 10:00 in Paris: the next morning is 29 Nov, 07:00 (06:00 UTC)
    assert digests_send(now=dt.datetime(2026, 11, 29, 5, 55, tzinfo=dt.UTC)).sent == 0
    assert digests_send(now=dt.datetime(2026, 11, 29, 15, 0, tzinfo=dt.UTC)).sent == 1


def test_finding_whose_digest_is_due_is_one_query(
    group: Group, django_assert_num_queries: Any
) -> None:
    for person in (group.drafter, group.co_drafter, group.reviewer):
        person.daily_digest = True
        person.save()
    at_deadline(group)
    proposal_draft(group)
    reminders_scan(now=NOW)
    with django_assert_num_queries(1):
        due = digest_recipients_due(NEXT_MORNING_UTC)
    assert group.drafter.pk in due
