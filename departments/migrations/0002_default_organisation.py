from django.db import migrations

from departments.defaults import seed_organisation


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("departments", "0001_initial"),
    ]

    operations = [migrations.RunPython(seed_organisation, migrations.RunPython.noop)]
