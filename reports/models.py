"""The audit trail of report exports: who downloaded what, with which filters, and whether
ticket titles (free text that may hold patient data) went with it."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone


class ExportAuditQuerySet(models.QuerySet["ExportAudit"]):
    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError("The export audit trail is append-only.")


class ExportAudit(models.Model):
    """One CSV export. Written before the first byte is sent; ``rows`` is filled in when the
    download has been streamed to the end (it stays empty if the download was cut off)."""

    class Report(models.TextChoices):
        COMPLIANCE = "compliance", "SLA compliance"
        SPEED = "speed", "Speed"
        BREACHES = "breaches", "Breaches"
        TRENDS = "trends", "Trends"
        CRITICAL = "critical", "Critical areas"
        SOURCES = "sources", "Where the work comes from"
        TECHNICIANS = "technicians", "Technicians"
        INCIDENTS = "incidents", "Major incidents"
        TICKETS = "tickets", "Tickets (underlying rows)"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="report_exports"
    )
    at = models.DateTimeField(default=timezone.now)
    report = models.CharField(max_length=16, choices=Report.choices)
    filters = models.JSONField(default=dict)
    included_titles = models.BooleanField(
        default=False, help_text="Ticket titles were included: free text that may hold PHI."
    )
    rows = models.PositiveIntegerField(
        null=True, blank=True, help_text="Rows written; empty if the download did not finish."
    )

    objects = ExportAuditQuerySet.as_manager()

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["-at"], name="export_audit_recent")]
        verbose_name = "report export"

    def __str__(self) -> str:
        return f"{self.get_report_display()} by {self.user} at {self.at:%Y-%m-%d %H:%M}"

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise TypeError("The export audit trail is append-only.")
