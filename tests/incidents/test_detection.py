"""Detection: the threshold at its edges, quiet after a dismissal or a declaration, and exactly
one alert and one page however many sweepers run at once."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection

from incidents.models import IncidentAlert
from incidents.services import alert_dismiss, declare, detect
from incidents.tasks import run_incident_sweep
from tests.conftest import need
from tests.incidents.conftest import NOW, cluster, ehr_ticket
from tickets.models import PageChain, TicketEvent

pytestmark = pytest.mark.django_db


def test_four_tickets_raise_nothing(reference_data):
    cluster(["ED", "OR", "ICU", "TELE"])
    assert detect(now=NOW) == []


def test_five_tickets_from_two_units_raise_nothing(reference_data):
    cluster(["ED", "ED", "ED", "OR", "OR"])
    assert detect(now=NOW) == []


def test_five_tickets_from_three_units_in_ten_minutes_raise_one_alert(reference_data):
    tickets = cluster(["ED", "ED", "OR", "OR", "ICU"])
    [alert] = detect(now=NOW)
    assert alert.unit_count == 3
    assert set(alert.tickets.all()) == set(tickets)
    assert alert.first_ticket_at == tickets[0].created_at
    # One page for the whole cluster, not five.
    chains = PageChain.objects.filter(reason=PageChain.Reason.POSSIBLE_MAJOR)
    assert chains.count() == 1
    note = TicketEvent.objects.get(ticket=chains.get().ticket, kind=TicketEvent.Kind.INTERNAL_NOTE)
    assert all(ticket.number in note.text for ticket in tickets)


def test_the_same_cluster_again_raises_nothing(reference_data):
    cluster(["ED", "ED", "OR", "OR", "ICU"])
    assert len(detect(now=NOW)) == 1
    ehr_ticket("TELE", minutes_ago=0.5)
    assert detect(now=NOW + timedelta(seconds=30)) == []
    assert IncidentAlert.objects.count() == 1


def test_tickets_older_than_the_window_do_not_count(reference_data):
    cluster(["ED", "OR", "ICU", "TELE"], start_minutes_ago=9)
    ehr_ticket("RAD", minutes_ago=11)
    assert detect(now=NOW) == []


def test_subcategories_count_under_their_tile(reference_data):
    cluster(["ED", "OR", "ICU", "TELE"])
    ehr_ticket("RAD", minutes_ago=1, sub=True)
    [alert] = detect(now=NOW)
    assert alert.category.slug == "ehr"


def test_a_dismissed_cluster_stays_quiet_for_an_hour(reference_data, tech):
    cluster(["ED", "ED", "OR", "OR", "ICU"])
    [alert] = detect(now=NOW)
    alert_dismiss(alert=alert, by=tech, now=NOW)
    # Half an hour on, a fresh cluster of the same tile: still quiet.
    cluster(["ED", "OR", "ICU", "TELE", "RAD"], start_minutes_ago=-25)
    assert detect(now=NOW + timedelta(minutes=30)) == []
    # An hour after the dismissal, another one alerts again.
    cluster(["ED", "OR", "ICU", "TELE", "RAD"], start_minutes_ago=-56)
    assert len(detect(now=NOW + timedelta(minutes=61))) == 1


def test_a_declared_cluster_stays_quiet_while_its_incident_is_open(reference_data, tech):
    cluster(["ED", "ED", "OR", "OR", "ICU"])
    [alert] = detect(now=NOW)
    declare(by=tech, service="EHR", message="Epic is down.", alert=alert, now=NOW)
    cluster(["TELE", "RAD", "LAB", "PHARM", "BH"], start_minutes_ago=4)
    assert detect(now=NOW) == []


def test_the_sweep_task_detects(reference_data):
    cluster(["ED", "ED", "OR", "OR", "ICU"])
    with time_machine.travel(NOW, tick=False):
        result = run_incident_sweep()
    assert len(result.alerts) == 1


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_sweepers_at_once_raise_one_alert_and_one_page(reference_data):
    need(connection.vendor == "postgresql", "PostgreSQL")
    cluster(["ED", "ED", "OR", "OR", "ICU"])
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []
    raised: list[int] = []

    def sweep() -> None:
        try:
            barrier.wait()
            raised.extend(alert.pk for alert in detect(now=NOW))
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
    assert len(raised) == 1
    assert IncidentAlert.objects.count() == 1
    assert PageChain.objects.filter(reason=PageChain.Reason.POSSIBLE_MAJOR).count() == 1
