"""Emails about tickets. They carry the ticket number, department, priority and a link, and
the title only when the ticket is not suspected of holding patient data: emails leave the
hospital's systems, so what a nurse typed stays on the ticket page.

Every one is made by ``tickets.mail.ticket_email``, one message per recipient, so it threads
into the ticket's conversation in her mail client and her answer comes back to the ticket."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from celery import shared_task
from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import EmailMessage
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from departments.roles import display_name
from tickets.mail import ticket_email
from tickets.models import SlaAlert, Ticket, TicketEvent
from tickets.outgoing import email_kind, queue_email, send_each

logger = logging.getLogger(__name__)

RETRYABLE = (ConnectionError, TimeoutError, OSError)

#: Receipts for tickets filed by e-mail, at most this many an hour to one address. A mailbox
#: that answers everything by itself (an autoresponder that does not say so, a mailing list)
#: would otherwise file a ticket, get a receipt, answer it and file another, without end.
EMAIL_RECEIPTS_PER_HOUR = 5


def safe_details(ticket: Ticket) -> str:
    """The ticket in one line that may leave the building, without its number."""
    base = f"{ticket.priority_label} - {ticket.department.name}"
    if ticket.phi_suspected:
        return f"{base} - {ticket.category.name} (title withheld: possible patient data)"
    return f"{base} - {ticket.title}"


def safe_summary(ticket: Ticket) -> str:
    """One line that may leave the building."""
    return f"{ticket.number} {safe_details(ticket)}"


def ticket_link(ticket: Ticket) -> str:
    return f"{settings.HELPDESK['BASE_URL'].rstrip('/')}{ticket.get_absolute_url()}"


def team_filing_notice(ticket: Ticket) -> EmailMessage:
    """A new ticket, for the team's mailbox."""
    return ticket_email(
        ticket,
        to=ticket.team.email,
        subject=f"[{ticket.team.name}] New ticket: {safe_details(ticket)}",
        body=(
            f"A new ticket is waiting for {ticket.team.name}.\n\n"
            f"{safe_summary(ticket)}\n"
            f"Category: {ticket.category}\n"
            f"Open it: {ticket_link(ticket)}\n"
        ),
    )


def receipt_paragraphs(ticket: Ticket) -> list[str]:
    """What the requester's receipt says, paragraph by paragraph: a ticket that needs more from
    her says so in a paragraph of its own."""
    paragraphs = [
        f"Your IT ticket {ticket.number} ({ticket.priority_label}) was received and is with "
        f"{ticket.team.name}.",
    ]
    if ticket.needs_triage:
        # Filed without the three answers (by e-mail): where she gives them, so its priority
        # is hers to decide rather than P4 by default.
        questions = reverse("answer_questions", args=[ticket.pk])
        paragraphs.append(
            f"Tell us how urgent it is: {settings.HELPDESK['BASE_URL'].rstrip('/')}{questions}"
        )
    return [
        *paragraphs,
        f"Follow it here: {ticket_link(ticket)}\n"
        f"If patient care is stopped, call the Service Desk at "
        f"{settings.HELPDESK['SERVICE_DESK_PHONE']}.",
    ]


def requester_receipt(ticket: Ticket) -> EmailMessage:
    """The requester's "We have your ticket". For a ticket filed by e-mail it answers the mail
    she sent, and says so (``Auto-Submitted: auto-replied``): her autoresponder leaves it alone."""
    return ticket_email(
        ticket,
        to=ticket.requester,
        subject="We have your ticket",
        body="\n\n".join(receipt_paragraphs(ticket)) + "\n",
        replied=ticket.source == Ticket.Source.EMAIL,
    )


def _email_receipts_last_hour(address: str, now: datetime) -> int:
    return Ticket.objects.filter(
        source=Ticket.Source.EMAIL,
        requester__email__iexact=address,
        receipt_sent_at__gt=now - timedelta(hours=1),
    ).count()


def _claim_receipt(ticket: Ticket) -> bool:
    """Whether the requester gets her receipt now, claimed on the ticket (``receipt_sent_at``)
    when she does. A ticket filed by e-mail gets one only while its requester's address has had
    fewer than EMAIL_RECEIPTS_PER_HOUR such receipts in the last hour: counted in the database,
    so nothing about it is lost when Redis is, and an hour after a storm receipts go out again."""
    address = ticket.requester.email.strip()
    if not address:
        return False
    now = timezone.now()
    with transaction.atomic():
        if ticket.source == Ticket.Source.EMAIL:
            # One requester's receipts are decided one at a time: two workers must not both
            # see room for the last one.
            User.objects.select_for_update().only("pk").get(pk=ticket.requester_id)
            recent = _email_receipts_last_hour(address, now)
            if recent >= EMAIL_RECEIPTS_PER_HOUR:
                logger.info(
                    "receipt for ticket %s not sent: %d e-mail receipts to its requester in the "
                    "last hour",
                    ticket.pk,
                    recent,
                )
                return False
        claimed = Ticket.objects.filter(pk=ticket.pk, receipt_sent_at__isnull=True).update(
            receipt_sent_at=now
        )
    return bool(claimed)


# The filing notices, by the names the log gives them.
TEAM_NOTICE = "team's notice"
RECEIPT = "requester's receipt"


def _send_each(messages: dict[str, EmailMessage], *, ticket_id: int) -> set[str]:
    """The names of the messages that went out (a refused address is skipped, not retried)."""
    delivered = send_each(messages.values(), what=f"ticket {ticket_id}'s filing notices")
    return {name for name, message in messages.items() if message in delivered}


def send_filing_notices(ticket_id: int) -> int:
    """The team's notice and the requester's receipt, once per ticket (claimed with a
    conditional UPDATE; a failed send gives the claims back for the retry or the sweep)."""
    claimed = Ticket.objects.filter(pk=ticket_id, filing_notified_at__isnull=True).update(
        filing_notified_at=timezone.now()
    )
    if not claimed:
        return 0
    ticket = Ticket.objects.select_related("department", "category", "team", "requester").get(
        pk=ticket_id
    )
    messages: dict[str, EmailMessage] = {}
    if ticket.team.email:
        messages[TEAM_NOTICE] = team_filing_notice(ticket)
    if _claim_receipt(ticket):
        messages[RECEIPT] = requester_receipt(ticket)
    try:
        delivered = _send_each(messages, ticket_id=ticket_id)
    except Exception:
        # Give the claims back so the retry (or the next sweep) sends them.
        Ticket.objects.filter(pk=ticket_id).update(filing_notified_at=None, receipt_sent_at=None)
        raise
    if RECEIPT in messages.keys() - delivered:
        # A receipt that never arrived does not count towards the sender's hourly receipts.
        Ticket.objects.filter(pk=ticket_id).update(receipt_sent_at=None)
    logger.info("filing notices sent for ticket %s: %d", ticket_id, len(delivered))
    return len(delivered)


def send_sla_alert(alert_id: int) -> int:
    """Mail the assignee, or the team when nobody has the ticket yet. Once per alert."""
    alert = SlaAlert.objects.select_related(
        "ticket__department", "ticket__category", "ticket__team", "ticket__assignee"
    ).get(pk=alert_id)
    ticket = alert.ticket
    recipient: User | str | None = None
    if ticket.assignee is not None and ticket.assignee.email:
        recipient = ticket.assignee
    elif ticket.team.email:
        recipient = ticket.team.email
    claimed = SlaAlert.objects.filter(pk=alert_id, sent_at__isnull=True).update(
        sent_at=timezone.now(), recipients=0 if recipient is None else 1
    )
    if not claimed or recipient is None:
        return 0
    due = (
        ticket.response_due_at if alert.clock == alert.Clock.RESPONSE else ticket.resolution_due_at
    )
    due_text = f"{timezone.localtime(due):%a %d %b %H:%M}" if due else "unknown"
    message = ticket_email(
        ticket,
        to=recipient,
        subject=f"SLA {alert.get_kind_display().lower()}: {safe_details(ticket)}",
        body=(
            f"{alert.get_clock_display()} target {alert.get_kind_display().lower()} "
            f"(due {due_text}).\n\n{safe_summary(ticket)}\nOpen it: {ticket_link(ticket)}\n"
        ),
    )
    try:
        message.send()
    except Exception:
        SlaAlert.objects.filter(pk=alert_id).update(sent_at=None)
        raise
    logger.info("sla alert %s sent for ticket %s", alert_id, ticket.pk)
    return 1


# The kinds of e-mail to a requester kept in the outbox (tickets.outgoing) until sent.
REPLY_NOTICE = "ticket.reply"
RESOLVED_NOTICE = "ticket.resolved"


@email_kind(REPLY_NOTICE)
def reply_notice(event_id: int) -> list[EmailMessage]:
    """A public reply from IT: tell the requester there is news, with a link. The reply itself
    stays on the ticket page, like everything typed into a ticket. Internal notes never mail."""
    event = TicketEvent.objects.select_related("ticket__requester", "actor").get(pk=event_id)
    ticket = event.ticket
    if not event.is_public or event.kind != TicketEvent.Kind.COMMENT:
        return []
    if not ticket.requester.email or event.actor_id == ticket.requester_id:
        return []
    who = event.actor.get_full_name() if event.actor else "IT"
    return [
        ticket_email(
            ticket,
            to=ticket.requester,
            subject="A reply from IT",
            body=(
                f"{who} replied on your ticket {ticket.number}.\n\n"
                f"Read it and answer here: {ticket_link(ticket)}\n"
            ),
        )
    ]


@email_kind(RESOLVED_NOTICE)
def resolved_notice(event_id: int) -> list[EmailMessage]:
    """IT resolved the ticket: tell the requester, and ask her whether it is fixed. One tap on
    the ticket page answers; the note IT wrote stays on the ticket page."""
    event = TicketEvent.objects.select_related(
        "ticket__requester", "ticket__department", "ticket__category", "actor"
    ).get(pk=event_id)
    ticket = event.ticket
    if event.kind != TicketEvent.Kind.STATUS or event.new_value != Ticket.Status.RESOLVED:
        return []
    if not ticket.requester.email:
        return []
    how = Ticket.ResolutionCode(ticket.resolution_code).label if ticket.resolution_code else ""
    who = display_name(event.actor) if event.actor else "IT"
    return [
        ticket_email(
            ticket,
            to=ticket.requester,
            subject="Resolved: is it fixed?",
            body=(
                f"{who} resolved your ticket {safe_summary(ticket)}.\n"
                + (f"How: {how}.\n" if how else "")
                + f"\nIs it fixed? Answer with one tap: {ticket_link(ticket)}\n"
                "If it is still broken, say so there and the ticket reopens.\n"
                f"If patient care is stopped, call the Service Desk at "
                f"{settings.HELPDESK['SERVICE_DESK_PHONE']}.\n"
            ),
        )
    ]


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


@shared_task(name="tickets.tasks.notify_requester_of_reply", acks_late=True)
def notify_requester_of_reply(event_id: int) -> None:
    """Published before e-mails were kept in the outbox: one still queued from then goes there."""
    with transaction.atomic():
        queue_email(kind=REPLY_NOTICE, about_id=event_id)


@shared_task(name="tickets.tasks.notify_requester_resolved", acks_late=True)
def notify_requester_resolved(event_id: int) -> None:
    """Published before e-mails were kept in the outbox: one still queued from then goes there."""
    with transaction.atomic():
        queue_email(kind=RESOLVED_NOTICE, about_id=event_id)


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
