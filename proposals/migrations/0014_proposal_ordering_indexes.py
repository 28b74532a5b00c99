"""Indexes of the API's orderings of proposals, each ended by the id, so that a cursor page
(a keyset on the ordering and the id) starts in the index instead of sorting every row."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("proposals", "0013_proposal_search")]

    operations = [
        migrations.AddIndex(
            model_name="proposal",
            index=models.Index(fields=["updated_at", "id"], name="proposal_updated_id"),
        ),
        migrations.AddIndex(
            model_name="proposal",
            index=models.Index(fields=["created_at", "id"], name="proposal_created_id"),
        ),
        migrations.AddIndex(
            model_name="proposal",
            index=models.Index(fields=["title", "id"], name="proposal_title_id"),
        ),
    ]
