"""Every change to a ticket goes through a function here.

Pages, the API and Celery tasks all call these, so a rule lives in one place. Each function takes
keyword arguments only and runs in one transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from departments.models import Location
from departments.roles import is_it_staff
from tickets import paging, phi
from tickets.enqueue import enqueue_on_commit
from tickets.models import Category, PageChain, SlaPolicy, Ticket, TicketEvent
from tickets.priority import Scope, decide_priority, impact_from_scope, urgency_from_answers

logger = logging.getLogger(__name__)

PHI_FLAGGED_TEXT = (
    "The text looks like it holds patient data; it is left out of notifications and exports."
)
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
    _start_clocks(ticket)
    with transaction.atomic():
        try:
            with transaction.atomic():
                ticket.save()
        except IntegrityError:
            # Two submissions with one key raced past the lookup above; the first one won.
            if not idempotency_key:
                raise
            winner = Ticket.objects.get(requester=requester, idempotency_key=idempotency_key)
            return Filing(ticket=winner, created=False)

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
                    text=PHI_FLAGGED_TEXT,
                )
            )
        TicketEvent.objects.bulk_create(events)
        page_reason = paging_reason(ticket)
        if page_reason is not None:
            paging.start_chain(ticket=ticket, reason=page_reason, now=now)

    from tickets.tasks import notify_ticket_filed

    enqueue_on_commit(notify_ticket_filed, ticket.pk)
    return Filing(ticket=ticket, created=True)


def paging_reason(ticket: Ticket) -> PageChain.Reason | None:
    """A P1 pages the on-call at once; so does a P2 from an auto-escalating department."""
    if ticket.priority == 1:
        return PageChain.Reason.P1_FILED
    if ticket.department.auto_escalate and ticket.priority <= 2:
        return PageChain.Reason.CRITICAL_AREA
    return None


def _start_clocks(ticket: Ticket) -> list[str]:
    try:
        policy = SlaPolicy.for_ticket(priority=ticket.priority, department=ticket.department)
    except SlaPolicy.DoesNotExist:
        # The ticket is still filed; without a policy it simply has no deadlines to show.
        logger.error("no SLA policy for P%s; ticket filed without deadlines", ticket.priority)
        return []
    return ticket.apply_sla_policy(policy, policy.calendar_for(ticket.department))


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
        if is_it_staff(author):
            fields += locked.record_first_response(now)
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
            fields += ["status", *locked.resume_clock(now)]
        locked.save(update_fields=fields)
    ticket.refresh_from_db()
    return event


S = Ticket.Status
# Where a ticket may go from each status. Reopening is resolved -> in progress.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.NEW: frozenset({S.ASSIGNED, S.IN_PROGRESS, S.WAITING_ON_REQUESTER, S.WAITING_ON_VENDOR,
                      S.RESOLVED, S.CANCELLED}),
    S.ASSIGNED: frozenset({S.IN_PROGRESS, S.WAITING_ON_REQUESTER, S.WAITING_ON_VENDOR,
                           S.RESOLVED, S.CANCELLED}),
    S.IN_PROGRESS: frozenset({S.WAITING_ON_REQUESTER, S.WAITING_ON_VENDOR, S.RESOLVED,
                              S.CANCELLED}),
    S.WAITING_ON_REQUESTER: frozenset({S.IN_PROGRESS, S.WAITING_ON_VENDOR, S.RESOLVED,
                                       S.CANCELLED}),
    S.WAITING_ON_VENDOR: frozenset({S.IN_PROGRESS, S.WAITING_ON_REQUESTER, S.RESOLVED,
                                    S.CANCELLED}),
    S.RESOLVED: frozenset({S.CLOSED, S.IN_PROGRESS}),
    S.CLOSED: frozenset(),
    S.CANCELLED: frozenset(),
}  # fmt: skip
# What a requester may do to their own ticket: reopen it, or call it off.
REQUESTER_TRANSITIONS = {(S.RESOLVED, S.IN_PROGRESS)} | {
    (status, S.CANCELLED) for status in Ticket.OPEN_STATUSES
}


def ticket_set_status(
    *, ticket: Ticket, actor: User, status: str, note: str = "", now: datetime | None = None
) -> Ticket:
    """Move a ticket along its allowed transitions, keeping the SLA clocks right: waiting on
    someone pauses the resolution clock, resolving stops it, reopening resumes it."""
    if status not in TRANSITIONS:
        raise TicketError(f"{status!r} is not a ticket status.")
    with transaction.atomic():
        locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
        old = locked.status
        if status == old:
            raise TicketError(f"{locked.number} is already {locked.get_status_display().lower()}.")
        if status not in TRANSITIONS[old]:
            raise TicketError(
                f"A ticket that is {Ticket.Status(old).label.lower()} cannot be moved to "
                f"{Ticket.Status(status).label.lower()}."
            )
        if not is_it_staff(actor) and (
            locked.requester_id != actor.pk or (old, status) not in REQUESTER_TRANSITIONS
        ):
            raise TicketError("Only IT staff can make that change.")
        now = now or timezone.now()
        fields = ["status", "updated_at"]
        if status in Ticket.PAUSED_STATUSES:
            fields += locked.pause_clock(now)
        elif old in Ticket.PAUSED_STATUSES and status in Ticket.CLOCK_RUNNING_STATUSES:
            fields += locked.resume_clock(now)
        if status == S.RESOLVED:
            fields += locked.record_resolution(now)
        elif old == S.RESOLVED and status == S.IN_PROGRESS:
            fields += locked.record_reopen(now)
        elif status == S.CLOSED:
            locked.closed_at = now
            fields.append("closed_at")
        if status in (S.RESOLVED, S.CLOSED, S.CANCELLED):
            paging.end_chains_for(locked, now)
        if status in (S.RESOLVED, S.WAITING_ON_REQUESTER) and is_it_staff(actor):
            # Telling the requester "fixed" or "we need you" is a response to them.
            fields += locked.record_first_response(now)
        locked.status = status
        locked.save(update_fields=sorted(set(fields)))
        TicketEvent.objects.create(
            ticket=locked,
            at=now,
            actor=actor,
            kind=TicketEvent.Kind.STATUS,
            is_public=True,
            old_value=old,
            new_value=status,
            text=note.strip(),
        )
    ticket.refresh_from_db()
    return ticket


def ticket_change_priority(
    *, ticket: Ticket, actor: User, priority: int, reason: str, now: datetime | None = None
) -> Ticket:
    """Change the priority with a reason; deadlines are recomputed from the filing time."""
    reason = reason.strip()
    if not is_it_staff(actor):
        raise TicketError("Only IT staff can change a ticket's priority.")
    if priority not in range(1, 6):
        raise TicketError("Priority must be P1 to P5.")
    if not reason:
        raise TicketError("Give a reason for changing the priority; it goes on the record.")
    with transaction.atomic():
        locked = Ticket.objects.select_for_update().select_related("department").get(pk=ticket.pk)
        old = locked.priority
        if priority == old:
            raise TicketError(f"{locked.number} is already P{priority}.")
        now = now or timezone.now()
        locked.priority = priority
        fields = ["priority", "updated_at", *_start_clocks(locked)]
        # A warning not yet due under the new target will come again; breaches stay on record.
        for clock in ("response", "resolution"):
            warn_at = getattr(locked, f"{clock}_warn_at")
            if warn_at is not None and warn_at > now:
                setattr(locked, f"{clock}_warned_at", None)
                fields.append(f"{clock}_warned_at")
        locked.save(update_fields=sorted(set(fields)))
        TicketEvent.objects.create(
            ticket=locked,
            at=now,
            actor=actor,
            kind=TicketEvent.Kind.PRIORITY,
            is_public=True,
            old_value=f"P{old}",
            new_value=f"P{priority}",
            text=reason,
        )
    ticket.refresh_from_db()
    return ticket
