"""The schema the migrations build: no model change without its migration, every foreign key of
the two big tables reachable through an index, and no index that another one already covers."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection

from tickets.models import Ticket, TicketEvent


@pytest.mark.django_db
def test_models_and_migrations_agree():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def _indexes(table: str) -> dict[str, list[str]]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return {name: found["columns"] for name, found in constraints.items() if found["index"]}


@pytest.mark.django_db
@pytest.mark.parametrize("model", [Ticket, TicketEvent])
def test_every_foreign_key_leads_an_index(model):
    """A lookup by any foreign key (a user's tickets, a ticket's events, the check before a
    department is deleted) reads an index, whether its own or a composite one."""
    leading = {columns[0] for columns in _indexes(model._meta.db_table).values() if columns}
    for field in model._meta.concrete_fields:
        if field.is_relation:
            assert field.column in leading, field.column


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("table", "column", "composite"),
    [
        ("tickets_ticket", "requester_id", "ticket_requester_recent"),
        ("tickets_ticket", "department_id", "ticket_department_recent"),
        ("tickets_ticketevent", "ticket_id", "event_ticket_at"),
    ],
)
def test_no_single_column_index_where_a_composite_one_leads(table, column, composite):
    indexes = _indexes(table)
    assert indexes[composite][0] == column
    assert [column] not in indexes.values()
