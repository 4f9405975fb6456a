"""The SLA history the demo and the benchmark give their tickets: the marks the sweep would have
claimed up to the moment each clock stopped, and the facts reports read."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from demo.sla_history import replay_sla
from departments.models import Department
from tickets.models import SlaPolicy, Ticket

# An ED P1: first response within 15 minutes, resolution within 4 hours, warnings at 75%, 24x7.
FILED = datetime(2026, 11, 28, 9, 0, tzinfo=ZoneInfo("America/Chicago"))
RESPONSE_WARN, RESPONSE_DUE = (
    FILED + timedelta(minutes=11, seconds=15),
    FILED + timedelta(minutes=15),
)
RESOLUTION_WARN, RESOLUTION_DUE = FILED + timedelta(hours=3), FILED + timedelta(hours=4)

pytestmark = pytest.mark.django_db


def replayed(**history: datetime) -> Ticket:
    department = Department.objects.get(code="ED")
    policy = SlaPolicy.for_ticket(priority=1, department=department)
    ticket = Ticket(created_at=FILED, priority=1, department=department)
    history.setdefault("now", FILED + timedelta(days=2))
    replay_sla(ticket, policy=policy, calendar=policy.calendar_for(department), **history)
    return ticket


def test_a_ticket_answered_late_shows_its_response_breach_and_misses_the_target(reference_data):
    ticket = replayed(
        first_response_at=FILED + timedelta(minutes=20), resolved_at=FILED + timedelta(hours=1)
    )
    assert (ticket.response_due_at, ticket.resolution_due_at) == (RESPONSE_DUE, RESOLUTION_DUE)
    assert ticket.response_warned_at == RESPONSE_WARN
    assert ticket.response_breached_at == RESPONSE_DUE
    assert ticket.response_met is False
    assert ticket.resolution_warned_at is None
    assert ticket.resolution_breached_at is None
    assert ticket.resolution_met is True
    assert ticket.resolution_seconds == 3600


def test_a_deadline_at_the_very_moment_the_clock_stopped_counts_as_breached(reference_data):
    # The sweep claims every deadline at or before its instant.
    ticket = replayed(first_response_at=RESPONSE_DUE, resolved_at=FILED + timedelta(hours=1))
    assert ticket.response_breached_at == RESPONSE_DUE
    assert ticket.response_met is False


def test_an_open_unanswered_ticket_is_marked_up_to_now_and_no_further(reference_data):
    ticket = replayed(now=FILED + timedelta(hours=3, minutes=30))
    assert ticket.first_response_at is None
    assert ticket.response_breached_at == RESPONSE_DUE
    assert ticket.resolution_warned_at == RESOLUTION_WARN
    assert ticket.resolution_breached_at is None


def test_a_paused_ticket_stops_its_resolution_clock_at_the_pause(reference_data):
    paused = FILED + timedelta(hours=1)
    ticket = replayed(first_response_at=FILED + timedelta(minutes=5), paused_at=paused)
    assert ticket.sla_paused_at == paused
    assert ticket.response_warned_at is None
    assert ticket.response_met is True
    assert ticket.resolution_warned_at is None
    assert ticket.resolution_breached_at is None
    assert ticket.resolved_at is None


def test_a_ticket_cancelled_unanswered_stops_its_clocks_when_it_closed(reference_data):
    ticket = replayed(closed_at=FILED + timedelta(minutes=10))
    assert ticket.first_response_at is None
    assert ticket.response_warned_at is None
    assert ticket.response_breached_at is None
    assert ticket.resolution_warned_at is None
