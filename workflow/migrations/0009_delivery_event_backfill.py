"""Existing deliveries get their event kind and their event's id, derived from what they hold.

The kind comes from the template's name and the row's kind:
- a security notice or an account email: `account.<name>`; the security_event email is
  named by the action it reports (person.email_changed -> account.email_changed,
  password.changed -> account.password_changed);
- a reminder: `reminder.<name without its reminder_ prefix>` (reminder_submit -> reminder.submit);
- a notification about an object: `<the object's model>.<name>` (proposal.approved);
- anything else: `<kind>.<name>`.

The event id is shared by the rows one event wrote, read from the key: the outbox keys rows
`<event prefix>:<template>:p<person>`, and a reminder `reminder:<deadline>:<stage>:<object>:p<person>`
(one event per reminder of one object). It is a UUID5 of that prefix, so the same rows
always get the same id; a key of neither shape is its own event.
"""

import re
import uuid

from django.db import migrations

EVENT_NAMESPACE = uuid.UUID("5856d837-0df9-55b8-aa6a-bf5d43ffb301")
"""The same namespace as workflow.outbox.EVENT_NAMESPACE (copied: migrations stay frozen)."""

BATCH = 1000
WORD = re.compile(r"[^a-z0-9_]+")


def _word(text):
    word = WORD.sub("_", text.lower()).strip("_")
    return word if word and word[0].isalpha() else f"x{word}"


def action_event(action):
    """person.email_changed -> email_changed; password.changed -> password_changed."""
    if action.startswith("person."):
        action = action[len("person.") :]
    return _word(action.replace(".", "_"))


def event_of(row, models_by_type):
    name = _word(row.template.rsplit("/", 1)[-1])
    if row.kind == "security" or "/account/" in row.template:
        action = (row.context or {}).get("action") if isinstance(row.context, dict) else None
        if name == "security_event" and isinstance(action, str) and action:
            return f"account.{action_event(action)}"
        return f"account.{name}"
    if row.kind == "reminder":
        return f"reminder.{_word(name.removeprefix('reminder_'))}"
    model = models_by_type.get(row.content_type_id)
    if model:
        return f"{_word(model)}.{name}"
    return f"{_word(row.kind)}.{name}"


def event_group(row):
    """The part of the key that names the event, or None when the key names only this row."""
    if row.key.startswith("reminder:") and ":p" in row.key:
        return row.key.rsplit(":p", 1)[0]
    marker = f":{row.template}:p"
    if marker in row.key:
        return row.key.split(marker, 1)[0]
    return None


def rows_backfill(Delivery, ContentType, rows):
    """Give each of `rows` its event kind and event id, a thousand rows an update."""
    models_by_type = dict(ContentType.objects.values_list("id", "model"))
    rows = rows.only("id", "key", "kind", "template", "context", "content_type").order_by("id")
    batch = []
    for row in rows.iterator(chunk_size=BATCH):
        row.event = event_of(row, models_by_type)
        group = event_group(row)
        row.event_id = uuid.uuid5(EVENT_NAMESPACE, group) if group else uuid.uuid4()
        batch.append(row)
        if len(batch) >= BATCH:
            Delivery.objects.bulk_update(batch, ["event", "event_id"])
            batch = []
    if batch:
        Delivery.objects.bulk_update(batch, ["event", "event_id"])


def backfill(apps, schema_editor):
    Delivery = apps.get_model("workflow", "Delivery")
    ContentType = apps.get_model("contenttypes", "ContentType")
    rows_backfill(Delivery, ContentType, Delivery.objects.filter(event_id__isnull=True))


class Migration(migrations.Migration):
    dependencies = [
        ("workflow", "0008_delivery_channel_and_event"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
