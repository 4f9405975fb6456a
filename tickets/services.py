"""Every change to a ticket goes through a function here.

Pages, the API and Celery tasks all call these, so a rule lives in one place. Each function takes
keyword arguments only and runs in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from departments.models import Location
from departments.roles import is_it_staff
from tickets import phi
from tickets.enqueue import enqueue_on_commit
from tickets.models import Category, Ticket, TicketEvent
from tickets.priority import Scope, decide_priority, impact_from_scope, urgency_from_answers

TITLE_MAX_LENGTH = 120
DESCRIPTION_MAX_LENGTH = 4000
COMMENT_MAX_LENGTH = 4000
CALLBACK_MAX_LENGTH = 60


class TicketError(Exception):
    """A request the rules refuse; the message is shown to the user as it is."""


@dataclass(frozen=True, slots=True)
class Filing:
    ticket: Ticket
    # False when the idempotency key matched a ticket filed earlier (double click, resubmit).
    created: bool


def text_has_phi(*texts: str) -> bool:
    helpdesk = settings.HELPDESK
    return any(
        phi.kinds(
            text,
            mrn_min_digits=helpdesk["MRN_MIN_DIGITS"],
            mrn_max_digits=helpdesk["MRN_MAX_DIGITS"],
        )
        for text in texts
        if text
    )


def ticket_file(
    *,
    requester: User,
    location: Location,
    category: Category,
    title: str,
    callback: str,
    care_delayed: bool,
    scope: Scope,
    workaround: bool,
    description: str = "",
    idempotency_key: str | None = None,
) -> Filing:
    """File a ticket. The department is the location's: never a free choice, since it decides
    whether the on-call technician is paged."""
    if idempotency_key:
        existing = Ticket.objects.filter(
            requester=requester, idempotency_key=idempotency_key
        ).first()
        if existing is not None:
            return Filing(ticket=existing, created=False)

    department = location.department
    urgency = urgency_from_answers(care_delayed=care_delayed, workaround=workaround)
    impact = impact_from_scope(scope)
    decision = decide_priority(
        impact=impact,
        urgency=urgency,
        department_name=department.name,
        auto_escalate=department.auto_escalate,
    )
    now = timezone.now()
    ticket = Ticket(
        title=title.strip(),
        description=description.strip(),
        requester=requester,
        department=department,
        location=location,
        callback=callback.strip(),
        category=category,
        team_id=category.team_id,
        care_delayed=care_delayed,
        scope=scope,
        workaround=workaround,
        urgency=urgency,
        impact=impact,
        matrix_priority=decision.matrix_priority,
        priority=decision.priority,
        auto_escalated=decision.escalated,
        created_at=now,
        phi_suspected=text_has_phi(title, description),
        idempotency_key=idempotency_key or None,
    )
    try:
        with transaction.atomic():
            ticket.save()
    except IntegrityError:
        # Two submissions with one key raced past the lookup above; the first one won.
        if not idempotency_key:
            raise
        winner = Ticket.objects.get(requester=requester, idempotency_key=idempotency_key)
        return Filing(ticket=winner, created=False)

    with transaction.atomic():
        events = [
            TicketEvent(
                ticket=ticket,
                at=now,
                actor=requester,
                kind=TicketEvent.Kind.FILED,
                is_public=True,
                new_value=f"P{decision.matrix_priority}",
                text=f"Filed from {location}.",
            )
        ]
        if decision.escalated:
            events.append(
                TicketEvent(
                    ticket=ticket,
                    at=now,
                    kind=TicketEvent.Kind.ESCALATED,
                    is_public=True,
                    old_value=f"P{decision.matrix_priority}",
                    new_value=f"P{decision.priority}",
                    text=decision.reason,
                )
            )
        if ticket.phi_suspected:
            events.append(
                TicketEvent(
                    ticket=ticket,
                    at=now,
                    kind=TicketEvent.Kind.PHI_FLAGGED,
                    text="The text looks like it holds patient data; it is left out of "
                    "notifications and exports.",
                )
            )
        TicketEvent.objects.bulk_create(events)

    from tickets.tasks import notify_ticket_filed

    enqueue_on_commit(notify_ticket_filed, ticket.pk)
    return Filing(ticket=ticket, created=True)


def ticket_comment(*, ticket: Ticket, author: User, text: str) -> TicketEvent:
    """A public comment. From the requester it also answers a "waiting on you" ticket."""
    text = text.strip()
    if not text:
        raise TicketError("Write a comment before sending it.")
    if len(text) > COMMENT_MAX_LENGTH:
        raise TicketError(f"Keep a comment under {COMMENT_MAX_LENGTH} characters.")
    with transaction.atomic():
        locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
        if not locked.is_open and not is_it_staff(author):
            raise TicketError(
                f"{locked.number} is {locked.get_status_display().lower()}. "
                "File a new ticket if the problem is back."
            )
        now = timezone.now()
        event = TicketEvent.objects.create(
            ticket=locked,
            at=now,
            actor=author,
            kind=TicketEvent.Kind.COMMENT,
            is_public=True,
            text=text,
        )
        fields = ["updated_at"]
        if text_has_phi(text) and not locked.phi_suspected:
            locked.phi_suspected = True
            fields.append("phi_suspected")
            TicketEvent.objects.create(
                ticket=locked,
                at=now,
                kind=TicketEvent.Kind.PHI_FLAGGED,
                text="A comment looks like it holds patient data.",
            )
        if locked.requester_id == author.pk and locked.status == Ticket.Status.WAITING_ON_REQUESTER:
            TicketEvent.objects.create(
                ticket=locked,
                at=now,
                actor=author,
                kind=TicketEvent.Kind.STATUS,
                is_public=True,
                old_value=locked.status,
                new_value=Ticket.Status.IN_PROGRESS,
                text="The requester answered.",
            )
            locked.status = Ticket.Status.IN_PROGRESS
            fields.append("status")
        locked.save(update_fields=fields)
    ticket.refresh_from_db()
    return event
