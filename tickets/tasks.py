"""Celery tasks: thin. Each takes ids, loads rows and calls into the app; none carries text."""

from __future__ import annotations

from celery import shared_task

from tickets import notifications


@shared_task(acks_late=True, autoretry_for=(ConnectionError, TimeoutError), retry_backoff=True)
def notify_ticket_filed(ticket_id: int) -> int:
    """Tell the team a ticket arrived and give the requester a receipt. Returns emails sent."""
    return notifications.send_filing_notices(ticket_id)
