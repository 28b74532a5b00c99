"""Deadlines and their reminder stages: what comes due when, known to the engine through
the ReminderSource each app registers. Pure reading: nothing here writes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import models

from workflow.discovery import discover
from workflow.models import Delivery
from workflow.policy import Notice


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
