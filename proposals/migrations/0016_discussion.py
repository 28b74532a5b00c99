"""A proposal's discussion: comments, their edits and their mentions."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('proposals', '0015_people_lifecycle'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Comment',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('body', models.TextField(max_length=100000, verbose_name='comment')),
                ('body_html', models.TextField(blank=True, editable=False, verbose_name='comment as HTML')),
                ('paragraph', models.PositiveIntegerField(blank=True, help_text='The paragraph of the revision the comment is about, counted from 1.', null=True, verbose_name='paragraph')),
                ('quoted', models.TextField(blank=True, editable=False, verbose_name='quoted paragraph')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='created at')),
                ('edited_at', models.DateTimeField(blank=True, null=True, verbose_name='edited at')),
                ('deleted_at', models.DateTimeField(blank=True, null=True, verbose_name='deleted at')),
                ('hidden_at', models.DateTimeField(blank=True, null=True, verbose_name='hidden at')),
                ('hidden_reason', models.TextField(blank=True, verbose_name='reason for hiding')),
                ('author', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='comments', to=settings.AUTH_USER_MODEL, verbose_name='author')),
                ('hidden_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='hidden by')),
                ('parent', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='replies', to='proposals.comment', verbose_name='reply to')),
                ('proposal', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='comments', to='proposals.proposal', verbose_name='proposal')),
                ('revision', models.ForeignKey(blank=True, help_text='The revision whose paragraph the comment is about.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='comments', to='proposals.revision', verbose_name='revision')),
            ],
            options={
                'verbose_name': 'comment',
                'verbose_name_plural': 'comments',
                'ordering': ['created_at', 'id'],
            },
        ),
        migrations.CreateModel(
            name='CommentEdit',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('body', models.TextField(verbose_name='previous text')),
                ('replaced_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='replaced at')),
                ('comment', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='edits', to='proposals.comment', verbose_name='comment')),
            ],
            options={
                'verbose_name': 'comment edit',
                'verbose_name_plural': 'comment edits',
                'ordering': ['comment', 'replaced_at', 'id'],
            },
        ),
        migrations.CreateModel(
            name='Mention',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('comment', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='mentions', to='proposals.comment', verbose_name='comment')),
                ('person', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='mentions', to=settings.AUTH_USER_MODEL, verbose_name='person')),
            ],
            options={
                'verbose_name': 'mention',
                'verbose_name_plural': 'mentions',
            },
        ),
        migrations.AddIndex(
            model_name='comment',
            index=models.Index(fields=['proposal', 'created_at'], name='comment_thread'),
        ),
        migrations.AddConstraint(
            model_name='comment',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('paragraph__isnull', True), ('revision__isnull', True)), models.Q(('paragraph__gte', 1), ('revision__isnull', False)), _connector='OR'), name='comment_anchor_whole'),
        ),
        migrations.AddConstraint(
            model_name='mention',
            constraint=models.UniqueConstraint(fields=('comment', 'person'), name='one_mention_per_comment'),
        ),
    ]
