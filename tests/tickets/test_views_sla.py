"""What the SLA clocks look like to people: the confirmation's call-back time and the two
clocks on the ticket page."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from departments.models import Location
from tests.factories import TicketFactory
from tickets.models import Ticket
from tickets.priority import Scope
from tickets.sweep import sla_sweep

pytestmark = pytest.mark.django_db
CHICAGO = ZoneInfo("America/Chicago")


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=CHICAGO)


def test_confirmation_gives_the_call_back_time_today(client, nurse_ed):
    with time_machine.travel(at(2026, 11, 20, 14, 20), tick=False):
        ticket = TicketFactory(
            requester=nurse_ed,
            location=Location.objects.get(code="ED"),
            care_delayed=True,
            workaround=False,
        )
        client.force_login(nurse_ed)
        body = client.get(reverse("ticket_filed", args=[ticket.pk])).content.decode()
    assert "by 14:35" in body


def test_confirmation_on_business_hours_says_tomorrow(client, nurse_medsurg):
    # A P4 filed Thursday 16:30 in a business-hours department: 9 business hours -> Fri 16:30.
    with time_machine.travel(at(2026, 11, 19, 16, 30), tick=False):
        ticket = TicketFactory(
            requester=nurse_medsurg,
            location=Location.objects.get(code="HIM"),
            care_delayed=True,
            workaround=True,
        )
        client.force_login(nurse_medsurg)
        body = client.get(reverse("ticket_filed", args=[ticket.pk])).content.decode()
    assert ticket.priority == 4
    assert "by 16:30 tomorrow" in body


@pytest.mark.parametrize(
    ("minutes", "label", "left"),
    [(5, "On track", "in 10 min"), (12, "At risk", "in 3 min"), (20, "Breached", "5 min overdue")],
)
def test_ticket_page_shows_both_clocks(client, tech, minutes, label, left):
    filed = at(2026, 11, 20, 16, 55)
    ticket = TicketFactory(
        created_at=filed,
        location=Location.objects.get(code="ED"),
        care_delayed=True,
        workaround=False,
        scope=Scope.UNIT,
    )
    sla_sweep(now=filed + timedelta(minutes=minutes))
    client.force_login(tech)
    with time_machine.travel(filed + timedelta(minutes=minutes), tick=False):
        response = client.get(reverse("ticket_detail", args=[ticket.pk]))
    body = response.content.decode()
    clocks = {clock.name: clock for clock in response.context["clocks"]}
    assert clocks["First response"].status_label == label
    assert clocks["Resolution"].status_label == "On track"
    assert f"> {label}</span>" in body
    assert left in body
    if label == "Breached":
        assert "SLA breached" in body  # the timeline shows when it happened


def test_waiting_ticket_shows_a_paused_clock(client, nurse_medsurg):
    ticket = TicketFactory(
        requester=nurse_medsurg,
        status=Ticket.Status.WAITING_ON_REQUESTER,
        first_response_at=datetime(2026, 11, 20, 12, tzinfo=CHICAGO),
    )
    client.force_login(nurse_medsurg)
    body = client.get(reverse("ticket_detail", args=[ticket.pk])).content.decode()
    assert "Paused" in body
    assert "the deadline moves when work resumes" in body


def test_requester_does_not_see_sla_warnings_on_the_timeline(client, nurse_ed):
    filed = at(2026, 11, 20, 16, 55)
    ticket = TicketFactory(
        requester=nurse_ed,
        created_at=filed,
        location=Location.objects.get(code="ED"),
        care_delayed=True,
    )
    sla_sweep(now=filed + timedelta(minutes=20))
    client.force_login(nurse_ed)
    assert "SLA breached" not in client.get(ticket.get_absolute_url()).content.decode()
