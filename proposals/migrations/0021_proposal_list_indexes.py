"""Indexes that read proposals by state, and by theme, without their rows, measured at 100,000
proposals (a proposal's row holds its text: the table is larger than PostgreSQL's buffers).

- proposals (state, occasion, revision, id): the count of the API's list filtered by state
  (`?state=in_review&state=endorsement&theme=8`), the dashboard's proposals to review (by
  deadline, not yet reviewed in their revision), the open proposals of each occasion of the
  dashboard's deadlines. Each read the rows of every proposal in the state before (a bitmap
  scan of 7,000 to 12,000 pages).
- the themes' table (theme_id, proposal_id): the proposals with a theme, for the same count
  (before, the themes' rows, 1,300 pages).
"""

from django.db import migrations, models

THEME_INDEX = "proposal_themes_theme_proposal"


class Migration(migrations.Migration):
    dependencies = [("proposals", "0020_calendar_feeds")]

    operations = [
        migrations.AddIndex(
            model_name="proposal",
            index=models.Index(
                fields=["state", "occasion", "revision", "id"], name="proposal_state_occ_rev_id"
            ),
        ),
        # The themes' table is the many-to-many field's own, which declares no index.
        migrations.RunSQL(
            f"CREATE INDEX {THEME_INDEX} ON proposals_proposal_themes (theme_id, proposal_id)",
            f"DROP INDEX {THEME_INDEX}",
        ),
    ]
