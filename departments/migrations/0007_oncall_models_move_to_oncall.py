from django.db import migrations


class Migration(migrations.Migration):
    """Rotations and escalation policies now belong to the oncall app. Their tables stay where
    they are (oncall's models keep these table names): only Django's record of who owns them
    changes, so nothing is dropped or copied."""

    dependencies = [("departments", "0006_integration_role")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="EscalationStep"),
                migrations.DeleteModel(name="EscalationPolicy"),
                migrations.DeleteModel(name="RotationOverride"),
                migrations.DeleteModel(name="RotationMember"),
                migrations.DeleteModel(name="Rotation"),
            ],
            database_operations=[],
        )
    ]
