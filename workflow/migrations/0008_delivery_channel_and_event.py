"""Deliveries get a channel, an event kind and an event id; people get notification preferences.

The event id is nullable here: the next migration gives every existing row its event's id
(one shared id per event, not one default for the whole table), the one after requires it.
"""

import re

import django.core.validators
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

EVENT_VALIDATOR = django.core.validators.RegexValidator(
    re.compile("^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)+$"),
    "An event kind is dotted lowercase words, such as proposal.approved.",
)


class Migration(migrations.Migration):
    dependencies = [
        ("workflow", "0007_heartbeat_and_failed_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="delivery",
            name="channel",
            field=models.CharField(
                choices=[("email", "Email")], default="email", max_length=16, verbose_name="channel"
            ),
        ),
        migrations.AddField(
            model_name="delivery",
            name="event",
            field=models.CharField(
                default="",
                help_text="What happened, such as proposal.review_requested.",
                max_length=100,
                validators=[EVENT_VALIDATOR],
                verbose_name="event",
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="delivery",
            name="event_id",
            field=models.UUIDField(editable=False, null=True, verbose_name="event id"),
        ),
        migrations.CreateModel(
            name="NotificationPreference",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "event",
                    models.CharField(
                        max_length=100, validators=[EVENT_VALIDATOR], verbose_name="event"
                    ),
                ),
                (
                    "channel",
                    models.CharField(
                        choices=[("email", "Email")],
                        default="email",
                        max_length=16,
                        verbose_name="channel",
                    ),
                ),
                ("enabled", models.BooleanField(default=True, verbose_name="wanted")),
                (
                    "updated_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, verbose_name="changed at"
                    ),
                ),
                (
                    "person",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="notification_preferences",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="person",
                    ),
                ),
            ],
            options={
                "verbose_name": "notification preference",
                "verbose_name_plural": "notification preferences",
                "ordering": ["person", "event", "channel"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("person", "event", "channel"), name="one_notification_preference"
                    )
                ],
            },
        ),
    ]
