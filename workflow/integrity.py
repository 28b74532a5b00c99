"""The log's integrity: each row's digest, redactions that keep it, seals that chain the rows.

- A row of the transition log or the audit trail gets its digest when it is written
  (models.DigestedLogModel): a keyed hash over a keyed hash of each field.
- A redaction replaces a field (a person's name by their pseudonym) and records the keyed
  hashes of the value before and after: the verifier unwinds it, so the digest stays valid.
  PostgreSQL lets UPDATE through on those fields only, and only for a row with a redaction.
- A seal records the chain of digests (ids in order) up to a row: a deleted or inserted row
  breaks it. `log_seal` runs from the beat schedule and before each verification; it covers
  the rows written more than SEAL_MARGIN ago, so a transaction still open when it runs cannot
  commit a row below it.
- `log_verify` recomputes everything; `manage.py log_verify` runs it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from workflow.digests import (
    chain_step,
    field_digest,
    field_value,
    redaction_signature,
    row_digest,
    seal_signature,
)
from workflow.models import (
    AuditEvent,
    DigestedLogModel,
    LogName,
    LogRedaction,
    LogSeal,
    TransitionLog,
)

LOG_MODELS: dict[str, type[DigestedLogModel]] = {
    LogName.TRANSITION: TransitionLog,
    LogName.AUDIT: AuditEvent,
}
CHAIN_START = "0" * 64
# A seal covers rows written at least this long ago: no transaction writing to the log lasts it.
SEAL_MARGIN = timedelta(minutes=5)


@dataclass
class LogReport:
    """What a verification found: the rows read, the seals checked and each problem."""

    rows: int = 0
    seals: int = 0
    redactions: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.problems


def _log_model(log: str) -> type[DigestedLogModel]:
    try:
        return LOG_MODELS[log]
    except KeyError:
        raise ValueError(
            f"No log is called {log!r}; the logs are {', '.join(LOG_MODELS)}."
        ) from None


def log_row_redact(
    *,
    log: str,
    row: DigestedLogModel,
    changes: Mapping[str, Any],
    reason: str,
    now: datetime | None = None,
) -> list[LogRedaction]:
    """Replace fields of one log row, recording a redaction for each that changes; call it
    inside the transaction of the erasure or purge that asks for it."""
    model = _log_model(log)
    unknown = set(changes) - set(model.redactable_fields)
    if unknown:
        raise ValueError(f"The {log} log's {', '.join(sorted(unknown))} cannot be redacted.")
    now = now or timezone.now()
    redactions = []
    updates: dict[str, Any] = {}
    for name, value in changes.items():
        original = field_digest(log, name, field_value(row, name))
        setattr(row, name, value)
        replacement = field_digest(log, name, field_value(row, name))
        if original == replacement:
            continue
        updates[name] = value
        redactions.append(
            LogRedaction(
                log=log,
                row_id=row.pk,
                field=name,
                original=original,
                replacement=replacement,
                reason=reason,
                at=now,
                signature=redaction_signature(log, row.pk, name, original, replacement),
            )
        )
    for redaction in redactions:
        redaction.save()
    if updates:
        # A plain queryset: the append-only manager refuses every update, this one included.
        models.QuerySet(model=model).filter(pk=row.pk).update(**updates)
    return redactions


def _seal_one(log: str, now: datetime) -> LogSeal | None:
    model = _log_model(log)
    rows_of_log: models.QuerySet[Any] = models.QuerySet(model=model)
    with transaction.atomic():
        last = LogSeal.objects.filter(log=log).order_by("-through_id").first()
        running = last.running if last else CHAIN_START
        rows = last.rows if last else 0
        through = last.through_id if last else 0
        # Rows written within the margin may still have company below them in transactions
        # not yet committed: the seal stops before the first of them.
        recent = rows_of_log.filter(pk__gt=through, at__gt=now - SEAL_MARGIN).order_by("pk")
        first_recent = recent.values_list("pk", flat=True).first()
        pending = rows_of_log.filter(pk__gt=through).order_by("pk")
        if first_recent is not None:
            pending = pending.filter(pk__lt=first_recent)
        for row_id, digest in pending.values_list("pk", "digest").iterator(chunk_size=2000):
            running = chain_step(running, row_id, digest)
            rows += 1
            through = row_id
        if rows == (last.rows if last else 0):
            return None
        seal = LogSeal(
            log=log,
            through_id=through,
            rows=rows,
            running=running,
            signature=seal_signature(log, through, rows, running),
            sealed_at=now,
        )
        seal.save()
        return seal


def log_seal(now: datetime | None = None) -> list[LogSeal]:
    """Seal each log up to its last row; the new seals (none for a log without new rows)."""
    now = now or timezone.now()
    return [seal for log in LOG_MODELS if (seal := _seal_one(log, now)) is not None]


def _redactions_by_row(log: str, report: LogReport) -> dict[int, dict[str, list[LogRedaction]]]:
    by_row: dict[int, dict[str, list[LogRedaction]]] = defaultdict(lambda: defaultdict(list))
    for redaction in LogRedaction.objects.filter(log=log).order_by("id"):
        report.redactions += 1
        expected = redaction_signature(
            log, redaction.row_id, redaction.field, redaction.original, redaction.replacement
        )
        if redaction.signature != expected:
            report.problems.append(
                f"{log} log, redaction {redaction.pk}: its signature is wrong (forged or changed)."
            )
            continue
        by_row[redaction.row_id][redaction.field].append(redaction)
    return by_row


def _row_problem(
    log: str,
    row: DigestedLogModel,
    fields: Iterable[str],
    redactions: Mapping[str, list[LogRedaction]],
) -> str | None:
    digests = []
    for name in fields:
        current = field_digest(log, name, field_value(row, name))
        for redaction in reversed(redactions.get(name, [])):
            if current != redaction.replacement:
                return (
                    f"{log} log, row {row.pk}: its {name} is not the value its redaction "
                    f"{redaction.pk} wrote."
                )
            current = redaction.original
        digests.append(current)
    if row_digest(log, digests) != row.digest:
        return f"{log} log, row {row.pk}: its content does not match its digest."
    return None


def _verify_one(log: str, report: LogReport) -> None:
    model = _log_model(log)
    redactions = _redactions_by_row(log, report)
    seals = list(LogSeal.objects.filter(log=log).order_by("through_id"))
    for seal in seals:
        if seal.signature != seal_signature(log, seal.through_id, seal.rows, seal.running):
            report.problems.append(f"{log} log, seal {seal.pk}: its signature is wrong.")
    pending = list(seals)
    running, rows = CHAIN_START, 0

    def seals_passed(before_id: int | None) -> None:
        while pending and (before_id is None or pending[0].through_id < before_id):
            seal = pending.pop(0)
            report.seals += 1
            if (seal.rows, seal.running) != (rows, running):
                report.problems.append(
                    f"{log} log, seal {seal.pk} (rows up to {seal.through_id}): the rows it "
                    f"covers changed: {seal.rows} sealed, {rows} found, or not the same rows."
                )

    queryset: models.QuerySet[Any] = models.QuerySet(model=model).order_by("pk")
    for row in queryset.iterator(chunk_size=2000):
        seals_passed(row.pk)
        report.rows += 1
        problem = _row_problem(log, row, model.integrity_fields, redactions.get(row.pk, {}))
        if problem:
            report.problems.append(problem)
        running = chain_step(running, row.pk, row.digest)
        rows += 1
    seals_passed(None)


def log_verify(*, seal: bool = True, now: datetime | None = None) -> LogReport:
    """Check every row's digest (redactions unwound) and every seal's chain; seal first
    unless told not to."""
    if seal:
        log_seal(now=now)
    report = LogReport()
    for log in LOG_MODELS:
        _verify_one(log, report)
    return report
