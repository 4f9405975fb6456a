"""The database-heavy paths of the help desk behind PgBouncer in transaction pooling mode: filing
by the form and by the API with an idempotency key, the queue, claiming, taking the next ticket,
the SLA sweep, page delivery, the mailbox lease, the reports and the CSV export stream. Races
run on separate connections released together, so each is a separate PgBouncer client."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import psycopg2
import pytest
import time_machine
from django.db import connection
from django.urls import reverse

from bench.pgbouncer import PgBouncer
from departments.models import Location
from helpdesk.settings import postgres_database
from intake.polling import take_lease
from reports import conf as reports_conf
from tests.concurrency import at_once
from tests.factories import TicketFactory, UserFactory
from tests.reports.conftest import NOW, DataSet
from tickets import paging
from tickets.models import Category, Page, Ticket, TicketEvent
from tickets.priority import Scope
from tickets.services import ClaimLost, ticket_claim, ticket_take_next
from tickets.sweep import sla_sweep

pytestmark = pytest.mark.django_db(transaction=True)

RANGE = {"period": "custom", "start": "2026-02-02", "end": "2026-02-15"}


def test_the_help_desk_connects_pooled_only_as_configured_for_it(
    pooled: PgBouncer,
) -> None:
    """Configured for a direct connection, PostgreSQL's start-up options are refused by
    PgBouncer; configured with DATABASE_POOLER=pgbouncer, the connection works."""
    direct = postgres_database("DATABASE_URL", pooled.url("postgres"), pooler="")
    with pytest.raises(psycopg2.OperationalError, match="unsupported startup parameter"):
        psycopg2.connect(
            pooled.dsn(connection.settings_dict["NAME"]),
            options=direct["OPTIONS"]["options"],
        )
    with connection.cursor() as cursor:
        cursor.execute("SELECT inet_server_port()")
        assert cursor.fetchone() == (int(pooled.server_port),)
    assert connection.settings_dict["PORT"] == pooled.port


def test_a_nurse_files_through_the_form_and_it_shows_in_the_queue(client, nurse_ed, tech):
    client.force_login(nurse_ed)
    response = client.post(
        reverse("file_ticket"),
        {
            "category": Category.objects.get(slug="printers").pk,
            "title": "Label printer offline in bay 4",
            "callback": "x5512",
            "location": Location.objects.get(code="ED").pk,
            "care_delayed": "no",
            "scope": "me",
            "workaround": "yes",
            "idempotency_key": "form-bay-4",
        },
    )
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    client.force_login(tech)
    queue = client.get(reverse("queue_fragment"))
    assert queue.status_code == 200
    assert ticket.number in queue.content.decode()


def test_an_api_retry_with_the_same_key_files_once_even_when_both_arrive_at_once(
    api, nurse_medsurg
) -> None:
    body = {
        "category": "printers",
        "title": "Wristband printer jams",
        "callback": "x4567",
        "location": "MEDSURG",
        "care_delayed": False,
        "scope": "me",
        "workaround": True,
    }

    def post() -> Any:
        client = api(nurse_medsurg)
        return client.post("/api/tickets/", body, format="json", HTTP_IDEMPOTENCY_KEY="retry-1")

    first, second = at_once(post, post)
    assert sorted([first.status_code, second.status_code]) == [200, 201]
    assert first.json()["id"] == second.json()["id"]
    assert Ticket.objects.count() == 1
    assert TicketEvent.objects.filter(kind=TicketEvent.Kind.FILED).count() == 1


def test_two_technicians_claim_one_ticket_and_exactly_one_gets_it(tech) -> None:
    other = UserFactory(username="tech.two", first_name="Tess", role="technician")
    ticket = TicketFactory()
    results = at_once(
        lambda: ticket_claim(ticket=ticket, user=tech),
        lambda: ticket_claim(ticket=ticket, user=other),
    )
    winners = [result for result in results if isinstance(result, Ticket)]
    assert len(winners) == 1
    assert [type(result) for result in results if result not in winners] == [ClaimLost]
    ticket.refresh_from_db()
    assert ticket.assignee_id == winners[0].assignee_id
    assert TicketEvent.objects.filter(kind=TicketEvent.Kind.ASSIGNMENT).count() == 1


def test_two_technicians_taking_the_next_ticket_get_different_ones(tech) -> None:
    other = UserFactory(username="tech.two", first_name="Tess", role="technician")
    tickets = {TicketFactory().pk, TicketFactory().pk}
    taken = at_once(
        lambda: ticket_take_next(user=tech, queryset=Ticket.objects.all()),
        lambda: ticket_take_next(user=other, queryset=Ticket.objects.all()),
    )
    assert {ticket.pk for ticket in taken if isinstance(ticket, Ticket)} == tickets
    assert set(Ticket.objects.values_list("assignee__username", flat=True)) == {
        "tech",
        "tech.two",
    }


def test_two_sweeps_at_once_breach_an_overdue_ticket_once(reference_data) -> None:
    filed = NOW - timedelta(hours=2)
    ticket = TicketFactory(
        created_at=filed,
        location=Location.objects.get(code="ED"),
        care_delayed=True,
        workaround=False,
        scope=Scope.UNIT,
    )
    results = at_once(lambda: sla_sweep(now=NOW), lambda: sla_sweep(now=NOW))
    assert not [result for result in results if isinstance(result, BaseException)]
    breaches = TicketEvent.objects.filter(kind=TicketEvent.Kind.SLA_BREACH, ticket=ticket)
    assert breaches.count() == 1


def test_a_page_delivered_by_two_workers_at_once_is_sent_once(api, nurse_ed, on_call_team):
    client = api(nurse_ed)
    response = client.post(
        "/api/tickets/",
        {
            "category": "ehr",
            "title": "EHR down for the whole ED",
            "callback": "x5512",
            "location": "ED",
            "care_delayed": True,
            "scope": "unit",
            "workaround": False,
        },
        format="json",
    )
    assert response.status_code == 201
    page = Page.objects.filter(status=Page.Status.PENDING).earliest("pk")
    outcomes = at_once(lambda: paging.deliver(page.pk), lambda: paging.deliver(page.pk))
    assert sorted(outcomes) == sorted([paging.Outcome.SENT, paging.Outcome.SKIPPED])
    page.refresh_from_db()
    assert page.status == Page.Status.SENT
    assert TicketEvent.objects.filter(kind=TicketEvent.Kind.PAGE_SENT).count() == 1


def test_two_polls_at_once_take_the_mailbox_lease_once(reference_data) -> None:
    tokens = at_once(lambda: take_lease("servicedesk"), lambda: take_lease("servicedesk"))
    assert len([token for token in tokens if isinstance(token, str)]) == 1
    assert tokens.count(None) == 1


def test_the_reports_answer_pooled(client, dataset: DataSet) -> None:
    client.force_login(dataset.manager)
    with time_machine.travel(NOW, tick=False):
        for name in ("compliance", "speed", "breaches", "trends", "technicians"):
            response = client.get(reverse(f"reports:{name}"), RANGE)
            assert response.status_code == 200, name


def test_the_ticket_export_streams_while_another_client_takes_its_server_connection(
    client, dataset: DataSet, pooled: PgBouncer, monkeypatch
) -> None:
    """Between two batches of a stream, the server connection the export started on serves
    someone else: the export must not depend on a cursor left open on it."""
    monkeypatch.setattr(reports_conf, "EXPORT_CHUNK_SIZE", 2)
    client.force_login(dataset.manager)
    with time_machine.travel(NOW, tick=False):
        response = client.get(reverse("reports:export", args=["tickets"]), RANGE)
        chunks = iter(response.streaming_content)
        body = [next(chunks), next(chunks)]  # the header, then the first ticket
        # The server connection just given back is the one the next client gets: hold it.
        other = psycopg2.connect(pooled.dsn(connection.settings_dict["NAME"]))
        try:
            with other.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM tickets_ticket")
            body.extend(chunks)
        finally:
            other.close()
    rows = list(csv.reader(io.StringIO(b"".join(body).decode("utf-8-sig"))))
    assert len(rows) == 1 + 10
