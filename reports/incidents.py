"""Major incident reports: each incident's clock and what it cost, over a period.

For every incident: the timeline (first ticket, detection, declaration, updates, resolution),
the units and people affected, time to declare (declared - started), time to first update
(first update - declared), duration (started to resolved, or to now while it is open) and the
clinician-minutes lost: the people affected (those who said "me too" and the requesters of the
tickets it explains, each counted once) times the duration in minutes.

An incident belongs to the period it was declared in. The team and category filters apply to
the incident's own; the department filter keeps incidents that named the department or were
hospital-wide; incidents have no priority, so that filter does not apply. Four queries whatever
the number of incidents.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import User
from django.db.models import Count, Exists, Min, OuterRef, Q, QuerySet, Subquery

from departments.roles import display_name
from incidents.models import Affected, Incident, IncidentTicket, IncidentUpdate
from reports.queries import DepartmentRef, ReportFilters, incidents_declared
from tickets.models import ticket_number


def _seconds(later: datetime | None, earlier: datetime | None) -> float | None:
    if later is None or earlier is None:
        return None
    return (later - earlier).total_seconds()


@dataclass(frozen=True, slots=True)
class IncidentFigures:
    pk: int
    number: str
    service: str
    team: str
    resolved: bool
    hospital_wide: bool
    # The departments the incident was declared for (empty when hospital-wide).
    declared_for: tuple[DepartmentRef, ...]
    started_at: datetime
    first_ticket_at: datetime | None
    detected_at: datetime | None
    declared_at: datetime
    first_update_at: datetime | None
    resolved_at: datetime | None
    updates: int
    tickets: int
    # The units of the people affected and of the tickets it explains.
    units: tuple[DepartmentRef, ...]
    people: int
    time_to_declare: float | None
    time_to_first_update: float | None
    duration: float

    @property
    def clinician_minutes_lost(self) -> float:
        return self.people * self.duration / 60

    @property
    def scope(self) -> str:
        if self.hospital_wide:
            return "Hospital-wide"
        return ", ".join(department.name for department in self.declared_for)


def _in_period(filters: ReportFilters) -> QuerySet[Incident]:
    found = incidents_declared(filters)
    if filters.department_id is not None:
        named = Incident.departments.through.objects.filter(
            incident_id=OuterRef("pk"), department_id=filters.department_id
        )
        found = found.filter(Q(hospital_wide=True) | Exists(named))
    return found


def _department_columns(prefix: str) -> list[str]:
    """A department's columns in ``DepartmentRef``'s order, read through a relation."""
    return [f"{prefix}__{name}" for name in ("id", "code", "name", "tier", "auto_escalate")]


def _figures(incidents: QuerySet[Incident], *, now: datetime) -> list[IncidentFigures]:
    first_ticket = (
        IncidentTicket.objects.filter(incident_id=OuterRef("pk"))
        .order_by("ticket__created_at")
        .values("ticket__created_at")[:1]
    )
    rows = list(
        incidents.select_related("team")
        .annotate(
            first_update_at=Min("updates__posted_at"),
            update_count=Count("updates", distinct=True),
            first_ticket_at=Subquery(first_ticket),
        )
        .order_by("-declared_at", "-pk")
    )
    # Each read below takes the incidents as a subquery, so it runs once whatever their number
    # (even none), and names the departments in the same row.
    chosen = incidents.values("pk")
    people: dict[int, set[int]] = defaultdict(set)
    units: dict[int, dict[int, DepartmentRef]] = defaultdict(dict)
    tickets: dict[int, int] = defaultdict(int)
    declared: dict[int, dict[int, DepartmentRef]] = defaultdict(dict)
    for incident_id, requester_id, *department in IncidentTicket.objects.filter(
        incident__in=chosen
    ).values_list(
        "incident_id", "ticket__requester_id", *_department_columns("ticket__department")
    ):
        people[incident_id].add(requester_id)
        units[incident_id][department[0]] = DepartmentRef(*department)
        tickets[incident_id] += 1
    for incident_id, user_id, *department in Affected.objects.filter(
        incident__in=chosen
    ).values_list("incident_id", "user_id", *_department_columns("department")):
        people[incident_id].add(user_id)
        if department[0] is not None:
            units[incident_id][department[0]] = DepartmentRef(*department)
    for incident_id, *department in Incident.departments.through.objects.filter(
        incident__in=chosen
    ).values_list("incident_id", *_department_columns("department")):
        declared[incident_id][department[0]] = DepartmentRef(*department)

    def refs(found: dict[int, DepartmentRef]) -> tuple[DepartmentRef, ...]:
        return tuple(sorted(found.values(), key=lambda d: (d.tier, d.name)))

    figures = []
    for row in rows:
        first_update_at: datetime | None = row.first_update_at
        ended_at = row.resolved_at or now
        figures.append(
            IncidentFigures(
                pk=row.pk,
                number=row.number,
                service=row.service,
                team=row.team.name,
                resolved=row.status == Incident.Status.RESOLVED,
                hospital_wide=row.hospital_wide,
                declared_for=refs(declared[row.pk]),
                started_at=row.started_at,
                first_ticket_at=row.first_ticket_at,
                detected_at=row.detected_at,
                declared_at=row.declared_at,
                first_update_at=first_update_at,
                resolved_at=row.resolved_at,
                updates=row.update_count,
                tickets=tickets[row.pk],
                units=refs(units[row.pk]),
                people=len(people[row.pk]),
                time_to_declare=_seconds(row.declared_at, row.started_at),
                time_to_first_update=_seconds(first_update_at, row.declared_at),
                duration=max(0.0, (ended_at - row.started_at).total_seconds()),
            )
        )
    return figures


@dataclass(frozen=True, slots=True)
class IncidentsReport:
    filters: ReportFilters
    rows: list[IncidentFigures]
    people: int
    clinician_minutes_lost: float


def incidents_report(filters: ReportFilters, *, now: datetime) -> IncidentsReport:
    rows = _figures(_in_period(filters), now=now)
    return IncidentsReport(
        filters=filters,
        rows=rows,
        people=sum(row.people for row in rows),
        clinician_minutes_lost=sum(row.clinician_minutes_lost for row in rows),
    )


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    at: datetime
    what: str
    # The words IT posted (an update, the resolution): told to clinical staff, never ticket text.
    text: str = ""
    who: str = ""


@dataclass(frozen=True, slots=True)
class IncidentReport:
    figures: IncidentFigures
    timeline: list[TimelineEntry]


def _name(user: User | None) -> str:
    return display_name(user) if user is not None else ""


def incident_report(pk: int, *, now: datetime) -> IncidentReport | None:
    """One incident's figures and its timeline, oldest first; None when there is no such
    incident."""
    found = _figures(Incident.objects.filter(pk=pk), now=now)
    if not found:
        return None
    figures = found[0]
    incident = Incident.objects.select_related("declared_by", "resolved_by").get(pk=pk)
    first_ticket = (
        IncidentTicket.objects.filter(incident_id=pk)
        .order_by("ticket__created_at", "ticket_id")
        .values_list("ticket_id", "ticket__created_at")
        .first()
    )
    timeline: list[TimelineEntry] = []
    if first_ticket is not None:
        timeline.append(
            TimelineEntry(first_ticket[1], f"First ticket, {ticket_number(first_ticket[0])}")
        )
    if incident.detected_at is not None:
        timeline.append(
            TimelineEntry(incident.detected_at, "Detected as a possible major incident")
        )
    timeline.append(
        TimelineEntry(
            incident.declared_at, "Declared a major incident", who=_name(incident.declared_by)
        )
    )
    for update in IncidentUpdate.objects.filter(incident_id=pk).select_related("posted_by"):
        timeline.append(
            TimelineEntry(update.posted_at, "Update", text=update.text, who=_name(update.posted_by))
        )
    if incident.resolved_at is not None:
        timeline.append(
            TimelineEntry(
                incident.resolved_at,
                "Resolved",
                text=incident.resolution,
                who=_name(incident.resolved_by),
            )
        )
    timeline.sort(key=lambda entry: entry.at)
    return IncidentReport(figures=figures, timeline=timeline)
