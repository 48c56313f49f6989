"""Duration fields say their unit in full, like ``time_spent_ms`` and ``duration_minutes``."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('lms_cache', '0001_initial'),
    ]

    operations = [
        migrations.RenameField(
            model_name='moduleresult',
            old_name='time_spent_s',
            new_name='time_spent_seconds',
        ),
        migrations.RenameField(
            model_name='moduleresultstage',
            old_name='time_spent_s',
            new_name='time_spent_seconds',
        ),
    ]
