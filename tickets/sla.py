"""The SLA rules of a ticket: its deadlines on its business calendar, and where each clock
stands. The calendar arithmetic itself is departments.business_time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from departments.business_time import BusinessCalendar, add_business_time


@dataclass(frozen=True, slots=True)
class Deadlines:
    response_due_at: datetime
    response_warn_at: datetime
    resolution_due_at: datetime
    resolution_warn_at: datetime


def compute_deadlines(
    cal: BusinessCalendar,
    *,
    filed_at: datetime,
    response_seconds: float,
    resolution_seconds: float,
    warn_percent: int,
    paused_seconds: float = 0.0,
) -> Deadlines:
    """Both targets measured from the filing instant on ``cal``.

    Always from the filing instant, never from a previous deadline, so a priority change or a
    resumed pause gives the same answer whatever happened in between. Paused time only delays
    the resolution clock: the first response is owed whether or not the ticket waits on someone.
    """
    warn = warn_percent / 100
    return Deadlines(
        response_due_at=add_business_time(cal, filed_at, response_seconds),
        response_warn_at=add_business_time(cal, filed_at, response_seconds * warn),
        resolution_due_at=add_business_time(cal, filed_at, resolution_seconds + paused_seconds),
        resolution_warn_at=add_business_time(
            cal, filed_at, resolution_seconds * warn + paused_seconds
        ),
    )


class ClockStatus(StrEnum):
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    BREACHED = "breached"
    PAUSED = "paused"
    MET = "met"


CLOCK_STATUS_LABELS = {
    ClockStatus.ON_TRACK: "On track",
    ClockStatus.AT_RISK: "At risk",
    ClockStatus.BREACHED: "Breached",
    ClockStatus.PAUSED: "Paused",
    ClockStatus.MET: "Met",
}


def clock_status(
    *,
    now: datetime,
    due_at: datetime,
    warn_at: datetime,
    done_at: datetime | None,
    breached: bool = False,
    paused: bool = False,
) -> ClockStatus:
    """Where one clock stands. A target met late counts as breached; while paused, a deadline
    that has not been breached yet is not counted against the team (it moves on resume)."""
    if done_at is not None:
        return ClockStatus.MET if done_at <= due_at and not breached else ClockStatus.BREACHED
    if breached:
        return ClockStatus.BREACHED
    if paused:
        return ClockStatus.PAUSED
    if now >= due_at:
        return ClockStatus.BREACHED
    if now >= warn_at:
        return ClockStatus.AT_RISK
    return ClockStatus.ON_TRACK
