"""Writing the audit log, and the retention purge: the only way a row ever leaves it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pgtrigger
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import models, transaction
from django.utils import timezone

from audit.models import APPEND_ONLY_TRIGGER, AuditEntry

Kind = AuditEntry.Kind
# The ticket model, as entries name it (the log sits below the tickets app).
TICKET_TYPE = "tickets.ticket"


def object_type(model: type[models.Model] | models.Model) -> str:
    """How an entry names a kind of row: "auth.user", "departments.apitoken"."""
    return model._meta.label_lower


def audit_record(
    *,
    kind: str,
    actor: AbstractBaseUser | AnonymousUser | None = None,
    actor_id: int | None = None,
    ticket_id: int | None = None,
    about: models.Model | None = None,
    about_type: str = "",
    about_id: str = "",
    detail: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    """One entry (one INSERT). ``about``: the row the entry is about besides a ticket (a
    person, a token, an attachment), named by its type and id, never by what it says; or
    ``about_type`` and ``about_id`` for a row not at hand (and ``actor_id`` for a person)."""
    return AuditEntry.objects.create(
        at=at or timezone.now(),
        actor_id=actor.pk if actor is not None and actor.is_authenticated else actor_id,
        kind=kind,
        ticket_id=ticket_id,
        object_type=object_type(about) if about is not None else about_type,
        object_id=str(about.pk) if about is not None else about_id,
        detail=detail or {},
    )


def retention_cutoff(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - timedelta(days=settings.HELPDESK_AUDIT_RETENTION_DAYS)


def audit_purge(*, now: datetime | None = None) -> int:
    """Delete the entries older than the retention (HELPDESK_AUDIT_RETENTION_DAYS), and record
    that it was done, how many and up to when. The database trigger that refuses every DELETE
    is set aside for this statement only (pgtrigger.ignore), nowhere else."""
    now = now or timezone.now()
    cutoff = retention_cutoff(now)
    with transaction.atomic():
        with pgtrigger.ignore(f"{AuditEntry._meta.label}:{APPEND_ONLY_TRIGGER}"):
            # The queryset refuses delete(); the purge goes past it on purpose.
            deleted, _ = models.QuerySet(AuditEntry).filter(at__lt=cutoff).delete()
        audit_record(
            kind=Kind.PURGE,
            at=now,
            detail={"deleted": deleted, "before": cutoff.isoformat()},
        )
    return deleted
