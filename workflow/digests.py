"""The digests that make the append-only log verifiable: pure functions, no database.

A log row's digest is a keyed hash (HMAC-SHA256) over one keyed hash per field, each over the
field's value in a canonical form. Holding the per-field hashes apart is what lets a redaction
(an erasure replacing a name by a pseudonym) keep the row's digest valid: the redaction
records the keyed hash of the value it replaced, never the value, and the verifier puts it back
in place of the new value's hash. Without the key nobody can make a digest, a redaction or a
seal that verifies, so the key is not kept in the database (settings.LOG_INTEGRITY_KEY).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import models


def integrity_key() -> bytes:
    """LOG_INTEGRITY_KEY, or, when it is empty, a key derived from SECRET_KEY."""
    configured = getattr(settings, "LOG_INTEGRITY_KEY", "")
    if configured:
        return configured.encode()
    return hmac.new(settings.SECRET_KEY.encode(), b"workflow.log-integrity", "sha256").digest()


def keyed(text: str) -> str:
    return hmac.new(integrity_key(), text.encode(), "sha256").hexdigest()


def canonical(value: Any) -> str:
    """One text per value, the same before and after a round trip through the database."""
    if isinstance(value, datetime):
        value = value.astimezone(UTC).isoformat(timespec="microseconds")
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def field_value(obj: models.Model, name: str) -> Any:
    """The value of a field as the database holds it (a foreign key by its id)."""
    field = obj._meta.get_field(name)
    value = field.value_from_object(obj)  # type: ignore[union-attr]
    if isinstance(field, models.JSONField | models.DateTimeField) or value is None:
        return value
    return field.get_prep_value(value)  # type: ignore[union-attr]


def field_digest(log: str, name: str, value: Any) -> str:
    return keyed(f"{log}.{name}={canonical(value)}")


def row_digest(log: str, field_digests: Iterable[str]) -> str:
    return keyed(f"{log}:" + "|".join(field_digests))


def object_digest(log: str, obj: models.Model, fields: Iterable[str]) -> str:
    """The digest of a log row from its current values."""
    return row_digest(log, (field_digest(log, name, field_value(obj, name)) for name in fields))


def redaction_signature(log: str, row_id: int, field: str, original: str, replacement: str) -> str:
    return keyed(f"redaction:{log}:{row_id}:{field}:{original}:{replacement}")


def chain_step(running: str, row_id: int, digest: str) -> str:
    """The chain after one more row: a hash over the chain so far, the row's id and digest."""
    return hashlib.sha256(f"{running}:{row_id}:{digest}".encode()).hexdigest()


def seal_signature(log: str, through_id: int, rows: int, running: str) -> str:
    return keyed(f"seal:{log}:{through_id}:{rows}:{running}")
