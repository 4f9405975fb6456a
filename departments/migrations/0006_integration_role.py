from django.db import migrations

from departments.defaults import seed_groups


class Migration(migrations.Migration):
    dependencies = [("departments", "0005_api_tokens")]

    operations = [migrations.RunPython(seed_groups, migrations.RunPython.noop)]
