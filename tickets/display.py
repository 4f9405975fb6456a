"""What pages print about tickets: small frozen records built by the selectors
(``tickets/selectors.py``) from ``values()`` rows or model instances, by keyword. Nothing here
reads the database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from departments.roles import person_name
from tickets import sla
from tickets.models import (
    REDACTABLE_KINDS,
    STATUS_LABELS,
    SlaFacts,
    Ticket,
    TicketEvent,
    change_in_words,
    resolution_clock,
    response_clock,
    ticket_number,
)
from tickets.priority import PRIORITY_LABELS

# How a ticket reached IT, as its page says it.
FILED_VIA: dict[str, str] = {
    Ticket.Source.WEB: "Filed on the web form",
    Ticket.Source.EMAIL: "Filed by e-mail",
    Ticket.Source.API: "Filed through the API",
    Ticket.Source.PHONE: "Filed by phone",
}


@dataclass(frozen=True, slots=True)
class ClockView:
    name: str
    status: sla.ClockStatus
    due_at: datetime | None
    done_at: datetime | None

    @property
    def status_label(self) -> str:
        return sla.CLOCK_STATUS_LABELS[self.status]

    @property
    def is_running(self) -> bool:
        return self.status in (sla.ClockStatus.ON_TRACK, sla.ClockStatus.AT_RISK)


def sla_clocks(facts: SlaFacts, now: datetime) -> list[ClockView]:
    """Both clocks as the ticket page shows them."""
    views = []
    response = response_clock(facts, now)
    if response is not None:
        views.append(
            ClockView("First response", response, facts.response_due_at, facts.first_response_at)
        )
    resolution = resolution_clock(facts, now)
    if resolution is not None:
        views.append(
            ClockView("Resolution", resolution, facts.resolution_due_at, facts.resolved_at)
        )
    return views


def next_clock(facts: SlaFacts, now: datetime) -> ClockView | None:
    """The clock the queue shows: the first response until there is one, then resolution."""
    clocks = sla_clocks(facts, now)
    if not clocks:
        return None
    return clocks[0] if facts.first_response_at is None else clocks[-1]


@dataclass(slots=True)
class QueueRow:
    """One line of the queue, ready to print. Its SLA columns make it ``SlaFacts``, so its clock
    is the one the ticket page shows (the selector sets it from them, once)."""

    pk: int
    title: str
    priority: int
    status: str
    created_at: datetime
    first_response_at: datetime | None
    response_due_at: datetime | None
    response_warn_at: datetime | None
    response_breached_at: datetime | None
    resolved_at: datetime | None
    resolution_due_at: datetime | None
    resolution_warn_at: datetime | None
    resolution_breached_at: datetime | None
    # Filed by e-mail without the three answers: the row shows a Triage badge.
    needs_triage: bool
    department_code: str
    department_name: str
    critical_area: bool
    assignee_first_name: str | None
    assignee_last_name: str | None
    assignee_username: str | None
    url: str
    claim_url: str
    clock: ClockView | None = None

    @property
    def number(self) -> str:
        return ticket_number(self.pk)

    @property
    def assignee(self) -> str:
        """Who has it, named as everywhere else; empty while unassigned."""
        if self.assignee_username is None:
            return ""
        return person_name(
            self.assignee_first_name or "", self.assignee_last_name or "", self.assignee_username
        )

    @property
    def priority_label(self) -> str:
        return PRIORITY_LABELS[self.priority]

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]


@dataclass(frozen=True, slots=True)
class FiledTicket:
    """One of a person's own tickets as "My tickets" lists it."""

    pk: int
    title: str
    status: str
    priority: int
    created_at: datetime
    requester_id: int
    # Where it was filed from, and who has it (named as everywhere; empty while unassigned).
    location: str
    assignee: str
    url: str

    @property
    def number(self) -> str:
        return ticket_number(self.pk)

    @property
    def priority_label(self) -> str:
        return PRIORITY_LABELS[self.priority]

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]


_EVENT_KIND_LABELS: dict[str, str] = dict(TicketEvent.Kind.choices)


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One line of a ticket's timeline as its page prints it."""

    pk: int
    at: datetime
    kind: str
    is_public: bool
    old_value: str
    new_value: str
    text: str
    actor_first_name: str | None
    actor_last_name: str | None
    actor_username: str | None
    # The files that came with it and this reader may open, oldest first.
    files: tuple[AttachmentEntry, ...] = ()

    @property
    def kind_label(self) -> str:
        return _EVENT_KIND_LABELS[self.kind]

    @property
    def change_display(self) -> str:
        return change_in_words(self.kind, self.old_value, self.new_value)

    @property
    def is_redactable(self) -> bool:
        return bool(self.text) and self.kind in REDACTABLE_KINDS

    @property
    def actor(self) -> str:
        """Who did it, named as everywhere; empty for the system (the sweep, paging)."""
        if self.actor_username is None:
            return ""
        return person_name(self.actor_first_name or "", self.actor_last_name or "",
                           self.actor_username)  # fmt: skip


@dataclass(frozen=True, slots=True)
class RelatedTicket:
    """Another open ticket from the same unit, as the ticket page lists it."""

    pk: int
    number: str
    title: str
    location: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class AttachmentEntry:
    """A file as the ticket page lists it under the event it came with; ``url`` is the
    permission-checked view that serves it."""

    pk: int
    name: str
    content_type: str
    size: int
    url: str
    # IT's "Remove" form posts here.
    remove_url: str

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")

    @property
    def type_label(self) -> str:
        return ATTACHMENT_TYPE_LABELS.get(self.content_type.split(";")[0], "File")

    @property
    def size_label(self) -> str:
        if self.size < 1024:
            return f"{self.size} bytes"
        if self.size < 1024 * 1024:
            return f"{self.size / 1024:.0f} KB"
        return f"{self.size / (1024 * 1024):.1f} MB"


ATTACHMENT_TYPE_LABELS = {
    "image/png": "PNG image", "image/jpeg": "JPEG image", "image/gif": "GIF image",
    "image/webp": "WebP image", "application/pdf": "PDF", "text/plain": "Text",
    "text/csv": "CSV", "message/rfc822": "E-mail", "application/vnd.ms-outlook": "Outlook message",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "Excel workbook",
}  # fmt: skip
