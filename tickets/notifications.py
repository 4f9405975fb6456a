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
from tickets.models import OutgoingEmail, SlaAlert, Ticket, TicketEvent
from tickets.outgoing import Wanted, email_kind, queue_email, queue_emails

logger = logging.getLogger(__name__)

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


# The kinds of e-mail kept in the outbox (tickets.outgoing) until sent.
FILING_NOTICE = "ticket.filed"
RECEIPT = "ticket.receipt"
SLA_ALERT = "ticket.sla_alert"


def _email_receipts_last_hour(address: str, now: datetime) -> int:
    """Receipts written for tickets filed by e-mail from ``address`` in the last hour, except
    those that could not be delivered (the relay refused the address)."""
    hour_ago = now - timedelta(hours=1)
    tickets = Ticket.objects.filter(
        source=Ticket.Source.EMAIL, requester__email__iexact=address, created_at__gt=hour_ago
    ).values("pk")
    return (
        OutgoingEmail.objects.filter(kind=RECEIPT, created_at__gt=hour_ago, about_id__in=tickets)
        .exclude(status__in=[OutgoingEmail.Status.FAILED, OutgoingEmail.Status.SKIPPED])
        .count()
    )


def _receipt_allowed(ticket: Ticket, now: datetime) -> bool:
    """Whether the requester gets a receipt for the ticket she is filing. One filed by e-mail
    gets one only while its requester's address has had fewer than EMAIL_RECEIPTS_PER_HOUR
    such receipts in the last hour: counted in the database, in the filing's transaction, so
    nothing about it is lost when Redis is, and an hour after a storm receipts go out again."""
    address = ticket.requester.email.strip()
    if not address:
        return False
    if ticket.source != Ticket.Source.EMAIL:
        return True
    # One requester's filings decide their receipts one at a time: two workers must not both
    # see room for the last one. The lock is held until the filing (and its receipt) commits.
    User.objects.select_for_update().only("pk").get(pk=ticket.requester_id)
    recent = _email_receipts_last_hour(address, now)
    if recent >= EMAIL_RECEIPTS_PER_HOUR:
        logger.info(
            "receipt for ticket %s not sent: %d e-mail receipts to its requester in the last hour",
            ticket.pk,
            recent,
        )
        return False
    return True


def queue_filing_notices(ticket: Ticket, *, again: bool = False) -> list[int]:
    """Write the team's notice and the requester's receipt into the filing's transaction (one
    INSERT, one task once it commits)."""
    wanted = [Wanted(FILING_NOTICE, ticket.pk)]
    if _receipt_allowed(ticket, timezone.now()):
        wanted.append(Wanted(RECEIPT, ticket.pk))
    return queue_emails(wanted, again=again)


def _filed_ticket(ticket_id: int) -> Ticket:
    return Ticket.objects.select_related("department", "category", "team", "requester").get(
        pk=ticket_id
    )


@email_kind(FILING_NOTICE)
def filing_notice(email: OutgoingEmail) -> list[EmailMessage]:
    """A new ticket: the team's mailbox hears of it."""
    ticket = _filed_ticket(email.about_id)
    return [team_filing_notice(ticket)] if ticket.team.email else []


@email_kind(RECEIPT)
def receipt(email: OutgoingEmail) -> list[EmailMessage]:
    """The requester's receipt, decided when the ticket was filed."""
    ticket = _filed_ticket(email.about_id)
    return [requester_receipt(ticket)] if ticket.requester.email.strip() else []


@email_kind(SLA_ALERT)
def sla_alert(email: OutgoingEmail) -> list[EmailMessage]:
    """Mail the assignee, or the team when nobody has the ticket yet."""
    alert = SlaAlert.objects.select_related(
        "ticket__department", "ticket__category", "ticket__team", "ticket__assignee"
    ).get(pk=email.about_id)
    ticket = alert.ticket
    recipient: User | str | None = None
    if ticket.assignee is not None and ticket.assignee.email:
        recipient = ticket.assignee
    elif ticket.team.email:
        recipient = ticket.team.email
    if recipient is None:
        return []
    due = (
        ticket.response_due_at if alert.clock == alert.Clock.RESPONSE else ticket.resolution_due_at
    )
    due_text = f"{timezone.localtime(due):%a %d %b %H:%M}" if due else "unknown"
    return [
        ticket_email(
            ticket,
            to=recipient,
            subject=f"SLA {alert.get_kind_display().lower()}: {safe_details(ticket)}",
            body=(
                f"{alert.get_clock_display()} target {alert.get_kind_display().lower()} "
                f"(due {due_text}).\n\n{safe_summary(ticket)}\nOpen it: {ticket_link(ticket)}\n"
            ),
        )
    ]


def queue_sla_alerts(alert_ids: list[int], *, now: datetime | None = None) -> list[int]:
    """Write the alerts' e-mails into the sweep's transaction (each alert's once)."""
    return queue_emails(
        [Wanted(SLA_ALERT, alert_id) for alert_id in alert_ids], again=True, now=now
    )


REPLY_NOTICE = "ticket.reply"
RESOLVED_NOTICE = "ticket.resolved"


@email_kind(REPLY_NOTICE)
def reply_notice(email: OutgoingEmail) -> list[EmailMessage]:
    """A public reply from IT: tell the requester there is news, with a link. The reply itself
    stays on the ticket page, like everything typed into a ticket. Internal notes never mail."""
    event = TicketEvent.objects.select_related("ticket__requester", "actor").get(pk=email.about_id)
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
def resolved_notice(email: OutgoingEmail) -> list[EmailMessage]:
    """IT resolved the ticket: tell the requester, and ask her whether it is fixed. One tap on
    the ticket page answers; the note IT wrote stays on the ticket page."""
    event = TicketEvent.objects.select_related(
        "ticket__requester", "ticket__department", "ticket__category", "actor"
    ).get(pk=email.about_id)
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


# Tasks published before these e-mails were kept in the outbox: one still queued from then
# writes its e-mails there, unless the old claim column says they were sent.


@shared_task(name="tickets.tasks.notify_ticket_filed", acks_late=True)
def notify_ticket_filed(ticket_id: int) -> int:
    """The filing notices of a ticket filed before the outbox."""
    return notify_tickets_filed([ticket_id])


@shared_task(name="tickets.tasks.notify_tickets_filed", acks_late=True)
def notify_tickets_filed(ticket_ids: list[int]) -> int:
    """Filing notices of tickets filed before the outbox; how many e-mails were queued."""
    queued = 0
    for ticket in Ticket.objects.filter(pk__in=ticket_ids, filing_notified_at__isnull=True):
        with transaction.atomic():
            queued += len(queue_filing_notices(ticket, again=True))
    return queued


@shared_task(name="tickets.tasks.deliver_sla_alert", acks_late=True)
def deliver_sla_alert(alert_id: int) -> int:
    """An SLA alert recorded before the outbox."""
    return deliver_sla_alerts([alert_id])


@shared_task(name="tickets.tasks.deliver_sla_alerts", acks_late=True)
def deliver_sla_alerts(alert_ids: list[int]) -> int:
    """SLA alerts recorded before the outbox; how many e-mails were queued."""
    unsent = SlaAlert.objects.filter(pk__in=alert_ids, sent_at__isnull=True)
    with transaction.atomic():
        return len(queue_sla_alerts(list(unsent.values_list("pk", flat=True))))


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
