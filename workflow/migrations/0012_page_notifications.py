"""In-page notifications: a channel of the outbox, read or unread; a kind of email may wait
for the daily digest."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('workflow', '0011_delivery_webhook_channel'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='delivery',
            name='read_at',
            field=models.DateTimeField(blank=True, help_text='When the person marked an in-page notification as read.', null=True, verbose_name='read at'),
        ),
        migrations.AlterField(
            model_name='delivery',
            name='channel',
            field=models.CharField(choices=[('email', 'Email'), ('page', 'In the pages'), ('webhook', 'Webhook')], default='email', max_length=16, verbose_name='channel'),
        ),
        migrations.AlterField(
            model_name='notificationpreference',
            name='channel',
            field=models.CharField(choices=[('email', 'Email'), ('page', 'In the pages'), ('webhook', 'Webhook')], default='email', max_length=16, verbose_name='channel'),
        ),
        migrations.AddField(
            model_name='notificationpreference',
            name='digest',
            field=models.BooleanField(blank=True, help_text="Emails of this kind wait for the daily digest; empty: as the person's daily digest setting says.", null=True, verbose_name='in the daily digest'),
        ),
        migrations.AddIndex(
            model_name='delivery',
            index=models.Index(condition=models.Q(('channel', 'page'), ('read_at__isnull', True)), fields=['recipient', 'created_at'], name='delivery_unread'),
        ),
    ]
