"""Tasks the broker did not take, for the sweep to publish again."""

from __future__ import annotations

from django.db import models
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
