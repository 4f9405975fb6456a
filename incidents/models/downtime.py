"""Planned downtime: announced ahead to the units it affects, shown as a banner while it lasts."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from departments.models import Department
from tickets.models import Category


class PlannedDowntime(models.Model):
    """A system taken down on purpose (an upgrade, a failover test) or a downtime drill."""

    service = models.CharField(max_length=80)
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    hospital_wide = models.BooleanField(default=True)
    departments = models.ManyToManyField(Department, blank=True, related_name="downtimes")
    reason = models.CharField(max_length=200)
    procedure = models.TextField(blank=True)
    # The advance banner shows from ``notice_from``; the downtime banner from ``starts_at`` to
    # ``ends_at``.
    notice_from = models.DateTimeField()
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    is_drill = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="downtime_ends_after_it_starts",
            ),
            models.CheckConstraint(
                condition=models.Q(notice_from__lte=models.F("starts_at")),
                name="downtime_notice_before_start",
            ),
        ]
        indexes = [
            models.Index(
                fields=["ends_at"], name="downtime_current", condition=models.Q(cancelled_at=None)
            ),
        ]

    def __str__(self) -> str:
        kind = "Drill" if self.is_drill else "Planned downtime"
        return f"{kind}: {self.service} {self.starts_at:%Y-%m-%d %H:%M}"
