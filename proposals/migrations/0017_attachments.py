"""Files attached to proposals."""

import django.db.models.deletion
import django.utils.timezone
import proposals.models
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('proposals', '0016_discussion'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Attachment',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('title', models.CharField(max_length=200, verbose_name='title')),
                ('file', models.FileField(max_length=300, upload_to=proposals.models.attachment_upload_to, verbose_name='file')),
                ('filename', models.CharField(max_length=255, verbose_name='file name')),
                ('content_type', models.CharField(max_length=100, verbose_name='type')),
                ('size', models.PositiveBigIntegerField(verbose_name='size in bytes')),
                ('sha256', models.CharField(max_length=64, verbose_name='SHA-256')),
                ('uploaded_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='uploaded at')),
                ('removed_at', models.DateTimeField(blank=True, null=True, verbose_name='removed at')),
                ('proposal', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='attachments', to='proposals.proposal', verbose_name='proposal')),
                ('removed_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='removed by')),
                ('revision', models.ForeignKey(blank=True, help_text='The revision the file belongs to, if any.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='attachments', to='proposals.revision', verbose_name='revision')),
                ('uploaded_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='attachments', to=settings.AUTH_USER_MODEL, verbose_name='uploaded by')),
            ],
            options={
                'verbose_name': 'attachment',
                'verbose_name_plural': 'attachments',
                'ordering': ['uploaded_at', 'id'],
                'indexes': [models.Index(fields=['proposal', 'uploaded_at'], name='attachment_list')],
            },
        ),
    ]
