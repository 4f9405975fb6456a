"""On-call paging: start, escalate, acknowledge and end a page chain; deliver its pages.

A chain walks one of the team's escalation ladders (page the primary, re-page, then the
secondary, then the manager on call, the whole ladder ``repeat_count`` times) until someone
acknowledges or the ticket is resolved. Most chains page about a ticket, and write each step on
its timeline; a chain about something else (a major incident paging its commander, started by
:func:`start_team_chain`) walks the same ladder, sends the same pages and stops the same way,
and whoever started it records what it means for them. Pages are rows written in the
transaction that starts or advances the chain (the outbox); a delivery task claims each with a
conditional UPDATE and sends it. The sweep advances chains whose wait elapsed and re-enqueues
pages a dead broker or worker left behind.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from celery import shared_task
from django.conf import settings
from django.contrib.auth.models import User
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef
from django.db.models.functions import Now
from django.urls import reverse
from django.utils import timezone

from departments.models import Team
from departments.roles import display_name, is_it_staff, person_name
from oncall.channels import DeliveryError, PageMessage, get_channel
from oncall.models import EscalationPolicy, EscalationStep
from oncall.selectors import on_call
from tickets.enqueue import enqueue_many_on_commit
from tickets.models import Page, PageChain, Ticket, TicketEvent

logger = logging.getLogger(__name__)

ACK_SALT = "helpdesk.page-acknowledge"
# A pending page whose task has not run after this long is enqueued again; a page left
# "sending" this long belonged to a worker that died mid-delivery.
REDELIVER_PENDING_AFTER = timedelta(minutes=1)
REDELIVER_SENDING_AFTER = timedelta(seconds=90)
DEFAULT_CHANNELS = ["console"]


class PagingError(Exception):
    """A paging request the rules refuse; the message is shown as it is."""


@dataclass(frozen=True, slots=True)
class LadderStep:
    target: str
    user_id: int | None
    repage_minutes: int
    wait_minutes: int

    @property
    def label(self) -> str:
        return str(EscalationStep.Target(self.target).label).lower()


# The ladder of a team nobody has configured yet: primary, secondary, manager; 15 minutes each.
DEFAULT_LADDER = (
    LadderStep(EscalationStep.Target.PRIMARY, None, 5, 15),
    LadderStep(EscalationStep.Target.SECONDARY, None, 5, 15),
    LadderStep(EscalationStep.Target.MANAGER, None, 5, 15),
)
DEFAULT_REPEAT_COUNT = 2


def ladder_for(
    team: Team, purpose: str = EscalationPolicy.Purpose.TICKETS
) -> tuple[tuple[LadderStep, ...], int]:
    """The team's ladder for ``purpose``. A team that has not configured one pages through its
    ticket ladder, and a team without that either through the hospital's default."""
    policies = {policy.purpose: policy for policy in team.escalation_policies.all()}
    policy = policies.get(purpose) or policies.get(EscalationPolicy.Purpose.TICKETS)
    if policy is None:
        return DEFAULT_LADDER, DEFAULT_REPEAT_COUNT
    steps = tuple(
        LadderStep(step.target, step.user_id, step.repage_minutes, step.wait_minutes)
        for step in policy.steps.all()
    )
    return (steps or DEFAULT_LADDER), max(policy.repeat_count, 1)


def _recipient_ids(team: Team, step: LadderStep, at: datetime) -> list[int]:
    if step.target == EscalationStep.Target.USER:
        return [step.user_id] if step.user_id else []
    if step.target == EscalationStep.Target.MANAGER:
        return [team.manager_id] if team.manager_id else []
    now_on_call = on_call(team, at)
    if now_on_call is None:
        return []
    chosen = (
        now_on_call.primary
        if step.target == EscalationStep.Target.PRIMARY
        else now_on_call.secondary
    )
    return [chosen] if chosen else []


def _teams_with_ladders(team_ids: Iterable[int]) -> dict[int, Team]:
    return (
        Team.objects.select_related("rotation")
        .prefetch_related("rotation__members", "rotation__overrides", "escalation_policies__steps")
        .in_bulk(set(team_ids))
    )


def _team_with_ladder(team_id: int) -> Team:
    return _teams_with_ladders([team_id])[team_id]


def _page_rows(
    chain: PageChain, step: LadderStep, recipients: list[User], now: datetime
) -> list[Page]:
    return [
        Page(
            chain=chain, ticket_id=chain.ticket_id, step=chain.step, round=chain.round,
            repeat=chain.repeat, target=step.target, recipient=user, channel=channel,
            created_at=now,
        )
        for user in recipients
        for channel in (getattr(user, "profile", None) and user.profile.channels)
        or DEFAULT_CHANNELS
    ]  # fmt: skip


def _owner_names(ticket_ids: Iterable[int]) -> dict[int, str]:
    """Who has each of these tickets, for the pages and events that name the owner."""
    ticket_ids = set(ticket_ids)
    if not ticket_ids:
        return {}
    rows = Ticket.objects.filter(pk__in=ticket_ids, assignee__isnull=False).values_list(
        "pk", "assignee__first_name", "assignee__last_name", "assignee__username"
    )
    return {pk: person_name(first, last, username) for pk, first, last, username in rows}


def _has_it(owner: str | None) -> str:
    return f" {owner} has the ticket." if owner else ""


def _page_event(
    ticket_id: int,
    chain: PageChain,
    step: LadderStep,
    recipients: list[User],
    now: datetime,
    owner: str | None,
) -> TicketEvent:
    """The step on the timeline of the ticket the chain pages about."""
    if recipients:
        names = ", ".join(display_name(user) for user in recipients)
        again = f" (again, {chain.repeat + 1})" if chain.repeat else ""
        text = f"Paged {names}, {step.label}{again}.{_has_it(owner)}"
    else:
        text = f"Nobody to page as {step.label}: check the team's rotation.{_has_it(owner)}"
    return TicketEvent(
        ticket_id=ticket_id, at=now, kind=TicketEvent.Kind.PAGE, new_value=step.target,
        text=text,
    )  # fmt: skip


def _write_pages(
    positions: list[tuple[PageChain, LadderStep, list[User]]],
    now: datetime,
    owners: dict[int, str],
) -> None:
    """The pages for each chain's current position (one per recipient and channel), their
    timeline events (naming the ticket's owner, if it has one), and their delivery, all in a
    few statements however many chains move."""
    # The unique constraint makes a second write for the same position impossible.
    Page.objects.bulk_create(
        [row for chain, step, people in positions for row in _page_rows(chain, step, people, now)],
        ignore_conflicts=True,
    )
    TicketEvent.objects.bulk_create(
        _page_event(ticket_id, chain, step, people, now, owners.get(ticket_id))
        for chain, step, people in positions
        if (ticket_id := chain.ticket_id)
    )
    page_ids = Page.objects.filter(
        chain__in=[chain for chain, _step, _people in positions],
        status=Page.Status.PENDING,
        created_at=now,
    ).values_list("pk", flat=True)
    enqueue_many_on_commit(deliver_pages, page_ids)


def _recipients(
    teams: dict[int, Team], wanted: list[tuple[int, LadderStep]], now: datetime
) -> dict[tuple[int, LadderStep], list[User]]:
    """Who each (team, ladder step) pages now, fetched in one query."""
    ids = {(team_id, step): _recipient_ids(teams[team_id], step, now) for team_id, step in wanted}
    users = User.objects.select_related("profile").in_bulk(
        {user_id for found in ids.values() for user_id in found}
    )
    return {key: [users[i] for i in found if i in users] for key, found in ids.items()}


def _next_action_at(
    chain: PageChain, step: LadderStep, has_recipients: bool, now: datetime
) -> datetime:
    """When the chain moves next: its next re-page, else the end of its step. A re-page that
    went out late (no sweep ran for a while: both beats down, a clock jump) gives the person a
    whole re-page interval from now, rather than paging her again at the next sweep for the
    re-page missed meanwhile."""
    step_ends = chain.step_started_at + timedelta(minutes=step.wait_minutes)
    if not has_recipients:
        return chain.step_started_at  # nobody to wait for: go straight to the next step
    if step.repage_minutes:
        interval = timedelta(minutes=step.repage_minutes)
        repage = chain.step_started_at + interval * (chain.repeat + 1)
        if repage <= now:
            repage = now + interval
        if repage < step_ends:
            return repage
    return step_ends


def _first_positions(
    chains: list[PageChain], teams: dict[int, Team], now: datetime
) -> list[tuple[PageChain, LadderStep, list[User]]]:
    """Where each new chain starts (its ladder's first step and who that pages now), with the
    time it next moves set on it."""
    first_steps = {
        (chain.team_id, chain.ladder): ladder_for(teams[chain.team_id], chain.ladder)[0][0]
        for chain in chains
    }
    people = _recipients(
        teams, [(team_id, step) for (team_id, _ladder), step in first_steps.items()], now
    )
    positions = []
    for chain in chains:
        step = first_steps[(chain.team_id, chain.ladder)]
        found = people[(chain.team_id, step)]
        chain.next_action_at = _next_action_at(chain, step, bool(found), now)
        positions.append((chain, step, found))
    return positions


def start_chains(
    *,
    tickets: Iterable[Ticket],
    reason: PageChain.Reason,
    started_by: User | None = None,
    summary: str = "",
    now: datetime | None = None,
) -> list[PageChain]:
    """Start paging each ticket's team, unless a chain is already running for it. Call inside
    the transaction that caused it, so the pages exist exactly when the cause does. A sweep
    that breaches a thousand tickets after an outage starts a thousand chains in a handful of
    statements. ``summary`` (structured words only) goes out with each page."""
    now = now or timezone.now()
    tickets = list(tickets)
    running = set(
        PageChain.objects.filter(ticket__in=tickets, status=PageChain.Status.ACTIVE).values_list(
            "ticket_id", flat=True
        )
    )
    tickets = [ticket for ticket in tickets if ticket.pk not in running]
    if not tickets:
        return []
    teams = _teams_with_ladders(ticket.team_id for ticket in tickets)
    chains = [
        PageChain(
            ticket=ticket, team=teams[ticket.team_id], reason=reason, started_by=started_by,
            summary=summary, started_at=now, step_started_at=now,
        )
        for ticket in tickets
    ]  # fmt: skip
    positions = _first_positions(chains, teams, now)
    with transaction.atomic():
        # A technician paging by hand at this very moment wins; the sweep's batch then goes
        # ticket by ticket so nobody else loses their chain.
        try:
            with transaction.atomic():
                PageChain.objects.bulk_create(chains)
        except IntegrityError:
            if len(chains) == 1:
                return []
            return [
                chain
                for ticket in tickets
                for chain in start_chains(
                    tickets=[ticket], reason=reason, started_by=started_by, summary=summary,
                    now=now,
                )
            ]  # fmt: skip
        if any(chain.pk is None for chain in chains):  # a database that returns no ids
            found = PageChain.objects.filter(
                ticket__in=tickets, status=PageChain.Status.ACTIVE
            ).in_bulk(field_name="ticket_id")
            positions = [
                (found[chain.ticket_id], step, people) for chain, step, people in positions
            ]
            chains = [chain for chain, _step, _people in positions]
        _write_pages(
            positions, now, _owner_names(ticket.pk for ticket in tickets if ticket.assignee_id)
        )
    return chains


def start_chain(
    *,
    ticket: Ticket,
    reason: PageChain.Reason,
    started_by: User | None = None,
    summary: str = "",
    now: datetime | None = None,
) -> PageChain | None:
    """Start paging one ticket's team, unless a chain is already running for it."""
    started = start_chains(
        tickets=[ticket], reason=reason, started_by=started_by, summary=summary, now=now
    )
    return started[0] if started else None


def start_team_chain(
    *,
    team: Team,
    reason: PageChain.Reason,
    ladder: EscalationPolicy.Purpose,
    summary: str,
    link: str,
    started_by: User | None = None,
    now: datetime | None = None,
) -> PageChain:
    """Start paging a team about something that is not a ticket, through its ladder for
    ``ladder``. ``summary`` is the whole page (structured words only, short enough for an SMS)
    and ``link`` the page it opens. Call inside the transaction that caused it; the caller keeps
    the chain (and so decides that it starts once)."""
    now = now or timezone.now()
    teams = _teams_with_ladders([team.pk])
    chain = PageChain(
        team=teams[team.pk], reason=reason, ladder=ladder, summary=summary, link=link,
        started_by=started_by, started_at=now, step_started_at=now,
    )  # fmt: skip
    positions = _first_positions([chain], teams, now)
    with transaction.atomic():
        chain.save()
        _write_pages(positions, now, {})
    return chain


def _ticket_event(chain: PageChain, now: datetime, kind: str, text: str, value: str = "") -> None:
    """A step of the chain on its ticket's timeline; a chain about no ticket has none."""
    if chain.ticket_id:
        TicketEvent.objects.create(
            ticket_id=chain.ticket_id, at=now, kind=kind, new_value=value, text=text
        )


def _advance(chain: PageChain, now: datetime) -> None:
    team = _team_with_ladder(chain.team_id)
    owners = _owner_names([chain.ticket_id] if chain.ticket_id else [])
    owner = owners.get(chain.ticket_id) if chain.ticket_id else None
    ladder, repeat_count = ladder_for(team, chain.ladder)
    step = ladder[min(chain.step, len(ladder) - 1)]
    step_ends = chain.step_started_at + timedelta(minutes=step.wait_minutes)
    pages_in_step = Page.objects.filter(chain=chain, step=chain.step, round=chain.round).exists()
    if now < step_ends and pages_in_step:
        chain.repeat += 1
    else:
        chain.step += 1
        chain.repeat = 0
        chain.step_started_at = now
        if chain.step >= len(ladder):
            chain.step = 0
            chain.round += 1
        if chain.round >= repeat_count:
            chain.status = PageChain.Status.UNANSWERED
            chain.ended_at = now
            chain.next_action_at = None
            chain.save()
            _ticket_event(
                chain, now, TicketEvent.Kind.PAGE_UNANSWERED,
                f"Nobody acknowledged after {repeat_count} passes of the ladder.",
            )  # fmt: skip
            return
        step = ladder[chain.step]
        _ticket_event(
            chain, now, TicketEvent.Kind.PAGE_ESCALATED,
            f"No acknowledgement: escalating to {step.label}.{_has_it(owner)}", step.target,
        )  # fmt: skip
    people = _recipients({team.pk: team}, [(team.pk, step)], now)[(team.pk, step)]
    chain.next_action_at = _next_action_at(chain, step, bool(people), now)
    chain.save()
    _write_pages([(chain, step, people)], now, owners)


def advance_due_chains(*, now: datetime | None = None, limit: int = 500) -> int:
    """Re-page or escalate every chain whose wait has elapsed. Each chain is locked while it
    moves, and skipped by a concurrent sweep that finds it locked."""
    now = now or timezone.now()
    moved = 0
    for _ in range(limit):
        with transaction.atomic():
            chain = (
                PageChain.objects.select_for_update(skip_locked=True)
                .filter(status=PageChain.Status.ACTIVE, next_action_at__lte=now)
                .order_by("next_action_at")
                .first()
            )
            if chain is None:
                break
            _advance(chain, now)
            moved += 1
    return moved


def _end_chain(chain: PageChain, status: PageChain.Status, now: datetime) -> None:
    chain.status = status
    chain.ended_at = now
    chain.next_action_at = None
    chain.save(update_fields=["status", "ended_at", "next_action_at"])
    # Nothing of this chain goes out any more: the delivery claim requires a pending page.
    Page.objects.filter(chain=chain, status=Page.Status.PENDING).update(
        status=Page.Status.CANCELLED
    )


class AckVia:
    """How a chain was acknowledged; stored on the timeline's "acknowledged" event."""

    LINK = "link"
    TICKET_PAGE = "ticket page"
    API = "api"
    # The page of what a chain without a ticket is about (a major incident's).
    SUBJECT_PAGE = "subject page"
    # Whoever owns the ticket is working on it: taking it is an acknowledgement.
    CLAIM = "claim"
    TAKE_NEXT = "take next"
    OPENED_ASSIGNED = "opened"


_ACK_TEXT = {
    AckVia.CLAIM: "{name} acknowledged the page by claiming the ticket.",
    AckVia.TAKE_NEXT: "{name} acknowledged the page by taking the ticket from the queue.",
    AckVia.OPENED_ASSIGNED: "{name} acknowledged the page by opening the ticket assigned to them.",
}


def _stop_acknowledged(chain: PageChain, user: User, now: datetime) -> None:
    chain.acknowledged_at = now
    chain.acknowledged_by = user
    chain.save(update_fields=["acknowledged_at", "acknowledged_by"])
    _end_chain(chain, PageChain.Status.ACKNOWLEDGED, now)


def _acknowledge_locked(
    chain: PageChain, ticket: Ticket, user: User, via: str, now: datetime
) -> list[str]:
    """Stop a chain both of whose rows the caller has locked. The acknowledgement is the first
    response if there was none. Returns the ticket fields it changed."""
    _stop_acknowledged(chain, user, now)
    text = _ACK_TEXT.get(via, "{name} acknowledged the page and is on it.")
    TicketEvent.objects.create(
        ticket=ticket, at=now, actor=user, kind=TicketEvent.Kind.ACK, is_public=True,
        new_value=via, text=text.format(name=display_name(user)),
    )  # fmt: skip
    return ticket.record_first_response(now)


def acknowledge(*, chain_id: int, user: User, via: str, now: datetime | None = None) -> PageChain:
    """Stop the chain. For a chain about a ticket, the acknowledgement is the first response if
    there was none, and takes the ticket if nobody had it."""
    if not is_it_staff(user):
        raise PagingError("Only IT staff can acknowledge a page.")
    now = now or timezone.now()
    about = PageChain.objects.filter(pk=chain_id).values("ticket_id").first()
    if about is None:
        raise PageChain.DoesNotExist(f"no page chain {chain_id}")
    ticket_id = about["ticket_id"]
    with transaction.atomic():
        # The ticket first, then the chain: the order a claim takes them in. FOR NO KEY UPDATE
        # lets the sweep add timeline rows to the ticket while it holds the chain.
        ticket = (
            Ticket.objects.select_for_update(no_key=True).get(pk=ticket_id) if ticket_id else None
        )
        chain = (
            PageChain.objects.select_for_update(of=("self",))
            .select_related("acknowledged_by")
            .get(pk=chain_id)
        )
        if chain.status != PageChain.Status.ACTIVE:
            if chain.status == PageChain.Status.ACKNOWLEDGED and chain.acknowledged_by:
                who = display_name(chain.acknowledged_by)
                when = timezone.localtime(chain.acknowledged_at).strftime("%H:%M")
                raise PagingError(f"Already acknowledged by {who} at {when}.")
            raise PagingError(f"This page has ended: {chain.get_status_display().lower()}.")
        if ticket is None:
            _stop_acknowledged(chain, user, now)
            return chain
        fields = ["updated_at", *_acknowledge_locked(chain, ticket, user, via, now)]
        if ticket.assignee_id is None:
            name = display_name(user)
            ticket.assignee = user
            fields.append("assignee")
            if ticket.status == Ticket.Status.NEW:
                ticket.status = Ticket.Status.ASSIGNED
                fields.append("status")
            TicketEvent.objects.create(
                ticket=ticket, at=now, actor=user, kind=TicketEvent.Kind.ASSIGNMENT,
                is_public=True, new_value=name, text=f"Assigned to {name}.",
            )  # fmt: skip
        ticket.save(update_fields=fields)
    return chain


def acknowledge_by_owner(
    *, ticket: Ticket, user: User, via: str, now: datetime
) -> list[str] | None:
    """The ticket's owner is on it (claimed it, took it next, or opened it once assigned to
    them): its running chain stops exactly as the acknowledge link stops it. Call inside the
    transaction that made ``user`` the owner, with ``ticket`` locked or just updated by it. A
    concurrent escalation step holds the chain's lock; this waits for it, then stops the chain
    and cancels whatever that step wrote and not yet sent. Returns the ticket fields it changed
    (and saved), or None when no chain was running."""
    chain = (
        PageChain.objects.select_for_update()
        .filter(ticket_id=ticket.pk, status=PageChain.Status.ACTIVE)
        .first()
    )
    if chain is None:
        return None
    fields = _acknowledge_locked(chain, ticket, user, via, now)
    if fields:
        ticket.save(update_fields=fields)
    return fields


def end_chain(*, chain_id: int, now: datetime | None = None) -> None:
    """What the chain pages about is over (a major incident resolved): nobody needs paging."""
    for locked in PageChain.objects.select_for_update().filter(
        pk=chain_id, status=PageChain.Status.ACTIVE
    ):
        _end_chain(locked, PageChain.Status.RESOLVED, now or timezone.now())


def end_chains_for(ticket: Ticket, now: datetime) -> None:
    """A resolved, closed or cancelled ticket needs nobody paged."""
    for chain in PageChain.objects.select_for_update().filter(
        ticket=ticket, status=PageChain.Status.ACTIVE
    ):
        _end_chain(chain, PageChain.Status.RESOLVED, now)


def ack_token(page: Page) -> str:
    return signing.dumps({"page": page.pk}, salt=ACK_SALT)


def page_for_token(token: str) -> Page:
    """The page a link acknowledges; PagingError when forged or expired."""
    max_age = settings.HELPDESK_PAGING["ACK_LINK_MAX_AGE"]
    try:
        data: dict[str, Any] = signing.loads(token, salt=ACK_SALT, max_age=max_age)
    except signing.SignatureExpired:
        raise PagingError("This acknowledge link has expired. Open the ticket instead.") from None
    except signing.BadSignature:
        raise PagingError("This acknowledge link is not valid.") from None
    page_id = data.get("page")
    page = (
        Page.objects.select_related("chain", "ticket", "recipient", "chain__acknowledged_by")
        .filter(pk=page_id)
        .first()
        if isinstance(page_id, int)
        else None
    )
    if page is None:
        raise PagingError("This acknowledge link is not valid.")
    return page


def _absolute(path: str) -> str:
    return f"{settings.HELPDESK['BASE_URL'].rstrip('/')}{path}"


def message_for(page: Page, *, now: datetime | None = None) -> PageMessage:
    """A page's fields. Structured only: what a nurse typed never leaves in a page."""
    chain = page.chain
    ticket = page.ticket
    recipient = page.recipient
    profile = getattr(recipient, "profile", None)
    now = now or timezone.now()
    since = ticket.created_at if ticket else chain.started_at
    message = PageMessage(
        page_id=page.pk,
        dedupe_key=page.dedupe_key,
        link=_absolute(chain.target_url),
        ack_link=_absolute(reverse("page_acknowledge", args=[ack_token(page)])),
        step=str(EscalationStep.Target(page.target).label).lower()
        if page.target in EscalationStep.Target.values
        else page.target,
        recipient_name=display_name(recipient),
        recipient_email=recipient.email,
        recipient_pager=profile.pager if profile else "",
        age_minutes=max(int((now - since).total_seconds() // 60), 0),
        summary=chain.summary,
    )
    if ticket is None:
        return message
    return replace(
        message,
        ticket_number=ticket.number,
        priority=ticket.priority_label,
        department=ticket.department.name,
        location=ticket.location.name,
        category=str(ticket.category),
        care_delayed=ticket.care_delayed,
        owner=display_name(ticket.assignee) if ticket.assignee else None,
    )


class Outcome:
    SENT = "sent"
    SKIPPED = "skipped"
    RETRY = "retry"
    FAILED = "failed"


def deliver(page_id: int) -> str:
    """Claim a pending page and send it. Running this twice for one page sends it once."""
    # The chain is asked with EXISTS, not joined: a join makes the UPDATE "id IN (subquery)",
    # and PostgreSQL re-checks only the UPDATE's own conditions on a row another claim has just
    # changed, so with the status inside the subquery two workers would both claim the page.
    chain_active = PageChain.objects.filter(pk=OuterRef("chain_id"), status=PageChain.Status.ACTIVE)
    claimed = Page.objects.filter(
        Exists(chain_active), pk=page_id, status=Page.Status.PENDING
    ).update(status=Page.Status.SENDING, claimed_at=Now(), attempts=F("attempts") + 1)
    if not claimed:
        Page.objects.filter(pk=page_id, status=Page.Status.PENDING).exclude(
            chain__status=PageChain.Status.ACTIVE
        ).update(status=Page.Status.CANCELLED)
        return Outcome.SKIPPED
    page = Page.objects.select_related(
        "ticket__department", "ticket__location", "ticket__category__parent", "ticket__assignee",
        "recipient__profile", "chain",
    ).get(pk=page_id)  # fmt: skip
    who = display_name(page.recipient)
    try:
        get_channel(page.channel).send(message_for(page))
    except DeliveryError as error:
        retry = error.retryable and page.attempts < settings.HELPDESK_PAGING["MAX_ATTEMPTS"]
        Page.objects.filter(pk=page_id, status=Page.Status.SENDING).update(
            status=Page.Status.PENDING if retry else Page.Status.FAILED,
            last_error=str(error)[:200],
        )
        logger.warning(
            "page %s by %s attempt %s failed (%s)", page_id, page.channel, page.attempts,
            "will retry" if retry else "giving up",
        )  # fmt: skip
        if retry:
            return Outcome.RETRY
        _ticket_event(
            page.chain, timezone.now(), TicketEvent.Kind.PAGE_FAILED,
            f"Page to {who} by {page.channel} failed after {page.attempts} attempts.",
            page.channel,
        )  # fmt: skip
        return Outcome.FAILED
    # Together: a worker killed between the two would leave a sent page the timeline never shows.
    with transaction.atomic():
        Page.objects.filter(pk=page_id).update(status=Page.Status.SENT, sent_at=timezone.now())
        _ticket_event(
            page.chain, timezone.now(), TicketEvent.Kind.PAGE_SENT,
            f"Page to {who} by {page.channel} delivered.", page.channel,
        )  # fmt: skip
    logger.info("page %s delivered by %s", page_id, page.channel)
    return Outcome.SENT


@shared_task(name="tickets.tasks.deliver_page", bind=True, acks_late=True, max_retries=None)
def deliver_page(self: Any, page_id: int) -> str:
    """Send one page; a gateway that times out or answers 5xx is tried again with backoff."""
    outcome = deliver(page_id)
    if outcome == Outcome.RETRY:
        # Backoff 2, 4, 8... seconds: a gateway hiccup should not hold a P1 page for long.
        raise self.retry(countdown=min(2 ** (self.request.retries + 1), 60))
    return outcome


@shared_task(name="tickets.tasks.deliver_pages", acks_late=True)
def deliver_pages(page_ids: list[int]) -> list[str]:
    """Send a batch of pages; one that needs another try goes on alone, with backoff."""
    outcomes = []
    for page_id in page_ids:
        outcome = deliver(page_id)
        if outcome == Outcome.RETRY:
            deliver_page.apply_async(args=(page_id,), countdown=2)
        outcomes.append(outcome)
    return outcomes


def redeliver_stranded(*, limit: int = 1000, republished: Iterable[int] = ()) -> int:
    """Pages a dead broker never handed out, or a killed worker never finished, go again
    (except those the sweep has just ``republished``). How long a page has waited, or a worker
    has held it, is judged on the database's clock, never on the sweeping process's own."""
    with transaction.atomic():
        stranded_sending = Page.objects.filter(
            status=Page.Status.SENDING, claimed_at__lte=Now() - REDELIVER_SENDING_AFTER
        )
        stranded_sending.filter(chain__status=PageChain.Status.ACTIVE).update(
            status=Page.Status.PENDING
        )
        # Its chain ended (acknowledged, resolved) while the worker was gone: nothing of it goes
        # out any more, as _end_chain decided for its pending pages. Put back to pending, the
        # page would wait there forever, since only an active chain's pages are sent again.
        stranded_sending.exclude(chain__status=PageChain.Status.ACTIVE).update(
            status=Page.Status.CANCELLED
        )
        stranded = list(
            Page.objects.filter(
                status=Page.Status.PENDING,
                queued_at__lte=Now() - REDELIVER_PENDING_AFTER,
                chain__status=PageChain.Status.ACTIVE,
            )
            .exclude(pk__in=list(republished))
            .order_by("queued_at", "pk")
            .values_list("pk", flat=True)[:limit]
        )
        enqueue_many_on_commit(deliver_pages, stranded)
    return len(stranded)
