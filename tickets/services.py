"""Every change to a ticket goes through a function here.

Pages, the API and Celery tasks all call these, so a rule lives in one place. Each function takes
keyword arguments only and runs in one transaction.

A ticket is locked FOR NO KEY UPDATE (no service changes its key): the sweep adds timeline rows
to a ticket while it holds the ticket's page chain, which takes a key-share lock on the ticket;
FOR UPDATE would wait for the sweep while the sweep waits for it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from audit.models import AuditEntry
from audit.services import audit_record
from departments.models import Department, Location, Team
from departments.roles import display_name, is_integration, is_it_staff
from departments.units import files_for_other_unit
from tickets import paging, phi
from tickets.attachments import (
    CheckedFile,
    Upload,
    check_files,
    check_room,
    files_removed_unless_committed,
    remove_stored_on_commit,
    store,
)
from tickets.models import (
    REDACTABLE_KINDS,
    Attachment,
    Category,
    PageChain,
    SlaPolicy,
    Ticket,
    TicketEvent,
)
from tickets.notifications import REPLY_NOTICE, RESOLVED_NOTICE, queue_filing_notices
from tickets.outgoing import queue_email
from tickets.priority import (
    SCOPE_LABELS,
    Impact,
    PagingRule,
    PriorityDecision,
    Scope,
    Urgency,
    decide_priority,
    impact_from_scope,
    urgency_from_answers,
)

logger = logging.getLogger(__name__)

PHI_FLAGGED_TEXT = (
    "The text looks like it holds patient data; it is left out of notifications and exports."
)
# What a ticket filed without the three answers is filed with until they come: one unit, no
# delay to care, a workaround: P4 by the matrix.
TRIAGE_ANSWERS = (False, Scope.UNIT, True)
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


@dataclass(frozen=True, slots=True)
class Answers:
    """The three answers, and what the matrix and the department rule make of them."""

    care_delayed: bool
    scope: Scope
    workaround: bool
    urgency: Urgency
    impact: Impact
    decision: PriorityDecision

    def fields(self) -> dict[str, Any]:
        """The ticket's columns they set."""
        return {
            "care_delayed": self.care_delayed,
            "scope": self.scope,
            "workaround": self.workaround,
            "urgency": self.urgency,
            "impact": self.impact,
            "matrix_priority": self.decision.matrix_priority,
            "priority": self.decision.priority,
            "auto_escalated": self.decision.escalated,
        }


def weigh_answers(
    *,
    department: Department,
    care_delayed: bool,
    scope: Scope,
    workaround: bool,
    escalate: bool = True,
) -> Answers:
    """Priority from the three answers: the matrix, then the department's rule (unless
    ``escalate`` is off: a ticket waiting for triage has no real answers to escalate on)."""
    urgency = urgency_from_answers(care_delayed=care_delayed, workaround=workaround)
    impact = impact_from_scope(scope)
    decision = decide_priority(
        impact=impact,
        urgency=urgency,
        department_name=department.name,
        auto_escalate=department.auto_escalate and escalate,
    )
    return Answers(care_delayed, scope, workaround, urgency, impact, decision)


def _escalation_event(ticket: Ticket, decision: PriorityDecision, now: datetime) -> TicketEvent:
    """The timeline's record of the department rule raising a priority, with its reason."""
    return TicketEvent(
        ticket=ticket,
        at=now,
        kind=TicketEvent.Kind.ESCALATED,
        is_public=True,
        old_value=f"P{decision.matrix_priority}",
        new_value=f"P{decision.priority}",
        text=decision.reason,
    )


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


class FilingPlaceRefused(TicketError):
    """Where a ticket would be filed for is refused; ``field`` names the answer at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def filing_location(
    *, requester: User, location: Location | None, department: Department | None = None
) -> Location:
    """Where a ticket is filed for. People name a location. A machine account may name a
    department instead ("a monitoring system files for the LAB"): the ticket goes to the
    department's first active unit; naming both, the location must be in that department."""
    if department is not None:
        if not is_integration(requester):
            raise FilingPlaceRefused(
                "department",
                "People file for a location; only machine accounts may name a department.",
            )
        if location is None:
            location = department.locations.filter(kind=Location.Kind.UNIT, is_active=True).first()
            if location is None:
                raise FilingPlaceRefused("department", "This department has no unit to file for.")
        elif location.department_id != department.pk:
            raise FilingPlaceRefused("location", "This location is not in that department.")
    if location is None:
        raise FilingPlaceRefused("location", "Say where the problem is.")
    return location


def ticket_file(
    *,
    requester: User,
    location: Location,
    category: Category,
    title: str,
    callback: str,
    care_delayed: bool | None,
    scope: Scope | None,
    workaround: bool | None,
    description: str = "",
    idempotency_key: str | None = None,
    workstation: Location | None = None,
    attachments: Sequence[Upload] = (),
    source: Ticket.Source = Ticket.Source.WEB,
) -> Filing:
    """File a ticket. The department is the location's: never a free choice, since it decides
    whether the on-call technician is paged. A location outside the requester's own units (see
    departments/units.py; ``workstation``: the one she files from) is recorded as filed for
    another unit; the form and the API have asked her first. ``attachments`` come with the
    filing: all are checked before anything is written, and one refused refuses the filing
    (AttachmentRefused); a filing that matched an earlier one by its idempotency key adds none.

    Without the three answers (all three None: a ticket filed by e-mail) the ticket is filed at
    P4 for triage: no department escalation and no page until the answers are given."""
    files = check_files(attachments)
    department = location.department
    other_unit = files_for_other_unit(requester, location, workstation=workstation)
    needs_triage = care_delayed is None and scope is None and workaround is None
    if needs_triage:
        care_delayed, scope, workaround = TRIAGE_ANSWERS
    elif care_delayed is None or scope is None or workaround is None:
        raise ValueError("give all three answers, or none for a ticket to triage")
    answers = weigh_answers(
        department=department,
        care_delayed=care_delayed,
        scope=scope,
        workaround=workaround,
        escalate=not needs_triage,
    )
    decision = answers.decision
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
        **answers.fields(),
        created_at=now,
        phi_suspected=text_has_phi(title, description),
        filed_for_other_unit=other_unit,
        idempotency_key=idempotency_key or None,
        source=source,
        needs_triage=needs_triage,
    )
    _start_clocks(ticket)
    with files_removed_unless_committed() as written, transaction.atomic():
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
                text=(
                    f"Filed by e-mail for {location}: waiting for triage."
                    if needs_triage
                    else f"Filed from {location}."
                ),
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
            events.append(_escalation_event(ticket, decision, now))
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
        _attach(files, ticket=ticket, event=events[0], uploader=requester, written=written)
        page_reason = paging_reason(ticket)
        if page_reason is not None:
            paging.start_chain(ticket=ticket, reason=page_reason, now=now)
        queue_filing_notices(ticket)

    return Filing(ticket=ticket, created=True)


# The chain a filing starts, by the rule that decided to page at once.
FILING_PAGE_REASONS = {
    PagingRule.P1: PageChain.Reason.P1_FILED,
    PagingRule.CRITICAL_AREA: PageChain.Reason.CRITICAL_AREA,
}


def paging_reason(ticket: Ticket) -> PageChain.Reason | None:
    """Why filing this ticket pages the on-call at once, or None when it waits for its response
    target like any other (the sweep pages it then). A ticket waiting for triage never pages
    at once: its answers, once given, decide."""
    if ticket.needs_triage:
        return None
    return FILING_PAGE_REASONS.get(ticket.paging_rule)


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


def _attach(
    files: list[CheckedFile], *, ticket: Ticket, event: TicketEvent, uploader: User,
    written: list[str],
) -> None:  # fmt: skip
    """Store the files and their rows, in the transaction that wrote ``event``."""
    Attachment.objects.bulk_create(
        Attachment(
            ticket=ticket,
            event=event,
            uploader=uploader,
            stored_name=store(file, written),
            original_name=file.name,
            content_type=file.content_type,
            size=file.size,
            sha256=file.sha256,
            created_at=event.at,
        )
        for file in files
    )


def ticket_comment(
    *,
    ticket: Ticket,
    author: User,
    text: str,
    internal: bool = False,
    attachments: Sequence[Upload] = (),
) -> TicketEvent:
    """A reply everyone on the ticket sees, or an internal note only IT sees, with files or
    without (files alone need no words). An IT reply is the first response; a requester's reply
    answers a "waiting on you" ticket. Files are checked before anything is written."""
    text = text.strip()
    staff = is_it_staff(author)
    if internal and not staff:
        raise TicketError("Only IT staff can write internal notes.")
    if not text and not attachments:
        raise TicketError("Write something before sending it.")
    if len(text) > COMMENT_MAX_LENGTH:
        raise TicketError(f"Keep it under {COMMENT_MAX_LENGTH} characters.")
    files = check_files(attachments)
    with files_removed_unless_committed() as written, transaction.atomic():
        locked = Ticket.objects.select_for_update(no_key=True).get(pk=ticket.pk)
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
        if files:
            stored = locked.attachments.live().aggregate(total=models.Sum("size"))["total"]
            check_room(files, stored_bytes=stored or 0)
            _attach(files, ticket=locked, event=event, uploader=author, written=written)
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
            queue_email(kind=REPLY_NOTICE, about_id=event.pk)
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
# What a requester may do to their own ticket: reopen it or close it once resolved ("Fixed?"),
# or call it off.
REQUESTER_TRANSITIONS = {(S.RESOLVED, S.IN_PROGRESS), (S.RESOLVED, S.CLOSED)} | {
    (status, S.CANCELLED) for status in Ticket.OPEN_STATUSES
}


def ticket_set_status(
    *,
    ticket: Ticket,
    actor: User,
    status: str,
    note: str = "",
    now: datetime | None = None,
    notify_requester: bool = True,
) -> Ticket:
    """Move a ticket along its allowed transitions, keeping the SLA clocks right: waiting on
    someone pauses the resolution clock, resolving stops it, reopening resumes it. Without
    ``notify_requester`` the requester gets no "resolved" e-mail: a caller that tells her
    itself (a major incident's end) says it once."""
    if status not in TRANSITIONS:
        raise TicketError(f"{status!r} is not a ticket status.")
    with transaction.atomic():
        locked = Ticket.objects.select_for_update(no_key=True).get(pk=ticket.pk)
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
        # IT calling off someone's ticket owes them the reason. A requester calling off her own
        # ticket (it fixed itself, she filed it twice) may say why, but is not held up for it.
        if status == S.CANCELLED and not note.strip() and is_it_staff(actor):
            raise TicketError(
                f"Give a reason for cancelling {locked.number}; the requester sees it."
            )
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
        event = TicketEvent.objects.create(
            ticket=locked,
            at=now,
            actor=actor,
            kind=TicketEvent.Kind.STATUS,
            is_public=True,
            old_value=old,
            new_value=status,
            text=note.strip(),
        )
        if status == S.RESOLVED and actor.pk != locked.requester_id and notify_requester:
            queue_email(kind=RESOLVED_NOTICE, about_id=event.pk)
    ticket.refresh_from_db()
    return ticket


STILL_BROKEN_MAX_LENGTH = 200


def ticket_answer_fixed(
    *, ticket: Ticket, requester: User, fixed: bool, answer: str = "", now: datetime | None = None
) -> Ticket:
    """The requester's answer to "Fixed?" on her resolved ticket. Yes closes it; "No, still
    broken" reopens it with her one-line answer on the timeline. Both are recorded on the
    ticket for the technicians report (the first satisfaction measure that costs one tap)."""
    answer = " ".join(answer.split())
    if not fixed and not answer:
        raise TicketError("Say in a few words what is still broken.")
    if len(answer) > STILL_BROKEN_MAX_LENGTH:
        raise TicketError(f"Keep it under {STILL_BROKEN_MAX_LENGTH} characters.")
    now = now or timezone.now()
    with transaction.atomic():
        locked = Ticket.objects.select_for_update(no_key=True).get(pk=ticket.pk)
        if locked.requester_id != requester.pk:
            raise TicketError("Only the person who filed the ticket can answer this.")
        if locked.status != S.RESOLVED:
            raise TicketError(
                f"{locked.number} is {locked.get_status_display().lower()}: "
                "there is nothing to confirm."
            )
        fields = ["fixed_confirmed", "updated_at"]
        locked.fixed_confirmed = fixed
        if not fixed:
            locked.still_broken_count += 1
            fields.append("still_broken_count")
            if text_has_phi(answer) and not locked.phi_suspected:
                locked.phi_suspected = True
                fields.append("phi_suspected")
                TicketEvent.objects.create(
                    ticket=locked, at=now, kind=TicketEvent.Kind.PHI_FLAGGED,
                    text="The requester's answer looks like it holds patient data.",
                )  # fmt: skip
        locked.save(update_fields=fields)
        TicketEvent.objects.create(
            ticket=locked, at=now, actor=requester, kind=TicketEvent.Kind.FEEDBACK,
            is_public=True, new_value="yes" if fixed else "no",
            text="Fixed: yes." if fixed else f"Still broken: {answer}",
        )  # fmt: skip
        ticket_set_status(
            ticket=locked, actor=requester, status=S.CLOSED if fixed else S.IN_PROGRESS, now=now,
            note=(
                "Closed: the requester confirmed it is fixed."
                if fixed
                else "Reopened: the requester says it is still broken."
            ),
        )  # fmt: skip
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
            Ticket.objects.select_for_update(of=("self",), no_key=True)
            .select_related("department")
            .get(pk=ticket.pk)
        )
        old = locked.priority
        if priority == old:
            raise TicketError(f"{locked.number} is already P{priority}.")
        now = now or timezone.now()
        fields = ["updated_at", *_retarget(locked, priority, now)]
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


def _retarget(ticket: Ticket, priority: int, now: datetime) -> list[str]:
    """Give a locked ticket a new priority and that priority's SLA targets, the deadlines
    recomputed from the filing time; returns the fields changed. A warning not yet due under the
    new target will come again; breaches stay on record."""
    ticket.priority = priority
    fields = ["priority", *_start_clocks(ticket)]
    for clock in ("response", "resolution"):
        warn_at = getattr(ticket, f"{clock}_warn_at")
        if warn_at is not None and warn_at > now:
            setattr(ticket, f"{clock}_warned_at", None)
            fields.append(f"{clock}_warned_at")
    return fields


@dataclass(frozen=True, slots=True)
class Triage:
    ticket: Ticket
    # The page chain the answers started (a P1, or care delayed where the department escalates
    # by itself); None when they page nobody at once.
    chain: PageChain | None


def may_answer_questions(ticket: Ticket, user: User) -> bool:
    """A ticket filed without the three answers waits for the person who filed it, or for IT
    (asking her on the phone), to give them."""
    return ticket.requester_id == user.pk or is_it_staff(user)


def answers_in_words(answers: Answers) -> str:
    """The three answers as the timeline records them."""
    care = "yes" if answers.care_delayed else "no"
    workaround = "yes" if answers.workaround else "no"
    return (
        f"Patient care delayed: {care}. Who is affected: "
        f"{SCOPE_LABELS[answers.scope].lower()}. Workaround: {workaround}."
    )


def ticket_answer_questions(
    *,
    ticket: Ticket,
    user: User,
    care_delayed: bool,
    scope: Scope,
    workaround: bool,
    now: datetime | None = None,
) -> Triage:
    """The three questions answered for a ticket filed without them (by e-mail), by the
    requester or by IT. The answers set its priority exactly as filing would have (the matrix,
    then the department rule: the ED and the OR escalate), its SLA targets follow the new
    priority as on a priority change, and the on-call is paged when filing with these answers
    would have paged at once. Once only: a second send (a double click, the e-mail's link opened
    again) is refused and changes nothing."""
    if not may_answer_questions(ticket, user):
        raise TicketError("Only the person who filed the ticket or IT can answer its questions.")
    now = now or timezone.now()
    with transaction.atomic():
        locked = (
            Ticket.objects.select_for_update(of=("self",), no_key=True)
            .select_related("department")
            .get(pk=ticket.pk)
        )
        if not locked.needs_triage:
            raise TicketError(
                f"The questions on {locked.number} were already answered: it is "
                f"{locked.priority_label}."
            )
        if not locked.is_open:
            raise TicketError(
                f"{locked.number} is {locked.get_status_display().lower()}: there is nothing "
                "left to decide. File a new ticket if the problem is back."
            )
        answers = weigh_answers(
            department=locked.department,
            care_delayed=care_delayed,
            scope=scope,
            workaround=workaround,
        )
        old = locked.priority
        for name, value in answers.fields().items():
            setattr(locked, name, value)
        locked.needs_triage = False
        fields = [
            "needs_triage", "updated_at", *answers.fields(),
            *_retarget(locked, answers.decision.priority, now),
        ]  # fmt: skip
        locked.save(update_fields=sorted(set(fields)))
        events = [
            TicketEvent(
                ticket=locked, at=now, actor=user, kind=TicketEvent.Kind.TRIAGED,
                is_public=True, old_value=f"P{old}",
                new_value=f"P{answers.decision.matrix_priority}",
                text=answers_in_words(answers),
            )
        ]  # fmt: skip
        if answers.decision.escalated:
            events.append(_escalation_event(locked, answers.decision, now))
        TicketEvent.objects.bulk_create(events)
        reason = paging_reason(locked)
        chain = (
            paging.start_chain(ticket=locked, reason=reason, now=now)
            if reason is not None
            else None
        )
    ticket.refresh_from_db()
    return Triage(ticket=ticket, chain=chain)


def _name(user: User) -> str:
    return display_name(user)


class ClaimLost(TicketError):
    """Someone else took the ticket first; the message names them."""


def ticket_claim(*, ticket: Ticket, user: User, now: datetime | None = None) -> Ticket:
    """Take an unassigned ticket. A conditional UPDATE decides: of two technicians clicking at
    once, exactly one changes a row; the other is told who has it. Taking a ticket acknowledges
    its running page chain: whoever owns it is working on it."""
    return _claim(ticket=ticket, user=user, now=now or timezone.now(), via=paging.AckVia.CLAIM)


def _claim(*, ticket: Ticket, user: User, now: datetime, via: str) -> Ticket:
    if not is_it_staff(user):
        raise TicketError("Only IT staff can take tickets.")
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
        paging.acknowledge_by_owner(ticket=current, user=user, via=via, now=now)
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
            .select_for_update(skip_locked=True, of=("self",), no_key=True)
            .first()
        )
        if ticket is None:
            return None
        return _claim(ticket=ticket, user=user, now=now, via=paging.AckVia.TAKE_NEXT)


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
            Ticket.objects.select_for_update(of=("self",), no_key=True)
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
    *,
    ticket: Ticket,
    actor: User,
    code: str,
    note: str = "",
    now: datetime | None = None,
    notify_requester: bool = True,
) -> Ticket:
    """Resolve with a resolution code; the note goes to the requester."""
    if code not in Ticket.ResolutionCode.values:
        raise TicketError("Choose how it was resolved.")
    if code == Ticket.ResolutionCode.DUPLICATE:
        raise TicketError("Link the ticket as a duplicate instead; that resolves it.")
    with transaction.atomic():
        ticket_set_status(
            ticket=ticket, actor=actor, status=S.RESOLVED, note=note, now=now,
            notify_requester=notify_requester,
        )  # fmt: skip
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


def ticket_add_note(
    *,
    ticket: Ticket,
    actor: User | None,
    text: str,
    public: bool = False,
    now: datetime | None = None,
) -> TicketEvent:
    """A line on the ticket's timeline written by another part of the help desk (a major
    incident linking it): no e-mail, no clock change. Public lines show to the requester."""
    return TicketEvent.objects.create(
        ticket=ticket, at=now or timezone.now(), actor=actor, is_public=public,
        kind=TicketEvent.Kind.COMMENT if public else TicketEvent.Kind.INTERNAL_NOTE, text=text,
    )  # fmt: skip


def record_view(
    *, ticket: Ticket, user: User, via: str = "page", now: datetime | None = None
) -> None:
    """Every read of a ticket, by anyone (its requester too), goes on the audit log: who, when,
    which ticket and whether through its page or the API."""
    audit_record(
        kind=AuditEntry.Kind.TICKET_VIEWED, actor=user, ticket_id=ticket.pk, at=now,
        detail={"via": via},
    )  # fmt: skip


def record_attachment_view(
    *, attachment: Attachment, user: User, now: datetime | None = None
) -> None:
    """Every opening or download of an attachment, by anyone, goes on the audit log: who, when,
    and which (its id; never its name)."""
    audit_record(
        kind=AuditEntry.Kind.ATTACHMENT_VIEWED, actor=user, ticket_id=attachment.ticket_id,
        about=attachment, at=now,
    )  # fmt: skip


ATTACHMENT_REASON_MAX_LENGTH = 300


def attachment_remove(
    *, attachment: Attachment, actor: User, reason: str, now: datetime | None = None
) -> Attachment:
    """IT takes a file off a ticket (patient data in a screenshot, the wrong file): the file
    leaves the storage once this commits; the row stays, marked, and the timeline says who
    removed an attachment and why, seen by whoever saw the attachment."""
    reason = reason.strip()
    if not is_it_staff(actor):
        raise TicketError("Only IT staff can remove attachments.")
    if not reason:
        raise TicketError("Say why the attachment is removed.")
    if len(reason) > ATTACHMENT_REASON_MAX_LENGTH:
        raise TicketError(f"Keep the reason under {ATTACHMENT_REASON_MAX_LENGTH} characters.")
    now = now or timezone.now()
    with transaction.atomic():
        locked = (
            Attachment.objects.select_for_update(of=("self",))
            .select_related("event")
            .get(pk=attachment.pk)
        )
        if locked.deleted_at is not None:
            raise TicketError("This attachment was already removed.")
        locked.deleted_at, locked.deleted_by, locked.deleted_reason = now, actor, reason
        locked.save(update_fields=["deleted_at", "deleted_by", "deleted_reason"])
        TicketEvent.objects.create(
            ticket_id=locked.ticket_id,
            at=now,
            actor=actor,
            kind=TicketEvent.Kind.ATTACHMENT_REMOVED,
            is_public=locked.event.is_public,
            old_value=str(locked.pk),
            text=reason,
        )
        Ticket.objects.filter(pk=locked.ticket_id).update(updated_at=now)
        remove_stored_on_commit(locked.stored_name)
    return locked


def ticket_opened_by_assignee(*, ticket: Ticket, user: User, now: datetime | None = None) -> bool:
    """A technician who opens a ticket assigned to them has seen it and owns it: that
    acknowledges its running page chain, as claiming it would. Assigning alone does not: the
    assignee may not know yet. True when a chain was stopped; ``ticket`` then holds the
    fields the acknowledgement changed."""
    if ticket.assignee_id != user.pk or not is_it_staff(user):
        return False
    now = now or timezone.now()
    with transaction.atomic():
        locked = Ticket.objects.select_for_update(no_key=True).get(pk=ticket.pk)
        if locked.assignee_id != user.pk:
            return False
        changed = paging.acknowledge_by_owner(
            ticket=locked, user=user, via=paging.AckVia.OPENED_ASSIGNED, now=now
        )
    for field in changed or ():
        setattr(ticket, field, getattr(locked, field))
    return changed is not None


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
            Ticket.objects.select_for_update(of=("self",), no_key=True)
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


class RedactTarget(models.TextChoices):
    """Where a passage of patient data is removed from."""

    TITLE = "title", "Title"
    DESCRIPTION = "description", "Description"
    COMMENT = "comment", "Comment"


# The longest passage a removal takes: the longest text it can be in.
PASSAGE_MAX_LENGTH = max(DESCRIPTION_MAX_LENGTH, COMMENT_MAX_LENGTH)
_EVENT_VALUE_MAX_LENGTH = 120  # TicketEvent.old_value and new_value
_ADMIN_REPR_MAX_LENGTH = 200  # LogEntry.object_repr


def may_redact(ticket: Ticket, user: User) -> bool:
    """IT may remove patient data from any ticket; the requester from her own while it is open."""
    return is_it_staff(user) or (ticket.requester_id == user.pk and ticket.is_open)


def _fit(text: str, limit: int) -> str:
    """A mark is longer than a short passage (a surname): keep a column within its length."""
    return text if len(text) <= limit else f"{text[: limit - 1]}\u2026"


def ticket_redact(
    *,
    ticket: Ticket,
    actor: User,
    target: str,
    passage: str,
    event_id: int | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Remove a passage of patient data from the title, the description or a comment.

    Every copy of the passage on the ticket becomes "[removed: patient data]": the text it was
    found in, the title or description it also sits in, other comments, an edited title's old
    and new values on the timeline and the admin's history of the ticket. Nothing keeps the
    original. A requester reaches only what she sees (IT's internal notes are IT's to clean).
    The removal goes on the timeline, saying where and who but not what, and the PHI flag is
    set again from the text that remains.
    """
    passage = passage.strip()
    if target not in RedactTarget.values:
        raise TicketError("Choose the title, the description or a comment to remove text from.")
    if not passage:
        raise TicketError("Paste or type the text to remove.")
    if len(passage) > PASSAGE_MAX_LENGTH:
        raise TicketError(f"Keep the text to remove under {PASSAGE_MAX_LENGTH} characters.")
    if passage in phi.REDACTION_MARK:
        raise TicketError("That text is part of an earlier removal.")
    staff = is_it_staff(actor)
    with transaction.atomic():
        locked = Ticket.objects.select_for_update(no_key=True).get(pk=ticket.pk)
        if not staff:
            if locked.requester_id != actor.pk:
                raise TicketError("Only the requester or IT can remove text from this ticket.")
            if not locked.is_open:
                raise TicketError(
                    f"{locked.number} is {locked.get_status_display().lower()}. "
                    "Ask IT to remove the text."
                )
        public = True
        if target == RedactTarget.COMMENT:
            if event_id is None:
                raise TicketError("Say which comment the text is in.")
            event = (
                locked.events.filter(pk=event_id, kind__in=REDACTABLE_KINDS)
                .exclude(text="")
                .first()
            )
            if event is None:
                raise TicketError(f"There is no such comment on {locked.number}.")
            if not event.is_public and not staff:
                raise TicketError("Only IT staff can remove text from internal notes.")
            public = event.is_public
            where, found_in = ("a comment" if public else "an internal note"), event.text
        else:
            where, found_in = f"the {target}", getattr(locked, target)
        if not phi.redact(found_in, passage)[1]:
            raise TicketError(f"That text is not in {where}. Copy it from there exactly.")

        now = now or timezone.now()
        fields, places = ["updated_at"], 0
        for name in ("title", "description"):
            scrubbed, found = phi.redact(getattr(locked, name), passage)
            if found:
                limit = TITLE_MAX_LENGTH if name == "title" else len(scrubbed)
                setattr(locked, name, _fit(scrubbed, limit))
                fields.append(name)
                places += 1
        copies = locked.events.filter(
            models.Q(text__contains=passage)
            | models.Q(old_value__contains=passage)
            | models.Q(new_value__contains=passage)
        )
        if not staff:
            copies = copies.filter(is_public=True)
        for pk, *values in copies.values_list("pk", "text", "old_value", "new_value"):
            changes = {}
            for column, value in zip(("text", "old_value", "new_value"), values, strict=True):
                scrubbed, found = phi.redact(value, passage)
                if found:
                    limit = len(scrubbed) if column == "text" else _EVENT_VALUE_MAX_LENGTH
                    changes[column] = _fit(scrubbed, limit)
            if changes:
                TicketEvent.objects.filter(pk=pk).scrub(**changes)
                places += 1
        _scrub_admin_history(locked, passage)

        flagged = text_has_phi(locked.title, locked.description, *_typed_texts(locked))
        note = f"Removed patient data from {where}."
        if places > 1:
            others = places - 1
            note += (
                f" The same text was also removed from {others} other "
                f"place{'s' if others > 1 else ''} on this ticket."
            )
        if flagged:
            note += " Other text on this ticket still looks like patient data."
        elif locked.phi_suspected:
            note += (
                " Nothing that looks like patient data remains; the ticket is no longer flagged."
            )
        if flagged != locked.phi_suspected:
            locked.phi_suspected = flagged
            fields.append("phi_suspected")
        locked.save(update_fields=fields)
        TicketEvent.objects.create(
            ticket=locked, at=now, actor=actor, kind=TicketEvent.Kind.REDACTED,
            is_public=public, new_value=target, text=note,
        )  # fmt: skip
        audit_record(
            kind=AuditEntry.Kind.REDACTION, actor=actor, ticket_id=locked.pk, at=now,
            detail={"target": target, "places": places},
        )  # fmt: skip
    ticket.refresh_from_db()
    return ticket


def _typed_texts(ticket: Ticket) -> list[str]:
    """What people typed into the ticket's timeline: comments, notes and reasons, and the old
    and new values of edited details (a title as it was)."""
    rows = ticket.events.filter(kind__in=[*REDACTABLE_KINDS, TicketEvent.Kind.EDITED]).values_list(
        "kind", "text", "old_value", "new_value"
    )
    texts: list[str] = []
    for kind, text, old_value, new_value in rows:
        texts += [old_value, new_value] if kind == TicketEvent.Kind.EDITED else [text]
    return texts


def _scrub_admin_history(ticket: Ticket, passage: str) -> None:
    """The admin's change history names a ticket as it was then: "HD-1042 <title>"."""
    entries = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Ticket),
        object_id=str(ticket.pk),
        object_repr__contains=passage,
    )
    for entry_id, object_repr in entries.values_list("pk", "object_repr"):
        scrubbed, found = phi.redact(object_repr, passage)
        if found:
            LogEntry.objects.filter(pk=entry_id).update(
                object_repr=_fit(scrubbed, _ADMIN_REPR_MAX_LENGTH)
            )
