"""SLA alerts: the outbox of warnings and breaches to tell people about."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from tickets.models.ticket import Ticket


class SlaAlert(models.Model):
    """An SLA warning or breach to tell people about: the outbox of SLA notifications.

    Written by the sweep in the transaction that claims the warning or breach; delivered by a
    task that claims it with a conditional UPDATE, so a redelivered task mails once and an alert
    whose task was lost is found again by the next sweep.
    """

    class Clock(models.TextChoices):
        RESPONSE = "response", "First response"
        RESOLUTION = "resolution", "Resolution"

    class Kind(models.TextChoices):
        WARNING = "warning", "At risk"
        BREACH = "breach", "Breached"

    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="sla_alerts")
    clock = models.CharField(max_length=12, choices=Clock.choices)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    recipients = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "clock", "kind"], name="sla_alert_once_per_clock_and_kind"
            )
        ]
        indexes = [
            models.Index(
                fields=["created_at"],
                name="sla_alert_unsent",
                condition=models.Q(sent_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_clock_display()} {self.get_kind_display()} on {self.ticket_id}"
