"""Files on a ticket: screenshots, PDFs, logs, office files. Each came with one event of the
timeline (the filing, a comment or an internal note) and is seen by whoever may see that event.
The file itself is in the attachments storage under a random name; its row says what it is."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from tickets.models.ticket import Ticket
from tickets.models.timeline import TicketEvent


class AttachmentQuerySet(models.QuerySet["Attachment"]):
    def live(self) -> AttachmentQuerySet:
        """Not removed by IT."""
        return self.filter(deleted_at__isnull=True)

    def seen_by_requester(self) -> AttachmentQuerySet:
        """Those that came with an event the requester sees (never an internal note's)."""
        return self.filter(event__is_public=True)


class Attachment(models.Model):
    ticket = models.ForeignKey(
        Ticket, on_delete=models.PROTECT, related_name="attachments", db_index=False
    )
    # The filing, comment or internal note it came with: who sees it follows from that event.
    event = models.ForeignKey(TicketEvent, on_delete=models.PROTECT, related_name="attachments")
    uploader = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # Random, in the attachments storage; the name as sent is data only.
    stored_name = models.CharField(max_length=100, unique=True)
    original_name = models.CharField(max_length=255)
    # As detected from the content (and as served), never as the browser declared it.
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    deleted_reason = models.CharField(max_length=300, blank=True)

    objects = AttachmentQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["ticket", "event"], name="attachment_ticket_event")]

    def __str__(self) -> str:
        # The name as sent may be patient data: an attachment is named by its id only.
        return f"Attachment {self.pk} on {self.ticket_id}"

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")
