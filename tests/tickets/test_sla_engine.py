"""Deadlines on the right calendar, stored at filing; pauses, reopen and priority changes move
them; first response and resolution record whether they met their targets."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from departments.models import Location
from tickets.models import Category, Ticket, TicketEvent
from tickets.priority import Scope
from tickets.services import (
    TicketError,
    ticket_change_priority,
    ticket_comment,
    ticket_file,
    ticket_set_status,
)
from tickets.sla import ClockStatus

pytestmark = pytest.mark.django_db
CHICAGO = ZoneInfo("America/Chicago")


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=CHICAGO)


def local(value: datetime | None) -> datetime:
    assert value is not None
    return value.astimezone(CHICAGO)


def file_at(when, requester, code, **answers):
    defaults = {"care_delayed": False, "scope": Scope.ME, "workaround": False}
    defaults.update(answers)
    with time_machine.travel(when, tick=False):
        return ticket_file(
            requester=requester,
            location=Location.objects.get(code=code),
            category=Category.objects.get(slug="printers"),
            title="Discharge papers printing to wrong printer",
            callback="x4410",
            **defaults,
        ).ticket


def test_ed_p1_runs_around_the_clock(nurse_ed):
    ticket = file_at(at(2026, 11, 20, 16, 55), nurse_ed, "ED", care_delayed=True)
    assert ticket.priority == 1
    assert local(ticket.response_due_at) == at(2026, 11, 20, 17, 10)
    assert local(ticket.response_warn_at) == at(2026, 11, 20, 17, 6, 15)
    assert local(ticket.resolution_due_at) == at(2026, 11, 20, 20, 55)
    assert ticket.sla_calendar.name == "24x7"


def test_p3_friday_afternoon_runs_on_business_hours(nurse_medsurg):
    # Several units, a workaround, care not delayed: low urgency x many units = P3.
    ticket = file_at(
        at(2026, 11, 20, 16, 55), nurse_medsurg, "MEDSURG", scope=Scope.SEVERAL, workaround=True
    )
    assert ticket.priority == 3
    assert local(ticket.response_due_at) == at(2026, 11, 23, 11, 55)  # Monday
    assert local(ticket.resolution_due_at) == at(2026, 11, 25, 16, 55)  # 27 business hours


def test_p2_follows_the_department_calendar(nurse_medsurg):
    # Unit-wide, care delayed, workaround exists: medium x unit = P3; several units -> P2.
    answers = {"care_delayed": True, "workaround": True, "scope": Scope.SEVERAL}
    saturday = at(2026, 11, 21, 10, 0)
    in_medsurg = file_at(saturday, nurse_medsurg, "MEDSURG", **answers)
    in_him = file_at(saturday, nurse_medsurg, "HIM", **answers)
    assert in_medsurg.priority == in_him.priority == 2
    assert local(in_medsurg.response_due_at) == at(2026, 11, 21, 10, 30)  # 24x7 unit
    assert local(in_him.response_due_at) == at(2026, 11, 23, 8, 30)  # HIM keeps office hours


def test_waiting_on_the_requester_over_a_weekend_moves_the_deadline(nurse_medsurg, tech):
    ticket = file_at(
        at(2026, 11, 19, 10, 0), nurse_medsurg, "MEDSURG", scope=Scope.SEVERAL, workaround=True
    )
    assert local(ticket.resolution_due_at) == at(2026, 11, 24, 10, 0)
    with time_machine.travel(at(2026, 11, 20, 15, 0), tick=False):
        ticket_set_status(ticket=ticket, actor=tech, status=Ticket.Status.WAITING_ON_REQUESTER)
    ticket.refresh_from_db()
    assert ticket.sla_paused_at is not None
    assert ticket.resolution_clock(at(2026, 11, 22, 12, 0)) is ClockStatus.PAUSED
    with time_machine.travel(at(2026, 11, 23, 10, 0), tick=False):
        ticket_comment(ticket=ticket, author=nurse_medsurg, text="It's the printer by bed 4")
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.IN_PROGRESS
    assert ticket.sla_paused_at is None
    assert ticket.sla_paused_seconds == 4 * 3600  # Friday 15-17 and Monday 08-10
    assert local(ticket.resolution_due_at) == at(2026, 11, 24, 14, 0)


def test_priority_upgrade_mid_flight_recomputes_from_filing(nurse_medsurg, tech):
    ticket = file_at(at(2026, 11, 16, 9, 0), nurse_medsurg, "MEDSURG", workaround=True)
    assert ticket.priority == 5
    with time_machine.travel(at(2026, 11, 16, 9, 10), tick=False):
        ticket_change_priority(
            ticket=ticket, actor=tech, priority=2, reason="Whole unit affected after all"
        )
    ticket.refresh_from_db()
    assert local(ticket.response_due_at) == at(2026, 11, 16, 9, 30)
    assert local(ticket.resolution_due_at) == at(2026, 11, 16, 17, 0)
    event = ticket.events.get(kind=TicketEvent.Kind.PRIORITY)
    assert (event.old_value, event.new_value, event.text) == (
        "P5",
        "P2",
        "Whole unit affected after all",
    )


def test_priority_change_needs_a_reason_and_it_staff(nurse_medsurg, tech):
    ticket = file_at(at(2026, 11, 16, 9, 0), nurse_medsurg, "MEDSURG")
    with pytest.raises(TicketError, match="Give a reason"):
        ticket_change_priority(ticket=ticket, actor=tech, priority=1, reason="  ")
    with pytest.raises(TicketError, match="Only IT staff"):
        ticket_change_priority(ticket=ticket, actor=nurse_medsurg, priority=1, reason="urgent")
    ticket.refresh_from_db()
    assert ticket.priority == 4
    assert not ticket.events.filter(kind=TicketEvent.Kind.PRIORITY).exists()


def test_first_public_reply_by_it_is_the_first_response(nurse_ed, tech):
    ticket = file_at(at(2026, 11, 20, 16, 55), nurse_ed, "ED", care_delayed=True)
    with time_machine.travel(at(2026, 11, 20, 17, 5), tick=False):
        ticket_comment(ticket=ticket, author=nurse_ed, text="Still frozen")
    ticket.refresh_from_db()
    assert ticket.first_response_at is None
    with time_machine.travel(at(2026, 11, 20, 17, 8), tick=False):
        ticket_comment(ticket=ticket, author=tech, text="On my way to triage")
    ticket.refresh_from_db()
    assert local(ticket.first_response_at) == at(2026, 11, 20, 17, 8)
    assert ticket.response_met is True
    assert ticket.response_seconds == 13 * 60
    assert ticket.response_business_seconds == 13 * 60


def test_late_first_response_is_recorded_as_missed(nurse_ed, tech):
    ticket = file_at(at(2026, 11, 20, 16, 55), nurse_ed, "ED", care_delayed=True)
    with time_machine.travel(at(2026, 11, 20, 17, 30), tick=False):
        ticket_comment(ticket=ticket, author=tech, text="Looking now")
    ticket.refresh_from_db()
    assert ticket.response_met is False
    assert ticket.response_clock(at(2026, 11, 20, 18, 0)) is ClockStatus.BREACHED


def test_resolve_then_reopen_resumes_the_clock(nurse_ed, tech):
    ticket = file_at(at(2026, 11, 20, 16, 55), nurse_ed, "ED", care_delayed=True)
    with time_machine.travel(at(2026, 11, 20, 18, 0), tick=False):
        ticket_set_status(ticket=ticket, actor=tech, status=Ticket.Status.RESOLVED)
    ticket.refresh_from_db()
    assert ticket.resolution_met is True
    assert ticket.resolution_seconds == 65 * 60
    assert ticket.resolution_clock(at(2026, 11, 20, 19, 0)) is ClockStatus.MET
    with time_machine.travel(at(2026, 11, 20, 19, 0), tick=False):
        ticket_set_status(ticket=ticket, actor=nurse_ed, status=Ticket.Status.IN_PROGRESS)
    ticket.refresh_from_db()
    assert ticket.resolved_at is None
    assert ticket.resolution_met is None
    # An hour spent resolved does not count: due 20:55 + 1 h.
    assert local(ticket.resolution_due_at) == at(2026, 11, 20, 21, 55)


@pytest.mark.parametrize(
    ("start", "target", "message"),
    [
        (Ticket.Status.NEW, Ticket.Status.CLOSED, "cannot be moved to closed"),
        (Ticket.Status.CLOSED, Ticket.Status.IN_PROGRESS, "cannot be moved to in progress"),
        (Ticket.Status.RESOLVED, Ticket.Status.WAITING_ON_VENDOR, "cannot be moved"),
        (Ticket.Status.NEW, Ticket.Status.NEW, "already new"),
        (Ticket.Status.NEW, "lost", "'lost' is not a ticket status"),
    ],
)
def test_refused_transitions_say_why_and_change_nothing(nurse_ed, tech, start, target, message):
    ticket = file_at(at(2026, 11, 20, 16, 55), nurse_ed, "ED")
    Ticket.objects.filter(pk=ticket.pk).update(status=start)
    with pytest.raises(TicketError, match=message):
        ticket_set_status(ticket=ticket, actor=tech, status=target)
    ticket.refresh_from_db()
    assert ticket.status == start
    assert not ticket.events.filter(kind=TicketEvent.Kind.STATUS).exists()


def test_requester_may_only_reopen_or_cancel(nurse_ed):
    ticket = file_at(at(2026, 11, 20, 16, 55), nurse_ed, "ED")
    with pytest.raises(TicketError, match="Only IT staff"):
        ticket_set_status(ticket=ticket, actor=nurse_ed, status=Ticket.Status.RESOLVED)
    ticket_set_status(ticket=ticket, actor=nurse_ed, status=Ticket.Status.CANCELLED)
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.CANCELLED


def test_clock_states_over_time(nurse_ed):
    ticket = file_at(at(2026, 11, 20, 16, 55), nurse_ed, "ED", care_delayed=True)
    assert ticket.response_clock(at(2026, 11, 20, 17, 0)) is ClockStatus.ON_TRACK
    assert ticket.response_clock(at(2026, 11, 20, 17, 7)) is ClockStatus.AT_RISK
    assert ticket.response_clock(at(2026, 11, 20, 17, 11)) is ClockStatus.BREACHED
