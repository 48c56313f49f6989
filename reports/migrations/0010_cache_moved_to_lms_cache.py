"""The LMS cache now belongs to ``lms_cache`` (its 0001 took the models over, tables and rows
untouched). Here reports' remaining keys point at those models, reports forgets them, and their
content types (with the permissions hanging off them) are relabelled to the new app. Nothing
here changes a table.
"""

import django.db.models.deletion
from django.db import migrations, models

#: The moved models, dependents before what they point at (each state-only deletion leaves no
#: dangling reference behind).
MOVED = [
    "lmsgroupstage",
    "lmsuserstage",
    "coursestage",
    "pathstage",
    "pathsessionstage",
    "pathsessionuserstatstage",
    "courseattemptstage",
    "moduleresultstage",
    "pathsessionstatuscounts",
    "pathsessionlearnercount",
    "pathsessionsnapshot",
    "pathsessionuserstat",
    "courseattempt",
    "moduleresult",
    "pathsession",
    "path",
    "course",
    "lmsuser",
    "lmsgroup",
]


def _relabel(apps, old: str, new: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    moving = ContentType.objects.filter(app_label=old, model__in=MOVED)
    # A type already created under the new label (post_migrate after an earlier rollback) would
    # clash with the one moving over, which keeps its id and so any permission granted on it.
    clashing = ContentType.objects.filter(app_label=new, model__in=list(moving.values_list("model", flat=True)))
    Permission.objects.filter(content_type__in=clashing).delete()
    clashing.delete()
    moving.update(app_label=new)


def forwards(apps, schema_editor):
    _relabel(apps, "reports", "lms_cache")


def backwards(apps, schema_editor):
    _relabel(apps, "lms_cache", "reports")


class Migration(migrations.Migration):

    dependencies = [
        ('auth', '0012_alter_user_first_name_max_length'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('lms_cache', '0001_initial'),
        ('reports', '0009_session_status_counts'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                # Same columns, same tables (the cache kept its table names): only the model they name moved.
                migrations.AlterField(
                    model_name='digestchange',
                    name='course',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='lms_cache.course'),
                ),
                migrations.AlterField(
                    model_name='digestchange',
                    name='session',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='lms_cache.pathsession'),
                ),
                migrations.AlterField(
                    model_name='reportexport',
                    name='session',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='lms_cache.pathsession'),
                ),
                migrations.AlterField(
                    model_name='digestsubscription',
                    name='courses',
                    field=models.ManyToManyField(blank=True, related_name='+', to='lms_cache.course'),
                ),
                migrations.AlterField(
                    model_name='digestsubscription',
                    name='sessions',
                    field=models.ManyToManyField(blank=True, related_name='+', to='lms_cache.pathsession'),
                ),
                migrations.AlterField(
                    model_name='managerscope',
                    name='groups',
                    field=models.ManyToManyField(blank=True, help_text='360Learning groups.', related_name='+', to='lms_cache.lmsgroup'),
                ),
                *(migrations.DeleteModel(name=name) for name in MOVED),
            ],
        ),
        migrations.RunPython(forwards, backwards),
    ]
