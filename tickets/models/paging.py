"""Page chains: one run of a team's escalation ladder, and the pages it sent.

Most chains page about a ticket. A chain may also page about something that is not a ticket
(a declared major incident pages for its commander): it then has no ticket, and whoever started
it wrote its ``summary`` (structured, never what a nurse typed) and the ``link`` the page opens."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Now
from django.utils import timezone

from departments.models import Team
from oncall.models import EscalationPolicy
from tickets.models.ticket import Ticket


class PageChain(models.Model):
    """One run of a team's escalation ladder, until acknowledged or resolved.

    The chain's state moves only under a row lock (select_for_update), so an acknowledgement and
    an escalation never interleave: once acknowledged, no page of a later step is written.
    """

    class Reason(models.TextChoices):
        P1_FILED = "p1_filed", "P1 filed"
        CRITICAL_AREA = "critical_area", "Filed in an auto-escalating department"
        RESPONSE_BREACH = "response_breach", "First response target breached"
        MANUAL = "manual", "Paged by a technician"
        # Several units filing about one system at once: one page for the whole cluster.
        POSSIBLE_MAJOR = "possible_major", "Possible major incident"
        # A major incident was declared: its team's incident commander is paged.
        MAJOR_INCIDENT = "major_incident", "Major incident declared"

    class Status(models.TextChoices):
        ACTIVE = "active", "Paging"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        RESOLVED = "resolved", "Ended: resolved"
        UNANSWERED = "unanswered", "Unanswered"

    ticket = models.ForeignKey(
        Ticket, on_delete=models.PROTECT, null=True, blank=True, related_name="page_chains"
    )
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="page_chains")
    reason = models.CharField(max_length=16, choices=Reason.choices)
    # Which of the team's ladders the chain walks (oncall.EscalationPolicy.Purpose).
    ladder = models.CharField(
        max_length=12,
        choices=EscalationPolicy.Purpose.choices,
        default=EscalationPolicy.Purpose.TICKETS,
    )
    # What the page says beyond the ticket's own fields, or instead of them for a chain without
    # a ticket; written from structured fields by whoever started the chain, never free text.
    summary = models.CharField(max_length=400, blank=True)
    link = models.CharField(max_length=200, blank=True)  # the page to open, without a ticket
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    started_at = models.DateTimeField(default=timezone.now)
    # Where the ladder stands: the step, the pass through the ladder, the re-page within the step.
    step = models.PositiveSmallIntegerField(default=0)
    round = models.PositiveSmallIntegerField(default=0)
    repeat = models.PositiveSmallIntegerField(default=0)
    step_started_at = models.DateTimeField(default=timezone.now)
    next_action_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket"],
                condition=models.Q(status="active"),
                name="page_chain_one_active_per_ticket",
            )
        ]
        indexes = [
            models.Index(
                fields=["next_action_at"],
                name="page_chain_due",
                condition=models.Q(status="active"),
            ),
            models.Index(fields=["-started_at"], name="page_chain_recent"),
        ]

    def __str__(self) -> str:
        return f"Paging for {self.subject} ({self.get_status_display()})"

    @property
    def subject(self) -> str:
        """What the chain pages about, in a few words."""
        return self.ticket.number if self.ticket else self.summary.split(":")[0]

    @property
    def target_url(self) -> str:
        """The page a paged technician opens."""
        return self.ticket.get_absolute_url() if self.ticket else self.link

    @property
    def seconds_to_acknowledge(self) -> float | None:
        if self.acknowledged_at is None:
            return None
        return (self.acknowledged_at - self.started_at).total_seconds()


class Page(models.Model):
    """One message to one person on one channel: the outbox row a delivery task claims."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to send"
        SENDING = "sending", "Sending"
        SENT = "sent", "Delivered"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Not sent: acknowledged or resolved"

    chain = models.ForeignKey(PageChain, on_delete=models.PROTECT, related_name="pages")
    ticket = models.ForeignKey(
        Ticket, on_delete=models.PROTECT, null=True, blank=True, related_name="pages"
    )
    step = models.PositiveSmallIntegerField()
    round = models.PositiveSmallIntegerField()
    repeat = models.PositiveSmallIntegerField()
    target = models.CharField(max_length=12)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="pages_received"
    )
    channel = models.CharField(max_length=16)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    # When the page was due (the sweep's time, which the timeline shows).
    created_at = models.DateTimeField(default=timezone.now)
    # When the row was written and claimed, by the database's clock: how long a page has waited
    # or a worker has held it is judged on the one clock every process shares, so a process
    # whose own clock runs ahead never takes a page another worker is sending for stranded.
    queued_at = models.DateTimeField(db_default=Now())
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                # The chain names the ticket, if any: a chain without one is just as unique.
                fields=["chain", "step", "round", "repeat", "recipient", "channel"],
                name="page_once_per_chain_step_recipient_channel",
            )
        ]
        indexes = [
            models.Index(
                fields=["queued_at"],
                name="page_unsent",
                condition=models.Q(status__in=["pending", "sending"]),
            ),
        ]

    def __str__(self) -> str:
        return f"Page {self.pk} to {self.recipient} by {self.channel} ({self.status})"

    @property
    def dedupe_key(self) -> str:
        return f"page-{self.pk}"
