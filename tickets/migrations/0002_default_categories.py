from django.db import migrations

from tickets.defaults import seed_categories


class Migration(migrations.Migration):
    dependencies = [
        ("departments", "0002_default_organisation"),
        ("tickets", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(seed_categories, migrations.RunPython.noop),
    ]
