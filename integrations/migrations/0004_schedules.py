"""Schedules the product needs on every installation, created once (catch_up is off in settings)."""

from django.db import migrations


def create_schedules(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name="resume-import-runs",
        defaults={
            "func": "integrations.tasks.resume_import_runs",
            "schedule_type": "I",  # minutes
            "minutes": 1,
            "repeats": -1,
        },
    )


def remove_schedules(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name="resume-import-runs").delete()


class Migration(migrations.Migration):
    dependencies = [("integrations", "0003_import_chunks_records"), ("django_q", "0018_task_success_index")]

    operations = [migrations.RunPython(create_schedules, remove_schedules)]
