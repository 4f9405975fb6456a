"""Major incident and planned downtime fixtures: a cluster of tickets, a commander, a downtime
scheduled in a line."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User

from departments.models import Department, Location
from incidents.downtime import DowntimeNotice, downtime_schedule
from incidents.models import PlannedDowntime
from tests.factories import TicketFactory, UserFactory
from tickets.models import Category, Ticket

NOW = datetime.fromisoformat("2026-12-07T09:00:00-06:00")


def ehr() -> Category:
    return Category.objects.get(slug="ehr")


def ehr_ticket(unit: str, *, minutes_ago: float, sub: bool = False) -> Ticket:
    category = Category.objects.filter(parent__slug="ehr").first() if sub else ehr()
    location = Location.objects.get(code=unit)
    requester = UserFactory(role="requester", home=unit)
    return TicketFactory(
        requester=requester,
        location=location,
        category=category,
        created_at=NOW - timedelta(minutes=minutes_ago),
    )


def cluster(units: list[str], *, start_minutes_ago: float = 9) -> list[Ticket]:
    return [ehr_ticket(unit, minutes_ago=start_minutes_ago - i) for i, unit in enumerate(units)]


@pytest.fixture
def commander(reference_data: None) -> User:
    return UserFactory(username="commander", first_name="Cam", role="technician")


Schedule = Callable[..., PlannedDowntime]


@pytest.fixture
def schedule(tech: User) -> Schedule:
    """``schedule(starts_at, departments=["ED"], ...)``: a downtime announced by the technician
    through the service; hospital-wide when no departments are named."""

    def make(
        starts_at: datetime, *, departments: tuple[str, ...] = (), **values: Any
    ) -> PlannedDowntime:
        values.setdefault("service", "EHR (Epic)")
        values.setdefault("reason", "Upgrade to the spring release")
        values.setdefault("length", timedelta(hours=2))
        chosen = list(Department.objects.filter(code__in=departments))
        notice = DowntimeNotice(
            starts_at=starts_at,
            departments=chosen,
            hospital_wide=not chosen,
            **values,
        )
        return downtime_schedule(notice=notice, by=tech)

    return make
