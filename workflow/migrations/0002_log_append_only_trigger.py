"""On PostgreSQL, the database itself refuses UPDATE and DELETE on the transition log.

TRUNCATE stays possible: it needs the table owner's rights, and test databases are
emptied with it between tests.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION workflow_log_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'The transition log is append-only: % is refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER workflow_log_append_only
    BEFORE UPDATE OR DELETE ON workflow_transitionlog
    FOR EACH ROW EXECUTE FUNCTION workflow_log_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS workflow_log_append_only ON workflow_transitionlog;
DROP FUNCTION IF EXISTS workflow_log_append_only();
"""


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("workflow", "0001_initial")]

    operations = [migrations.RunPython(create_trigger, drop_trigger)]
