"""Planned downtime and incident fixtures: a way to schedule a downtime in a line."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User

from departments.models import Department
from incidents.downtime import DowntimeNotice, downtime_schedule
from incidents.models import PlannedDowntime

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
