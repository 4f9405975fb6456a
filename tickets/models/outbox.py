"""Tasks the broker did not take, for the sweep to publish again."""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Now
from django.utils import timezone


class UnpublishedTask(models.Model):
    """A task the broker did not take (down, hung, or skipped while it was failing).

    The next sweep publishes it again at once, instead of waiting for the row it is about to look
    old enough to be stranded. Arguments are ids only, as in every task."""

    task = models.CharField(max_length=200)
    args = models.JSONField()
    failed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.task}{tuple(self.args)} (not queued since {self.failed_at:%H:%M:%S})"


#: The kinds written at most once per ``about_id`` (and recipient): the filing's team notice and
#: receipt, an SLA alert, an incident's update and resolution notices. A reply notice or a
#: commander's reminder may be about the same row again.
ONCE_KINDS = (
    "ticket.filed",
    "ticket.receipt",
    "ticket.sla_alert",
    "incident.update",
    "incident.resolved",
)


class OutgoingEmail(models.Model):
    """An e-mail to a person, written in the transaction of the change that causes it and sent
    by a task that claims it (``pending`` -> ``sending`` by a conditional UPDATE), so a broker
    that loses the task loses nothing: the sweep sends what is still pending.

    The row names what to tell (``kind``) and about which row (``about_id``); the message is
    made when it is sent, from the rows as they are then, by the function registered for its
    kind (``tickets.outgoing``), as it was made when the task carried the id itself. Keeping
    the rendered text instead would copy what an e-mail says (a ticket's title, which may hold
    patient data) into a second table that redaction does not reach, and buy nothing: the rows
    a message is made from (the reply, the resolution) are not changed once written, and a
    message made moments later from rows that did change (a withheld title, an incident's new
    update time) is the more accurate one."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to send"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        SKIPPED = "skipped", "Nothing to send"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=40)
    about_id = models.BigIntegerField()
    # For a change that tells many people (an incident's update), the row of the one person
    # this e-mail is for: each is sent, and retried, on her own.
    recipient_id = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    # When the next attempt is due: a minute on for a new row (its task normally sends it
    # first), later after a failed attempt. The sweep sends a pending row whose attempt is due.
    # This and ``claimed_at`` keep the database's clock, the one every process shares: a process
    # whose own clock runs ahead never takes an e-mail another worker is sending for stranded.
    attempt_at = models.DateTimeField(db_default=Now())
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # The error's class only: an SMTP server's answer may quote the address.
    last_error = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["pk"]
        indexes = [
            models.Index(
                fields=["attempt_at"],
                name="outgoing_email_unsent",
                condition=models.Q(status__in=["pending", "sending"]),
            ),
        ]
        constraints = [
            # What must go once (a filing's notices, an SLA alert, an incident's notice to one
            # person) is written once, however often it is queued: a task queued twice, or
            # queued again by a task published before the outbox, writes nothing the second time.
            models.UniqueConstraint(
                fields=["kind", "about_id"],
                name="outgoing_email_once",
                condition=models.Q(kind__in=ONCE_KINDS, recipient_id__isnull=True),
            ),
            models.UniqueConstraint(
                fields=["kind", "about_id", "recipient_id"],
                name="outgoing_email_once_per_recipient",
                condition=models.Q(kind__in=ONCE_KINDS, recipient_id__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} e-mail about {self.about_id} ({self.status})"
