"""The SLA sweep: warns and breaches exactly once, catches up after an outage, and never
depends on the broker to remember a deadline."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.db import connection

from tests.conftest import need
from tests.factories import TicketFactory
from tests.tickets.test_notifications import send_waiting
from tickets.models import OutgoingEmail, SlaAlert, Ticket, TicketEvent
from tickets.outgoing import Outcome, send_emails
from tickets.priority import Scope
from tickets.sweep import sla_sweep, sla_sweep_task

CHICAGO = ZoneInfo("America/Chicago")
FILED = datetime(2026, 11, 20, 16, 55, tzinfo=CHICAGO)


@pytest.fixture
def ed_location(reference_data):
    from departments.models import Location

    return Location.objects.get(code="ED")


def make_p1(ed_location, **fields):
    return TicketFactory(
        created_at=FILED,
        location=ed_location,
        care_delayed=True,
        workaround=False,
        scope=Scope.UNIT,
        **fields,
    )


def events(kind):
    return TicketEvent.objects.filter(kind=kind)


@pytest.mark.django_db
def test_on_track_tickets_are_left_alone(ed_location):
    make_p1(ed_location)
    result = sla_sweep(now=FILED + timedelta(minutes=5))
    assert result.total == 0
    assert not events(TicketEvent.Kind.SLA_WARNING).exists()


@pytest.mark.django_db
def test_at_risk_ticket_is_warned_once(ed_location):
    ticket = make_p1(ed_location)
    first = sla_sweep(now=FILED + timedelta(minutes=12))
    second = sla_sweep(now=FILED + timedelta(minutes=13))
    assert first.count("response", "warning") == 1
    assert second.total == 0
    warning = events(TicketEvent.Kind.SLA_WARNING).get()
    assert warning.ticket == ticket
    assert not warning.is_public
    assert "first response target is at risk" in warning.text
    ticket.refresh_from_db()
    assert ticket.response_warned_at is not None
    assert ticket.response_breached_at is None


@pytest.mark.django_db
def test_overdue_ticket_is_breached_once(ed_location):
    ticket = make_p1(ed_location)
    sla_sweep(now=FILED + timedelta(minutes=12))
    sla_sweep(now=FILED + timedelta(minutes=16))
    sla_sweep(now=FILED + timedelta(minutes=17))
    assert events(TicketEvent.Kind.SLA_BREACH).filter(ticket=ticket).count() == 1
    assert SlaAlert.objects.filter(ticket=ticket).count() == 2


@pytest.mark.django_db
def test_beat_outage_breaches_every_overdue_ticket_on_the_first_sweep(ed_location):
    tickets = [make_p1(ed_location) for _ in range(5)]
    # Beat was stopped from filing until ten minutes past every response deadline.
    result = sla_sweep(now=FILED + timedelta(minutes=25))
    assert result.count("response", "breach") == 5
    assert result.count("response", "warning") == 0  # a breach is not first warned
    assert events(TicketEvent.Kind.SLA_BREACH).count() == 5
    assert sla_sweep(now=FILED + timedelta(minutes=26)).total == 0
    for ticket in tickets:
        ticket.refresh_from_db()
        assert ticket.response_breached_at is not None


@pytest.mark.django_db
def test_a_sweep_that_catches_up_records_the_oldest_breach_first(ed_location):
    tickets = [make_p1(ed_location) for _ in range(4)]
    # Filed together, due in an order that is not the order they were filed in.
    for minutes, ticket in zip((40, 10, 30, 20), tickets, strict=True):
        Ticket.objects.filter(pk=ticket.pk).update(
            response_due_at=FILED + timedelta(minutes=minutes)
        )
    result = sla_sweep(now=FILED + timedelta(hours=2))
    in_due_order = [tickets[1].pk, tickets[3].pk, tickets[2].pk, tickets[0].pk]
    assert result.claimed["response_breach"] == in_due_order
    breaches = events(TicketEvent.Kind.SLA_BREACH).order_by("pk")
    assert list(breaches.values_list("ticket_id", flat=True)) == in_due_order
    alerts = SlaAlert.objects.filter(kind=SlaAlert.Kind.BREACH, clock=SlaAlert.Clock.RESPONSE)
    assert list(alerts.order_by("pk").values_list("ticket_id", flat=True)) == in_due_order


@pytest.mark.django_db
def test_responded_and_waiting_tickets_do_not_breach(ed_location, tech):
    responded = make_p1(ed_location, first_response_at=FILED + timedelta(minutes=3))
    waiting = make_p1(
        ed_location,
        status=Ticket.Status.WAITING_ON_VENDOR,
        first_response_at=FILED + timedelta(minutes=3),
        sla_paused_at=FILED + timedelta(minutes=4),
    )
    resolved = make_p1(ed_location, status=Ticket.Status.RESOLVED)
    sla_sweep(now=FILED + timedelta(hours=6))
    assert not events(TicketEvent.Kind.SLA_BREACH).filter(ticket=responded, new_value="response")
    assert not events(TicketEvent.Kind.SLA_BREACH).filter(ticket=waiting).exists()
    assert not events(TicketEvent.Kind.SLA_BREACH).filter(ticket=resolved).exists()
    assert events(TicketEvent.Kind.SLA_BREACH).filter(ticket=responded, new_value="resolution")


@pytest.mark.django_db
def test_alert_mails_the_assignee_once_without_patient_data(ed_location, tech):
    ticket = make_p1(ed_location, assignee=tech, phi_suspected=True, title="pt Jones MRN 1234567")
    sla_sweep(now=FILED + timedelta(minutes=20))
    alert = SlaAlert.objects.get(ticket=ticket, clock="response", kind="breach")
    email = OutgoingEmail.objects.get(about_id=alert.pk)
    assert send_waiting() == [Outcome.SENT]
    assert send_emails([email.pk]) == [Outcome.SKIPPED]  # the task again
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [tech.email]
    assert ticket.number in message.subject
    assert "1234567" not in message.subject + message.body
    assert "Jones" not in message.subject + message.body


@pytest.mark.django_db
def test_unassigned_ticket_alert_goes_to_the_team(ed_location):
    ticket = make_p1(ed_location)
    sla_sweep(now=FILED + timedelta(minutes=20))
    assert send_waiting() == [Outcome.SENT]
    assert mail.outbox[0].to == [ticket.team.email]


@pytest.mark.django_db
def test_alert_whose_task_was_lost_is_enqueued_again(
    ed_location, broker_down, django_capture_on_commit_callbacks
):
    make_p1(ed_location)
    with django_capture_on_commit_callbacks(execute=True):
        sla_sweep(now=FILED + timedelta(minutes=20))
    assert OutgoingEmail.objects.filter(status=OutgoingEmail.Status.PENDING).count() == 1
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = sla_sweep(now=FILED + timedelta(minutes=22))
    assert result.redelivered == 1
    assert len(callbacks) == 1


@pytest.mark.django_db
def test_deadlines_live_in_the_database_not_the_broker(ed_location, broker_down):
    """With the broker gone, nothing about a deadline is lost: the sweep still breaches."""
    ticket = make_p1(ed_location)
    result = sla_sweep(now=FILED + timedelta(minutes=20))
    assert ticket.pk in result.claimed["response_breach"]


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_breach_each_ticket_once(reference_data):
    need(connection.vendor == "postgresql", "PostgreSQL")
    from departments.models import Location

    location = Location.objects.get(code="ED")
    tickets = [make_p1(location) for _ in range(40)]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def sweep() -> None:
        try:
            barrier.wait()
            sla_sweep(now=FILED + timedelta(minutes=20))
        except BaseException as error:  # surfaced below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    for ticket in tickets:
        assert events(TicketEvent.Kind.SLA_BREACH).filter(ticket=ticket).count() == 1
    assert SlaAlert.objects.count() == 40


@pytest.mark.django_db
def test_sweep_task_runs_the_sweep(ed_location):
    make_p1(ed_location)
    with time_machine.travel(FILED + timedelta(minutes=20), tick=False):
        assert sla_sweep_task() == 1
