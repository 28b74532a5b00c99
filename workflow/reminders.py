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
from datetime import datetime

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from workflow.deadlines import (  # noqa: F401 (the engine's reminder API, for the apps)
    Deadline,
    Reminder,
    ReminderSource,
    Stage,
    register,
    reminder_sources,
    stage_due,
    superseded_ids,
)
from workflow.events import event_id_named
from workflow.health import REMINDER_SCAN, heartbeat_record
from workflow.models import Delivery, ReminderStage
from workflow.outbox import outbox_write

logger = logging.getLogger(__name__)

WAITING = (Delivery.Status.PENDING, Delivery.Status.DIGEST)


def reminder_occurrence(stage: Stage, about: models.Model) -> str:
    """One reminder of one object: deadline, version, stage and object."""
    return f"reminder:{stage.deadline.topic}:{stage.label}:{about._meta.model_name}{about.pk}"


def reminder_key(stage: Stage, about: models.Model, person_id: int) -> str:
    """The delivery's unique key: deadline, version, stage, object and person."""
    return f"{reminder_occurrence(stage, about)}:p{person_id}"


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
            channel=Delivery.Channel.EMAIL,
            event=notice.event,
            # One event per reminder of one object, named by it: the same every time.
            event_id=event_id_named(reminder_occurrence(stage, about)),
            recipient_id=notice.recipient_id,
            template=notice.template,
            context=notice.context,
            essential=notice.essential,
            content_type=content_types[model],
            object_id=about.pk,
            created_at=now,
            queued_at=now,
            topic=stage.deadline.topic,
            stage=stage.label,
            due_at=stage.due_at,
        )
        marker = (stage.deadline.topic, stage.label)
        per_stage[marker] = per_stage.get(marker, 0) + 1
    ids = outbox_write(list(rows.values()))
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
    logger.info(
        "Reminders written: %s",
        ", ".join(f"{topic} {label} ({count})" for (topic, label), count in per_stage.items())
        or "nobody to remind",
    )
    return ids
