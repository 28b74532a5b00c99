"""Every delivery has an event id now; index what the delivery log and the email sweeps read."""

import uuid

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("workflow", "0009_delivery_event_backfill")]

    operations = [
        migrations.AlterField(
            model_name="delivery",
            name="event_id",
            field=models.UUIDField(
                default=uuid.uuid4,
                editable=False,
                help_text="Shared by every delivery that one event produced.",
                verbose_name="event id",
            ),
        ),
        migrations.RemoveIndex(model_name="delivery", name="delivery_waiting"),
        migrations.AddIndex(
            model_name="delivery",
            index=models.Index(
                condition=models.Q(("status__in", ["pending", "sending", "digest"])),
                fields=["channel", "status", "created_at"],
                name="delivery_waiting",
            ),
        ),
        migrations.AddIndex(
            model_name="delivery",
            index=models.Index(fields=["created_at", "id"], name="delivery_created"),
        ),
        migrations.AddIndex(
            model_name="delivery",
            index=models.Index(fields=["kind", "created_at"], name="delivery_kind"),
        ),
        migrations.AddIndex(
            model_name="delivery",
            index=models.Index(fields=["event", "created_at"], name="delivery_event"),
        ),
        migrations.AddIndex(
            model_name="delivery",
            index=models.Index(fields=["event_id"], name="delivery_event_id"),
        ),
    ]
