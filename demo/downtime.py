"""The demo hospital's planned downtime: next Sunday's EHR upgrade, announced to the whole
hospital, and the ED and ICU downtime drill of last week, both entered through the service as IT
would enter them."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.contrib.auth.models import User

from departments.models import Department
from incidents.downtime import (
    DowntimeInvalid,
    DowntimeNotice,
    downtime_schedule,
    local_instant,
    local_time,
)
from incidents.models import PlannedDowntime
from tickets.models import Category

EHR_PROCEDURE = (
    "Switch to the downtime forms in the blue binder at the nurses' station. Read-only Epic "
    "(BCA) is on the workstation at the charge nurse desk: print the MAR and active orders "
    "before 02:00. Send lab and radiology requisitions on paper; results come by phone. "
    "When Epic is back, enter the paper orders and documentation before the end of the shift."
)
DRILL_PROCEDURE = (
    "Practise the downtime procedure: downtime forms, the read-only workstation, paper "
    "requisitions, and back-entry afterwards. The charge nurse signs the drill log."
)


def _next_sunday_at_two(today: date) -> datetime:
    """02:00 next Sunday on the hospital's clock; the Sunday after when that night the clocks
    skip 02:00."""
    sunday = today + timedelta(days=(6 - today.weekday()) % 7 or 7)
    while True:
        try:
            return local_instant(datetime.combine(sunday, time(2, 0)))
        except DowntimeInvalid:
            sunday += timedelta(days=7)


def seed_downtimes(*, by: User, now: datetime) -> list[PlannedDowntime]:
    today = local_time(now).date()
    ehr = Category.objects.filter(slug="ehr").first()
    upgrade = downtime_schedule(
        notice=DowntimeNotice(
            service="EHR (Epic)",
            category=ehr,
            hospital_wide=True,
            starts_at=_next_sunday_at_two(today),
            length=timedelta(hours=2),
            notice=timedelta(days=3),
            reason="Upgrade to the spring release",
            procedure=EHR_PROCEDURE,
        ),
        by=by,
        now=now,
    )
    drill = downtime_schedule(
        notice=DowntimeNotice(
            service="EHR downtime drill",
            category=ehr,
            departments=list(Department.objects.filter(code__in=["ED", "ICU"])),
            starts_at=local_instant(datetime.combine(today - timedelta(days=10), time(14, 0))),
            length=timedelta(hours=1),
            notice=timedelta(days=2),
            reason="Quarterly downtime drill",
            procedure=DRILL_PROCEDURE,
            is_drill=True,
        ),
        by=by,
        now=now,
    )
    return [upgrade, drill]
