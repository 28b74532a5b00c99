"""Each proposal's milestones on its row: when it first entered draft, review, endorsement,
submission and withdrawal (the earliest transition log row into each state), which the
forecast read by grouping the whole log (1.44 s at 100,000 proposals and 678,640 log rows).

From now on the transition that enters a state writes its milestone in its own UPDATE
(`ProposalPolicy.entered`); the existing rows are filled here from the log in one
UPDATE ... FROM a grouped subquery, on PostgreSQL and SQLite (3.33 and later), whatever the
number of proposals. Then an index that holds them with the state, the occasion and the id,
so that the forecast reads them without the proposals' rows (an index-only scan on
PostgreSQL; on SQLite a plain index, its INCLUDE ignored).
"""

from typing import Any

from django.db import migrations, models

MILESTONES = {
    "draft": "reached_draft_at",
    "in_review": "reached_in_review_at",
    "endorsement": "reached_endorsement_at",
    "submitted": "reached_submitted_at",
    "withdrawn": "reached_withdrawn_at",
}

FILL = """
UPDATE proposals_proposal SET {assignments}
FROM (
    SELECT entry.object_id, {minimums}
    FROM workflow_transitionlog entry
    WHERE entry.content_type_id = (
        SELECT id FROM django_content_type WHERE app_label = 'proposals' AND model = 'proposal'
    )
    GROUP BY entry.object_id
) AS reached
WHERE proposals_proposal.id = reached.object_id
"""


def milestones_fill_sql() -> str:
    """The UPDATE that sets every proposal's milestones from the log (a proposal without log
    rows keeps none)."""
    return FILL.format(
        assignments=", ".join(f"{field} = reached.{field}" for field in MILESTONES.values()),
        minimums=", ".join(
            f"MIN(CASE WHEN entry.target = '{state}' THEN entry.at END) AS {field}"
            for state, field in MILESTONES.items()
        ),
    )


def milestones_fill(apps: Any, schema_editor: Any) -> None:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(milestones_fill_sql())


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("workflow", "0015_delivery_fewer_indexes"),
        ("proposals", "0021_proposal_list_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="proposal",
            name="reached_draft_at",
            field=models.DateTimeField(
                blank=True, editable=False, null=True, verbose_name="first in draft at"
            ),
        ),
        migrations.AddField(
            model_name="proposal",
            name="reached_in_review_at",
            field=models.DateTimeField(
                blank=True, editable=False, null=True, verbose_name="first in review at"
            ),
        ),
        migrations.AddField(
            model_name="proposal",
            name="reached_endorsement_at",
            field=models.DateTimeField(
                blank=True, editable=False, null=True, verbose_name="first open for endorsement at"
            ),
        ),
        migrations.AddField(
            model_name="proposal",
            name="reached_submitted_at",
            field=models.DateTimeField(
                blank=True, editable=False, null=True, verbose_name="submitted at"
            ),
        ),
        migrations.AddField(
            model_name="proposal",
            name="reached_withdrawn_at",
            field=models.DateTimeField(
                blank=True, editable=False, null=True, verbose_name="withdrawn at"
            ),
        ),
        migrations.RunPython(milestones_fill, migrations.RunPython.noop, elidable=True),
        # Made after the fill: built once rather than kept up to date through it.
        migrations.AddIndex(
            model_name="proposal",
            index=models.Index(
                fields=["state", "occasion", "id"],
                include=list(MILESTONES.values()),
                name="proposal_milestones",
            ),
        ),
    ]
