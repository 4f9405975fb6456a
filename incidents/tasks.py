"""Every Celery task of major incidents, for the worker's autodiscovery. Thin: ids in, services
called."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from incidents.notifications import (
    notify_incident_resolved,
    notify_incident_update,
    remind_commander,
)
from incidents.services import detect, overdue_updates

logger = logging.getLogger(__name__)

__all__ = [
    "incident_sweep",
    "notify_incident_resolved",
    "notify_incident_update",
    "remind_commander",
    "run_incident_sweep",
]


@dataclass
class IncidentSweepResult:
    alerts: list[int] = field(default_factory=list)
    reminders: list[int] = field(default_factory=list)


def run_incident_sweep() -> IncidentSweepResult:
    """Detect clusters, remind commanders of missed updates. Notices left behind are the
    outbox's: the SLA sweep sends them (tickets.outgoing)."""
    now = timezone.now()
    result = IncidentSweepResult()
    result.alerts = [alert.pk for alert in detect(now=now)]
    with transaction.atomic():
        result.reminders = overdue_updates(now=now)
    return result


@shared_task(name="incidents.tasks.incident_sweep", acks_late=True)
def incident_sweep() -> dict[str, int]:
    result = run_incident_sweep()
    if result.alerts or result.reminders:
        logger.info(
            "incident sweep: %d alerts, %d reminders", len(result.alerts), len(result.reminders)
        )
    return {
        "alerts": len(result.alerts),
        "reminders": len(result.reminders),
    }
