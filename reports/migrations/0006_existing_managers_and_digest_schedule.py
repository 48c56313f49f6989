"""Two data steps for manager scopes and digests.

- Managers who existed before scopes keep seeing what they saw: every learner. A manager added
  later sees no learner until an admin sets a scope (fail closed).
- The schedule that sends the digests that are due (catch_up is off in settings).
"""

from django.db import migrations

SCHEDULE = "send-digests"
MANAGER_GROUP = "Manager"


def forwards(apps, schema_editor):
    User = apps.get_model("auth", "User")
    ManagerScope = apps.get_model("reports", "ManagerScope")
    for user in User.objects.filter(groups__name=MANAGER_GROUP).distinct():
        ManagerScope.objects.get_or_create(user=user, defaults={"every_learner": True})
    apps.get_model("django_q", "Schedule").objects.update_or_create(
        name=SCHEDULE,
        defaults={
            "func": "reports.tasks.digests_send_due",
            "schedule_type": "I",  # minutes
            "minutes": 1,
            "repeats": -1,
        },
    )


def backwards(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=SCHEDULE).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0005_scopes_digests"),
        ("lms_admin", "0002_roles"),
        ("django_q", "0018_task_success_index"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
