"""Every change to a ticket goes through a function here.

Pages, the API and Celery tasks all call these, so a rule lives in one place. Each function takes
keyword arguments only and runs in one transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from departments.models import Location, Team
from departments.roles import display_name, is_it_staff
from departments.units import files_for_other_unit
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
    workstation: Location | None = None,
) -> Filing:
    """File a ticket. The department is the location's: never a free choice, since it decides
    whether the on-call technician is paged. A location outside the requester's own units (see
    departments/units.py; ``workstation``: the one she files from) is recorded as filed for
    another unit; the form and the API have asked her first."""
    department = location.department
    other_unit = files_for_other_unit(requester, location, workstation=workstation)
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
        filed_for_other_unit=other_unit,
        idempotency_key=idempotency_key or None,
    )
    _start_clocks(ticket)
    with transaction.atomic():
        try:
            with transaction.atomic():
                ticket.save()
        except IntegrityError:
            # The same form sent twice (double click, resubmit): the first one filed it.
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
        if other_unit:
            events.append(
                TicketEvent(
                    ticket=ticket,
                    at=now,
                    actor=requester,
                    kind=TicketEvent.Kind.OTHER_UNIT,
                    is_public=True,
                    text=f"Filed for another unit: {location} ({department.name}).",
                )
            )
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
        policy, calendar = SlaPolicy.terms_for(
            priority=ticket.priority, department=ticket.department
        )
    except SlaPolicy.DoesNotExist:
        # The ticket is still filed; without a policy it simply has no deadlines to show.
        logger.error("no SLA policy for P%s; ticket filed without deadlines", ticket.priority)
        return []
    return ticket.apply_sla_policy(policy, calendar)


def ticket_comment(
    *, ticket: Ticket, author: User, text: str, internal: bool = False
) -> TicketEvent:
    """A reply everyone on the ticket sees, or an internal note only IT sees. An IT reply is
    the first response; a requester's reply answers a "waiting on you" ticket."""
    text = text.strip()
    staff = is_it_staff(author)
    if internal and not staff:
        raise TicketError("Only IT staff can write internal notes.")
    if not text:
        raise TicketError("Write something before sending it.")
    if len(text) > COMMENT_MAX_LENGTH:
        raise TicketError(f"Keep it under {COMMENT_MAX_LENGTH} characters.")
    with transaction.atomic():
        locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
        if not locked.is_open and not staff:
            raise TicketError(
                f"{locked.number} is {locked.get_status_display().lower()}. "
                "File a new ticket if the problem is back."
            )
        now = timezone.now()
        event = TicketEvent.objects.create(
            ticket=locked,
            at=now,
            actor=author,
            kind=TicketEvent.Kind.INTERNAL_NOTE if internal else TicketEvent.Kind.COMMENT,
            is_public=not internal,
            text=text,
        )
        fields = ["updated_at"]
        if staff and not internal:
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
        if (
            not internal
            and locked.requester_id == author.pk
            and locked.status == Ticket.Status.WAITING_ON_REQUESTER
        ):
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
        if staff and not internal and locked.requester_id != author.pk:
            from tickets.tasks import notify_requester_of_reply

            enqueue_on_commit(notify_requester_of_reply, event.pk)
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
        locked = (
            Ticket.objects.select_for_update(of=("self",))
            .select_related("department")
            .get(pk=ticket.pk)
        )
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


def _name(user: User) -> str:
    return display_name(user)


class ClaimLost(TicketError):
    """Someone else took the ticket first; the message names them."""


def ticket_claim(*, ticket: Ticket, user: User, now: datetime | None = None) -> Ticket:
    """Take an unassigned ticket. A conditional UPDATE decides: of two technicians clicking at
    once, exactly one changes a row; the other is told who has it."""
    if not is_it_staff(user):
        raise TicketError("Only IT staff can take tickets.")
    now = now or timezone.now()
    with transaction.atomic():
        won = (
            Ticket.objects.filter(
                pk=ticket.pk, assignee__isnull=True, status__in=Ticket.OPEN_STATUSES
            ).update(
                assignee=user,
                status=models.Case(
                    models.When(status=S.NEW, then=models.Value(S.ASSIGNED)),
                    default=models.F("status"),
                ),
                updated_at=now,
            )
            == 1
        )
        current = Ticket.objects.select_related("assignee").get(pk=ticket.pk)
        if not won:
            if current.assignee_id == user.pk and current.is_open:
                return current  # a double click: it is already theirs
            if current.assignee is not None:
                raise ClaimLost(f"{_name(current.assignee)} already has {current.number}.")
            raise TicketError(f"{current.number} is {current.get_status_display().lower()}.")
        TicketEvent.objects.create(
            ticket=current, at=now, actor=user, kind=TicketEvent.Kind.ASSIGNMENT, is_public=True,
            new_value=_name(user), text=f"{_name(user)} is on it.",
        )  # fmt: skip
    return current


def ticket_take_next(
    *, user: User, queryset: models.QuerySet[Ticket], now: datetime | None = None
) -> Ticket | None:
    """Assign the most urgent unassigned ticket of a view to ``user``. Rows another technician
    is taking at the same moment are skipped, so two people never get the same ticket."""
    if not is_it_staff(user):
        raise TicketError("Only IT staff can take tickets.")
    now = now or timezone.now()
    with transaction.atomic():
        ticket = (
            queryset.filter(assignee__isnull=True, status__in=Ticket.OPEN_STATUSES)
            .order_by("queue_rank", "next_due_at", "id")
            .select_for_update(skip_locked=True, of=("self",))
            .first()
        )
        if ticket is None:
            return None
        return ticket_claim(ticket=ticket, user=user, now=now)


def ticket_assign(
    *,
    ticket: Ticket,
    actor: User,
    assignee: User | None = None,
    team: Team | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Hand a ticket to a person, a team, or both. Moving it to another team leaves it
    unassigned there unless a person is named."""
    if not is_it_staff(actor):
        raise TicketError("Only IT staff can reassign tickets.")
    if assignee is not None and not is_it_staff(assignee):
        raise TicketError(f"{_name(assignee)} is not in IT and cannot take tickets.")
    if assignee is None and team is None:
        raise TicketError("Choose a person or a team.")
    now = now or timezone.now()
    with transaction.atomic():
        locked = (
            Ticket.objects.select_for_update(of=("self",))
            .select_related("team", "assignee")
            .get(pk=ticket.pk)
        )
        if not locked.is_open:
            raise TicketError(f"{locked.number} is {locked.get_status_display().lower()}.")
        fields = ["updated_at"]
        if team is not None and team.pk != locked.team_id:
            TicketEvent.objects.create(
                ticket=locked, at=now, actor=actor, kind=TicketEvent.Kind.ASSIGNMENT,
                is_public=True, old_value=locked.team.name, new_value=team.name,
                text=f"Moved to {team.name}.",
            )  # fmt: skip
            locked.team = team
            fields.append("team")
            if assignee is None and locked.assignee_id is not None:
                locked.assignee = None
                fields.append("assignee")
        if assignee is not None and assignee.pk != locked.assignee_id:
            old = _name(locked.assignee) if locked.assignee else ""
            TicketEvent.objects.create(
                ticket=locked, at=now, actor=actor, kind=TicketEvent.Kind.ASSIGNMENT,
                is_public=True, old_value=old, new_value=_name(assignee),
                text=f"Assigned to {_name(assignee)}.",
            )  # fmt: skip
            locked.assignee = assignee
            fields.append("assignee")
            if locked.status == S.NEW:
                locked.status = S.ASSIGNED
                fields.append("status")
        if len(fields) == 1:
            raise TicketError("That is who has it already.")
        locked.save(update_fields=fields)
    ticket.refresh_from_db()
    return ticket


def ticket_resolve(
    *, ticket: Ticket, actor: User, code: str, note: str = "", now: datetime | None = None
) -> Ticket:
    """Resolve with a resolution code; the note goes to the requester."""
    if code not in Ticket.ResolutionCode.values:
        raise TicketError("Choose how it was resolved.")
    if code == Ticket.ResolutionCode.DUPLICATE:
        raise TicketError("Link the ticket as a duplicate instead; that resolves it.")
    with transaction.atomic():
        ticket_set_status(ticket=ticket, actor=actor, status=S.RESOLVED, note=note, now=now)
        Ticket.objects.filter(pk=ticket.pk).update(resolution_code=code)
    ticket.refresh_from_db()
    return ticket


def ticket_link(
    *,
    ticket: Ticket,
    other: Ticket,
    actor: User,
    duplicate: bool,
    now: datetime | None = None,
) -> Ticket:
    """Link two tickets. As a duplicate, ``ticket`` is resolved and points to ``other``."""
    if not is_it_staff(actor):
        raise TicketError("Only IT staff can link tickets.")
    if other.pk == ticket.pk:
        raise TicketError("A ticket cannot be linked to itself.")
    if duplicate and other.duplicate_of_id == ticket.pk:
        raise TicketError(f"{other.number} is already a duplicate of this ticket.")
    now = now or timezone.now()
    with transaction.atomic():
        if duplicate:
            ticket_set_status(
                ticket=ticket, actor=actor, status=S.RESOLVED, now=now,
                note=f"Duplicate of {other.number}: follow that ticket for updates.",
            )  # fmt: skip
            Ticket.objects.filter(pk=ticket.pk).update(
                duplicate_of=other, resolution_code=Ticket.ResolutionCode.DUPLICATE
            )
            TicketEvent.objects.create(
                ticket=other, at=now, actor=actor, kind=TicketEvent.Kind.COMMENT,
                is_public=False, text=f"{ticket.number} was closed as a duplicate of this one.",
            )  # fmt: skip
        else:
            ticket.related.add(other)
            for one, two in ((ticket, other), (other, ticket)):
                TicketEvent.objects.create(
                    ticket=one, at=now, actor=actor, kind=TicketEvent.Kind.INTERNAL_NOTE,
                    text=f"Linked as related to {two.number}.",
                )  # fmt: skip
    ticket.refresh_from_db()
    return ticket


def record_view(*, ticket: Ticket, user: User, now: datetime | None = None) -> None:
    """Every read of a ticket by IT staff goes on the audit trail."""
    if is_it_staff(user):
        TicketEvent.objects.create(
            ticket=ticket, at=now or timezone.now(), actor=user, kind=TicketEvent.Kind.VIEWED
        )


# What each role may edit directly; everything else has its own action (claim, transition...).
REQUESTER_EDITABLE = frozenset({"callback"})
STAFF_EDITABLE = frozenset({"title", "callback", "category"})


def ticket_edit(
    *, ticket: Ticket, actor: User, changes: dict[str, Any], now: datetime | None = None
) -> Ticket:
    """Correct a ticket's details. A requester may change the callback number of their own
    ticket; IT may also fix the title and the category."""
    allowed = STAFF_EDITABLE if is_it_staff(actor) else REQUESTER_EDITABLE
    refused = sorted(set(changes) - allowed)
    if refused:
        raise TicketError(f"You cannot change {', '.join(refused)} here.")
    if not is_it_staff(actor) and ticket.requester_id != actor.pk:
        raise TicketError("Only the requester or IT can change this ticket.")
    now = now or timezone.now()
    with transaction.atomic():
        locked = (
            Ticket.objects.select_for_update(of=("self",))
            .select_related("category")
            .get(pk=ticket.pk)
        )
        fields = ["updated_at"]
        for name, value in changes.items():
            old = getattr(locked, name)
            if old == value:
                continue
            setattr(locked, name, value.strip() if isinstance(value, str) else value)
            fields.append(name)
            TicketEvent.objects.create(
                ticket=locked, at=now, actor=actor, kind=TicketEvent.Kind.EDITED,
                is_public=True, old_value=str(old)[:120], new_value=str(value)[:120],
                text=f"Changed the {name}.",
            )  # fmt: skip
        if "title" in fields and text_has_phi(locked.title) and not locked.phi_suspected:
            locked.phi_suspected = True
            fields.append("phi_suspected")
        locked.save(update_fields=fields)
    ticket.refresh_from_db()
    return ticket
