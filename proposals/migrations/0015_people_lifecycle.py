"""People's lifecycle: invitations, the first visit, the last visit, departures and erasure."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def welcome_people_already_there(apps, schema_editor):
    """People who used the site before the first-visit page have no need of it."""
    Person = apps.get_model("proposals", "Person")
    Person.objects.filter(welcomed_at__isnull=True).update(welcomed_at=django.utils.timezone.now())


class Migration(migrations.Migration):

    dependencies = [
        ('proposals', '0014_proposal_ordering_indexes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='person',
            name='erased_at',
            field=models.DateTimeField(blank=True, help_text="When the person's personal data was erased; they are named by a pseudonym.", null=True, verbose_name='erased at'),
        ),
        migrations.AddField(
            model_name='person',
            name='last_visit_at',
            field=models.DateTimeField(blank=True, help_text='When the person last opened the dashboard (for "since your last visit").', null=True, verbose_name='last visit'),
        ),
        migrations.AddField(
            model_name='person',
            name='left_on',
            field=models.DateField(blank=True, help_text='The day the person left the group; their roles end on it.', null=True, verbose_name='left on'),
        ),
        migrations.AddField(
            model_name='person',
            name='welcomed_at',
            field=models.DateTimeField(blank=True, help_text='When the person saw the first-visit page; empty until then.', null=True, verbose_name='welcomed at'),
        ),
        migrations.RunPython(welcome_people_already_there, migrations.RunPython.noop),
        migrations.CreateModel(
            name='Invitation',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('email', models.EmailField(max_length=254, verbose_name='email')),
                ('first_name', models.CharField(blank=True, max_length=150, verbose_name='first name')),
                ('last_name', models.CharField(blank=True, max_length=150, verbose_name='last name')),
                ('roles', models.JSONField(default=list, verbose_name='roles')),
                ('language', models.CharField(choices=[('en', 'English'), ('fr', 'French'), ('es', 'Spanish')], default='en', max_length=2, verbose_name='language')),
                ('digest', models.CharField(max_length=64, unique=True, verbose_name='digest')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='created at')),
                ('sent_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='sent at')),
                ('expires_at', models.DateTimeField(verbose_name='expires at')),
                ('accepted_at', models.DateTimeField(blank=True, null=True, verbose_name='accepted at')),
                ('revoked_at', models.DateTimeField(blank=True, null=True, verbose_name='revoked at')),
                ('invited_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='invited by')),
                ('organization', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='invitations', to='proposals.organization', verbose_name='organisation')),
                ('person', models.ForeignKey(blank=True, help_text='The account made when the invitation was accepted.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='invitations', to=settings.AUTH_USER_MODEL, verbose_name='person')),
                ('revoked_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='revoked by')),
            ],
            options={
                'verbose_name': 'invitation',
                'verbose_name_plural': 'invitations',
                'ordering': ['-created_at', '-id'],
            },
        ),
    ]
