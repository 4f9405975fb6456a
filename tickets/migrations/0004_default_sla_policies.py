from django.db import migrations

from tickets.defaults import seed_sla_policies


class Migration(migrations.Migration):
    dependencies = [
        ("departments", "0002_default_organisation"),
        ("tickets", "0003_sla_clocks"),
    ]

    operations = [migrations.RunPython(seed_sla_policies, migrations.RunPython.noop)]
