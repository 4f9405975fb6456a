"""Celery tasks of the audit log (the worker's autodiscovery imports this module)."""

from __future__ import annotations

from celery import shared_task

from audit.services import audit_purge


@shared_task(name="audit.tasks.purge_audit_log", acks_late=True, ignore_result=True)
def purge_audit_log() -> None:
    """Daily: entries older than the retention leave the log (the purge records itself)."""
    audit_purge()
