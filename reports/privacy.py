"""The privacy officer's questions, asked of the audit log:

- who viewed this ticket (and what else was done to it),
- what did this person view between these dates,
- unusual access: a requester's ticket read by someone outside IT who is not its requester, and
  bursts of views (``HELPDESK_AUDIT_BURST_VIEWS`` tickets by one person within
  ``HELPDESK_AUDIT_BURST_MINUTES`` minutes).

Each answer reads one index of the log (audit.models: by ticket, by person, by kind and time),
so it costs what the answer holds, not what the log holds.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.db.models import (
    BooleanField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)

from audit.models import VIEW_KINDS, AuditEntry
from departments.roles import IT_ROLES, person_name
from reports import conf
from tickets.models import Ticket, ticket_number

# A ticket's page lists this many entries, newest first; its CSV has them all.
TICKET_PAGE_ROWS = 500
# A person's activity, and the unusual reads, list this many; their CSVs have them all.
LIST_PAGE_ROWS = 500

_ACTOR = {
    "actor_username": F("actor__username"),
    "actor_first_name": F("actor__first_name"),
    "actor_last_name": F("actor__last_name"),
}
_COLUMNS = ("pk", "at", "kind", "ticket_id", "object_type", "object_id", "detail", "actor_id")


@dataclass(frozen=True, slots=True)
class Access:
    """One line of the log, as the privacy pages print it."""

    at: datetime
    kind: str
    ticket_id: int | None
    object_type: str
    object_id: str
    detail: dict[str, Any]
    actor_id: int | None
    actor_username: str | None
    actor_name: str
    # Whether the person holds an IT role (technician, manager, admin) today.
    actor_is_it: bool = False
    requester_id: int | None = None

    @property
    def ticket_number(self) -> str:
        return ticket_number(self.ticket_id) if self.ticket_id is not None else ""

    @property
    def kind_label(self) -> str:
        return AuditEntry.Kind(self.kind).label

    @property
    def via(self) -> str:
        return str(self.detail.get("via", ""))

    @property
    def what(self) -> str:
        """What else the entry names, in words: the attachment, the report and its filters."""
        if self.kind == AuditEntry.Kind.ATTACHMENT_VIEWED:
            return f"attachment {self.object_id}"
        if self.kind == AuditEntry.Kind.EXPORT:
            filters = self.detail.get("filters", {})
            shown = ", ".join(f"{key}={value}" for key, value in sorted(filters.items()))
            report = str(self.detail.get("report", ""))
            return f"{report} ({shown})" if shown else report
        if self.object_type:
            return f"{self.object_type} {self.object_id}"
        return ""


def _it_staff() -> Q:
    """People holding an IT role, as a condition on the entry's actor."""
    return Q(actor__is_superuser=True) | Q(
        Exists(Group.objects.filter(user=OuterRef("actor_id"), name__in=IT_ROLES))
    )


def _rows(entries: QuerySet[AuditEntry], *annotated: str) -> list[Access]:
    """The entries, with who did each: one query."""
    found = []
    for row in entries.values(*_COLUMNS, *annotated, **_ACTOR):
        first, last = row.pop("actor_first_name"), row.pop("actor_last_name")
        username = row["actor_username"]
        row.pop("pk")
        name = person_name(first or "", last or "", username) if username else ""
        found.append(Access(actor_name=name, **row))
    return found


def ticket_access(*, ticket_id: int, limit: int | None = TICKET_PAGE_ROWS) -> list[Access]:
    """Everyone who viewed the ticket (its page, the API, its files) and every other entry
    about it, newest first; with whether each person is in IT and who filed it."""
    entries = (
        AuditEntry.objects.filter(ticket_id=ticket_id)
        .annotate(actor_is_it=ExpressionWrapper(_it_staff(), output_field=BooleanField()))
        .order_by("-at", "-pk")
    )
    rows = _rows(entries[:limit] if limit else entries, "actor_is_it")
    requester = (
        Ticket.objects.filter(pk=ticket_id)
        .order_by()
        .values_list("requester_id", flat=True)
        .first()
    )
    return [replace(row, requester_id=requester) for row in rows]


def local_range(start: date, end: date) -> tuple[datetime, datetime]:
    """From the start of ``start`` to the end of ``end``, in the hospital's time."""
    tz = conf.hospital_tz()
    return (
        datetime.combine(start, time.min, tzinfo=tz),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz),
    )


def person_activity(
    *, user_id: int, start: date, end: date, limit: int | None = LIST_PAGE_ROWS
) -> list[Access]:
    """Everything the person did that the log records between the two days (inclusive),
    newest first: the tickets and files she viewed, her exports, her sign-ins."""
    since, until = local_range(start, end)
    entries = AuditEntry.objects.filter(actor_id=user_id, at__gte=since, at__lt=until).order_by(
        "-at", "-pk"
    )
    return _rows(entries[:limit] if limit else entries)


def outside_reads(*, start: date, end: date, limit: int | None = LIST_PAGE_ROWS) -> list[Access]:
    """Views of a ticket by someone who is neither in IT nor its requester (a colleague of her
    unit when requesters see their department's tickets, an integration, or someone who should
    not have), newest first."""
    since, until = local_range(start, end)
    requester = Ticket.objects.filter(pk=OuterRef("ticket_id")).order_by().values("requester_id")
    entries = (
        AuditEntry.objects.filter(kind__in=VIEW_KINDS, at__gte=since, at__lt=until)
        .annotate(requester_id=Subquery(requester))
        .exclude(actor_id=F("requester_id"))
        .exclude(_it_staff())
        .order_by("-at", "-pk")
    )
    return _rows(entries[:limit] if limit else entries, "requester_id")


@dataclass(frozen=True, slots=True)
class Burst:
    actor_id: int
    actor_username: str
    actor_name: str
    first_at: datetime
    last_at: datetime
    tickets: int
    views: int


def bursts(*, start: date, end: date) -> list[Burst]:
    """Runs of views in which one person opened at least ``HELPDESK_AUDIT_BURST_VIEWS``
    different tickets within ``HELPDESK_AUDIT_BURST_MINUTES`` minutes; overlapping runs of one
    person are one burst. Most tickets first."""
    since, until = local_range(start, end)
    # In time order, read from the (kind, at) index; split by person here.
    views = (
        AuditEntry.objects.filter(kind=AuditEntry.Kind.TICKET_VIEWED, at__gte=since, at__lt=until)
        .order_by("at", "pk")
        .values_list("actor_id", "at", "ticket_id")
    )
    by_person: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
    for actor_id, at, ticket_id in views:
        if actor_id is not None and ticket_id is not None:
            by_person[actor_id].append((at, ticket_id))
    spans = {actor_id: runs for actor_id, seen in by_person.items() if (runs := _burst_spans(seen))}
    people = {
        row[0]: row[1:]
        for row in User.objects.filter(pk__in=spans).values_list(
            "pk", "username", "first_name", "last_name"
        )
    }
    found: list[Burst] = []
    for actor_id, person_spans in spans.items():
        username, first, last = people[actor_id]
        for first_at, last_at, tickets, count in person_spans:
            found.append(
                Burst(
                    actor_id=actor_id,
                    actor_username=username,
                    actor_name=person_name(first, last, username),
                    first_at=first_at,
                    last_at=last_at,
                    tickets=tickets,
                    views=count,
                )
            )
    return sorted(found, key=lambda burst: (-burst.tickets, burst.first_at))


def _burst_spans(
    seen: Iterable[tuple[datetime, int]],
) -> list[tuple[datetime, datetime, int, int]]:
    """One person's views, oldest first -> (first, last, distinct tickets, views) of each burst:
    a sliding window of the burst's length, and windows that reach the threshold and overlap
    merged into one."""
    threshold = settings.HELPDESK_AUDIT_BURST_VIEWS
    length = timedelta(minutes=settings.HELPDESK_AUDIT_BURST_MINUTES)
    views = list(seen)
    window: deque[tuple[datetime, int]] = deque()
    counts: dict[int, int] = defaultdict(int)
    spans: list[tuple[datetime, datetime]] = []
    for at, ticket_id in views:
        window.append((at, ticket_id))
        counts[ticket_id] += 1
        while window[0][0] <= at - length:
            _old_at, old_ticket = window.popleft()
            counts[old_ticket] -= 1
            if not counts[old_ticket]:
                del counts[old_ticket]
        if len(counts) >= threshold:
            begin = window[0][0]
            if spans and begin <= spans[-1][1]:
                spans[-1] = (spans[-1][0], at)
            else:
                spans.append((begin, at))
    result = []
    for begin, finish in spans:
        inside = [ticket for at, ticket in views if begin <= at <= finish]
        result.append((begin, finish, len(set(inside)), len(inside)))
    return result
