"""Background report exports (``reports.background_exports``), and their two schedules:
``resume-report-exports`` (every minute) writes again the exports whose worker died, and
``purge-report-exports`` (hourly) deletes expired files. catch_up is off in settings."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


SCHEDULES = {
    "resume-report-exports": {"func": "reports.tasks.report_exports_resume", "schedule_type": "I", "minutes": 1},
    "purge-report-exports": {"func": "reports.tasks.report_exports_purge", "schedule_type": "H"},
}


def create_schedules(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    for name, fields in SCHEDULES.items():
        Schedule.objects.update_or_create(name=name, defaults={**fields, "repeats": -1})


def remove_schedules(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name__in=list(SCHEDULES)).delete()


class Migration(migrations.Migration):

    dependencies = [
        ('reports', '0007_attempt_learner_index'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ('django_q', '0018_task_success_index'),
    ]

    operations = [
        migrations.CreateModel(
            name='ReportExport',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('report', models.CharField(choices=[('sessions', 'Path sessions'), ('path-session-learners', 'Learners of a path session'), ('course-stats', 'Course statistics'), ('attempts', 'Course attempts'), ('module-results', 'iSpring module results'), ('module-result-rows', 'iSpring module results, one row per result')], max_length=30)),
                ('file_format', models.CharField(choices=[('csv', 'CSV'), ('xlsx', 'Excel')], max_length=4)),
                ('query', models.TextField(blank=True, help_text="The report's filters, as the export link's query string.")),
                ('sidecar', models.BooleanField(default=False, help_text='With the provenance row above the header.')),
                ('request_key', models.CharField(help_text='Digest of what was asked (report, format, session, filters, sidecar).', max_length=64)),
                ('filters_text', models.TextField(blank=True, help_text='The filters in words, as the page showed them.')),
                ('state', models.CharField(choices=[('queued', 'Waiting for a worker'), ('running', 'Being written'), ('done', 'Ready'), ('failed', 'Failed'), ('expired', 'Deleted (expired)')], default='queued', max_length=10)),
                ('rows_total', models.BigIntegerField(blank=True, null=True)),
                ('rows_written', models.BigIntegerField(default=0)),
                ('file_name', models.CharField(blank=True, help_text='The name the download is given.', max_length=255)),
                ('file_path', models.CharField(blank=True, help_text='Where the file is, in EXPORT_FILES_DIR.', max_length=255)),
                ('file_size', models.BigIntegerField(blank=True, null=True)),
                ('error', models.TextField(blank=True, help_text='Why it failed, in plain words.')),
                ('attempts', models.PositiveSmallIntegerField(default=0, help_text='Times a worker started writing it.')),
                ('lease_owner', models.CharField(blank=True, max_length=100)),
                ('lease_expires_at', models.DateTimeField(blank=True, null=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('enqueued_at', models.DateTimeField(blank=True, null=True)),
                ('started_at', models.DateTimeField(blank=True, null=True)),
                ('finished_at', models.DateTimeField(blank=True, null=True)),
                ('expires_at', models.DateTimeField(blank=True, null=True)),
                ('owner', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='report_exports', to=settings.AUTH_USER_MODEL)),
                ('session', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='reports.pathsession')),
            ],
            options={
                'indexes': [models.Index(fields=['owner', '-created_at'], name='reports_export_owner'), models.Index(fields=['state', 'expires_at'], name='reports_export_state')],
                'constraints': [models.UniqueConstraint(condition=models.Q(('state__in', ['queued', 'running'])), fields=('owner', 'request_key'), name='reports_export_one_active')],
            },
        ),
        migrations.RunPython(create_schedules, remove_schedules),
    ]
