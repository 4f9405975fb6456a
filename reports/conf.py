"""The reports' settings, read from ``settings.HELPDESK`` with these defaults, so an installation
changes them without touching code (and tests override them with pytest-django's ``settings``).

``HELPDESK["COMPLIANCE_TARGETS"]``: ``{"response": 90, "resolution": 85}``, in percent.
``HELPDESK["CRITICAL_AREAS"]``: department codes on the critical-area board besides the
auto-escalating departments, ``("ED", "OR", "ICU")`` by default.
``HELPDESK["MIN_TICKETS_TO_JUDGE"]``: a share of fewer tickets than this is shown with its count
as "too few to judge", never as below target, on the pages, the charts and the JSON API; 5 by
default.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings

DEFAULT_COMPLIANCE_TARGETS = {"response": 90.0, "resolution": 85.0}
DEFAULT_CRITICAL_AREAS = ("ED", "OR", "ICU")
# One late answer out of three is chance, not a trend: below this many tickets a share is not
# judged against its target.
DEFAULT_MIN_TICKETS_TO_JUDGE = 5
# The longest custom range a report takes (a year and a day, for leap years).
MAX_RANGE_DAYS = 366
BREACHES_PAGE_SIZE = 25
# Rows per query of a CSV export: the database sends them in batches this size, so memory stays
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


def min_tickets_to_judge() -> int:
    return int(_helpdesk().get("MIN_TICKETS_TO_JUDGE", DEFAULT_MIN_TICKETS_TO_JUDGE))


def too_few_to_judge(count: int) -> bool:
    """Some tickets, but fewer than the minimum: the share is shown, not judged. None at all is
    "none counted", not "too few"."""
    return 0 < count < min_tickets_to_judge()


def critical_area_codes() -> tuple[str, ...]:
    return tuple(_helpdesk().get("CRITICAL_AREAS", DEFAULT_CRITICAL_AREAS))


def hospital_tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)
