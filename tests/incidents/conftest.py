from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.contrib.auth.models import User

from departments.models import Location
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
