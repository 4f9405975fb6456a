"""Reads for the ticket pages, the queue and the API lists: keyword-only functions returning
querysets, model instances or the frozen records of ``tickets/display.py``, written with the
public ORM only (``select_related``, ``only``, ``values``, annotations). Every change goes
through ``tickets/services.py``; nothing here writes.

Lists are read as ``values()`` and built by keyword, so a page of fifty rows builds fifty small
records rather than fifty model instances with their related ones.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.db.models import Count, F, FilteredRelation, OuterRef, Q, QuerySet, Subquery

from core.links import ids_url, pk_url
from core.reference_cache import ReferenceCache
from departments.models import Department, Location, Team
from departments.roles import display_name, is_it_staff, person_name
from tickets.display import (
    AttachmentEntry,
    FiledTicket,
    QueueRow,
    RelatedTicket,
    TimelineEntry,
    next_clock,
)
from tickets.forms import AssignForm
from tickets.models import (
    Attachment,
    Category,
    PageChain,
    Ticket,
    TicketEvent,
    TicketQuerySet,
    ticket_number,
)
from tickets.queue import PAGE_SIZE, queue_rows

# --- One ticket ----------------------------------------------------------------------------


def ticket_visible_to(*, user: AbstractBaseUser | AnonymousUser, pk: int) -> Ticket | None:
    """The ticket with its requester and assignee (one query), if this user may see it; its
    department, location, category and team come from the reference cache
    (``attach_references``)."""
    try:
        ticket = Ticket.objects.for_user(user).select_related("requester", "assignee").get(pk=pk)
    except Ticket.DoesNotExist:
        return None
    return attach_references(ticket)


@dataclass(frozen=True, slots=True)
class References:
    """Every department, location, category and team, by id: the rows a ticket page names."""

    departments: dict[int, Department]
    locations: dict[int, Location]
    categories: dict[int, Category]
    teams: dict[int, Team]

    @classmethod
    def load(cls) -> References:
        return cls(
            departments=Department.objects.in_bulk(),
            locations=Location.objects.in_bulk(),
            categories=Category.objects.select_related("parent").in_bulk(),
            teams=Team.objects.in_bulk(),
        )

    def covers(self, ticket: Ticket) -> bool:
        return (
            ticket.department_id in self.departments
            and ticket.location_id in self.locations
            and ticket.category_id in self.categories
            and (ticket.team_id is None or ticket.team_id in self.teams)
        )


_references: ReferenceCache[str, References] = ReferenceCache(Department, Location, Category, Team)


def references_covering(check: Callable[[References], bool]) -> References:
    """The reference rows held in this process, reloaded once if ``check`` finds one missing (a
    row newer than them, whose version move this process has not seen)."""
    found = _references.get_or_set("all", References.load)
    if not check(found):
        _references.clear()
        found = _references.get_or_set("all", References.load)
    return found


def attach_references(ticket: Ticket) -> Ticket:
    """Give a ticket its department, location, category and team from the reference rows held
    in this process instead of joining their tables: PostgreSQL's planning time grows with every
    table a query joins, and a ticket page would otherwise pay for six joins on every view. The
    rows are shared; treat them as read-only. A row newer than them reloads them once."""
    found = references_covering(lambda rows: rows.covers(ticket))
    ticket.department = found.departments[ticket.department_id]
    ticket.location = found.locations[ticket.location_id]
    ticket.category = found.categories[ticket.category_id]
    ticket.team = found.teams[ticket.team_id] if ticket.team_id is not None else None
    return ticket


# What a line of "My tickets" shows: a person's latest fifty on every visit.
_FILED_COLUMNS = ("pk", "title", "status", "priority", "created_at", "requester_id", "location_id")
_FILED_RELATED = {
    "assignee_first_name": F("assignee__first_name"),
    "assignee_last_name": F("assignee__last_name"),
    "assignee_username": F("assignee__username"),
}


def requester_tickets(*, requester: User, limit: int) -> list[FiledTicket]:
    """The latest ``limit`` tickets a person filed, newest first, with whom each is with (one
    query); their locations are named from the reference rows held in this process."""
    rows = list(
        Ticket.objects.filter(requester=requester)
        .order_by("-created_at")
        .values(*_FILED_COLUMNS, **_FILED_RELATED)[:limit]
    )
    locations = references_covering(
        lambda found: all(row["location_id"] in found.locations for row in rows)
    ).locations
    detail = pk_url("ticket_detail")
    filed = []
    for row in rows:
        first = row.pop("assignee_first_name")
        last = row.pop("assignee_last_name")
        username = row.pop("assignee_username")
        location = locations[row.pop("location_id")]
        filed.append(
            FiledTicket(
                **row,
                location=str(location),
                assignee=person_name(first or "", last or "", username) if username else "",
                url=detail(row["pk"]),
            )
        )
    return filed


def requester_ticket_counts(*, requester: User) -> dict[str, int]:
    """How many tickets a person filed, and how many of them are open, in one aggregate."""
    return Ticket.objects.filter(requester=requester).aggregate(
        open=Count("pk", filter=Q(status__in=Ticket.OPEN_STATUSES)), total=Count("pk")
    )


# --- The queue -----------------------------------------------------------------------------

# What a queue row shows, and nothing else: a page reads 50 rows on every poll.
_QUEUE_ROW_COLUMNS = (
    "pk", "title", "priority", "status", "created_at",
    "first_response_at", "response_due_at", "response_warn_at", "response_breached_at",
    "resolved_at", "resolution_due_at", "resolution_warn_at", "resolution_breached_at",
    "needs_triage",
)  # fmt: skip
_QUEUE_ROW_RELATED = {
    "department_code": F("department__code"),
    "department_name": F("department__name"),
    "critical_area": F("department__auto_escalate"),
    "assignee_first_name": F("assignee__first_name"),
    "assignee_last_name": F("assignee__last_name"),
    "assignee_username": F("assignee__username"),
}


def queue_page(
    *, tickets: QuerySet[Ticket], now: datetime, size: int = PAGE_SIZE
) -> list[QueueRow]:
    """The first ``size`` of ``tickets``' open ones, in queue order, ready to print."""
    detail, claim = pk_url("ticket_detail"), pk_url("claim")
    rows = []
    for values in queue_rows(tickets).values(*_QUEUE_ROW_COLUMNS, **_QUEUE_ROW_RELATED)[:size]:
        pk = values["pk"]
        row = QueueRow(**values, url=detail(pk), claim_url=claim(pk))
        # The clock reads the row's own SLA columns.
        row.clock = next_clock(row, now)
        rows.append(row)
    return rows


def latest_ticket_change() -> datetime | None:
    """When any ticket last changed: every write moves ``updated_at`` (the newest entry of its
    index)."""
    return Ticket.objects.order_by("-updated_at").values_list("updated_at", flat=True).first()


# --- A ticket's page -----------------------------------------------------------------------

_TIMELINE_COLUMNS = ("pk", "at", "kind", "is_public", "old_value", "new_value", "text")
_TIMELINE_ACTOR = {
    "actor_first_name": F("actor__first_name"),
    "actor_last_name": F("actor__last_name"),
    "actor_username": F("actor__username"),
}


def timeline_events(*, ticket: Ticket, public_only: bool) -> QuerySet[TicketEvent]:
    """A ticket's timeline, oldest first: all of it for IT, the public part for the requester.
    (Who read it is in the audit log, not here.)"""
    events = TicketEvent.objects.filter(ticket=ticket)
    if public_only:
        events = events.filter(is_public=True)
    return events.order_by("at", "pk")


# The files each event came with, joined to it: a removed file is not joined.
_TIMELINE_FILE = {
    "file_pk": F("file__pk"),
    "file_name": F("file__original_name"),
    "file_type": F("file__content_type"),
    "file_size": F("file__size"),
}


def ticket_timeline(*, ticket: Ticket, public_only: bool) -> list[TimelineEntry]:
    """``timeline_events`` as the ticket page prints them, with who did each and the files each
    came with (one query: an event with two files is two rows). The events are the ones this
    reader sees, so their files are too: a requester sees no internal note, nor its files."""
    download = ids_url("attachment_download", "pk", "attachment")
    remove = ids_url("remove_attachment", "pk", "attachment")
    rows = (
        timeline_events(ticket=ticket, public_only=public_only)
        .annotate(file=FilteredRelation("attachments", condition=Q(attachments__deleted_at=None)))
        .values(*_TIMELINE_COLUMNS, **_TIMELINE_ACTOR, **_TIMELINE_FILE)
        .order_by("at", "pk", "file__pk")
    )
    events: dict[int, tuple[dict[str, Any], list[AttachmentEntry]]] = {}
    for values in rows:
        file = {key: values.pop(key) for key in _TIMELINE_FILE}
        _, files = events.setdefault(values["pk"], (values, []))
        if file["file_pk"] is not None:
            files.append(
                AttachmentEntry(
                    pk=file["file_pk"],
                    name=file["file_name"],
                    content_type=file["file_type"],
                    size=file["file_size"],
                    url=download(ticket.pk, file["file_pk"]),
                    remove_url=remove(ticket.pk, file["file_pk"]),
                )
            )
    return [TimelineEntry(**values, files=tuple(files)) for values, files in events.values()]


def attachment_visible_to(
    *, ticket: Ticket, user: AbstractBaseUser | AnonymousUser, pk: int
) -> Attachment | None:
    """One attachment of a ticket this user sees (``get_ticket_for`` has checked the ticket):
    not removed, and for a requester never one that came with an internal note."""
    attachments = ticket.attachments.live()
    if not is_it_staff(user):
        attachments = attachments.seen_by_requester()
    return attachments.filter(pk=pk).first()


def visible_attachments(
    *, ticket: Ticket, user: AbstractBaseUser | AnonymousUser
) -> QuerySet[Attachment]:
    """The ticket's attachments this user sees, oldest first."""
    attachments = ticket.attachments.live()
    if not is_it_staff(user):
        attachments = attachments.seen_by_requester()
    return attachments.order_by("created_at", "pk")


def active_page_chain(*, ticket: Ticket) -> PageChain | None:
    """The chain paging the on-call for this ticket now, with its team, if one is running."""
    return ticket.page_chains.filter(status=PageChain.Status.ACTIVE).select_related("team").first()


def latest_page_chain(*, ticket: Ticket) -> PageChain | None:
    """The ticket's most recent chain, running or ended, with who acknowledged it."""
    return ticket.page_chains.select_related("acknowledged_by").order_by("-started_at").first()


RELATED_WINDOW = timedelta(hours=12)
RELATED_SHOWN = 8


def related_open_tickets(*, ticket: Ticket) -> list[RelatedTicket]:
    """Other open tickets from the same unit in the twelve hours before this one was filed: the
    duplicates worth a look. A ticket's department is its location's, so the department's
    tickets take in the location's. Read as values; the locations are named from the reference
    cache."""
    since = ticket.created_at - RELATED_WINDOW
    rows = list(
        Ticket.objects.open()
        .filter(department_id=ticket.department_id, created_at__gte=since)
        .exclude(pk=ticket.pk)
        .order_by("-created_at")
        .values("pk", "title", "location_id", "created_at")[:RELATED_SHOWN]
    )
    locations = references_covering(
        lambda found: all(row["location_id"] in found.locations for row in rows)
    ).locations
    return [
        RelatedTicket(
            pk=row["pk"],
            number=ticket_number(row["pk"]),
            title=row["title"],
            location=str(locations[row["location_id"]]),
            created_at=row["created_at"],
        )
        for row in rows
    ]


def assignable_people() -> list[tuple[int, str]]:
    """Whom a ticket can go to (the assign form's choices), as (pk, name)."""
    people = AssignForm.people().only("first_name", "last_name", "username")
    return [(user.pk, display_name(user)) for user in people]


# --- The API -------------------------------------------------------------------------------

# What a ticket's answer reads: these columns, the two people's names and the four reference
# codes. The codes come from scalar subqueries, not joins: PostgreSQL spends milliseconds planning
# a query that joins the ticket to six tables (the join search grows with every table), against
# well under 1 ms with the two joins to the people and four one-row subqueries.
# queue_rank and next_due_at are for the cursor pagination of the queue's order.
API_COLUMNS = (
    "id", "title", "description", "status", "priority", "urgency", "impact", "auto_escalated",
    "care_delayed", "callback", "created_at", "updated_at", "first_response_at", "resolved_at",
    "closed_at",
    "response_due_at", "response_warn_at", "response_breached_at", "resolution_due_at",
    "resolution_warn_at", "resolution_breached_at", "phi_suspected", "resolution_code",
    "source", "needs_triage", "queue_rank", "next_due_at",
)  # fmt: skip
# Built once: each request's queryset resolves its own copies.
REFERENCE_CODES = {
    name: Subquery(model._default_manager.filter(pk=OuterRef(column)).order_by().values(field))
    for name, (model, column, field) in {
        "department_code": (Department, "department_id", "code"),
        "department_auto_escalate": (Department, "department_id", "auto_escalate"),
        "location_code": (Location, "location_id", "code"),
        "category_slug": (Category, "category_id", "slug"),
        "team_slug": (Team, "team_id", "slug"),
    }.items()
}
PEOPLE_COLUMNS = {
    f"{role}_{column}": (role, column)
    for role in ("requester", "assignee")
    for column in ("first_name", "last_name", "username")
}
_PEOPLE = {name: F(f"{role}__{column}") for name, (role, column) in PEOPLE_COLUMNS.items()}


def api_tickets(*, tickets: TicketQuerySet) -> TicketQuerySet:
    """These tickets with exactly what the API's ticket answer shows, in one query."""
    return tickets.only(*API_COLUMNS).annotate(**REFERENCE_CODES, **_PEOPLE)


def api_ticket_rows(*, tickets: TicketQuerySet) -> QuerySet[Ticket, Any]:
    """The same as plain rows with named columns: no model instances for a page of 50."""
    return api_tickets(tickets=tickets).values_list(
        *API_COLUMNS, *REFERENCE_CODES, *_PEOPLE, named=True
    )
