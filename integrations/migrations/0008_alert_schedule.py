from django.db import migrations


def create_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.update_or_create(
        name="evaluate-alerts",
        defaults={"func": "integrations.tasks.alerts_evaluate", "schedule_type": "I", "minutes": 1, "repeats": -1},
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name="evaluate-alerts").delete()


class Migration(migrations.Migration):
    dependencies = [("integrations", "0007_alerts"), ("django_q", "0018_task_success_index")]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
