"""The audit log: who read or changed what, and when, for the privacy officer. Rows are only ever
added; in PostgreSQL a trigger refuses every UPDATE and DELETE, so not even someone with the
database's password can quietly rewrite it. The retention purge (audit.services) is the one way
rows leave, and it is itself recorded.

No patient data goes in: ids, who, when, what kind, and the filters of an export. A ticket is
named by its id, not a foreign key: the log sits below the apps it records."""

from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.db import models
from django.utils import timezone

from core.append_only import AppendOnlyModel, AppendOnlyQuerySet

APPEND_ONLY_TRIGGER = "append_only"


class AuditEntryQuerySet(AppendOnlyQuerySet["AuditEntry"]):
    def views(self) -> AuditEntryQuerySet:
        """Reads of a ticket: the ticket itself (page or API) and its attachments."""
        return self.filter(kind__in=VIEW_KINDS)


class AuditEntry(AppendOnlyModel):
    REFUSAL = "The audit log is append-only."
    DELETE_REFUSAL = "The audit log is append-only; rows leave only by the retention purge."

    class Kind(models.TextChoices):
        TICKET_VIEWED = "ticket_view", "Ticket viewed"
        ATTACHMENT_VIEWED = "attachment_view", "Attachment viewed"
        EXPORT = "export", "Export"
        SIGN_IN = "sign_in", "Signed in"
        SIGN_IN_FAILED = "sign_in_failed", "Sign-in failed"
        SIGNED_OUT_BY_PROVIDER = "sso_signed_out", "Signed out by the hospital directory"
        GROUPS_CHANGED = "groups", "Roles changed"
        TOKEN_CREATED = "token_created", "API token created"
        TOKEN_REVOKED = "token_revoked", "API token revoked"
        ADMIN_CHANGE = "admin_change", "Changed in admin"
        REDACTION = "redaction", "Patient data removed"
        PURGE = "purge", "Audit log purged"

    at = models.DateTimeField(default=timezone.now)
    # Empty for what nobody signed in did: a failed sign-in, a directory sync, the purge.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # The ticket read or changed, by id (HD-n is its number).
    ticket_id = models.BigIntegerField(null=True, blank=True)
    # What else the entry is about: "auth.user" 12, "departments.apitoken" 3, or
    # "tickets.attachment" 9.
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    # Never free text someone typed: filters, field names, group names, counts.
    detail = models.JSONField(default=dict, blank=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = "audit log entry"
        verbose_name_plural = "audit log"
        indexes = [
            # Who viewed this ticket?
            models.Index(
                fields=["ticket_id", "at"],
                name="audit_ticket_at",
                condition=models.Q(ticket_id__isnull=False),
            ),
            # What did this person do between these dates?
            models.Index(fields=["actor", "at"], name="audit_actor_at"),
            # Unusual access and bursts: the views of a window of time. (The daily purge reads
            # the oldest rows in order of id, which follows time: it needs no index of its own.)
            models.Index(fields=["kind", "at"], name="audit_kind_at"),
        ]
        triggers = [
            pgtrigger.Protect(
                name=APPEND_ONLY_TRIGGER, operation=pgtrigger.Update | pgtrigger.Delete
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.at:%Y-%m-%d %H:%M}"


VIEW_KINDS = (AuditEntry.Kind.TICKET_VIEWED, AuditEntry.Kind.ATTACHMENT_VIEWED)
