"""A page's delivery is claimed by one worker: a second worker whose claim waited on the first
one's row lock finds the page taken once the first commits, and sends nothing."""

from __future__ import annotations

import threading
import time

import psycopg2
import pytest
from django.core import mail
from django.db import connection, connections

from departments.models import Location
from tests.api.conftest import on_call_team  # noqa: F401 (fixture)
from tests.conftest import need
from tickets import paging
from tickets.models import Category, Page, TicketEvent
from tickets.priority import Scope
from tickets.services import ticket_file


def open_connection() -> psycopg2.extensions.connection:
    return psycopg2.connect(**connection.get_connection_params())


def wait_for_a_lock_wait(database: str, timeout: float = 20) -> None:
    """Until a backend of ``database`` waits on a lock (the second claim, blocked)."""
    watcher = open_connection()
    watcher.autocommit = True
    deadline = time.monotonic() + timeout
    try:
        with watcher.cursor() as cursor:
            while True:
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = %s AND wait_event_type = 'Lock'",
                    [database],
                )
                if (cursor.fetchone() or (0,))[0]:
                    return
                if time.monotonic() > deadline:
                    raise AssertionError("the second claim never waited on the first")
                time.sleep(0.02)
    finally:
        watcher.close()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("on_call_team")
def test_a_claim_that_waited_on_another_workers_claim_sends_nothing(nurse_ed):
    need(connection.vendor == "postgresql", "PostgreSQL")
    ticket = ticket_file(
        requester=nurse_ed,
        location=Location.objects.get(code="ED"),
        category=Category.objects.get(slug="ehr"),
        title="Epic frozen on all triage PCs",
        callback="x4410",
        care_delayed=True,
        scope=Scope.UNIT,
        workaround=False,
    ).ticket
    page = Page.objects.filter(ticket=ticket, status=Page.Status.PENDING).earliest("pk")
    mail.outbox.clear()

    # The first worker has claimed the page and not committed yet.
    first = open_connection()
    with first.cursor() as cursor:
        cursor.execute("UPDATE tickets_page SET status = 'sending' WHERE id = %s", [page.pk])
    outcome: list[str] = []

    def second_worker() -> None:
        try:
            outcome.append(paging.deliver(page.pk))
        finally:
            connections.close_all()

    worker = threading.Thread(target=second_worker)
    worker.start()
    try:
        wait_for_a_lock_wait(connection.settings_dict["NAME"])
    finally:
        first.commit()
        first.close()
        worker.join(timeout=30)

    assert outcome == [paging.Outcome.SKIPPED]
    assert mail.outbox == []
    page.refresh_from_db()
    assert (page.status, page.attempts) == (Page.Status.SENDING, 0)
    assert not TicketEvent.objects.filter(kind=TicketEvent.Kind.PAGE_SENT).exists()
