"""What the help desk's mailboxes received, and how each mailbox is being read.

Every e-mail read gets a row, written in the same transaction as the ticket or comment it made:
a message read twice (the poll ran again before it was moved, or the worker died in between)
finds its row and makes nothing a second time.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from tickets.models import Ticket, TicketEvent


class InboundMessage(models.Model):
    class Outcome(models.TextChoices):
        FILED = "filed", "Filed as a ticket"
        COMMENTED = "commented", "Added to a ticket"
        HELD = "held", "Held for review"
        IGNORED = "ignored", "Ignored (sent by a machine)"
        ACCEPTED = "accepted", "Accepted by IT"
        DISCARDED = "discarded", "Discarded by IT"

    class Hold(models.TextChoices):
        UNKNOWN_SENDER = "unknown_sender", "The sender is not a help desk user"
        SHARED_ADDRESS = "shared_address", "Several help desk users have this address"
        NO_UNIT = "no_unit", "The sender has no unit and the mailbox no default location"
        FORGED_TOKEN = "forged_token", "The reply address's signature is wrong"
        NOT_ALLOWED = "not_allowed", "The sender may not see the ticket replied to"
        REPLY_REFUSED = "reply_refused", "The ticket did not take the reply"
        VENDOR = "vendor", "A vendor's mail about a ticket"

    mailbox = models.CharField(max_length=40)
    # The Message-ID, or "sha256:<hash of the message>" for a message without one.
    message_key = models.CharField(max_length=255)
    received_at = models.DateTimeField()
    sender = models.CharField(max_length=254, blank=True)
    sender_name = models.CharField(max_length=200, blank=True)
    subject = models.CharField(max_length=255, blank=True)
    outcome = models.CharField(max_length=12, choices=Outcome.choices)
    hold = models.CharField(max_length=16, choices=Hold.choices, blank=True)
    # Why: a machine's header, a refusal, files not taken. Never the message's words.
    note = models.CharField(max_length=500, blank=True)
    # Kept while the message waits for review (and for what review decides): the words as text,
    # and the message as it came, for its files. Cleared once IT has decided.
    body = models.TextField(blank=True)
    raw = models.BinaryField(null=True, blank=True, editable=False)
    ticket = models.ForeignKey(
        Ticket, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    event = models.ForeignKey(
        TicketEvent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["mailbox", "message_key"], name="inbound_message_once_per_mailbox"
            )
        ]
        indexes = [
            # "Mail to review": the held messages, newest first.
            models.Index(fields=["outcome", "-received_at"], name="inbound_outcome_received"),
            # The status panel: what each mailbox took in over the last day.
            models.Index(fields=["mailbox", "received_at"], name="inbound_mailbox_received"),
        ]

    def __str__(self) -> str:
        return f"{self.mailbox} message {self.pk} ({self.get_outcome_display()})"

    @property
    def is_held(self) -> bool:
        return self.outcome == self.Outcome.HELD


class MailboxStatus(models.Model):
    """How one configured mailbox is being read: who holds it now, and how the last poll went."""

    name = models.CharField(max_length=40, unique=True)
    # One poll at a time per mailbox, whatever the number of beats and workers: a poll takes the
    # lease with a conditional UPDATE and gives it back when it ends; a poll that died lets it
    # lapse.
    leased_until = models.DateTimeField(null=True, blank=True)
    lease_holder = models.CharField(max_length=32, blank=True)
    last_poll_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    failed_count = models.PositiveIntegerField(default=0, db_default=0)

    class Meta:
        verbose_name = "mailbox"
        verbose_name_plural = "mailboxes"

    def __str__(self) -> str:
        return self.name
