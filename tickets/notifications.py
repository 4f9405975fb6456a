"""Emails about tickets. They carry the ticket number, department, priority and a link, and
the title only when the ticket is not suspected of holding patient data: emails leave the
hospital's systems, so what a nurse typed stays on the ticket page."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMessage
from django.urls import reverse
from django.utils import timezone

from departments.roles import display_name
from tickets.models import SlaAlert, Ticket, TicketEvent

logger = logging.getLogger(__name__)

RETRYABLE = (ConnectionError, TimeoutError, OSError)


def safe_summary(ticket: Ticket) -> str:
    """One line that may leave the building."""
    base = f"{ticket.number} {ticket.priority_label} - {ticket.department.name}"
    if ticket.phi_suspected:
        return f"{base} - {ticket.category.name} (title withheld: possible patient data)"
    return f"{base} - {ticket.title}"


def ticket_link(ticket: Ticket) -> str:
    return f"{settings.HELPDESK['BASE_URL'].rstrip('/')}{ticket.get_absolute_url()}"


def triage_paragraph(ticket: Ticket) -> str:
    """For a ticket filed without the three answers (by e-mail): where the requester gives
    them, so its priority is hers to decide rather than P4 by default."""
    if not ticket.needs_triage:
        return ""
    path = reverse("answer_questions", args=[ticket.pk])
    return f"Tell us how urgent it is: {settings.HELPDESK['BASE_URL'].rstrip('/')}{path}\n\n"


def send_filing_notices(ticket_id: int) -> int:
    claimed = Ticket.objects.filter(pk=ticket_id, filing_notified_at__isnull=True).update(
        filing_notified_at=timezone.now()
    )
    if not claimed:
        return 0
    ticket = Ticket.objects.select_related("department", "category", "team", "requester").get(
        pk=ticket_id
    )
    messages: list[EmailMessage] = []
    if ticket.team.email:
        messages.append(
            EmailMessage(
                subject=f"[{ticket.team.name}] New ticket {safe_summary(ticket)}",
                body=(
                    f"A new ticket is waiting for {ticket.team.name}.\n\n"
                    f"{safe_summary(ticket)}\n"
                    f"Category: {ticket.category}\n"
                    f"Open it: {ticket_link(ticket)}\n"
                ),
                to=[ticket.team.email],
            )
        )
    if ticket.requester.email:
        messages.append(
            EmailMessage(
                subject=f"We have your ticket {ticket.number}",
                body=(
                    f"Your IT ticket {ticket.number} ({ticket.priority_label}) was received and "
                    f"is with {ticket.team.name}.\n\n{triage_paragraph(ticket)}"
                    f"Follow it here: {ticket_link(ticket)}\n"
                    f"If patient care is stopped, call the Service Desk at "
                    f"{settings.HELPDESK['SERVICE_DESK_PHONE']}.\n"
                ),
                to=[ticket.requester.email],
            )
        )
    try:
        for message in messages:
            message.send()
    except Exception:
        # Give the claim back so the retry (or the next sweep) sends them.
        Ticket.objects.filter(pk=ticket_id).update(filing_notified_at=None)
        raise
    logger.info("filing notices sent for ticket %s: %d", ticket_id, len(messages))
    return len(messages)


def send_sla_alert(alert_id: int) -> int:
    """Mail the assignee, or the team when nobody has the ticket yet. Once per alert."""
    alert = SlaAlert.objects.select_related(
        "ticket__department", "ticket__category", "ticket__team", "ticket__assignee"
    ).get(pk=alert_id)
    ticket = alert.ticket
    if ticket.assignee is not None and ticket.assignee.email:
        recipients = [ticket.assignee.email]
    elif ticket.team.email:
        recipients = [ticket.team.email]
    else:
        recipients = []
    claimed = SlaAlert.objects.filter(pk=alert_id, sent_at__isnull=True).update(
        sent_at=timezone.now(), recipients=len(recipients)
    )
    if not claimed or not recipients:
        return 0
    due = (
        ticket.response_due_at if alert.clock == alert.Clock.RESPONSE else ticket.resolution_due_at
    )
    due_text = f"{timezone.localtime(due):%a %d %b %H:%M}" if due else "unknown"
    message = EmailMessage(
        subject=f"SLA {alert.get_kind_display().lower()}: {safe_summary(ticket)}",
        body=(
            f"{alert.get_clock_display()} target {alert.get_kind_display().lower()} "
            f"(due {due_text}).\n\n{safe_summary(ticket)}\nOpen it: {ticket_link(ticket)}\n"
        ),
        to=recipients,
    )
    try:
        message.send()
    except Exception:
        SlaAlert.objects.filter(pk=alert_id).update(sent_at=None)
        raise
    logger.info("sla alert %s sent for ticket %s", alert_id, ticket.pk)
    return len(recipients)


def send_reply_notice(event_id: int) -> int:
    """A public reply from IT: tell the requester there is news, with a link. The reply itself
    stays on the ticket page, like everything typed into a ticket. Internal notes never mail."""
    event = TicketEvent.objects.select_related("ticket__requester", "actor").get(pk=event_id)
    ticket = event.ticket
    if not event.is_public or event.kind != TicketEvent.Kind.COMMENT:
        return 0
    if not ticket.requester.email or event.actor_id == ticket.requester_id:
        return 0
    who = event.actor.get_full_name() if event.actor else "IT"
    EmailMessage(
        subject=f"{ticket.number}: a reply from IT",
        body=(
            f"{who} replied on your ticket {ticket.number}.\n\n"
            f"Read it and answer here: {ticket_link(ticket)}\n"
        ),
        to=[ticket.requester.email],
    ).send()
    logger.info("reply notice sent for ticket %s", ticket.pk)
    return 1


def send_resolved_notice(event_id: int) -> int:
    """IT resolved the ticket: tell the requester, and ask her whether it is fixed. One tap on
    the ticket page answers; the note IT wrote stays on the ticket page."""
    event = TicketEvent.objects.select_related(
        "ticket__requester", "ticket__department", "ticket__category", "actor"
    ).get(pk=event_id)
    ticket = event.ticket
    if event.kind != TicketEvent.Kind.STATUS or event.new_value != Ticket.Status.RESOLVED:
        return 0
    if not ticket.requester.email:
        return 0
    how = Ticket.ResolutionCode(ticket.resolution_code).label if ticket.resolution_code else ""
    who = display_name(event.actor) if event.actor else "IT"
    EmailMessage(
        subject=f"{ticket.number} is resolved: is it fixed?",
        body=(
            f"{who} resolved your ticket {safe_summary(ticket)}.\n"
            + (f"How: {how}.\n" if how else "")
            + f"\nIs it fixed? Answer with one tap: {ticket_link(ticket)}\n"
            "If it is still broken, say so there and the ticket reopens.\n"
            f"If patient care is stopped, call the Service Desk at "
            f"{settings.HELPDESK['SERVICE_DESK_PHONE']}.\n"
        ),
        to=[ticket.requester.email],
    ).send()
    logger.info("resolved notice sent for ticket %s", ticket.pk)
    return 1


@shared_task(
    name="tickets.tasks.notify_ticket_filed",
    acks_late=True,
    autoretry_for=RETRYABLE,
    retry_backoff=True,
    max_retries=5,
)
def notify_ticket_filed(ticket_id: int) -> int:
    """Tell the team a ticket arrived and give the requester a receipt. Returns emails sent."""
    return send_filing_notices(ticket_id)


@shared_task(
    name="tickets.tasks.deliver_sla_alert",
    acks_late=True,
    autoretry_for=RETRYABLE,
    retry_backoff=True,
    max_retries=5,
)
def deliver_sla_alert(alert_id: int) -> int:
    """Tell the assignee (else the team) that a ticket is at risk or breached."""
    return send_sla_alert(alert_id)


@shared_task(
    name="tickets.tasks.notify_requester_of_reply",
    acks_late=True,
    autoretry_for=RETRYABLE,
    retry_backoff=True,
    max_retries=5,
)
def notify_requester_of_reply(event_id: int) -> int:
    """Tell the requester IT replied. Never for internal notes."""
    return send_reply_notice(event_id)


@shared_task(
    name="tickets.tasks.notify_requester_resolved",
    acks_late=True,
    autoretry_for=RETRYABLE,
    retry_backoff=True,
    max_retries=5,
)
def notify_requester_resolved(event_id: int) -> int:
    """Tell the requester her ticket is resolved and ask "Fixed?"."""
    return send_resolved_notice(event_id)


@shared_task(name="tickets.tasks.deliver_sla_alerts", acks_late=True)
def deliver_sla_alerts(alert_ids: list[int]) -> int:
    """A batch of SLA alerts; a failed one is left unsent for the sweep to send again."""
    sent = 0
    for alert_id in alert_ids:
        try:
            sent += send_sla_alert(alert_id)
        except RETRYABLE:
            continue
    return sent


@shared_task(name="tickets.tasks.notify_tickets_filed", acks_late=True)
def notify_tickets_filed(ticket_ids: list[int]) -> int:
    """Filing notices the sweep found unsent; a failed one waits for the next sweep."""
    sent = 0
    for ticket_id in ticket_ids:
        try:
            sent += send_filing_notices(ticket_id)
        except RETRYABLE:
            continue
    return sent
