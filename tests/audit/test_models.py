"""The audit log is append-only, and the database enforces it: an UPDATE or a DELETE is refused
from the ORM and from plain SQL alike (PostgreSQL's trigger; the embedded SQLite has the ORM's
refusal only)."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, models, transaction

from audit.models import AuditEntry
from audit.services import audit_record
from tests.conftest import need

pytestmark = pytest.mark.django_db


@pytest.fixture
def entry(tech) -> AuditEntry:
    return audit_record(kind=AuditEntry.Kind.TICKET_VIEWED, actor=tech, ticket_id=7)


def test_the_orm_refuses_to_change_or_delete_an_entry(entry):
    with pytest.raises(TypeError, match="append-only"):
        entry.save()
    with pytest.raises(TypeError, match="append-only"):
        entry.delete()
    with pytest.raises(TypeError, match="append-only"):
        AuditEntry.objects.filter(pk=entry.pk).update(kind=AuditEntry.Kind.EXPORT)
    with pytest.raises(TypeError, match="append-only"):
        AuditEntry.objects.all().delete()
    assert AuditEntry.objects.get(pk=entry.pk).kind == AuditEntry.Kind.TICKET_VIEWED


@pytest.mark.services
def test_the_database_refuses_an_update_or_delete_past_the_orm(entry, tech):
    need(connection.vendor == "postgresql", "PostgreSQL")
    # A plain QuerySet has none of the log's own refusals: only the trigger stands in the way.
    bare = models.QuerySet(AuditEntry).filter(pk=entry.pk)
    for attempt in (lambda: bare.update(ticket_id=8), bare.delete):
        with pytest.raises(DatabaseError, match="Cannot update or delete"), transaction.atomic():
            attempt()
    for statement in (
        "UPDATE audit_auditentry SET ticket_id = 8",
        "UPDATE audit_auditentry SET actor_id = NULL WHERE id = %s",
        "DELETE FROM audit_auditentry WHERE id = %s",
        "DELETE FROM audit_auditentry",
    ):
        with (
            pytest.raises(DatabaseError, match="Cannot update or delete"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement, [entry.pk] if "%s" in statement else None)
    entry = AuditEntry.objects.get(pk=entry.pk)
    assert (entry.ticket_id, entry.actor_id) == (7, tech.pk)
