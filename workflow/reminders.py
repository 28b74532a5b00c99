"""Reminders before deadlines: when each comes due, written once, handed to the workers.

An app registers a ReminderSource in its `reminders` module: the source lists its
deadlines (each with a version that goes up when it moves, and offsets in days) and says
who is reminded of what. The engine decides when. The current stage of a deadline is the
latest offset that came due, or `late` once the deadline has passed; only the current
stage is ever written or sent, so after a downtime the missed earlier reminders are not
sent, and a moved deadline (a new version) starts its own stages.

A stage is written once (a ReminderStage row), in one transaction with its deliveries,
whose keys name the deadline, its version, the stage, the object and the person: scans
running at the same time write each delivery once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from workflow.delivery import deliveries_dispatch_on_commit, recipients_wanting_digest
from workflow.discovery import discover
from workflow.health import REMINDER_SCAN, heartbeat_record
from workflow.models import Delivery, ReminderStage
from workflow.policy import Notice

logger = logging.getLogger(__name__)

WAITING = (Delivery.Status.PENDING, Delivery.Status.DIGEST)


@dataclass(frozen=True)
class Deadline:
    """A deadline as the engine sees it: which, which version, when, and the offsets in days."""

    topic: str
    version: int
    at: datetime
    offsets: tuple[int, ...]
    obj: Any = None

    @property
    def key(self) -> str:
        """The object's key within its source (the part of the topic after the source name)."""
        return self.topic.split(":", 1)[1]


@dataclass(frozen=True)
class Stage:
    """One reminder of a deadline: `days` before it, or late (days is None)."""

    deadline: Deadline
    days: int | None
    due_at: datetime

    @property
    def is_late(self) -> bool:
        return self.days is None

    @property
    def label(self) -> str:
        suffix = "late" if self.days is None else f"d{self.days}"
        return f"v{self.deadline.version}:{suffix}"


@dataclass(frozen=True)
class Reminder:
    """One person to remind about one object at one stage."""

    stage: Stage
    about: models.Model
    notice: Notice


class ReminderSource:
    """What an app tells the engine about its deadlines; `name` prefixes their topics."""

    name = ""
    late_window = timedelta(days=3)
    """How long after a deadline its late reminder may still be written (after a downtime)."""

    def topic(self, key: Any) -> str:
        return f"{self.name}:{key}"

    def horizon(self) -> timedelta:
        """How long before a deadline its first reminder may come due."""
        raise NotImplementedError

    def deadlines_between(self, start: datetime, end: datetime) -> list[Deadline]:
        """Deadlines after `start` and at or before `end`, read with an indexed query."""
        raise NotImplementedError

    def deadlines_of(self, keys: Iterable[str]) -> list[Deadline]:
        """The current deadlines of the given keys."""
        raise NotImplementedError

    def reminders(self, stages: Sequence[Stage], now: datetime) -> list[Reminder]:
        """Who is reminded of what at these stages, in a constant number of queries."""
        raise NotImplementedError


_sources: dict[str, ReminderSource] = {}


def register(source: ReminderSource) -> None:
    if not source.name or ":" in source.name:
        raise ValueError("A reminder source needs a name without a colon.")
    _sources[source.name] = source


def reminder_sources() -> list[ReminderSource]:
    discover()
    return list(_sources.values())


def stage_due(deadline: Deadline, now: datetime) -> Stage | None:
    """The deadline's current stage at `now`: its latest offset that came due, or late."""
    if now >= deadline.at:
        return Stage(deadline=deadline, days=None, due_at=deadline.at)
    due = [days for days in deadline.offsets if deadline.at - timedelta(days=days) <= now]
    if not due:
        return None
    days = min(due)
    return Stage(deadline=deadline, days=days, due_at=deadline.at - timedelta(days=days))


def reminder_key(stage: Stage, about: models.Model, person_id: int) -> str:
    """The delivery's unique key: deadline, version, stage, object and person."""
    return (
        f"reminder:{stage.deadline.topic}:{stage.label}:"
        f"{about._meta.model_name}{about.pk}:p{person_id}"
    )


def reminders_scan(*, now: datetime | None = None) -> list[int]:
    """Write the deliveries of every stage that came due and was not written yet; queue them.

    Returns the ids of the pending deliveries written; they are dispatched after commit.
    Its completion is recorded in the reminder scan's heartbeat, which readiness reads.
    """
    now = now or timezone.now()
    ids: list[int] = []
    for source in reminder_sources():
        ids.extend(_scan(source, now))
    heartbeat_record(REMINDER_SCAN)
    return ids


def _scan(source: ReminderSource, now: datetime) -> list[int]:
    deadlines = source.deadlines_between(now - source.late_window, now + source.horizon())
    stages = [stage for deadline in deadlines if (stage := stage_due(deadline, now))]
    if not stages:
        return []
    written = set(
        ReminderStage.objects.filter(
            topic__in={stage.deadline.topic for stage in stages}
        ).values_list("topic", "stage")
    )
    todo = [stage for stage in stages if (stage.deadline.topic, stage.label) not in written]
    if not todo:
        return []
    with transaction.atomic():
        return _write(source, todo, now)


def _write(source: ReminderSource, stages: list[Stage], now: datetime) -> list[int]:
    reminders = source.reminders(stages, now)
    digest = recipients_wanting_digest({r.notice.recipient_id for r in reminders})
    content_types: dict[type[models.Model], ContentType] = {}
    rows: dict[str, Delivery] = {}
    per_stage: dict[tuple[str, str], int] = {}
    for reminder in reminders:
        about, notice, stage = reminder.about, reminder.notice, reminder.stage
        key = reminder_key(stage, about, notice.recipient_id)
        if key in rows:
            continue
        model = type(about)
        if model not in content_types:
            content_types[model] = ContentType.objects.get_for_model(model)
        rows[key] = Delivery(
            key=key,
            kind=Delivery.Kind.REMINDER,
            recipient_id=notice.recipient_id,
            template=notice.template,
            context=notice.context,
            essential=notice.essential,
            content_type=content_types[model],
            object_id=about.pk,
            status=(
                Delivery.Status.DIGEST if notice.recipient_id in digest else Delivery.Status.PENDING
            ),
            created_at=now,
            queued_at=now,
            topic=stage.deadline.topic,
            stage=stage.label,
            due_at=stage.due_at,
        )
        marker = (stage.deadline.topic, stage.label)
        per_stage[marker] = per_stage.get(marker, 0) + 1
    # Inserted in key order, so that scans running at once wait for each other, not deadlock.
    Delivery.objects.bulk_create([rows[key] for key in sorted(rows)], ignore_conflicts=True)
    ReminderStage.objects.bulk_create(
        [
            ReminderStage(
                topic=stage.deadline.topic,
                stage=stage.label,
                due_at=stage.due_at,
                written_at=now,
                deliveries=per_stage.get((stage.deadline.topic, stage.label), 0),
            )
            for stage in sorted(stages, key=lambda stage: (stage.deadline.topic, stage.label))
        ],
        ignore_conflicts=True,
    )
    superseded = Q()
    for stage in stages:
        superseded |= Q(topic=stage.deadline.topic) & ~Q(stage=stage.label)
    Delivery.objects.filter(superseded, kind=Delivery.Kind.REMINDER, status__in=WAITING).update(
        status=Delivery.Status.SUPERSEDED
    )
    ids = list(
        Delivery.objects.filter(key__in=list(rows), status=Delivery.Status.PENDING).values_list(
            "id", flat=True
        )
    )
    logger.info(
        "Reminders written: %s",
        ", ".join(f"{topic} {label} ({count})" for (topic, label), count in per_stage.items())
        or "nobody to remind",
    )
    deliveries_dispatch_on_commit(ids)
    return ids


def superseded_ids(rows: Sequence[Delivery], now: datetime) -> set[int]:
    """Ids of the reminders among `rows` that are no longer their deadline's current stage."""
    reminders = [row for row in rows if row.kind == Delivery.Kind.REMINDER and row.topic]
    if not reminders:
        return set()
    keys_by_source: dict[str, set[str]] = {}
    for row in reminders:
        name, _, key = row.topic.partition(":")
        keys_by_source.setdefault(name, set()).add(key)
    current: dict[str, str] = {}
    sources = {source.name: source for source in reminder_sources()}
    for name, keys in keys_by_source.items():
        source = sources.get(name)
        if source is None:
            continue
        for deadline in source.deadlines_of(keys):
            stage = stage_due(deadline, now)
            if stage is not None:
                current[deadline.topic] = stage.label
    return {
        row.pk
        for row in reminders
        if row.topic.partition(":")[0] in sources and current.get(row.topic) != row.stage
    }
