"""What IT reads about the mailboxes: how each is being read, and the mail waiting for review."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from intake.imap import configured_mailboxes
from intake.models import InboundMessage, MailboxStatus

HELD_PAGE_SIZE = 100
# "Processed" on the panel: what the mailbox took in over this last stretch.
PROCESSED_WINDOW = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class MailboxPanel:
    name: str
    address: str
    last_poll_at: datetime | None
    last_error: str
    last_error_at: datetime | None
    processed: int
    held: int
    failed: int


def mailbox_panels(*, now: datetime | None = None) -> list[MailboxPanel]:
    """One panel per configured mailbox: what it took in over the last day and what waits for
    review now. Two queries whatever the number of mailboxes, none over the whole history."""
    configs = configured_mailboxes()
    since = (now or timezone.now()) - PROCESSED_WINDOW
    statuses = {status.name: status for status in MailboxStatus.objects.all()}
    held = Q(outcome=InboundMessage.Outcome.HELD)
    counts = {
        row["mailbox"]: row
        for row in InboundMessage.objects.filter(held | Q(received_at__gte=since))
        .values("mailbox")
        .annotate(
            held=Count("pk", filter=held),
            processed=Count("pk", filter=~held & Q(received_at__gte=since)),
        )
    }
    panels = []
    for config in configs:
        status = statuses.get(config.name)
        count = counts.get(config.name, {})
        panels.append(
            MailboxPanel(
                name=config.name,
                address=f"{config.username} at {config.host}:{config.port} ({config.folder})",
                last_poll_at=status.last_poll_at if status else None,
                last_error=status.last_error if status else "",
                last_error_at=status.last_error_at if status else None,
                processed=count.get("processed", 0),
                held=count.get("held", 0),
                failed=status.failed_count if status else 0,
            )
        )
    return panels


def held_messages() -> QuerySet[InboundMessage]:
    """Mail waiting for IT, newest first, without the bodies (the list does not show them)."""
    return (
        InboundMessage.objects.filter(outcome=InboundMessage.Outcome.HELD)
        .select_related("ticket")
        .defer("body", "raw")
        .order_by("-received_at")[:HELD_PAGE_SIZE]
    )


def held_message(pk: int) -> InboundMessage | None:
    return (
        InboundMessage.objects.filter(pk=pk, outcome=InboundMessage.Outcome.HELD)
        .select_related("ticket")
        .defer("raw")
        .first()
    )
