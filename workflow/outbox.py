"""The outbox: the only writer of delivery rows.

Rows are written in the transaction of what caused them, each once (a key that exists is
skipped), and their ids go to the workers after that transaction commits. Each row names its
channel, its event kind and its event's id (shared by the rows one event wrote). Webhook rows
go to an endpoint, not a person, and to the webhook workers (`workflow.webhooks`).

Decided here, once for every caller, when a notice to a person is written (an email row):
- nothing but security notices is written for a person whose account is inactive (they left
  or were deactivated);
- it also reaches the pages: one in-page row per person and event (its key names the event
  and the person), written as delivered (`sent`: no worker takes it, nothing counts it as
  waiting); security notices do not, they go by email only;
- its email goes as its recipient chose for its kind (`workflow.preferences`): one email,
  in the daily digest, or none ("in the pages only"). Only news may be held back: a notice
  that asks to act and a reminder are emailed singly or in the digest whatever is chosen,
  and a security notice is emailed at once. A person whose optional notifications are off
  gets news in the pages only.
- an email that carries something not ready yet (`Notice.waits_for`) is written held (`held`)
  instead of pending, and `outbox_release` sends it, with the files it carries, once the app
  says it is ready; one that goes in the daily digest is not held (the digest carries no file:
  its text links to it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from django.db import connections, transaction
from django.db.models import Model
from django.db.models.constants import OnConflict
from django.db.models.sql import InsertQuery

from workflow.delivery import deliveries_dispatch
from workflow.events import event_name_valid
from workflow.models import Delivery
from workflow.preferences import (
    Mode,
    RecipientSettings,
    Standing,
    email_modes,
    preference_event,
)
from workflow.webhooks import webhooks_dispatch_on_commit

WEBHOOK = Delivery.Channel.WEBHOOK
WAITS_FOR = "waits_for"
"""The context key of an email that waits for something it carries (`Notice.waits_for`)."""
ATTACHMENTS = "attachments"
"""The context key of the files an email carries: a list of {"storage_name", "filename",
"content_type"}, read from the default storage when the email is sent."""


def deliveries_dispatch_on_commit(ids: Sequence[int]) -> None:
    """Dispatch once the transaction that wrote the rows has committed."""
    if ids:
        batch = list(ids)
        transaction.on_commit(lambda: deliveries_dispatch(batch))


def _to_a_person(row: Delivery) -> bool:
    """An email notice to a person (not a security notice): it reaches the pages too, and its
    email goes as the person chose."""
    return (
        row.channel == Delivery.Channel.EMAIL
        and row.recipient_id is not None
        and row.kind != Delivery.Kind.SECURITY
    )


def _may_hold_back(row: Delivery) -> bool:
    """News: neither asks to act nor is a reminder (those are always emailed)."""
    return not row.essential and row.kind != Delivery.Kind.REMINDER


def page_key(row: Delivery) -> str:
    """One in-page row per person and event."""
    return f"page:{row.event_id}:p{row.recipient_id}"


def _page_row(row: Delivery) -> Delivery:
    """The in-page copy of an email notice: the same event, data and object; delivered."""
    return Delivery(
        key=page_key(row),
        kind=row.kind,
        channel=Delivery.Channel.PAGE,
        event=row.event,
        event_id=row.event_id,
        recipient_id=row.recipient_id,
        template=row.template,
        context=row.context,
        essential=row.essential,
        content_type_id=row.content_type_id,
        object_id=row.object_id,
        created_at=row.created_at,
        status=Delivery.Status.SENT,
        sent_at=row.created_at,
        topic=row.topic,
        stage=row.stage,
        due_at=row.due_at,
    )


def outbox_write(
    rows: Sequence[Delivery], known: Mapping[int, RecipientSettings] | None = None
) -> list[int]:
    """Insert the rows in key order (so that writers running at once wait for each other rather
    than deadlock), with the in-page row of each notice to a person, skipping keys that exist
    and emails their recipient does not want; the ids of those now pending are dispatched
    after commit and returned.

    Its reads are two queries whatever the number of rows (choices, and the recipients'
    standing, before the insert; none when `known` holds the settings of every recipient); the insert is one query that returns what it wrote (split
    only where the database limits the parameters of one: SQLite). A row whose key existed
    is neither written nor returned: it was dispatched when it was written.
    """
    unique = {row.key: row for row in reversed(rows)}
    for row in unique.values():
        if not event_name_valid(row.event):
            raise ValueError(f"Delivery {row.key} has no event kind: {row.event!r}")
    to_people = [
        row
        for row in rows
        if unique.get(row.key) is row
        and row.recipient_id is not None
        and row.kind != Delivery.Kind.SECURITY
    ]
    modes, standing = email_modes(
        ((row.recipient_id or 0, preference_event(row.event, row.kind)) for row in to_people),
        known,
    )
    written: dict[str, Delivery] = {}
    for row in rows:  # in the callers' order: the first notice of an event to a person (the
        # one that says the most) gives its in-page row
        if unique.get(row.key) is not row:
            continue
        recipient_id = row.recipient_id or 0
        person = standing.get(recipient_id, Standing())
        if row.recipient_id is not None and row.kind != Delivery.Kind.SECURITY:
            if not person.active:
                continue
            if row.channel == Delivery.Channel.PAGE:
                row.status, row.sent_at = Delivery.Status.SENT, row.sent_at or row.created_at
        if not _to_a_person(row):
            written.setdefault(row.key, row)
            continue
        written.setdefault(page_key(row), _page_row(row))
        mode = modes[(recipient_id, preference_event(row.event, row.kind))]
        if _may_hold_back(row) and (mode == Mode.PAGE or not person.optional_by_email):
            continue
        if mode == Mode.PAGE:  # not for what asks to act: by email, as the person's default
            mode = Mode.DIGEST if person.daily_digest else Mode.EMAIL
        if mode == Mode.DIGEST:
            row.status = Delivery.Status.DIGEST
        elif row.context.get(WAITS_FOR):
            row.status = Delivery.Status.HELD
        written.setdefault(row.key, row)
    if not written:
        return []
    pending = [
        (pk, channel)
        for pk, channel, status in _insert_new([written[key] for key in sorted(written)])
        if status == Delivery.Status.PENDING
    ]
    deliveries_dispatch_on_commit([pk for pk, channel in pending if channel != WEBHOOK])
    webhooks_dispatch_on_commit([pk for pk, channel in pending if channel == WEBHOOK])
    return [pk for pk, _channel in pending]


def _insert_new(rows: list[Delivery]) -> list[tuple[int, str, str]]:
    """Insert the rows whose key does not exist yet; the id, channel and status of each row
    inserted (INSERT ... ON CONFLICT DO NOTHING RETURNING: one query per batch). A database
    that cannot return the rows of a bulk insert reads them again by their keys."""
    connection = connections[Delivery.objects.db]
    meta = Delivery._meta
    if not connection.features.can_return_rows_from_bulk_insert:
        existing = set(
            Delivery.objects.filter(key__in=[row.key for row in rows]).values_list("key", flat=True)
        )
        Delivery.objects.bulk_create(rows, ignore_conflicts=True)
        return list(
            Delivery.objects.filter(key__in=[row.key for row in rows if row.key not in existing])
            .order_by("key")
            .values_list("id", "channel", "status")
        )
    fields = [
        field for field in meta.concrete_fields if not field.generated and field is not meta.pk
    ]
    returning = [meta.pk, meta.get_field("channel"), meta.get_field("status")]
    batch_size = max(connection.ops.bulk_batch_size(fields, rows), 1)
    inserted: list[tuple[int, str, str]] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), batch_size):
            query = InsertQuery(Delivery, on_conflict=OnConflict.IGNORE)
            query.insert_values(fields, list[Model](rows[start : start + batch_size]))
            compiler = query.get_compiler(connection=connection)
            compiler.returning_fields = returning
            for sql, params in compiler.as_sql():
                cursor.execute(sql, params)
            inserted.extend(tuple(row) for row in cursor.fetchall())
    return inserted


def outbox_release(*, waits_for: str, attachments: Sequence[dict[str, str]] = ()) -> list[int]:
    """The held emails that wait for `waits_for` become pending, carrying `attachments`, and are
    dispatched once the caller's transaction commits; returns their ids."""
    rows = list(
        Delivery.objects.select_for_update()
        .filter(channel=Delivery.Channel.EMAIL, status=Delivery.Status.HELD)
        .filter(**{f"context__{WAITS_FOR}": waits_for})
        .order_by("id")
    )
    for row in rows:
        row.context = {**row.context, ATTACHMENTS: [dict(item) for item in attachments]}
        row.status = Delivery.Status.PENDING
    Delivery.objects.bulk_update(rows, ["context", "status"])
    ids = [row.pk for row in rows]
    deliveries_dispatch_on_commit(ids)
    return ids
