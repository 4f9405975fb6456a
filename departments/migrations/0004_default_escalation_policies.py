from functools import partial

from django.db import migrations

from departments.defaults import seed_escalation_policies


class Migration(migrations.Migration):
    dependencies = [("departments", "0003_paging")]

    operations = [
        migrations.RunPython(
            partial(seed_escalation_policies, policies_app="departments"),
            migrations.RunPython.noop,
        )
    ]
