"""What the forecast tells people: one extra reminder when a proposal falls at risk, and a
weekly list of the proposals at risk for the secretariat.

Both go through the project's notice path (`workflow.services.deliveries_enqueue`, the
outbox): the delivery's unique key makes each exist once.

- The at-risk reminder's key names the occasion, its deadline version, the proposal and the
  person (`forecast:occasion<o>:v<version>:proposal<p>:…:p<person>`): a proposal that goes
  below the threshold, above, and below again is reminded once; a moved deadline (a new
  version) may remind again. It goes to the proposal's authors and to whoever has to act
  now, as the scheduled reminders name them (the reviewers who have not decided, the
  representatives whose organisation has not endorsed, the secretariat once the quorum is
  reached).
- The weekly list's key names the ISO week and the person (`forecast-week:<year>-W<week>…`):
  the daily run sends it on the first day of the week when a proposal is at risk, once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from babel.numbers import format_percent
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from proposals import rules
from proposals.forecast import Forecast, OpenForecast, open_forecasts
from proposals.localized import babel_locale
from proposals.models import Person, Proposal
from proposals.notices import notice_context
from proposals.reminders import reminder_recipients
from proposals.selectors import (
    presidency_ids,
    proposals_with_rule_data,
    representatives_of_full_members,
    reviewer_ids,
    secretariat_ids,
)
from workflow import emails
from workflow.models import Delivery
from workflow.policy import Notice
from workflow.services import deliveries_enqueue

AT_RISK = "forecast_at_risk"
WEEKLY = "forecast_weekly"
EMAIL_PREFIX = "proposals/email/"


@dataclass(frozen=True)
class ForecastReminders:
    at_risk: int  # proposals at risk
    reminders: list[int]  # pending deliveries written (at-risk reminders)
    weekly: list[int]  # pending deliveries written (the weekly list)


def forecast_facts(forecast: Forecast) -> dict[str, Any]:
    """A forecast as plain data stored with a delivery."""
    return {
        "probability": forecast.probability,
        "probability_percent": round((forecast.probability or 0) * 100),
        "weighing_step": forecast.weighing_step or "",
        "typical_days": forecast.typical_days or 0,
        "days_left": forecast.days_left or 0,
        "expected_submission": (
            forecast.expected_submission.isoformat() if forecast.expected_submission else ""
        ),
    }


def _at_risk_notices(
    proposal: Proposal, forecast: Forecast, people: dict[str, Any], active: set[int]
) -> list[Notice]:
    recipients = set(
        reminder_recipients(
            proposal,
            late=False,
            reviewers=people["reviewers"],
            representatives=people["representatives"],
            secretariat=people["secretariat"],
            presidency=people["presidency"],
        )
    )
    recipients |= rules.author_ids(proposal)
    context = notice_context(proposal, AT_RISK, None)
    context.update(forecast_facts(forecast))
    return [
        Notice(
            recipient_id=person_id,
            template=f"{EMAIL_PREFIX}{AT_RISK}",
            context=context,
            essential=True,
            event="reminder.at_risk",
        )
        for person_id in sorted(recipients & active)
    ]


def at_risk_key(occasion_id: int, deadline_version: int, proposal_id: int) -> str:
    """The key prefix of a proposal's at-risk reminder: occasion, deadline version, proposal."""
    return f"forecast:occasion{occasion_id}:v{deadline_version}:proposal{proposal_id}"


def week_key(now: datetime) -> str:
    year, week, _day = now.astimezone(UTC).isocalendar()
    return f"forecast-week:{year}-W{week:02d}"


def forecast_reminders_write(*, now: datetime | None = None) -> ForecastReminders:
    """Forecast every open proposal; write the at-risk reminders not written yet for this
    deadline version, and the secretariat's list of this week if not written yet."""
    now = now or timezone.now()
    risky = [item for item in open_forecasts(now=now) if item.forecast.at_risk]
    if not risky:
        return ForecastReminders(at_risk=0, reminders=[], weekly=[])
    by_id = {item.proposal_id: item for item in risky}
    proposals = list(
        proposals_with_rule_data(Proposal.objects.filter(pk__in=list(by_id)))
        .select_related(None)
        .select_related("occasion")
        .order_by("occasion__submission_deadline", "pk")
    )
    people: dict[str, Any] = {
        "reviewers": reviewer_ids(),
        "representatives": representatives_of_full_members(),
        "secretariat": secretariat_ids(),
        "presidency": presidency_ids(now.date()),
    }
    everyone = set(people["reviewers"]) | people["secretariat"] | people["presidency"]
    for members in people["representatives"].values():
        everyone |= members
    for proposal in proposals:
        everyone |= rules.author_ids(proposal)
    active = set(
        Person.objects.filter(pk__in=everyone, is_active=True).values_list("pk", flat=True)
    )
    reminders: list[int] = []
    weekly: list[int] = []
    with transaction.atomic():
        for proposal in proposals:
            item = by_id[proposal.pk]
            reminders += deliveries_enqueue(
                _at_risk_notices(proposal, item.forecast, people, active),
                key_prefix=at_risk_key(item.occasion_id, item.deadline_version, proposal.pk),
                about=proposal,
                kind=Delivery.Kind.REMINDER,
                now=now,
            )
        weekly = deliveries_enqueue(
            _weekly_notices(proposals, by_id, people["secretariat"] & active, now),
            key_prefix=week_key(now),
            kind=Delivery.Kind.REMINDER,
            now=now,
        )
    return ForecastReminders(at_risk=len(risky), reminders=reminders, weekly=weekly)


def _weekly_notices(
    proposals: list[Proposal], by_id: dict[int, OpenForecast], readers: set[int], now: datetime
) -> list[Notice]:
    items = []
    for proposal in proposals:
        occasion = proposal.occasion
        assert occasion is not None  # noqa: S101 (open_forecasts keeps proposals with a deadline)
        items.append(
            {
                "proposal_id": proposal.pk,
                "title": proposal.title,
                "occasion": occasion.name,
                "deadline": timezone.localtime(occasion.submission_deadline, occasion.zone)
                .date()
                .isoformat(),
                "state": proposal.state,
                "link_path": reverse("proposals:proposal_detail", args=[proposal.pk]),
                **forecast_facts(by_id[proposal.pk].forecast),
            }
        )
    items.sort(key=lambda item: (item["probability"] or 0, item["deadline"]))
    context = {
        "event": WEEKLY,
        "items": items,
        "count": len(items),
        "week": week_key(now).removeprefix("forecast-week:"),
        "path": reverse("proposals:home"),
    }
    return [
        Notice(
            recipient_id=person_id,
            template=f"{EMAIL_PREFIX}{WEEKLY}",
            context=context,
            essential=True,
            event="reminder.at_risk_list",
        )
        for person_id in sorted(readers)
    ]


def _percent(value: Any) -> str:
    return format_percent(value, locale=babel_locale()) if isinstance(value, int | float) else ""


def forecast_email_context(
    template: str, context: dict[str, Any], recipient: Any, now: datetime
) -> dict[str, Any]:
    """The probabilities as the reader's language writes a percentage ("23 %" in French)."""
    return {
        "percent_text": _percent(context.get("probability")),
        "items": [
            {**item, "percent_text": _percent(item.get("probability"))}
            for item in context.get("items") or []
        ],
    }


emails.register(prefix=f"{EMAIL_PREFIX}forecast_", context=forecast_email_context)
