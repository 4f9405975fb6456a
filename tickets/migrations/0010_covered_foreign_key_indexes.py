"""Drop the single-column indexes Django makes for three foreign keys whose composite indexes
already lead with them (ticket_requester_recent, ticket_department_recent, event_ticket_at).

Only the indexes go: Django's own AlterField would also drop and re-add the foreign keys, which
re-checks every row of the two largest tables under lock.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# (table, column, index) as Django named them when it made them.
COVERED = [
    ("tickets_ticket", "department_id", "tickets_ticket_department_id_32e39a8e"),
    ("tickets_ticket", "requester_id", "tickets_ticket_requester_id_2072a2f2"),
    ("tickets_ticketevent", "ticket_id", "tickets_ticketevent_ticket_id_b572d14b"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("departments", "0006_integration_role"),
        ("tickets", "0009_queue_and_workspace_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{index}"',
                    reverse_sql=f'CREATE INDEX "{index}" ON "{table}" ("{column}")',
                )
                for table, column, index in COVERED
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="ticket",
                    name="department",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="tickets",
                        to="departments.department",
                    ),
                ),
                migrations.AlterField(
                    model_name="ticket",
                    name="requester",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="tickets_filed",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="ticketevent",
                    name="ticket",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="events",
                        to="tickets.ticket",
                    ),
                ),
            ],
        )
    ]
