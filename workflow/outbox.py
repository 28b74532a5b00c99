"""The outbox: the only writer of delivery rows.

Rows are written in the transaction of what caused them, each once (a key that exists is
skipped), and their ids go to the workers after that transaction commits. Whether a row
waits for its recipient's daily digest is decided here, when it is written; security
notices never wait.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.db import transaction

from workflow.delivery import deliveries_dispatch
from workflow.models import Delivery


def _person_flags(person_ids: Iterable[int], field: str) -> set[int]:
    """Ids of the people whose boolean preference `field` is on (none if the model has none)."""
    model = get_user_model()
    try:
        model._meta.get_field(field)
    except FieldDoesNotExist:
        return set()
    return set(
        model._default_manager.filter(pk__in=set(person_ids), **{field: True}).values_list(
            "pk", flat=True
        )
    )


def recipients_wanting_digest(person_ids: Iterable[int]) -> set[int]:
    return _person_flags(person_ids, "daily_digest")


def deliveries_dispatch_on_commit(ids: Sequence[int]) -> None:
    """Dispatch once the transaction that wrote the rows has committed."""
    if ids:
        batch = list(ids)
        transaction.on_commit(lambda: deliveries_dispatch(batch))


def outbox_write(rows: Sequence[Delivery]) -> list[int]:
    """Insert the rows in key order (so that writers running at once wait for each other rather
    than deadlock), skipping keys that exist; the ids of those now pending are dispatched after
    commit and returned."""
    unique = {row.key: row for row in reversed(rows)}
    if not unique:
        return []
    digest = recipients_wanting_digest(
        {row.recipient_id for row in unique.values() if row.kind != Delivery.Kind.SECURITY}
    )
    for row in unique.values():
        if row.kind != Delivery.Kind.SECURITY and row.recipient_id in digest:
            row.status = Delivery.Status.DIGEST
    Delivery.objects.bulk_create([unique[key] for key in sorted(unique)], ignore_conflicts=True)
    ids = list(
        Delivery.objects.filter(key__in=list(unique), status=Delivery.Status.PENDING).values_list(
            "id", flat=True
        )
    )
    deliveries_dispatch_on_commit(ids)
    return ids
