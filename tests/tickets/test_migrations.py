"""The timeline's "viewed" and "attachment viewed" events move to the audit log when the
product is upgraded: the same who, when and which ticket (and file), and off the timeline."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from audit.models import AuditEntry
from tests.factories import TicketFactory
from tickets.models import TicketEvent

BEFORE = [("tickets", "0017_queue_counts_triage")]
AT = datetime(2026, 11, 2, 14, 30, tzinfo=UTC)


def migrate(targets: list[tuple[str, str]]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return MigrationExecutor(connection)


@pytest.mark.django_db(transaction=True)
def test_views_on_the_timeline_move_to_the_audit_log(reference_data, tech, nurse_medsurg):
    ticket = TicketFactory(requester=nurse_medsurg)
    try:
        old = migrate(BEFORE).loader.project_state(BEFORE).apps
        OldEvent = old.get_model("tickets", "TicketEvent")
        for kind, value in (("viewed", ""), ("attachment_view", "41"), ("comment", "")):
            OldEvent.objects.create(
                ticket_id=ticket.pk, actor_id=tech.pk, at=AT, kind=kind, new_value=value,
                text="Rebooted it" if kind == "comment" else "",
            )  # fmt: skip
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    moved = AuditEntry.objects.filter(ticket_id=ticket.pk).order_by("kind")
    assert [(e.kind, e.actor_id, e.at, e.object_type, e.object_id, e.detail) for e in moved] == [
        (AuditEntry.Kind.ATTACHMENT_VIEWED, tech.pk, AT, "tickets.attachment", "41", {}),
        (AuditEntry.Kind.TICKET_VIEWED, tech.pk, AT, "", "", {"via": "page"}),
    ]
    assert list(TicketEvent.objects.filter(ticket=ticket).values_list("kind", "text")) == [
        ("comment", "Rebooted it")
    ]
