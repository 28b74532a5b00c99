"""The audit trail: every write is recorded explicitly by the service that makes it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from django.db import models
from django.http import HttpRequest
from django.utils import timezone

from workflow.digests import object_digest
from workflow.models import AuditEvent


def _plain(value: Any) -> Any:
    """A JSON value for what an audit row keeps: model instances by id, dates as ISO text."""
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_plain(item) for item in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def client_address(request: HttpRequest | None) -> str | None:
    """The client's address as the request knows it (the trusted proxy is resolved earlier)."""
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def audit_record(
    *,
    action: str,
    actor: Any = None,
    obj: models.Model | None = None,
    subject: Any = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    security: bool = False,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> AuditEvent:
    """Append one row to the audit trail; call it inside the transaction of the write."""
    actor_id = getattr(actor, "pk", None) if getattr(actor, "is_authenticated", True) else None
    object_type = object_id = object_repr = ""
    if obj is not None:
        object_type = obj._meta.label_lower
        object_id = str(obj.pk)
        object_repr = str(obj)[:200]
    return AuditEvent.objects.create(
        at=now or timezone.now(),
        actor_id=actor_id,
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr,
        subject_id=getattr(subject, "pk", subject),
        before=_plain(dict(before or {})),
        after=_plain(dict(after or {})),
        security=security,
        ip_address=client_address(request),
    )


def audit_records(
    *,
    action: str,
    written: Sequence[tuple[models.Model, Mapping[str, Any]]],
    actor: Any = None,
    now: datetime | None = None,
) -> list[AuditEvent]:
    """Append one row of `action` per (object, after) written, in one insert; the rows are
    those `audit_record` writes, digests included. For a service that writes many objects at
    once (a calendar feed's new occasions); call it inside the transaction of the writes."""
    at = now or timezone.now()
    actor_id = getattr(actor, "pk", None) if getattr(actor, "is_authenticated", True) else None
    rows = []
    for obj, after in written:
        row = AuditEvent(
            at=at,
            actor_id=actor_id,
            action=action,
            object_type=obj._meta.label_lower,
            object_id=str(obj.pk),
            object_repr=str(obj)[:200],
            before={},
            after=_plain(dict(after)),
        )
        row.digest = object_digest(row.integrity_name, row, row.integrity_fields)
        rows.append(row)
    return AuditEvent.objects.bulk_create(rows)


def changed_fields(
    before: Mapping[str, Any], after: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The keys whose values differ, as (before, after) dictionaries of just those keys."""
    keys = [key for key in after if _plain(before.get(key)) != _plain(after.get(key))]
    return {key: before.get(key) for key in keys}, {key: after.get(key) for key in keys}
