"""``manage.py purge_audit_log``: what beat does every day, by hand."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from audit.services import audit_purge, retention_cutoff


class Command(BaseCommand):
    help = "Delete audit log entries older than HELPDESK_AUDIT_RETENTION_DAYS (and record it)."

    def handle(self, *args: Any, **options: Any) -> None:
        cutoff = retention_cutoff()
        deleted = audit_purge()
        self.stdout.write(
            f"Deleted {deleted} audit log entries from before {cutoff:%Y-%m-%d} "
            f"(kept {settings.HELPDESK_AUDIT_RETENTION_DAYS} days)."
        )
