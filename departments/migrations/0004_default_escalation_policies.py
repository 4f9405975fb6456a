from django.db import migrations

from departments.defaults import seed_escalation_policies


class Migration(migrations.Migration):
    dependencies = [("departments", "0003_paging")]

    operations = [migrations.RunPython(seed_escalation_policies, migrations.RunPython.noop)]
