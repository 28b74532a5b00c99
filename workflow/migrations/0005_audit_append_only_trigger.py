"""On PostgreSQL, the database itself refuses UPDATE and DELETE on the audit trail."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION workflow_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'The audit trail is append-only: % is refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER workflow_audit_append_only
    BEFORE UPDATE OR DELETE ON workflow_auditevent
    FOR EACH ROW EXECUTE FUNCTION workflow_audit_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS workflow_audit_append_only ON workflow_auditevent;
DROP FUNCTION IF EXISTS workflow_audit_append_only();
"""


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("workflow", "0004_audit_trail")]

    operations = [migrations.RunPython(create_trigger, drop_trigger)]
