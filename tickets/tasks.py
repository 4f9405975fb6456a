"""Celery tasks: thin. Each takes ids, loads rows and calls into the app; none carries text."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from tickets import notifications, paging, sweep

RETRYABLE = (ConnectionError, TimeoutError, OSError)


@shared_task(acks_late=True, autoretry_for=RETRYABLE, retry_backoff=True, max_retries=5)
def notify_ticket_filed(ticket_id: int) -> int:
    """Tell the team a ticket arrived and give the requester a receipt. Returns emails sent."""
    return notifications.send_filing_notices(ticket_id)


@shared_task(acks_late=True, autoretry_for=RETRYABLE, retry_backoff=True, max_retries=5)
def deliver_sla_alert(alert_id: int) -> int:
    """Tell the assignee (else the team) that a ticket is at risk or breached."""
    return notifications.send_sla_alert(alert_id)


@shared_task(acks_late=True, ignore_result=True)
def sla_sweep() -> int:
    """Warn and breach what is due. Beat runs it; overlapping runs are safe."""
    return sweep.sla_sweep().total


@shared_task(bind=True, acks_late=True, max_retries=None)
def deliver_page(self: Any, page_id: int) -> str:
    """Send one page; a gateway that times out or answers 5xx is tried again with backoff."""
    outcome = paging.deliver(page_id)
    if outcome == paging.Outcome.RETRY:
        # Backoff 2, 4, 8... seconds: a gateway hiccup should not hold a P1 page for long.
        raise self.retry(countdown=min(2 ** (self.request.retries + 1), 60))
    return outcome


@shared_task(acks_late=True, autoretry_for=RETRYABLE, retry_backoff=True, max_retries=5)
def notify_requester_of_reply(event_id: int) -> int:
    """Tell the requester IT replied. Never for internal notes."""
    return notifications.send_reply_notice(event_id)


@shared_task(acks_late=True, autoretry_for=RETRYABLE, retry_backoff=True, max_retries=5)
def notify_requester_resolved(event_id: int) -> int:
    """Tell the requester her ticket is resolved and ask "Fixed?"."""
    return notifications.send_resolved_notice(event_id)


@shared_task(acks_late=True)
def deliver_pages(page_ids: list[int]) -> list[str]:
    """Send a batch of pages; one that needs another try goes on alone, with backoff."""
    outcomes = []
    for page_id in page_ids:
        outcome = paging.deliver(page_id)
        if outcome == paging.Outcome.RETRY:
            deliver_page.apply_async(args=(page_id,), countdown=2)
        outcomes.append(outcome)
    return outcomes


@shared_task(acks_late=True)
def deliver_sla_alerts(alert_ids: list[int]) -> int:
    """A batch of SLA alerts; a failed one is left unsent for the sweep to send again."""
    sent = 0
    for alert_id in alert_ids:
        try:
            sent += notifications.send_sla_alert(alert_id)
        except RETRYABLE:
            continue
    return sent


@shared_task(acks_late=True)
def notify_tickets_filed(ticket_ids: list[int]) -> int:
    """Filing notices the sweep found unsent; a failed one waits for the next sweep."""
    sent = 0
    for ticket_id in ticket_ids:
        try:
            sent += notifications.send_filing_notices(ticket_id)
        except RETRYABLE:
            continue
    return sent
