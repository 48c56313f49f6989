"""The schedule that fails sync runs whose worker died and sweeps their staged rows.

Kept with the cache's migrations because the sync package (integrations.sync) has no
migrations of its own; catch_up is off in settings.
"""

from django.db import migrations

NAME = "recover-sync-runs"


def create_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.update_or_create(
        name=NAME,
        defaults={
            "func": "integrations.sync.tasks.sync_runs_recover",
            "schedule_type": "I",  # minutes
            "minutes": 1,
            "repeats": -1,
        },
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("reports", "0001_cache"), ("django_q", "0018_task_success_index")]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
