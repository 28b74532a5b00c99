"""The log's integrity: a digest on each row of the transition log and the audit trail, the
redactions that keep it valid, and the seals that chain the rows (workflow/integrity.py).

On PostgreSQL the append-only triggers are replaced by ones that still refuse every DELETE, and
refuse every UPDATE except of the redactable fields of a row that has a recorded redaction;
the redactions and seals themselves are append-only.
"""

import django.utils.timezone
from django.db import migrations, models

from workflow.digests import object_digest

LOGS = {
    "transitionlog": (
        "transition",
        (
            "content_type",
            "object_id",
            "transition",
            "source",
            "target",
            "actor",
            "at",
            "comment",
            "data",
        ),
    ),
    "auditevent": (
        "audit",
        (
            "at",
            "actor",
            "action",
            "object_type",
            "object_id",
            "object_repr",
            "subject",
            "before",
            "after",
            "security",
            "ip_address",
        ),
    ),
}

DROP_OLD = """
DROP TRIGGER IF EXISTS workflow_log_append_only ON workflow_transitionlog;
DROP TRIGGER IF EXISTS workflow_audit_append_only ON workflow_auditevent;
"""

CREATE = """
CREATE OR REPLACE FUNCTION workflow_log_redaction_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'The % is append-only: DELETE is refused', TG_ARGV[1]
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF (to_jsonb(NEW) - TG_ARGV[2]::text[]) IS DISTINCT FROM (to_jsonb(OLD) - TG_ARGV[2]::text[])
    THEN
        RAISE EXCEPTION 'The % is append-only: only a redaction may change %', TG_ARGV[1],
            TG_ARGV[2] USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NOT EXISTS (
        SELECT 1 FROM workflow_logredaction WHERE log = TG_ARGV[0] AND row_id = OLD.id
    ) THEN
        RAISE EXCEPTION 'The % is append-only: UPDATE without a recorded redaction is refused',
            TG_ARGV[1] USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER workflow_log_append_only
    BEFORE UPDATE OR DELETE ON workflow_transitionlog
    FOR EACH ROW EXECUTE FUNCTION workflow_log_redaction_only(
        'transition', 'transition log', '{comment,data}');

CREATE TRIGGER workflow_audit_append_only
    BEFORE UPDATE OR DELETE ON workflow_auditevent
    FOR EACH ROW EXECUTE FUNCTION workflow_log_redaction_only(
        'audit', 'audit trail', '{object_repr,before,after,ip_address}');

CREATE OR REPLACE FUNCTION workflow_integrity_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'The % is append-only: % is refused', TG_ARGV[0], TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER workflow_redaction_append_only
    BEFORE UPDATE OR DELETE ON workflow_logredaction
    FOR EACH ROW EXECUTE FUNCTION workflow_integrity_append_only('log redactions');

CREATE TRIGGER workflow_seal_append_only
    BEFORE UPDATE OR DELETE ON workflow_logseal
    FOR EACH ROW EXECUTE FUNCTION workflow_integrity_append_only('log seals');
"""

DROP_NEW = """
DROP TRIGGER IF EXISTS workflow_log_append_only ON workflow_transitionlog;
DROP TRIGGER IF EXISTS workflow_audit_append_only ON workflow_auditevent;
DROP TRIGGER IF EXISTS workflow_redaction_append_only ON workflow_logredaction;
DROP TRIGGER IF EXISTS workflow_seal_append_only ON workflow_logseal;
DROP FUNCTION IF EXISTS workflow_log_redaction_only();
DROP FUNCTION IF EXISTS workflow_integrity_append_only();
"""

RESTORE_OLD = """
CREATE TRIGGER workflow_log_append_only
    BEFORE UPDATE OR DELETE ON workflow_transitionlog
    FOR EACH ROW EXECUTE FUNCTION workflow_log_append_only();
CREATE TRIGGER workflow_audit_append_only
    BEFORE UPDATE OR DELETE ON workflow_auditevent
    FOR EACH ROW EXECUTE FUNCTION workflow_audit_append_only();
"""


def digests_write(apps, schema_editor):
    """Every row written before this migration gets its digest (the old triggers are off)."""
    postgresql = schema_editor.connection.vendor == "postgresql"
    if postgresql:
        schema_editor.execute(DROP_OLD, params=None)
    for model_name, (log, fields) in LOGS.items():
        model = apps.get_model("workflow", model_name)
        plain = models.QuerySet(model=model)
        for row in plain.filter(digest="").order_by("pk").iterator(chunk_size=2000):
            plain.filter(pk=row.pk).update(digest=object_digest(log, row, fields))
    if postgresql:
        schema_editor.execute(CREATE, params=None)


def triggers_restore(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_NEW, params=None)
        schema_editor.execute(RESTORE_OLD, params=None)


class Migration(migrations.Migration):
    dependencies = [("workflow", "0012_page_notifications")]

    operations = [
        migrations.AddField(
            model_name="transitionlog",
            name="digest",
            field=models.CharField(
                blank=True, default="", editable=False, max_length=64, verbose_name="digest"
            ),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="digest",
            field=models.CharField(
                blank=True, default="", editable=False, max_length=64, verbose_name="digest"
            ),
        ),
        migrations.CreateModel(
            name="LogRedaction",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "log",
                    models.CharField(
                        choices=[("transition", "transition log"), ("audit", "audit trail")],
                        max_length=16,
                        verbose_name="log",
                    ),
                ),
                ("row_id", models.PositiveBigIntegerField(verbose_name="row")),
                ("field", models.CharField(max_length=32, verbose_name="field")),
                (
                    "original",
                    models.CharField(max_length=64, verbose_name="hash of the value replaced"),
                ),
                (
                    "replacement",
                    models.CharField(max_length=64, verbose_name="hash of the new value"),
                ),
                ("reason", models.CharField(max_length=64, verbose_name="reason")),
                (
                    "at",
                    models.DateTimeField(default=django.utils.timezone.now, verbose_name="at"),
                ),
                ("signature", models.CharField(max_length=64, verbose_name="signature")),
            ],
            options={
                "verbose_name": "log redaction",
                "verbose_name_plural": "log redactions",
                "ordering": ["log", "row_id", "id"],
                "indexes": [models.Index(fields=["log", "row_id"], name="log_redaction_row")],
            },
        ),
        migrations.CreateModel(
            name="LogSeal",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "log",
                    models.CharField(
                        choices=[("transition", "transition log"), ("audit", "audit trail")],
                        max_length=16,
                        verbose_name="log",
                    ),
                ),
                ("through_id", models.PositiveBigIntegerField(verbose_name="through row")),
                ("rows", models.PositiveBigIntegerField(verbose_name="rows covered")),
                ("running", models.CharField(max_length=64, verbose_name="chain")),
                ("signature", models.CharField(max_length=64, verbose_name="signature")),
                (
                    "sealed_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, verbose_name="sealed at"
                    ),
                ),
            ],
            options={
                "verbose_name": "log seal",
                "verbose_name_plural": "log seals",
                "ordering": ["log", "through_id", "id"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("log", "through_id"), name="one_seal_per_log_row"
                    )
                ],
            },
        ),
        migrations.RunPython(digests_write, triggers_restore),
    ]
