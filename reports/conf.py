"""The reports' settings, read from ``settings.HELPDESK`` with these defaults, so an installation
changes them without touching code (and tests override them with pytest-django's ``settings``).

``HELPDESK["COMPLIANCE_TARGETS"]``: ``{"response": 90, "resolution": 85}``, in percent.
``HELPDESK["CRITICAL_AREAS"]``: department codes on the critical-area board besides the
auto-escalating departments, ``("ED", "OR", "ICU")`` by default.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings

DEFAULT_COMPLIANCE_TARGETS = {"response": 90.0, "resolution": 85.0}
DEFAULT_CRITICAL_AREAS = ("ED", "OR", "ICU")
# The longest custom range a report takes (a year and a day, for leap years).
MAX_RANGE_DAYS = 366
BREACHES_PAGE_SIZE = 25
# Rows per fetch of a CSV export: the database sends them in batches this size, so memory stays
# flat whatever the number of tickets.
EXPORT_CHUNK_SIZE = 2000
# Locations shown on "where the work comes from".
REPEAT_LOCATIONS_SHOWN = 15


@dataclass(frozen=True, slots=True)
class Targets:
    response: float
    resolution: float


def _helpdesk() -> dict[str, Any]:
    found: dict[str, Any] = getattr(settings, "HELPDESK", {})
    return found


def compliance_targets() -> Targets:
    configured = {**DEFAULT_COMPLIANCE_TARGETS, **_helpdesk().get("COMPLIANCE_TARGETS", {})}
    return Targets(
        response=float(configured["response"]), resolution=float(configured["resolution"])
    )


def critical_area_codes() -> tuple[str, ...]:
    return tuple(_helpdesk().get("CRITICAL_AREAS", DEFAULT_CRITICAL_AREAS))


def hospital_tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)
