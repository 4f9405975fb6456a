"""A replica that does not answer leaves the reports on the primary instead of failing them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import time_machine
from django.db import connection
from django.urls import reverse

from bench.slapd import free_port
from core.replicas import REPLICA, lag_tolerant_reads, read_alias
from tests.conftest import need
from tests.replica.conftest import replica_alias_at
from tests.reports.conftest import NOW, DataSet

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", REPLICA])

RANGE = {"period": "custom", "start": "2026-02-02", "end": "2026-02-15"}


@pytest.fixture(scope="module", autouse=True)
def replica_nobody_answers(django_db_setup: None) -> Iterator[None]:
    """DATABASE_REPLICA_URL pointing at a port nothing listens on: a replica that is down."""
    need(connection.vendor == "postgresql", "PostgreSQL")
    with replica_alias_at(f"postgres://postgres@127.0.0.1:{free_port()}/helpdesk"):
        yield


def test_the_reports_answer_from_the_primary_while_the_replica_is_down(
    client, dataset: DataSet, caplog
) -> None:
    client.force_login(dataset.manager)
    with time_machine.travel(NOW, tick=False):
        report = client.get("/api/reports/compliance/", RANGE)
        page = client.get(reverse("reports:breaches"), RANGE)
        export = client.get(reverse("reports:export", args=["tickets"]), RANGE)
        rows = b"".join(export.streaming_content).decode("utf-8-sig").splitlines()
    assert report.status_code == 200
    assert report.json()["overall"]["tickets"] == 10
    assert page.status_code == 200
    assert len(rows) == 1 + 10
    assert "the read replica does not answer" in caplog.text
    with lag_tolerant_reads():
        assert read_alias() == "default"
