"""SLA alerts: the outbox of warnings and breaches to tell people about."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from tickets.models.ticket import Ticket


class SlaAlert(models.Model):
    """An SLA warning or breach to tell people about.

    Written by the sweep in the transaction that claims the warning or breach, with its e-mail
    in the outbox (``tickets.outgoing``), which sends it once.
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
    # Set only before alerts' e-mails were kept in the outbox: a task published then and still
    # queued sends nothing for an alert that has it.
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "clock", "kind"], name="sla_alert_once_per_clock_and_kind"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_clock_display()} {self.get_kind_display()} on {self.ticket_id}"
