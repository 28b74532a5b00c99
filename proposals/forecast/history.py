"""Realistic past history for the forecast: archived occasions and their proposals, with the
transition log rows the services would have written at the time.

Used by the demo's archive, the back-test and the benchmark. Each occasion kind has its own
step durations (log-normal: a median and a spread, in days); a share of the proposals is sent
back to draft once or twice, a share is withdrawn on the way, and a proposal that would
reach submission after its deadline is withdrawn the day after it instead (it missed it).

The rows are written as the services write them, in one transaction: the proposal with its
first revision and its milestones (`Proposal.reached_*_at`), its authors and contributors, then its log rows (`create`, `submit_for_review`,
`request_changes`, `approve`, `submit`, `record_outcome` or `withdraw`) with their past
times and their digests (workflow.digests, as TransitionLog.save computes them). It writes no
audit row and tells nobody: it is the record of a past that the system did not see.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import transaction

from proposals.markdown import markdown_to_html
from proposals.models import (
    MILESTONE_FIELDS,
    Body,
    Occasion,
    Organization,
    Outcome,
    OutcomeResult,
    Person,
    Proposal,
    ProposalState,
    Revision,
    Submission,
)
from proposals.reference import occasion_create
from workflow.digests import object_digest
from workflow.models import TransitionLog

ARCHIVE_PREFIX = "Archive — "


Row = tuple[str, str, str, datetime]
"""A log row to write: transition, source, target, at."""


@dataclass(frozen=True)
class StepLaw:
    """A log-normal duration: its median in days and its spread (sigma of the log)."""

    median: float
    spread: float = 0.6

    def draw(self, rng: random.Random) -> float:
        return self.median * math.exp(rng.gauss(0.0, self.spread))


@dataclass(frozen=True)
class KindLaws:
    draft: StepLaw
    review: StepLaw
    endorsement: StepLaw
    rework: StepLaw = StepLaw(4.0, 0.5)
    sent_back: float = 0.3  # chance that a review sends the proposal back to draft
    withdrawn: float = 0.05  # chance that a proposal is withdrawn on its way
    lead_days: tuple[float, float] = (25.0, 70.0)  # created this long before the deadline


LAWS: dict[str, KindLaws] = {
    Occasion.Kind.SUMMIT: KindLaws(StepLaw(12), StepLaw(8), StepLaw(10)),
    Occasion.Kind.LAW_CONSULTATION: KindLaws(
        StepLaw(6, 0.5), StepLaw(4, 0.5), StepLaw(5, 0.5), lead_days=(12.0, 35.0)
    ),
    Occasion.Kind.WORKING_SESSION: KindLaws(
        StepLaw(9), StepLaw(5), StepLaw(6), sent_back=0.2, lead_days=(20.0, 50.0)
    ),
}


@dataclass
class Cast:
    """Who the generated proposals and log rows name."""

    author: Person
    organization: Organization
    body: Body
    reviewer: Person | None = None
    secretariat: Person | None = None


@dataclass
class Generated:
    occasions: list[Occasion] = field(default_factory=list)
    proposals: int = 0
    log_rows: int = 0
    submitted_in_time: int = 0
    late: int = 0
    withdrawn: int = 0
    open: int = 0


def _path(rng: random.Random, laws: KindLaws, created: datetime, deadline: datetime) -> list[Row]:
    """The proposal's log rows (transition, source, target, at), until it is submitted, misses
    its deadline, or is withdrawn."""
    rows: list[Row] = [("create", "", ProposalState.DRAFT, created)]
    at = created + timedelta(days=laws.draft.draw(rng))
    rows.append(("submit_for_review", ProposalState.DRAFT, ProposalState.IN_REVIEW, at))
    review_end = at + timedelta(days=laws.review.draw(rng))
    loops = 0
    while loops < 2 and rng.random() < laws.sent_back:
        sent_back = at + (review_end - at) * rng.uniform(0.3, 0.8)
        rows.append(("request_changes", ProposalState.IN_REVIEW, ProposalState.DRAFT, sent_back))
        at = sent_back + timedelta(days=laws.rework.draw(rng))
        rows.append(("submit_for_review", ProposalState.DRAFT, ProposalState.IN_REVIEW, at))
        review_end = at + timedelta(days=laws.review.draw(rng) * 0.6)
        loops += 1
    rows.append(("approve", ProposalState.IN_REVIEW, ProposalState.ENDORSEMENT, review_end))
    submitted = review_end + timedelta(days=laws.endorsement.draw(rng))
    rows.append(("submit", ProposalState.ENDORSEMENT, ProposalState.SUBMITTED, submitted))
    if rng.random() < laws.withdrawn:
        cut = created + (submitted - created) * rng.uniform(0.2, 0.95)
        return _cut(rows, cut)
    if submitted > deadline:
        return _cut(rows, deadline + timedelta(days=1))
    return rows


def _cut(rows: list[Row], at: datetime) -> list[Row]:
    """The rows before `at`, then a withdrawal from the state reached."""
    kept = [row for row in rows if row[3] < at and row[2] != ProposalState.SUBMITTED]
    return [*kept, ("withdraw", kept[-1][2], ProposalState.WITHDRAWN, at)]


def _milestones(rows: list[Row]) -> dict[str, datetime]:
    """The proposal's milestone fields: when its log rows first enter each state that has one
    (what the transitions would have written with them)."""
    reached: dict[str, datetime] = {}
    for _transition, _source, target, at in rows:
        name = MILESTONE_FIELDS.get(target)
        if name is not None and (name not in reached or at < reached[name]):
            reached[name] = at
    return reached


def history_generate(
    *,
    cast: Cast,
    seed: int,
    end: datetime,
    occasions_per_kind: int = 4,
    proposals_per_occasion: int = 8,
    first_deadline: datetime | None = None,
    name_prefix: str = ARCHIVE_PREFIX,
    kinds: tuple[str, ...] = tuple(LAWS),
    last_deadline: datetime | None = None,
) -> Generated:
    """Write occasions with deadlines spread from `first_deadline` to `last_deadline` (by
    default `end`), each with its
    proposals and their log rows; what would happen after `end` is not written (a proposal
    still on its way at `end` stays open in the state it reached)."""
    rng = random.Random(seed)  # noqa: S311 (reproducible history, not secrets)
    first_deadline = first_deadline or end - timedelta(days=720)
    span = ((last_deadline or end) - first_deadline).total_seconds()
    result = Generated()
    content_type = ContentType.objects.get_for_model(Proposal)
    text = "The group proposes what it proposed then."
    text_html = markdown_to_html(text)
    with transaction.atomic():
        occasions = []
        for kind in kinds:
            label = Occasion.Kind(kind).label
            for number in range(1, occasions_per_kind + 1):
                deadline = first_deadline + timedelta(seconds=span * rng.random())
                # Through the reference service, as the secretariat would have (audited).
                occasions.append(
                    occasion_create(
                        actor=None,
                        name=f"{name_prefix}{label} {deadline:%Y} #{number}",
                        kind=kind,
                        location="Geneva, Switzerland",
                        timezone="Europe/Zurich",
                        starts_on=(deadline + timedelta(days=10)).date(),
                        ends_on=(deadline + timedelta(days=12)).date(),
                        submission_deadline=deadline,
                    )
                )
        result.occasions = occasions
        planned: list[tuple[Proposal, list[Row]]] = []
        for occasion in occasions:
            laws = LAWS[occasion.kind]
            deadline = occasion.submission_deadline
            for number in range(1, proposals_per_occasion + 1):
                created = deadline - timedelta(days=rng.uniform(*laws.lead_days))
                rows = [row for row in _path(rng, laws, created, deadline) if row[3] <= end]
                if not rows:
                    continue
                last = rows[-1]
                state = last[2]
                outcome = ""
                if state == ProposalState.SUBMITTED:
                    closed_at = last[3] + timedelta(days=rng.uniform(20, 60))
                    if closed_at <= end:
                        outcome = rng.choice(list(OutcomeResult.values))
                        rows.append(
                            (
                                "record_outcome",
                                ProposalState.SUBMITTED,
                                ProposalState.CLOSED,
                                closed_at,
                            )
                        )
                        state = ProposalState.CLOSED
                planned.append(
                    (
                        Proposal(
                            title=f"{occasion.name}: proposal {number}",
                            summary="A proposal of an earlier occasion, kept in the archive.",
                            text=text,
                            text_html=text_html,
                            lead_organization=cast.organization,
                            created_by=cast.author,
                            target_body=cast.body,
                            occasion=occasion,
                            state=state,
                            outcome=outcome,
                            created_at=rows[0][3],
                            updated_at=rows[-1][3],
                            version=len(rows),
                            **_milestones(rows),
                        ),
                        rows,
                    )
                )
        Proposal.objects.bulk_create([proposal for proposal, _rows in planned], batch_size=2000)
        Revision.objects.bulk_create(
            [
                Revision(
                    proposal=proposal,
                    number=1,
                    title=proposal.title,
                    summary=proposal.summary,
                    text=text,
                    author=cast.author,
                    created_at=proposal.created_at,
                )
                for proposal, _rows in planned
            ],
            batch_size=2000,
        )
        for relation in (Proposal.authors.through, Proposal.contributors.through):
            links: list[Any] = [
                relation(proposal_id=p.pk, person_id=cast.author.pk) for p, _rows in planned
            ]
            relation.objects.bulk_create(links, batch_size=5000)
        actors = {
            "submit_for_review": cast.author,
            "request_changes": cast.reviewer,
            "approve": cast.reviewer,
            "submit": cast.secretariat,
            "record_outcome": cast.secretariat,
        }
        log: list[TransitionLog] = []
        for proposal, rows in planned:
            for transition, source, target, at in rows:
                entry = TransitionLog(
                    content_type=content_type,
                    object_id=proposal.pk,
                    transition=transition,
                    source=source,
                    target=target,
                    actor=actors.get(transition, cast.author),
                    at=at,
                    data={"archive": True},
                )
                entry.digest = object_digest(
                    TransitionLog.integrity_name, entry, TransitionLog.integrity_fields
                )
                log.append(entry)
            deadline = proposal.occasion.submission_deadline  # type: ignore[union-attr]
            final = rows[-1]
            submitted = next((r[3] for r in rows if r[2] == ProposalState.SUBMITTED), None)
            if submitted is not None:
                result.submitted_in_time += submitted <= deadline
            elif final[2] == ProposalState.WITHDRAWN:
                result.withdrawn += 1
                result.late += final[3] > deadline
            else:
                result.open += 1
        TransitionLog.objects.bulk_create(log, batch_size=5000)
        # What a submission and an outcome record beside the log (no dossier: the archive is
        # older than dossiers).
        submitted_by = cast.secretariat or cast.author
        submissions, outcomes = [], []
        for proposal, rows in planned:
            for transition, _source, _target, at in rows:
                if transition == "submit":
                    submissions.append(
                        Submission(
                            proposal=proposal,
                            body=cast.body,
                            submitted_by=submitted_by,
                            submitted_at=at,
                        )
                    )
                elif transition == "record_outcome":
                    outcomes.append(
                        Outcome(
                            proposal=proposal,
                            result=proposal.outcome,
                            decided_on=at.date(),
                            recorded_by=submitted_by,
                            recorded_at=at,
                        )
                    )
        Submission.objects.bulk_create(submissions, batch_size=5000)
        Outcome.objects.bulk_create(outcomes, batch_size=5000)
        result.proposals = len(planned)
        result.log_rows = len(log)
    return result
