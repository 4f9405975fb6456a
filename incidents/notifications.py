"""E-mails about a major incident: each update and the end to everyone affected (those who said
"me too" and the requesters of its tickets), and a reminder to the commander of a missed update.

They carry what IT wrote for everyone (the service, the message, the workaround, the update);
never what anyone typed into a ticket. Each update is claimed once (``notified_at``), and each
person is told of the end once (``Affected.told_resolved_at``), with conditional UPDATEs: a
retry or a second worker sends nothing twice."""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from core.mail import automatic_mail_headers
from incidents.models import Affected, Incident, IncidentUpdate
from tickets.outgoing import email_kind, queue_email, send_each

logger = logging.getLogger(__name__)

RETRYABLE = (ConnectionError, TimeoutError, OSError)
# A notice whose task has not run after this long is enqueued again by the sweep.
REDELIVER_AFTER = timedelta(minutes=1)


def incident_link(incident: Incident) -> str:
    path = reverse("incidents:known", args=[incident.pk])
    return f"{settings.HELPDESK['BASE_URL'].rstrip('/')}{path}"


def _when(value: object) -> str:
    if value is None:
        return "not set yet"
    return timezone.localtime(value).strftime("%a %d %b %H:%M")  # type: ignore[arg-type]


def _message(to: str, subject: str, body: str) -> EmailMessage:
    return EmailMessage(
        subject=subject, body=body, to=[to], headers=automatic_mail_headers(replied=False)
    )


def _send(messages: list[EmailMessage]) -> int:
    return len(send_each(messages, what="incident notice"))


def _affected_addresses(incident: Incident) -> list[str]:
    rows = (
        Affected.objects.filter(incident=incident)
        .exclude(user__email="")
        .values_list("user__email", flat=True)
    )
    return sorted({address.strip() for address in rows if address.strip()})


def send_update_notices(update_id: int) -> int:
    claimed = IncidentUpdate.objects.filter(pk=update_id, notified_at__isnull=True).update(
        notified_at=timezone.now()
    )
    if not claimed:
        return 0
    update = IncidentUpdate.objects.select_related("incident").get(pk=update_id)
    incident = update.incident
    body = (
        f"Update on {incident.service} ({incident.number}):\n\n{update.text}\n\n"
        + (f"Meanwhile: {incident.workaround}\n\n" if incident.workaround else "")
        + f"Next update: {_when(update.next_update_at)}\n"
        f"Follow it here: {incident_link(incident)}\n"
    )
    subject = f"Update: {incident.service} ({incident.number})"
    try:
        sent = _send([_message(to, subject, body) for to in _affected_addresses(incident)])
    except Exception:
        IncidentUpdate.objects.filter(pk=update_id).update(notified_at=None)
        raise
    logger.info("incident %s update %s sent to %d people", incident.pk, update_id, sent)
    return sent


def send_resolved_notices(incident_id: int) -> int:
    """Each affected person once, however often this runs."""
    incident = Incident.objects.get(pk=incident_id)
    if incident.status != Incident.Status.RESOLVED:
        return 0
    subject = f"Back: {incident.service} ({incident.number})"
    body = (
        f"{incident.service} is back.\n\n{incident.resolution}\n\n"
        "Any ticket you filed about it is resolved with it. If something still does not work, "
        "file a new ticket or call the Service Desk at "
        f"{settings.HELPDESK['SERVICE_DESK_PHONE']}.\n"
        f"{incident_link(incident)}\n"
    )
    sent = 0
    waiting = Affected.objects.filter(incident=incident, told_resolved_at__isnull=True)
    with get_connection() as connection:
        for affected_id, address in waiting.values_list("pk", "user__email"):
            if not Affected.objects.filter(pk=affected_id, told_resolved_at__isnull=True).update(
                told_resolved_at=timezone.now()
            ):
                continue
            if not address.strip():
                continue
            message = _message(address.strip(), subject, body)
            message.connection = connection
            try:
                message.send()
            except smtplib.SMTPRecipientsRefused:
                continue
            except Exception:
                Affected.objects.filter(pk=affected_id).update(told_resolved_at=None)
                raise
            sent += 1
    logger.info("incident %s resolution sent to %d people", incident.pk, sent)
    return sent


#: The outbox's name (tickets.outgoing) for a reminder to a commander whose update is late.
COMMANDER_REMINDER = "incident.reminder"


@email_kind(COMMANDER_REMINDER)
def commander_reminder(incident_id: int) -> list[EmailMessage]:
    incident = Incident.objects.select_related("commander", "team").get(pk=incident_id)
    if incident.status != Incident.Status.OPEN:
        return []
    address = (incident.commander.email if incident.commander else "") or incident.team.email
    if not address:
        return []
    path = reverse("incidents:detail", args=[incident.pk])
    body = (
        f"The next update on {incident.service} ({incident.number}) was promised for "
        f"{_when(incident.next_update_at)}. The units are waiting for it: post an update at "
        f"{settings.HELPDESK['BASE_URL'].rstrip('/')}{path}\n"
    )
    return [_message(address, f"Update due: {incident.number} {incident.service}", body)]


def unsent_notices() -> tuple[list[int], list[int]]:
    """Updates and resolutions whose notices a dead broker or worker left behind."""
    cutoff = timezone.now() - REDELIVER_AFTER
    updates = list(
        IncidentUpdate.objects.filter(notified_at__isnull=True, posted_at__lte=cutoff).values_list(
            "pk", flat=True
        )[:100]
    )
    resolved = list(
        Incident.objects.filter(
            status=Incident.Status.RESOLVED,
            resolved_at__lte=cutoff,
            affected__told_resolved_at__isnull=True,
        )
        .values_list("pk", flat=True)
        .distinct()[:100]
    )
    return updates, resolved


@shared_task(
    name="incidents.tasks.notify_incident_update",
    acks_late=True,
    autoretry_for=RETRYABLE,
    retry_backoff=True,
    max_retries=5,
)
def notify_incident_update(update_id: int) -> int:
    return send_update_notices(update_id)


@shared_task(
    name="incidents.tasks.notify_incident_resolved",
    acks_late=True,
    autoretry_for=RETRYABLE,
    retry_backoff=True,
    max_retries=5,
)
def notify_incident_resolved(incident_id: int) -> int:
    return send_resolved_notices(incident_id)


@shared_task(name="incidents.tasks.remind_commander", acks_late=True)
def remind_commander(incident_id: int) -> None:
    """Published before e-mails were kept in the outbox: one still queued from then goes there."""
    with transaction.atomic():
        queue_email(kind=COMMANDER_REMINDER, about_id=incident_id)
