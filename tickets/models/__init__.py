"""Tickets and everything that happens to them ("what, how fast"): the ticket and its categories,
its timeline and attachments, SLA policies and the alerts of its clocks, its page chains, and the
tasks the broker did not take. The rest of the project imports them from here."""

from tickets.models.alerts import SlaAlert
from tickets.models.attachments import Attachment, AttachmentQuerySet
from tickets.models.outbox import OutgoingEmail, UnpublishedTask
from tickets.models.paging import Page, PageChain
from tickets.models.sla import SlaPolicy
from tickets.models.ticket import (
    CLOCK_RUNNING_STATUSES,
    OPEN_STATUSES,
    PAUSED_STATUSES,
    Category,
    SlaFacts,
    Ticket,
    TicketQuerySet,
    TicketStatus,
    filing_categories,
    parse_ticket_number,
    resolution_clock,
    response_clock,
    sees_every_ticket,
    ticket_number,
)
from tickets.models.timeline import (
    REDACTABLE_KINDS,
    SCRUBBED_FIELDS,
    STATUS_LABELS,
    TicketEvent,
    TicketEventQuerySet,
    change_in_words,
)

__all__ = [
    "CLOCK_RUNNING_STATUSES",
    "OPEN_STATUSES",
    "PAUSED_STATUSES",
    "REDACTABLE_KINDS",
    "SCRUBBED_FIELDS",
    "STATUS_LABELS",
    "Attachment",
    "AttachmentQuerySet",
    "Category",
    "OutgoingEmail",
    "Page",
    "PageChain",
    "SlaAlert",
    "SlaFacts",
    "SlaPolicy",
    "Ticket",
    "TicketEvent",
    "TicketEventQuerySet",
    "TicketQuerySet",
    "TicketStatus",
    "UnpublishedTask",
    "change_in_words",
    "filing_categories",
    "parse_ticket_number",
    "resolution_clock",
    "response_clock",
    "sees_every_ticket",
    "ticket_number",
]
