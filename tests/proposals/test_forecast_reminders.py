"""The forecast's reminders: one extra reminder per person and deadline version when a
proposal falls at risk, never a series; the secretariat's list once a week (through the
outbox, rendered in each reader's language)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from proposals.forecast.history import Cast, history_generate
from proposals.forecast.reminders import forecast_reminders_write
from proposals.models import Proposal
from proposals.services import occasion_move_deadline
from tests.factories import Group
from tests.proposals.web.helpers import in_review
from workflow.delivery import deliveries_send
from workflow.models import Delivery

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)


def with_history(group: Group) -> None:
    history_generate(
        cast=Cast(author=group.drafter, organization=group.france, body=group.body),
        seed=5,
        end=timezone.now() - 20 * DAY,
        occasions_per_kind=3,
        proposals_per_occasion=10,
    )


def at_risk_rows(proposal: Proposal) -> list[tuple[str, int]]:
    return list(
        Delivery.objects.filter(
            key__startswith="forecast:", object_id=proposal.pk, channel=Delivery.Channel.EMAIL
        )
        .order_by("key")
        .values_list("key", "recipient_id")
    )


def test_a_proposal_at_risk_is_reminded_once_per_deadline_version(group: Group) -> None:
    with_history(group)
    group.occasion.submission_deadline = timezone.now() + dt.timedelta(days=2)
    group.occasion.save()
    proposal = in_review(group)  # review usually takes days; two are left
    now = timezone.now()

    first = forecast_reminders_write(now=now)
    rows = at_risk_rows(proposal)
    # Its author and the two reviewers who have not decided, once each.
    assert first.at_risk == 1
    assert sorted(pid for _key, pid in rows) == sorted(
        [group.drafter.pk, group.reviewer.pk, group.second_reviewer.pk]
    )
    assert all(f":v1:proposal{proposal.pk}:" in key for key, _pid in rows)

    # The next days (and after going above the threshold and below again): nothing more.
    forecast_reminders_write(now=now + dt.timedelta(hours=20))
    assert at_risk_rows(proposal) == rows

    # A moved deadline is a new version: it may warn again, once.
    occasion_move_deadline(
        occasion=group.occasion,
        new_deadline=group.occasion.submission_deadline + dt.timedelta(days=1),
        actor=group.secretariat,
    )
    forecast_reminders_write(now=now + dt.timedelta(hours=21))
    forecast_reminders_write(now=now + dt.timedelta(hours=22))
    rows = at_risk_rows(proposal)
    assert len(rows) == 6
    assert sum(f":v2:proposal{proposal.pk}:" in key for key, _pid in rows) == 3


def test_the_secretariat_gets_the_list_of_proposals_at_risk_once_a_week_in_its_language(
    group: Group,
) -> None:
    with_history(group)
    group.occasion.submission_deadline = timezone.now() + dt.timedelta(days=2)
    group.occasion.save()
    proposal = in_review(group, title="Cooperatives in the SDGs")
    group.secretariat.language = "fr"
    group.secretariat.save()
    monday = dt.datetime.combine(
        timezone.localdate() - dt.timedelta(days=timezone.localdate().weekday()),
        dt.time(6, 10),
        tzinfo=dt.UTC,
    )
    now = max(monday, timezone.now())
    week = now.isocalendar()

    forecast_reminders_write(now=now)
    forecast_reminders_write(now=now + dt.timedelta(hours=12))
    lists = Delivery.objects.filter(
        key__startswith="forecast-week:", channel=Delivery.Channel.EMAIL
    )
    assert list(lists.values_list("recipient_id", flat=True)) == [group.secretariat.pk]
    assert lists.get().key.startswith(f"forecast-week:{week[0]}-W{week[1]:02d}:")

    mail.outbox.clear()
    deliveries_send(list(lists.values_list("pk", flat=True)))
    (message,) = [m for m in mail.outbox if group.secretariat.email in m.to]
    assert "Cooperatives in the SDGs" in message.body
    assert "risque" in message.subject  # French: the reader's language
    assert f"/proposals/{proposal.pk}/" in message.body

    # Next week, with the proposal still at risk (its deadline was put off), a new list.
    group.occasion.submission_deadline += dt.timedelta(days=7)
    group.occasion.save()
    forecast_reminders_write(now=now + dt.timedelta(days=7))
    assert lists.count() == 2
