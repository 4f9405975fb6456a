from django.db import migrations

from tickets.defaults import seed_categories, start_ticket_numbers


class Migration(migrations.Migration):
    dependencies = [
        ("departments", "0002_default_organisation"),
        ("tickets", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(seed_categories, migrations.RunPython.noop),
        migrations.RunPython(start_ticket_numbers, migrations.RunPython.noop),
    ]
