"""Indexes of the proposals' list filtered by state and by theme, measured at 100,000 proposals
(the API's `?state=in_review&state=endorsement&theme=8`): the count of the matches reads both
indexes alone, without the proposals' rows (which a bitmap scan of the state read, 12,000 pages)
nor the themes' rows (which a scan of the theme read, 1,300 pages)."""

from django.db import migrations, models

THEME_INDEX = "proposal_themes_theme_proposal"


class Migration(migrations.Migration):
    dependencies = [("proposals", "0020_calendar_feeds")]

    operations = [
        migrations.AddIndex(
            model_name="proposal",
            index=models.Index(
                fields=["state", "-updated_at", "-id"], name="proposal_state_updated_id"
            ),
        ),
        # The themes' table is the many-to-many field's own, which declares no index.
        migrations.RunSQL(
            f"CREATE INDEX {THEME_INDEX} ON proposals_proposal_themes (theme_id, proposal_id)",
            f"DROP INDEX {THEME_INDEX}",
        ),
    ]
