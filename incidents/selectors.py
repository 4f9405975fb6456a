"""Reads the incident pages and the API need: a fixed number of queries each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, Q, QuerySet

from departments.roles import is_it_staff
from departments.units import home_department_id
from incidents.models import Affected, Incident, IncidentAlert, IncidentTicket
from oncall.models import EscalationPolicy
from tickets.models import PageChain, Ticket

RECENT_INCIDENTS = 50


def incidents_for(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Incident]:
    """IT sees every incident; anyone else those that concern her (hospital-wide, her
    department, or one she joined). Anything else is a 404."""
    rows = Incident.objects.annotate(affected_count=Count("affected", distinct=True))
    if not user.is_authenticated:
        return rows.none()
    if is_it_staff(user):
        return rows
    return rows.filter(
        Q(hospital_wide=True)
        | Q(departments__id=home_department_id(user))
        | Q(pk__in=Affected.objects.filter(user_id=user.pk).values("incident_id"))
    ).distinct()


def incident_list(*, limit: int = RECENT_INCIDENTS) -> tuple[list[Incident], list[Incident]]:
    """Open incidents, and the latest resolved ones."""
    rows = list(
        Incident.objects.select_related("team", "commander")
        .annotate(
            affected_count=Count("affected", distinct=True),
            ticket_count=Count("ticket_links", distinct=True),
        )
        .order_by("-declared_at")[:limit]
    )
    return (
        [i for i in rows if i.status == Incident.Status.OPEN],
        [i for i in rows if i.status != Incident.Status.OPEN],
    )


def open_alerts() -> list[IncidentAlert]:
    return list(
        IncidentAlert.objects.filter(status=IncidentAlert.Status.OPEN)
        .select_related("category", "team")
        .annotate(ticket_count=Count("tickets"))
        .order_by("-detected_at")
    )


@dataclass(frozen=True, slots=True)
class TimelineMoment:
    at: datetime
    what: str


def incident_timeline(incident: Incident) -> list[TimelineMoment]:
    moments = [TimelineMoment(incident.started_at, "First ticket")]
    if incident.detected_at:
        moments.append(
            TimelineMoment(incident.detected_at, "Detected as a possible major incident")
        )
    moments.append(TimelineMoment(incident.declared_at, "Declared a major incident"))
    moments += [
        TimelineMoment(update.posted_at, f"Update: {update.text}")
        for update in incident.updates.all()
    ]
    if incident.resolved_at:
        moments.append(TimelineMoment(incident.resolved_at, f"Resolved: {incident.resolution}"))
    return sorted(moments, key=lambda moment: moment.at)


def linked_tickets(incident: Incident) -> list[Ticket]:
    return list(
        Ticket.objects.filter(
            pk__in=IncidentTicket.objects.filter(incident=incident).values("ticket_id")
        )
        .select_related("department")
        .order_by("created_at", "pk")
    )


def affected_by_unit(incident: Incident) -> list[tuple[str, int]]:
    rows = (
        Affected.objects.filter(incident=incident)
        .values("department__name")
        .annotate(count=Count("pk"))
        .order_by("-count", "department__name")
    )
    return [(row["department__name"] or "No department", row["count"]) for row in rows]


@dataclass(frozen=True, slots=True)
class CommanderPaging:
    chain: PageChain | None
    # False: the team has no incident commander ladder, and its ticket ladder is paged instead.
    has_own_ladder: bool


def commander_paging(incident: Incident) -> CommanderPaging:
    """How the paging for the incident's commander stands (``incident.commander_chain`` is
    best read with its ``acknowledged_by``)."""
    return CommanderPaging(
        chain=incident.commander_chain,
        has_own_ladder=EscalationPolicy.objects.filter(
            team_id=incident.team_id, purpose=EscalationPolicy.Purpose.COMMANDER
        ).exists(),
    )


def incident_for_ticket(ticket: Ticket) -> Incident | None:
    link = IncidentTicket.objects.filter(ticket=ticket).select_related("incident").first()
    return link.incident if link else None
