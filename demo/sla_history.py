"""A ticket's SLA clocks run through a history that already happened, as the product would have
left them: the deadlines from ``Ticket.apply_sla_policy``, the warnings and breaches the sweep
would have claimed on the way, the first response, a pause and the resolution through the
model's own methods. Nothing here queries the database or saves the ticket.

The demo hospital's tickets and the benchmark's million are built with it, so both hold the same
kind of history, and the first live sweep finds nothing from the past to alert about.
"""

from __future__ import annotations

from datetime import datetime

from departments.models import BusinessCalendar
from tickets.models import SlaPolicy, Ticket

__all__ = ["reached", "replay_sla"]


def reached(moment: datetime | None, stopped: datetime) -> datetime | None:
    """The mark the sweep would have set: the deadline, if it came before the clock stopped
    (the sweep claims a deadline at or before its instant)."""
    return moment if moment is not None and moment <= stopped else None


def replay_sla(
    ticket: Ticket,
    *,
    policy: SlaPolicy,
    calendar: BusinessCalendar,
    now: datetime,
    first_response_at: datetime | None = None,
    paused_at: datetime | None = None,
    resolved_at: datetime | None = None,
    closed_at: datetime | None = None,
) -> None:
    """Set the ticket's deadlines and the marks of its history up to ``now``.

    The response clock runs until the first response (or the closing, for a ticket cancelled
    unanswered); the resolution clock until the resolution, a pause, or the closing.
    """
    ticket.apply_sla_policy(policy, calendar)
    responded = first_response_at or closed_at or now
    ticket.response_warned_at = reached(ticket.response_warn_at, responded)
    ticket.response_breached_at = reached(ticket.response_due_at, responded)
    stopped = resolved_at or paused_at or closed_at or now
    ticket.resolution_warned_at = reached(ticket.resolution_warn_at, stopped)
    ticket.resolution_breached_at = reached(ticket.resolution_due_at, stopped)
    if first_response_at is not None:
        ticket.record_first_response(first_response_at)
    if paused_at is not None:
        ticket.pause_clock(paused_at)
    if resolved_at is not None:
        ticket.record_resolution(resolved_at)
