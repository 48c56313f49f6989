from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('integrations', '0012_importrun_option_fields'),
    ]

    operations = [
        migrations.RemoveField(
            model_name='importrun',
            name='options',
        ),
    ]
