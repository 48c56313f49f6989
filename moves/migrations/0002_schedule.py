"""The minute schedule that advances moves whose "import ended" signal was lost (catch_up is off in settings)."""

from django.db import migrations


def create_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.update_or_create(
        name="advance-history-moves",
        defaults={
            "func": "moves.tasks.advance_history_moves",
            "schedule_type": "I",  # minutes
            "minutes": 1,
            "repeats": -1,
        },
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name="advance-history-moves").delete()


class Migration(migrations.Migration):
    dependencies = [("moves", "0001_initial"), ("django_q", "0018_task_success_index")]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
