"""E-mails about a major incident: each update and the end to everyone affected (those who said
"me too" and the requesters of its tickets), and a reminder to the commander of a missed update.

They carry what IT wrote for everyone (the service, the message, the workaround, the update);
never what anyone typed into a ticket. Each is kept in the outbox (``tickets.outgoing``) until
sent, one row per person: an update and the end are written in the transaction that posts or
resolves, and a relay that fails halfway sends the second half later, never the first twice."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from core.mail import automatic_mail_headers
from incidents.models import Affected, Incident, IncidentUpdate
from tickets.models import OutgoingEmail
from tickets.outgoing import Wanted, email_kind, queue_email, queue_emails

logger = logging.getLogger(__name__)


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


#: The outbox's names (tickets.outgoing) for an update and the end, each to one person.
UPDATE_NOTICE = "incident.update"
RESOLVED_NOTICE = "incident.resolved"


def _told(incident_id: int) -> dict[str, int]:
    """Everyone affected with an address, once per address: her row's id by address."""
    rows = (
        Affected.objects.filter(incident_id=incident_id)
        .exclude(user__email="")
        .order_by("pk")
        .values_list("pk", "user__email")
    )
    told: dict[str, int] = {}
    for affected_id, address in rows:
        if address.strip():
            told.setdefault(address.strip(), affected_id)
    return told


def queue_update_notices(update: IncidentUpdate, *, again: bool = False) -> list[int]:
    """Write the update's e-mail to each person affected into the posting's transaction."""
    return queue_emails(
        [
            Wanted(UPDATE_NOTICE, update.pk, affected_id)
            for affected_id in _told(update.incident_id).values()
        ],
        again=again,
    )


def queue_resolved_notices(incident_id: int, *, again: bool = False) -> list[int]:
    """Write the end's e-mail to each person affected into the resolution's transaction."""
    waiting = (
        Affected.objects.filter(incident_id=incident_id, told_resolved_at__isnull=True)
        .exclude(user__email="")
        .order_by("pk")
        .values_list("pk", "user__email")
    )
    return queue_emails(
        [Wanted(RESOLVED_NOTICE, pk) for pk, address in waiting if address.strip()], again=again
    )


def _address(affected_id: int | None) -> str:
    """The address of one person affected; none when her row is gone."""
    if affected_id is None:
        return ""
    email = Affected.objects.filter(pk=affected_id).values_list("user__email", flat=True).first()
    return (email or "").strip()


@email_kind(UPDATE_NOTICE)
def update_notice(email: OutgoingEmail) -> list[EmailMessage]:
    update = IncidentUpdate.objects.select_related("incident").get(pk=email.about_id)
    incident = update.incident
    address = _address(email.recipient_id)
    if not address:
        return []
    body = (
        f"Update on {incident.service} ({incident.number}):\n\n{update.text}\n\n"
        + (f"Meanwhile: {incident.workaround}\n\n" if incident.workaround else "")
        + f"Next update: {_when(update.next_update_at)}\n"
        f"Follow it here: {incident_link(incident)}\n"
    )
    return [_message(address, f"Update: {incident.service} ({incident.number})", body)]


@email_kind(RESOLVED_NOTICE)
def resolved_notice(email: OutgoingEmail) -> list[EmailMessage]:
    affected = Affected.objects.select_related("incident", "user").get(pk=email.about_id)
    incident = affected.incident
    address = affected.user.email.strip()
    if incident.status != Incident.Status.RESOLVED or not address:
        return []
    body = (
        f"{incident.service} is back.\n\n{incident.resolution}\n\n"
        "Any ticket you filed about it is resolved with it. If something still does not work, "
        "file a new ticket or call the Service Desk at "
        f"{settings.HELPDESK['SERVICE_DESK_PHONE']}.\n"
        f"{incident_link(incident)}\n"
    )
    return [_message(address, f"Back: {incident.service} ({incident.number})", body)]


#: The outbox's name (tickets.outgoing) for a reminder to a commander whose update is late.
COMMANDER_REMINDER = "incident.reminder"


@email_kind(COMMANDER_REMINDER)
def commander_reminder(email: OutgoingEmail) -> list[EmailMessage]:
    incident = Incident.objects.select_related("commander", "team").get(pk=email.about_id)
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


# Tasks published before these e-mails were kept in the outbox: one still queued from then
# writes its e-mails there, except to whoever the old claim columns say was told.


@shared_task(name="incidents.tasks.notify_incident_update", acks_late=True)
def notify_incident_update(update_id: int) -> int:
    update = IncidentUpdate.objects.filter(pk=update_id, notified_at__isnull=True).first()
    if update is None:
        return 0
    with transaction.atomic():
        return len(queue_update_notices(update, again=True))


@shared_task(name="incidents.tasks.notify_incident_resolved", acks_late=True)
def notify_incident_resolved(incident_id: int) -> int:
    with transaction.atomic():
        return len(queue_resolved_notices(incident_id, again=True))


@shared_task(name="incidents.tasks.remind_commander", acks_late=True)
def remind_commander(incident_id: int) -> None:
    """Published before e-mails were kept in the outbox: one still queued from then goes there."""
    with transaction.atomic():
        queue_email(kind=COMMANDER_REMINDER, about_id=incident_id)
