"""DRF's clear-text tokens (rest_framework.authtoken) become hashed script tokens that work for
one more year, and the clear keys are erased from the database."""

import datetime as dt
import hashlib

from django.db import migrations
from django.utils import timezone
from django.utils.dateparse import parse_datetime

DRF_TOKEN_TABLE = "authtoken_token"
MIGRATED_NAME = "Migrated token"


def _aware(value):
    """A row's creation time as an aware datetime: SQLite gives text, and both SQLite and a
    column without time zone give UTC without saying so."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is not None and timezone.is_naive(value):
        value = timezone.make_aware(value, dt.timezone.utc)
    return value


def drf_tokens_migrate(apps, schema_editor):
    """Each row of authtoken_token (if the table is there) becomes an ApiToken with the SHA-256
    of its key, kind script, expiring a year from now; then the table is emptied."""
    connection = schema_editor.connection
    if DRF_TOKEN_TABLE not in connection.introspection.table_names():
        return
    ApiToken = apps.get_model("proposals", "ApiToken")
    now = timezone.now()
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {quote('key')}, {quote('user_id')}, {quote('created')} "  # noqa: S608
            f"FROM {quote(DRF_TOKEN_TABLE)}"
        )
        rows = cursor.fetchall()
    ApiToken.objects.bulk_create(
        [
            ApiToken(
                person_id=user_id,
                kind="script",
                name=MIGRATED_NAME,
                prefix=key[:8],
                digest=hashlib.sha256(key.encode()).hexdigest(),
                created_at=_aware(created) or now,
                expires_at=now + dt.timedelta(days=365),
            )
            for key, user_id, created in rows
        ]
    )
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {quote(DRF_TOKEN_TABLE)}")  # noqa: S608


class Migration(migrations.Migration):
    dependencies = [
        ("proposals", "0006_api_tokens"),
    ]

    operations = [
        migrations.RunPython(drf_tokens_migrate, migrations.RunPython.noop),
    ]
