"""DATABASE_REPLICA_URL: the managers' reports read from a real streaming replica, which may lag;
writes and every other read go to the primary. The replica's lag is made visible by pausing
its replay: a ticket filed then is on the primary, not yet in the reports."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
import time_machine
from django.db import connection, connections, transaction
from django.urls import reverse

from bench.replica import Replica
from core.replicas import REPLICA, lag_tolerant_reads, read_alias
from departments.models import Location
from reports.models import ExportAudit
from tests.factories import TicketFactory
from tests.reports.conftest import NOW, DataSet, local
from tickets.models import Ticket

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", REPLICA])

RANGE = {"period": "custom", "start": "2026-02-02", "end": "2026-02-15"}


def primary_dsn() -> str:
    server = connection.settings_dict
    return (
        f"host={server['HOST'] or '127.0.0.1'} port={server['PORT'] or 5432} "
        f"dbname=postgres user={server['USER'] or 'postgres'}"
    )


def exported_tickets(client: Any) -> list[str]:
    with time_machine.travel(NOW, tick=False):
        response = client.get(reverse("reports:export", args=["tickets"]), RANGE)
        body = b"".join(response.streaming_content).decode("utf-8-sig")
    return [row[0] for row in csv.reader(io.StringIO(body))][1:]


def reported_total(client: Any) -> int:
    with time_machine.travel(NOW, tick=False):
        response = client.get("/api/reports/compliance/", RANGE)
    assert response.status_code == 200
    return int(response.json()["overall"]["tickets"])


def test_the_reports_read_from_the_replica_and_show_its_lag(
    client, dataset: DataSet, replica: Replica
) -> None:
    replica.catch_up(primary_dsn())
    replica.pause()
    late = TicketFactory(
        created_at=local(2, 12, 10), location=Location.objects.get(code="ED"), title="Late one"
    )
    client.force_login(dataset.manager)

    # The ticket is on the primary (the queue, the ticket page), not yet on the replica.
    assert Ticket.objects.filter(pk=late.pk).exists()
    assert late.number not in exported_tickets(client)
    assert reported_total(client) == 10
    # The export itself was recorded, on the primary, while the replica could not take writes.
    assert ExportAudit.objects.filter(user=dataset.manager, report="tickets").count() == 1

    replica.resume()
    replica.catch_up(primary_dsn())
    assert late.number in exported_tickets(client)
    assert reported_total(client) == 11


def test_only_lag_tolerant_reads_go_to_the_replica_and_writes_never(
    dataset: DataSet, replica: Replica
) -> None:
    def in_recovery(alias: str) -> bool:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT pg_is_in_recovery()")
            return bool(cursor.fetchone()[0])

    assert read_alias() == "default"
    assert Ticket.objects.all().db == "default"
    with lag_tolerant_reads():
        assert Ticket.objects.all().db == REPLICA
        assert in_recovery(read_alias())
        read = Ticket.objects.get(pk=dataset["A1"].pk)
        assert read._state.db == REPLICA
        # A write, even of a row read from the replica, goes to the primary.
        read.title = "Renamed by a report"
        read.save(update_fields=["title"])
        with transaction.atomic():
            # Inside a transaction, reads must see its writes: the primary.
            assert read_alias() == "default"
            assert not in_recovery(read_alias())
    assert Ticket.objects.get(pk=dataset["A1"].pk).title == "Renamed by a report"
    assert Ticket.objects.all().db == "default"
