"""The outbox: the only writer of delivery rows.

Rows are written in the transaction of what caused them, each once (a key that exists is
skipped), and their ids go to the workers after that transaction commits. Each row names its
channel, its event kind and its event's id (shared by the rows one event wrote). Webhook rows
go to an endpoint, not a person, and to the webhook workers (`workflow.webhooks`). Decided
here, when a row to a person is written: nothing but security notices is written for a person
whose account is inactive (they left the group, or were deactivated: reminders and notices stop
for them here, whoever raised them), a notice that does not ask to act is not written for a
person who turned its kind off on its channel (essential and security notices always are), and
an email waits for its recipient's daily digest if they chose one (security notices never
wait).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.db import transaction
from django.db.models import F, Value

from workflow.delivery import deliveries_dispatch
from workflow.events import event_name_valid
from workflow.models import Delivery
from workflow.preferences import notifications_turned_off
from workflow.webhooks import webhooks_dispatch_on_commit

WEBHOOK = Delivery.Channel.WEBHOOK


def recipients_standing(person_ids: Iterable[int]) -> tuple[set[int], set[int]]:
    """Of these people, in one query: the ids of those whose account is inactive, and of those
    who chose the daily digest (nobody, if the person model has no `daily_digest`)."""
    wanted = set(person_ids)
    if not wanted:
        return set(), set()
    model = get_user_model()
    try:
        model._meta.get_field("daily_digest")
    except FieldDoesNotExist:
        digest_wanted: Any = Value(False)
    else:
        digest_wanted = F("daily_digest")
    rows = model._default_manager.filter(pk__in=wanted).values_list(
        "pk", "is_active", digest_wanted
    )
    inactive = {pk for pk, active, _digest in rows if not active}
    digest = {pk for pk, _active, chose in rows if chose}
    return inactive, digest


def deliveries_dispatch_on_commit(ids: Sequence[int]) -> None:
    """Dispatch once the transaction that wrote the rows has committed."""
    if ids:
        batch = list(ids)
        transaction.on_commit(lambda: deliveries_dispatch(batch))


def _optional(row: Delivery) -> bool:
    """A row its recipient may turn off: it goes to a person, neither asks to act nor concerns
    security (a webhook row goes to an endpoint, which turns events off by its subscription)."""
    return row.recipient_id is not None and not row.essential and row.kind != Delivery.Kind.SECURITY


def outbox_write(rows: Sequence[Delivery]) -> list[int]:
    """Insert the rows in key order (so that writers running at once wait for each other rather
    than deadlock), skipping keys that exist and optional rows their recipient turned off; the
    ids of those now pending are dispatched after commit and returned.

    Its reads are three queries whatever the number of rows (preferences, and the recipients'
    active flags and digests, before the insert; the pending ids after); the insert is one query, split only where the
    database limits the parameters of one (SQLite).
    """
    unique = {row.key: row for row in reversed(rows)}
    for row in unique.values():
        if not event_name_valid(row.event):
            raise ValueError(f"Delivery {row.key} has no event kind: {row.event!r}")
    turned_off = notifications_turned_off(
        (row.recipient_id, row.event, row.channel)
        for row in unique.values()
        if _optional(row) and row.recipient_id is not None
    )
    unique = {
        key: row
        for key, row in unique.items()
        if not (_optional(row) and (row.recipient_id, row.event, row.channel) in turned_off)
    }
    inactive, digest = recipients_standing(
        {
            row.recipient_id
            for row in unique.values()
            if row.kind != Delivery.Kind.SECURITY and row.recipient_id is not None
        }
    )
    unique = {
        key: row
        for key, row in unique.items()
        if row.kind == Delivery.Kind.SECURITY or row.recipient_id not in inactive
    }
    if not unique:
        return []
    for row in unique.values():
        if (
            row.kind != Delivery.Kind.SECURITY
            and row.channel == Delivery.Channel.EMAIL
            and row.recipient_id in digest
        ):
            row.status = Delivery.Status.DIGEST
    Delivery.objects.bulk_create([unique[key] for key in sorted(unique)], ignore_conflicts=True)
    pending = list(
        Delivery.objects.filter(key__in=list(unique), status=Delivery.Status.PENDING).values_list(
            "id", "channel"
        )
    )
    deliveries_dispatch_on_commit([pk for pk, channel in pending if channel != WEBHOOK])
    webhooks_dispatch_on_commit([pk for pk, channel in pending if channel == WEBHOOK])
    return [pk for pk, _channel in pending]
