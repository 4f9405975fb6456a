"""A ticket's timeline: append-only events, and how a change reads in words."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from core.append_only import AppendOnlyModel, AppendOnlyQuerySet
from tickets.models.ticket import Ticket, TicketStatus


class TicketEventQuerySet(AppendOnlyQuerySet["TicketEvent"]):
    def public(self) -> TicketEventQuerySet:
        return self.filter(is_public=True)

    def scrub(self, **texts: str) -> int:
        """The one change a timeline row takes: patient data taken out of its texts
        (services.ticket_redact). Who did what, and when, stays as it was."""
        refused = sorted(set(texts) - SCRUBBED_FIELDS)
        if refused:
            raise TypeError(f"Only an event's texts can be scrubbed, not {', '.join(refused)}.")
        return models.QuerySet.update(self, **texts)


# The columns of an event that hold text someone typed, or a copy of it (an edited title).
SCRUBBED_FIELDS = frozenset({"text", "old_value", "new_value"})


class TicketEvent(AppendOnlyModel):
    REFUSAL = "The ticket timeline is append-only."

    """The ticket's timeline and audit trail. Rows are only ever added."""

    class Kind(models.TextChoices):
        FILED = "filed", "Filed"
        ESCALATED = "escalated", "Escalated by department"
        COMMENT = "comment", "Comment"
        INTERNAL_NOTE = "internal_note", "Internal note"
        STATUS = "status", "Status changed"
        PRIORITY = "priority", "Priority changed"
        ASSIGNMENT = "assignment", "Assigned"
        PHI_FLAGGED = "phi_flagged", "Possible patient data"
        SLA_WARNING = "sla_warning", "SLA at risk"
        SLA_BREACH = "sla_breach", "SLA breached"
        PAGE = "page", "Paged"
        PAGE_SENT = "page_sent", "Page delivered"
        PAGE_FAILED = "page_failed", "Page failed"
        PAGE_ESCALATED = "page_escalated", "Escalated to next on call"
        PAGE_UNANSWERED = "page_unanswered", "Page unanswered"
        ACK = "ack", "Acknowledged"
        EDITED = "edited", "Details changed"
        OTHER_UNIT = "other_unit", "Filed for another unit"
        FEEDBACK = "feedback", "Requester's answer"
        REDACTED = "redacted", "Patient data removed"
        ATTACHMENT_REMOVED = "attachment_del", "Attachment removed"
        # The three questions answered for a ticket filed without them (by e-mail).
        TRIAGED = "triaged", "Urgency answered"

    # Indexed by event_ticket_at, which leads with it.
    ticket = models.ForeignKey(
        Ticket, on_delete=models.PROTECT, related_name="events", db_index=False
    )
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # Whether the requester sees it on their ticket page; internal notes and audit rows never.
    is_public = models.BooleanField(default=False)
    old_value = models.CharField(max_length=120, blank=True)
    new_value = models.CharField(max_length=120, blank=True)
    text = models.TextField(blank=True)

    objects = TicketEventQuerySet.as_manager()

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["ticket", "at"], name="event_ticket_at")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.ticket_id} at {self.at:%Y-%m-%d %H:%M}"

    @property
    def kind_label(self) -> str:
        return self.Kind(self.kind).label

    @property
    def change_display(self) -> str:
        return change_in_words(self.kind, self.old_value, self.new_value)


# Events whose text a person typed (a comment, a note for the requester, a reason): the ones the
# ticket page offers to remove patient data from.
REDACTABLE_KINDS = frozenset({
    TicketEvent.Kind.COMMENT, TicketEvent.Kind.INTERNAL_NOTE, TicketEvent.Kind.STATUS,
    TicketEvent.Kind.PRIORITY, TicketEvent.Kind.FEEDBACK,
})  # fmt: skip

# A status's words, by its value (what rows read as values print).
STATUS_LABELS = dict(TicketStatus.choices)
_CHANGES_SHOWN_AS_IS = (
    TicketEvent.Kind.PRIORITY, TicketEvent.Kind.ESCALATED, TicketEvent.Kind.ASSIGNMENT,
    TicketEvent.Kind.TRIAGED,
)  # fmt: skip


def change_in_words(kind: str, old_value: str, new_value: str) -> str:
    """ "In progress -> Resolved", "P3 -> P2": an event's change, in words, where it has one."""
    if kind == TicketEvent.Kind.STATUS:
        old, new = STATUS_LABELS.get(old_value, ""), STATUS_LABELS.get(new_value, "")
    elif kind in _CHANGES_SHOWN_AS_IS:
        old, new = old_value, new_value
    else:
        return ""
    return f"{old} \u2192 {new}" if old else new
