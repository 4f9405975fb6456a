"""Every change to a major incident: detect, declare, join, update, remind, resolve, link
tickets, and the recovery checklist. Pages, the API and the beat task all call these.

Detection counts tickets under their category tile (a subcategory counts under its top-level
category, the tile the nurse picked): "EHR: slow" and "EHR: printing" from five units are one
EHR outage, not two small ones."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Min, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from departments.models import Department
from departments.roles import display_name, is_it_staff
from departments.units import home_department_id
from incidents import notifications
from incidents.banner import banner_changed
from incidents.models import (
    Affected,
    Incident,
    IncidentAlert,
    IncidentTicket,
    IncidentUpdate,
    RecoveryItem,
)
from oncall.models import EscalationPolicy
from tickets import paging
from tickets.models import Category, PageChain, Ticket
from tickets.notifications import safe_summary
from tickets.outgoing import queue_email
from tickets.services import TicketError, ticket_add_note, ticket_resolve

logger = logging.getLogger(__name__)

MESSAGE_MAX_LENGTH = 2000
NOTE_MAX_LENGTH = 140
# A page goes to a phone by SMS: it names a few of the cluster's tickets and counts the rest, and
# each ticket's line is cut short; the units an incident affects likewise.
PAGE_TICKETS_LISTED = 3
PAGE_TICKET_LINE_LENGTH = 90
PAGE_UNITS_LISTED = 3
PAGE_SUMMARY_LENGTH = 400  # PageChain.summary


class IncidentError(Exception):
    """A change the rules refuse; the message is shown as it is."""


@dataclass(frozen=True, slots=True)
class Thresholds:
    tickets: int
    units: int
    window: timedelta
    quiet: timedelta


def thresholds() -> Thresholds:
    config: dict[str, Any] = settings.HELPDESK
    return Thresholds(
        tickets=config["MAJOR_INCIDENT_TICKETS"],
        units=config["MAJOR_INCIDENT_UNITS"],
        window=timedelta(minutes=config["MAJOR_INCIDENT_WINDOW_MINUTES"]),
        quiet=timedelta(minutes=config["MAJOR_INCIDENT_QUIET_MINUTES"]),
    )


def _require_it(user: User) -> None:
    if not is_it_staff(user):
        raise IncidentError("Only IT staff can do that.")


def _one_line(text: str, limit: int) -> str:
    return " ".join(text.split())[:limit]


# Detection ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Cluster:
    category_id: int
    ticket_count: int
    unit_count: int
    first_ticket_at: datetime


def clusters(*, now: datetime) -> list[Cluster]:
    """Tiles with enough open tickets from enough units within the window, not already alerted,
    dismissed (quiet) or declared. One grouped query over the window's tickets (the index on
    ``created_at`` keeps it the size of the window, not of the history)."""
    limits = thresholds()
    quiet_tiles = IncidentAlert.objects.filter(
        Q(status=IncidentAlert.Status.OPEN) | Q(quiet_until__gt=now)
    ).values("category_id")
    declared_tiles = Incident.objects.filter(
        status=Incident.Status.OPEN, category__isnull=False
    ).values("category_id")
    rows = (
        Ticket.objects.filter(
            created_at__gt=now - limits.window,
            created_at__lte=now,
            status__in=Ticket.OPEN_STATUSES,
        )
        .annotate(tile=Coalesce("category__parent_id", "category_id"))
        .exclude(tile__in=quiet_tiles)
        .exclude(tile__in=declared_tiles)
        .values("tile")
        .annotate(
            ticket_count=Count("pk"),
            unit_count=Count("department_id", distinct=True),
            first_ticket_at=Min("created_at"),
        )
        .filter(ticket_count__gte=limits.tickets, unit_count__gte=limits.units)
        .order_by("tile")
    )
    return [
        Cluster(row["tile"], row["ticket_count"], row["unit_count"], row["first_ticket_at"])
        for row in rows
    ]


def _cluster_tickets(category_id: int, *, now: datetime) -> list[Ticket]:
    limits = thresholds()
    return list(
        Ticket.objects.filter(
            Q(category_id=category_id) | Q(category__parent_id=category_id),
            created_at__gt=now - limits.window,
            created_at__lte=now,
            status__in=Ticket.OPEN_STATUSES,
        )
        .select_related("department", "category")
        .order_by("created_at", "pk")
    )


def _cut(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _and_more(shown: list[str], total: int, separator: str) -> str:
    more = total - len(shown)
    return separator.join(shown) + (f"{separator}and {more} more" if more > 0 else "")


def alert_page_summary(tickets: Sequence[Ticket], unit_count: int) -> str:
    """What the "possible major incident" page says beyond its first ticket: the cluster's
    tickets, each as the one line pages and e-mails already use (a ticket suspected of holding
    patient data shows its category, never its title), the first few only."""
    lines = [
        _cut(safe_summary(ticket), PAGE_TICKET_LINE_LENGTH)
        for ticket in tickets[:PAGE_TICKETS_LISTED]
    ]
    return _cut(
        f"Possible major incident: {len(tickets)} tickets from {unit_count} units: "
        f"{_and_more(lines, len(tickets), '; ')}",
        PAGE_SUMMARY_LENGTH,
    )


def _page_for_alert(alert: IncidentAlert, tickets: Sequence[Ticket], now: datetime) -> None:
    """One page to the team's on-call for the whole cluster: the chain runs on the cluster's
    first ticket nobody is paged for yet (acknowledging it stops it, as for any page), and the
    ticket's timeline lists the cluster. Tickets already paged for keep their own chain: the
    on-call is being told already."""
    running = set(
        PageChain.objects.filter(ticket__in=tickets, status=PageChain.Status.ACTIVE).values_list(
            "ticket_id", flat=True
        )
    )
    anchor = next((ticket for ticket in tickets if ticket.pk not in running), None)
    numbers = ", ".join(ticket.number for ticket in tickets)
    if anchor is None:
        return
    paging.start_chain(
        ticket=anchor,
        reason=PageChain.Reason.POSSIBLE_MAJOR,
        summary=alert_page_summary(tickets, alert.unit_count),
        now=now,
    )
    ticket_add_note(
        ticket=anchor,
        actor=None,
        text=(
            f"Possible major incident: {len(tickets)} tickets from {alert.unit_count} units "
            f"({numbers}). The on-call was paged once for all of them."
        ),
        now=now,
    )


def detect(*, now: datetime | None = None) -> list[IncidentAlert]:
    """Raise a "possible major incident" for every new cluster, exactly once however many
    sweepers run at once: the database allows one open alert per category, and a sweeper that
    loses the race writes nothing and pages nobody."""
    now = now or timezone.now()
    raised = []
    for cluster in clusters(now=now):
        category = Category.objects.select_related("team").get(pk=cluster.category_id)
        try:
            with transaction.atomic():
                alert = IncidentAlert.objects.create(
                    category=category,
                    team=category.team,
                    detected_at=now,
                    first_ticket_at=cluster.first_ticket_at,
                    unit_count=cluster.unit_count,
                )
                tickets = _cluster_tickets(cluster.category_id, now=now)
                alert.tickets.set(tickets)
                _page_for_alert(alert, tickets, now)
        except IntegrityError:
            continue  # another sweeper raised it first
        logger.info("possible major incident %s raised for category %s", alert.pk, category.pk)
        raised.append(alert)
    return raised


def alert_dismiss(*, alert: IncidentAlert, by: User, now: datetime | None = None) -> IncidentAlert:
    """Not a major incident: the same tile stays quiet for an hour (a setting)."""
    _require_it(by)
    now = now or timezone.now()
    changed = IncidentAlert.objects.filter(pk=alert.pk, status=IncidentAlert.Status.OPEN).update(
        status=IncidentAlert.Status.DISMISSED,
        decided_at=now,
        decided_by=by,
        quiet_until=now + thresholds().quiet,
    )
    if not changed:
        raise IncidentError("Somebody has already decided about this alert.")
    alert.refresh_from_db()
    return alert


# Declaring and linking ---------------------------------------------------------------------


def recovery_checklist_for(category: Category | None) -> list[str]:
    """The recovery checklist a service starts with (settings, by category slug)."""
    lists: dict[str, list[str]] = settings.HELPDESK["MAJOR_INCIDENT_RECOVERY"]
    if category is not None and category.slug in lists:
        return list(lists[category.slug])
    return list(lists.get("*", []))


def _link(incident: Incident, ticket: Ticket, by: User | None, now: datetime) -> bool:
    try:
        with transaction.atomic():
            IncidentTicket.objects.create(
                incident=incident, ticket=ticket, linked_by=by, linked_at=now
            )
    except IntegrityError:
        return False
    # Whoever filed it is affected, and told of updates and the end like those who said "me too".
    Affected.objects.get_or_create(
        incident=incident,
        user_id=ticket.requester_id,
        defaults={
            "department_id": ticket.department_id,
            "callback": ticket.callback,
            "joined_at": now,
        },
    )
    ticket_add_note(
        ticket=ticket,
        actor=by,
        text=f"Linked to major incident {incident.number}: {incident.service}.",
        public=True,
        now=now,
    )
    return True


def link_ticket(
    *, incident: Incident, ticket: Ticket, by: User, now: datetime | None = None
) -> None:
    _require_it(by)
    if incident.status != Incident.Status.OPEN:
        raise IncidentError(f"{incident.number} is resolved.")
    if not ticket.is_open:
        raise IncidentError(f"{ticket.number} is not open.")
    with transaction.atomic():
        if not _link(incident, ticket, by, now or timezone.now()):
            raise IncidentError(f"{ticket.number} is already linked to a major incident.")
    banner_changed()


def unlink_ticket(
    *, incident: Incident, ticket: Ticket, by: User, now: datetime | None = None
) -> None:
    _require_it(by)
    with transaction.atomic():
        deleted, _ = IncidentTicket.objects.filter(incident=incident, ticket=ticket).delete()
        if not deleted:
            raise IncidentError(f"{ticket.number} is not linked to {incident.number}.")
        ticket_add_note(
            ticket=ticket,
            actor=by,
            text=f"No longer linked to major incident {incident.number}.",
            public=True,
            now=now or timezone.now(),
        )


def commander_page_summary(incident: Incident, departments: Sequence[Department]) -> str:
    """The whole commander page: the incident's number, what is down and where, from the
    fields IT entered when declaring; never a ticket's text."""
    if incident.hospital_wide:
        where = "hospital-wide"
    else:
        names = [department.name for department in departments]
        where = _and_more(names[:PAGE_UNITS_LISTED], len(names), ", ")
    return _cut(
        f"Major incident {incident.number}: {incident.service} down - {where}",
        PAGE_SUMMARY_LENGTH,
    )


def _page_commander(
    incident: Incident, departments: Sequence[Department], by: User, now: datetime
) -> None:
    """Page the team's incident commander ladder (its ticket ladder if it has none) for the
    incident just declared, in the transaction that declared it: the incident and its one
    chain exist together or not at all."""
    incident.commander_chain = paging.start_team_chain(
        team=incident.team,
        reason=PageChain.Reason.MAJOR_INCIDENT,
        ladder=EscalationPolicy.Purpose.COMMANDER,
        summary=commander_page_summary(incident, departments),
        link=incident.get_absolute_url(),
        started_by=by,
        now=now,
    )
    incident.save(update_fields=["commander_chain"])


def _refuse_repeat(*, service: str, category: Category, ticket: Ticket | None) -> None:
    """A declaration sent twice (a double tap, a retried request, two technicians at once) is
    one incident paged once. The category row is locked until the declaration commits, so of
    two at once the second sees the first."""
    Category.objects.select_for_update(no_key=True).filter(pk=category.pk).first()
    same = Incident.objects.filter(
        status=Incident.Status.OPEN, category=category, service__iexact=service
    ).first()
    if same is not None:
        raise IncidentError(f"{same.number} is already open for {same.service}.")
    if ticket is not None:
        linked = IncidentTicket.objects.filter(ticket=ticket).select_related("incident").first()
        if linked is not None:
            raise IncidentError(f"{ticket.number} is already part of {linked.incident.number}.")


def declare(
    *,
    by: User,
    service: str,
    message: str,
    category: Category | None = None,
    hospital_wide: bool = True,
    departments: Iterable[Department] = (),
    workaround: str = "",
    next_update_at: datetime | None = None,
    alert: IncidentAlert | None = None,
    ticket: Ticket | None = None,
    now: datetime | None = None,
) -> Incident:
    """Declare a major incident, from scratch, from an alert (confirming it: its tickets are
    linked) or from a ticket (it is linked). The declarer commands it until someone else does;
    the team's incident commander is paged once."""
    _require_it(by)
    service = _one_line(service, 80)
    message = message.strip()
    if not service:
        raise IncidentError("Name what is down (the EHR, PACS, Wi-Fi on 4 West).")
    if not message:
        raise IncidentError("Write the message clinical staff will read.")
    if len(message) > MESSAGE_MAX_LENGTH:
        raise IncidentError(f"Keep the message under {MESSAGE_MAX_LENGTH} characters.")
    departments = list(departments)
    if not hospital_wide and not departments:
        raise IncidentError("Choose the affected departments, or hospital-wide.")
    now = now or timezone.now()
    if next_update_at is not None and next_update_at <= now:
        raise IncidentError("The next update must be in the future.")
    if category is None and alert is not None:
        category = alert.category
    if category is None and ticket is not None:
        category = ticket.category.parent or ticket.category
    if category is None:
        raise IncidentError("Choose the category it affects: it names the team on call.")
    team = category.team
    with transaction.atomic():
        tickets: list[Ticket] = []
        detected_at = None
        if alert is not None:
            claimed = IncidentAlert.objects.filter(
                pk=alert.pk, status=IncidentAlert.Status.OPEN
            ).update(status=IncidentAlert.Status.DECLARED, decided_at=now, decided_by=by)
            if not claimed:
                raise IncidentError("Somebody has already decided about this alert.")
            tickets = list(alert.tickets.filter(status__in=Ticket.OPEN_STATUSES).order_by("pk"))
            detected_at = alert.detected_at
        _refuse_repeat(service=service, category=category, ticket=ticket)
        if ticket is not None:
            tickets.append(ticket)
        started_at = min([t.created_at for t in tickets], default=now)
        incident = Incident.objects.create(
            service=service,
            category=category,
            team=team,
            hospital_wide=hospital_wide,
            message=message,
            workaround=workaround.strip(),
            started_at=min(started_at, now),
            detected_at=detected_at,
            declared_at=now,
            declared_by=by,
            commander=by,
            next_update_at=next_update_at,
        )
        if not hospital_wide:
            incident.departments.set(departments)
        if alert is not None:
            IncidentAlert.objects.filter(pk=alert.pk).update(incident=incident)
        for one in tickets:
            if one.is_open:
                _link(incident, one, by, now)
        RecoveryItem.objects.bulk_create(
            RecoveryItem(incident=incident, text=text, position=position)
            for position, text in enumerate(recovery_checklist_for(category))
        )
        _page_commander(incident, [] if hospital_wide else departments, by, now)
    banner_changed()
    logger.info("major incident %s declared", incident.pk)
    return incident


# "Me too" ---------------------------------------------------------------------------------


def join(
    *,
    incident: Incident,
    user: User,
    department: Department | None = None,
    callback: str = "",
    note: str = "",
    now: datetime | None = None,
) -> tuple[Affected, bool]:
    """She is affected too: counted (under her home department unless told another), told of
    updates and of the end. No ticket, no page. Saying it twice counts her once (the second
    time keeps what she said first)."""
    if incident.status != Incident.Status.OPEN:
        raise IncidentError(f"{incident.number} is already resolved.")
    if department is None:
        department = Department.objects.filter(pk=home_department_id(user) or 0).first()
    try:
        with transaction.atomic():
            affected, created = Affected.objects.get_or_create(
                incident=incident,
                user=user,
                defaults={
                    "department": department,
                    "callback": _one_line(callback, 60),
                    "note": _one_line(note, NOTE_MAX_LENGTH),
                    "joined_at": now or timezone.now(),
                },
            )
    except IntegrityError:  # she tapped twice at once
        affected, created = Affected.objects.get(incident=incident, user=user), False
    if created:
        banner_changed()
    return affected, created


# Updates and reminders ---------------------------------------------------------------------


def post_update(
    *,
    incident: Incident,
    by: User,
    text: str,
    next_update_at: datetime | None,
    now: datetime | None = None,
) -> IncidentUpdate:
    """An update for everyone affected: on the banner at once, by e-mail once it commits."""
    _require_it(by)
    text = text.strip()
    if not text:
        raise IncidentError("Write the update.")
    if len(text) > MESSAGE_MAX_LENGTH:
        raise IncidentError(f"Keep the update under {MESSAGE_MAX_LENGTH} characters.")
    now = now or timezone.now()
    if next_update_at is not None and next_update_at <= now:
        raise IncidentError("The next update must be in the future.")
    with transaction.atomic():
        locked = Incident.objects.select_for_update().get(pk=incident.pk)
        if locked.status != Incident.Status.OPEN:
            raise IncidentError(f"{locked.number} is resolved.")
        update = IncidentUpdate.objects.create(
            incident=locked, text=text, posted_by=by, posted_at=now, next_update_at=next_update_at
        )
        Incident.objects.filter(pk=locked.pk).update(
            last_update_at=now, next_update_at=next_update_at, update_reminded_at=None
        )
        notifications.queue_update_notices(update)
    banner_changed()
    incident.refresh_from_db()
    return update


def overdue_updates(*, now: datetime | None = None) -> list[int]:
    """Claim every open incident whose promised update time passed unreminded: each promised
    time is claimed once (a conditional UPDATE), however many sweepers run."""
    now = now or timezone.now()
    due = list(
        Incident.objects.filter(status=Incident.Status.OPEN, next_update_at__lte=now)
        .filter(Q(update_reminded_at__isnull=True) | Q(update_reminded_at__lt=F("next_update_at")))
        .values_list("pk", flat=True)
    )
    claimed = []
    for pk in due:
        if (
            Incident.objects.filter(pk=pk, next_update_at__lte=now)
            .filter(
                Q(update_reminded_at__isnull=True) | Q(update_reminded_at__lt=F("next_update_at"))
            )
            .update(update_reminded_at=now)
        ):
            claimed.append(pk)
    for pk in claimed:
        queue_email(kind=notifications.COMMANDER_REMINDER, about_id=pk)
    return claimed


# Resolution --------------------------------------------------------------------------------


def resolve(
    *, incident: Incident, by: User, resolution: str, now: datetime | None = None
) -> Incident:
    """The system is back: every linked ticket is resolved with the incident's resolution,
    every affected person is told once, the banner closes."""
    _require_it(by)
    resolution = resolution.strip()
    if not resolution:
        raise IncidentError("Write what everyone affected is told (what to do now it is back).")
    if len(resolution) > MESSAGE_MAX_LENGTH:
        raise IncidentError(f"Keep the resolution under {MESSAGE_MAX_LENGTH} characters.")
    now = now or timezone.now()
    with transaction.atomic():
        locked = Incident.objects.select_for_update().get(pk=incident.pk)
        if locked.status != Incident.Status.OPEN:
            raise IncidentError(f"{locked.number} is already resolved.")
        Incident.objects.filter(pk=locked.pk).update(
            status=Incident.Status.RESOLVED, resolved_at=now, resolved_by=by, resolution=resolution
        )
        if locked.commander_chain_id:
            paging.end_chain(chain_id=locked.commander_chain_id, now=now)
        open_tickets = Ticket.objects.filter(
            pk__in=IncidentTicket.objects.filter(incident=locked).values("ticket_id"),
            status__in=Ticket.OPEN_STATUSES,
        ).order_by("pk")
        note = f"Resolved with major incident {locked.number}: {resolution}"
        for ticket in open_tickets:
            try:
                # Its requester hears it once, from the incident's own notice.
                ticket_resolve(
                    ticket=ticket, actor=by, code=Ticket.ResolutionCode.FIXED, note=note,
                    now=now, notify_requester=False,
                )  # fmt: skip
            except TicketError as error:
                logger.warning(
                    "ticket %s not resolved with incident %s: %s", ticket.pk, locked.pk, error
                )
        notifications.queue_resolved_notices(locked.pk)
    banner_changed()
    incident.refresh_from_db()
    return incident


def acknowledge_commander_page(
    *, incident: Incident, by: User, now: datetime | None = None
) -> PageChain:
    """Someone has taken the incident: the commander ladder stops, as the page's own link
    stops it."""
    _require_it(by)
    if incident.commander_chain_id is None:
        raise IncidentError(f"Nobody is being paged for {incident.number}.")
    try:
        return paging.acknowledge(
            chain_id=incident.commander_chain_id, user=by, via=paging.AckVia.SUBJECT_PAGE, now=now
        )
    except paging.PagingError as error:
        raise IncidentError(str(error)) from None


# Recovery checklist ------------------------------------------------------------------------


def recovery_add(*, incident: Incident, by: User, text: str) -> RecoveryItem:
    _require_it(by)
    text = _one_line(text, 200)
    if not text:
        raise IncidentError("Write the checklist item.")
    position = incident.recovery.count()
    return RecoveryItem.objects.create(incident=incident, text=text, position=position)


def recovery_tick(
    *, item: RecoveryItem, by: User, done: bool = True, now: datetime | None = None
) -> RecoveryItem:
    _require_it(by)
    if done:
        RecoveryItem.objects.filter(pk=item.pk, done_at__isnull=True).update(
            done_at=now or timezone.now(), done_by=by
        )
    else:
        RecoveryItem.objects.filter(pk=item.pk).update(done_at=None, done_by=None)
    item.refresh_from_db()
    return item


def commander_name(incident: Incident) -> str:
    return display_name(incident.commander) if incident.commander else "IT"
