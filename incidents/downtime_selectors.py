"""Reads of planned downtime for the pages and the API.

A requester sees the downtimes of her own units (her home department's) and the hospital-wide
ones; IT staff see every one. Anything else is not found.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Exists, OuterRef, Q, QuerySet

from departments.roles import is_it_staff
from departments.units import home_department_id
from incidents.models import PlannedDowntime

# The IT list's "past" part: the most recent ones; older ones are in the admin.
PAST_SHOWN = 50


def _with_details(queryset: QuerySet[PlannedDowntime]) -> QuerySet[PlannedDowntime]:
    """With the category and the departments read in one more query, however many rows."""
    return queryset.select_related("category", "category__parent").prefetch_related("departments")


def downtimes_visible_to(user: AbstractBaseUser | AnonymousUser) -> QuerySet[PlannedDowntime]:
    """Every downtime this person may see, cancelled and past ones included."""
    downtimes = PlannedDowntime.objects.all()
    if is_it_staff(user):
        return downtimes
    department_id = home_department_id(user)
    if department_id is None:
        return downtimes.filter(hospital_wide=True)
    own_unit = PlannedDowntime.departments.through.objects.filter(
        planneddowntime_id=OuterRef("pk"), department_id=department_id
    )
    return downtimes.filter(Q(hospital_wide=True) | Exists(own_unit))


def upcoming_downtimes(
    user: AbstractBaseUser | AnonymousUser, *, now: datetime
) -> QuerySet[PlannedDowntime]:
    """What this person should plan for: the downtimes of her units not yet over and not
    cancelled, soonest first."""
    return _with_details(
        downtimes_visible_to(user)
        .filter(cancelled_at=None, ends_at__gt=now)
        .order_by("starts_at", "pk")
    )


def downtime_visible_to(user: AbstractBaseUser | AnonymousUser, pk: int) -> PlannedDowntime | None:
    return _with_details(downtimes_visible_to(user)).filter(pk=pk).first()


@dataclass(frozen=True, slots=True)
class DowntimeBoard:
    """IT's list: what is coming, what is happening now, what is over (or called off)."""

    upcoming: list[PlannedDowntime]
    in_progress: list[PlannedDowntime]
    past: list[PlannedDowntime]


def downtime_board(*, now: datetime) -> DowntimeBoard:
    """Four reads (current ones and recent past ones, each with their departments), whatever
    the number of downtimes."""
    current = list(
        _with_details(
            PlannedDowntime.objects.filter(cancelled_at=None, ends_at__gt=now).order_by(
                "starts_at", "pk"
            )
        )
    )
    past = list(
        _with_details(
            PlannedDowntime.objects.filter(Q(cancelled_at__isnull=False) | Q(ends_at__lte=now))
        ).order_by("-starts_at", "-pk")[:PAST_SHOWN]
    )
    return DowntimeBoard(
        upcoming=[row for row in current if row.starts_at > now],
        in_progress=[row for row in current if row.starts_at <= now],
        past=past,
    )
