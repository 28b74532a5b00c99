"""Who is reminded of what before an occasion's submission deadline, and what the emails say.

The engine (workflow.reminders) decides when a reminder comes due; this module tells it the
deadlines (one per occasion, with its offsets from the reminder rules) and, for each open
proposal, who has to act:

- in draft: its authors;
- in review: the reviewers who have not decided on the current revision;
- in endorsement: the representatives of full members that have not endorsed, and the
  authors with the count still missing; once the quorum is reached, the secretariat and
  the presidency instead;
- past the deadline and not submitted: the secretariat, once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.urls import NoReverseMatch, reverse
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from proposals import rules
from proposals.localized import long_datetime_text, zone_city, zone_name
from proposals.models import (
    DEFAULT_REMINDER_OFFSETS,
    Occasion,
    OutcomeResult,
    Person,
    Proposal,
    ProposalState,
    ReminderRule,
    reminder_offsets,
)
from proposals.notices import notice_context
from proposals.selectors import (
    presidency_ids,
    proposals_with_rule_data,
    representatives_of_full_members,
    reviewer_ids,
    secretariat_ids,
)
from workflow import emails
from workflow import reminders as engine
from workflow.policy import Notice

OPEN = [ProposalState.DRAFT, ProposalState.IN_REVIEW, ProposalState.ENDORSEMENT]

# The email of each reminder, by who receives it.
DRAFT = "reminder_draft"
REVIEW = "reminder_review"
ENDORSE = "reminder_endorse"
ENDORSEMENTS_MISSING = "reminder_endorsements_missing"
READY_TO_SUBMIT = "reminder_submit"
OVERDUE = "reminder_overdue"

EMAIL_PREFIX = "proposals/email/"


def reminder_recipients(
    proposal: Proposal,
    *,
    late: bool,
    reviewers: set[int],
    representatives: dict[int, set[int]],
    secretariat: set[int],
    presidency: set[int],
) -> dict[int, str]:
    """Who is reminded of the proposal, and with which email: person id → event.

    `proposal` carries the rule data (selectors.proposals_with_rule_data). A person who
    would get two emails gets the one that asks them to act.
    """
    if late:
        return dict.fromkeys(secretariat, OVERDUE)
    authors = rules.author_ids(proposal)
    if proposal.state == ProposalState.DRAFT:
        return dict.fromkeys(authors, DRAFT)
    if proposal.state == ProposalState.IN_REVIEW:
        decided = {review.reviewer_id for review in rules.current_reviews(proposal)}
        return dict.fromkeys(reviewers - decided - rules.contributor_ids(proposal), REVIEW)
    if proposal.state == ProposalState.ENDORSEMENT:
        if rules.quorum_reached(proposal):
            return dict.fromkeys(secretariat | presidency, READY_TO_SUBMIT)
        recipients = dict.fromkeys(authors, ENDORSEMENTS_MISSING)
        endorsed = {e.organization_id for e in rules.active_endorsements(proposal)}
        for organization_id, people in representatives.items():
            if organization_id not in endorsed:
                recipients.update(dict.fromkeys(people, ENDORSE))
        return recipients
    return {}


def reminder_context(proposal: Proposal, event: str, stage: engine.Stage) -> dict[str, Any]:
    """What a reminder says, as plain data stored with the delivery."""
    context = notice_context(proposal, event, None)
    quorum = rules.endorsement_quorum(proposal)
    counted = rules.endorsements_counted(proposal)
    context.update(
        days_before=stage.days,
        stage=stage.label,
        due_at=stage.due_at.isoformat(),
        deadline=stage.deadline.at.isoformat(),
        quorum=quorum,
        endorsements=counted,
        missing=max(quorum - counted, 0),
    )
    return context


class OccasionDeadlines(engine.ReminderSource):
    """Each occasion's submission deadline, with the offsets of its reminder rule."""

    name = "occasion"

    def _deadline(self, occasion: Occasion, rules_: list[ReminderRule]) -> engine.Deadline:
        return engine.Deadline(
            topic=self.topic(occasion.pk),
            version=occasion.deadline_version,
            at=occasion.submission_deadline,
            offsets=tuple(reminder_offsets(occasion, rules_)),
            obj=occasion,
        )

    def horizon(self) -> timedelta:
        offsets = [*DEFAULT_REMINDER_OFFSETS]
        for rule_offsets in ReminderRule.objects.values_list("offsets", flat=True):
            offsets.extend(days for days in rule_offsets or [] if isinstance(days, int))
        return timedelta(days=max(offsets))

    def deadlines_between(self, start: datetime, end: datetime) -> list[engine.Deadline]:
        occasions = Occasion.objects.filter(
            submission_deadline__gt=start, submission_deadline__lte=end, cancelled_at__isnull=True
        )
        rules_ = list(ReminderRule.objects.all())
        return [self._deadline(occasion, rules_) for occasion in occasions]

    def deadlines_of(self, keys: Iterable[str]) -> list[engine.Deadline]:
        ids = [int(key) for key in keys if key.isdigit()]
        # A cancelled occasion has no current stage: its waiting reminders are superseded.
        occasions = list(Occasion.objects.filter(pk__in=ids, cancelled_at__isnull=True))
        rules_ = list(
            ReminderRule.objects.filter(Q(occasion__isnull=True) | Q(occasion_id__in=ids))
        )
        return [self._deadline(occasion, rules_) for occasion in occasions]

    def reminders(self, stages: Sequence[engine.Stage], now: datetime) -> list[engine.Reminder]:
        by_occasion = {stage.deadline.obj.pk: stage for stage in stages}
        # Open proposals have no submission nor outcome: joining those tables would read
        # them whole, and they grow with the group's history.
        proposals = list(
            proposals_with_rule_data(
                Proposal.objects.filter(state__in=OPEN, occasion_id__in=list(by_occasion))
            )
            .select_related(None)
            .select_related("occasion")
            .order_by("pk")
        )
        if not proposals:
            return []
        reviewers = reviewer_ids()
        representatives = representatives_of_full_members()
        secretariat = secretariat_ids()
        presidency = presidency_ids(now.date())
        planned: list[tuple[Proposal, engine.Stage, int, str]] = []
        for proposal in proposals:
            stage = by_occasion[proposal.occasion_id or 0]
            recipients = reminder_recipients(
                proposal,
                late=stage.is_late,
                reviewers=reviewers,
                representatives=representatives,
                secretariat=secretariat,
                presidency=presidency,
            )
            planned.extend((proposal, stage, pid, event) for pid, event in recipients.items())
        active = set(
            Person.objects.filter(
                pk__in={pid for _p, _s, pid, _e in planned}, is_active=True
            ).values_list("pk", flat=True)
        )
        return [
            engine.Reminder(
                stage=stage,
                about=proposal,
                notice=Notice(
                    recipient_id=person_id,
                    template=f"{EMAIL_PREFIX}{event}",
                    context=reminder_context(proposal, event, stage),
                    essential=True,
                    event=f"reminder.{event.removeprefix('reminder_')}",
                ),
            )
            for proposal, stage, person_id, event in planned
            if person_id in active
        ]


# What every email about a proposal shows, computed when it is rendered: in the
# recipient's language and time zone.


def site_link(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def proposal_path(proposal_id: Any) -> str:
    try:
        return reverse("proposals:proposal_detail", args=[proposal_id])
    except NoReverseMatch:
        return f"/proposals/{proposal_id}/"


def settings_path() -> str:
    try:
        return reverse("proposals:settings")
    except NoReverseMatch:
        return "/settings/"


def _moment(value: Any) -> datetime | None:
    return parse_datetime(value) if isinstance(value, str) and value else None


def time_left(deadline: datetime, now: datetime) -> str:
    """What remains before the deadline, in days and hours (or hours and minutes)."""
    seconds = max(int((deadline - now).total_seconds()), 0)
    days, seconds = divmod(seconds, 86400)
    hours, seconds = divmod(seconds, 3600)
    minutes = seconds // 60
    parts: list[str] = []
    if days:
        parts.append(ngettext("%(count)d day", "%(count)d days", days) % {"count": days})
    if hours and days < 7:
        parts.append(ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours})
    if not days and (minutes or not hours):
        parts.append(
            ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}
        )
    # Translators: the separator between "13 days" and "11 hours" in the time left.
    return _(", ").join(parts) if len(parts) > 1 else parts[0]


def email_context(
    template: str, context: dict[str, Any], recipient: Any, now: datetime
) -> dict[str, Any]:
    """Labels, deadlines in both time zones, and links, for the emails about proposals."""
    extra: dict[str, Any] = {
        "state_label": "",
        # A notice about one place of the proposal (a comment) names its path; else the page.
        "link": site_link(context.get("path") or proposal_path(context.get("proposal_id"))),
        "settings_link": site_link(settings_path()),
        "deadline_for_you": "",
        "deadline_there": "",
        "time_left": "",
        "deadline_passed": False,
    }
    state = context.get("state")
    if state in ProposalState.values:
        extra["state_label"] = str(ProposalState(state).label)
    outcome = context.get("outcome")
    if outcome in OutcomeResult.values:
        extra["outcome_label"] = str(OutcomeResult(outcome).label)
    deadline = _moment(context.get("deadline"))
    if deadline is not None:
        reader_zone = getattr(recipient, "timezone", "") or "UTC"
        occasion_zone = context.get("occasion_timezone") or "UTC"
        extra["deadline_for_you"] = _("%(moment)s (your time, %(zone)s)") % {
            "moment": long_datetime_text(deadline, reader_zone),
            "zone": zone_city(reader_zone),
        }
        extra["deadline_there"] = _("%(moment)s (%(zone)s)") % {
            "moment": long_datetime_text(deadline, occasion_zone),
            "zone": zone_name(occasion_zone, context.get("occasion_place") or ""),
        }
        extra["deadline_passed"] = deadline <= now
        if deadline > now:
            extra["time_left"] = time_left(deadline, now)
    return extra


engine.register(OccasionDeadlines())
emails.register(prefix=EMAIL_PREFIX, context=email_context, digest_template=f"{EMAIL_PREFIX}digest")
