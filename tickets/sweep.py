"""The SLA sweep: set-based claims of the warnings and breaches that are due.

Celery beat runs it every HELPDESK["SWEEP_SECONDS"]. Each claim is one conditional
``UPDATE ... WHERE <mark> IS NULL ... RETURNING id``: a row is claimed by exactly one sweep, however
many beats or workers run at once, and a sweep after an outage catches up on everything overdue,
because the deadlines live in the database and not in the broker.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from celery import shared_task
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from tickets import outgoing, paging
from tickets.enqueue import republish_unpublished
from tickets.models import (
    CLOCK_RUNNING_STATUSES,
    OPEN_STATUSES,
    PageChain,
    SlaAlert,
    Ticket,
    TicketEvent,
)
from tickets.notifications import queue_sla_alerts

logger = logging.getLogger(__name__)

BATCH = 5000


@dataclass(frozen=True)
class Claim:
    clock: SlaAlert.Clock
    kind: SlaAlert.Kind
    due_field: str
    mark_field: str
    still_running: Q

    @property
    def event_kind(self) -> TicketEvent.Kind:
        if self.kind == SlaAlert.Kind.WARNING:
            return TicketEvent.Kind.SLA_WARNING
        return TicketEvent.Kind.SLA_BREACH


_RESPONSE_PENDING = Q(first_response_at__isnull=True, status__in=OPEN_STATUSES)
_RESOLUTION_RUNNING = Q(status__in=CLOCK_RUNNING_STATUSES)

# Breaches first: after an outage a ticket past its deadline is breached, not first warned.
CLAIMS = (
    Claim(SlaAlert.Clock.RESPONSE, SlaAlert.Kind.BREACH, "response_due_at",
          "response_breached_at", _RESPONSE_PENDING),
    Claim(SlaAlert.Clock.RESOLUTION, SlaAlert.Kind.BREACH, "resolution_due_at",
          "resolution_breached_at", _RESOLUTION_RUNNING),
    Claim(SlaAlert.Clock.RESPONSE, SlaAlert.Kind.WARNING, "response_warn_at",
          "response_warned_at", _RESPONSE_PENDING & Q(response_breached_at__isnull=True)),
    Claim(SlaAlert.Clock.RESOLUTION, SlaAlert.Kind.WARNING, "resolution_warn_at",
          "resolution_warned_at", _RESOLUTION_RUNNING & Q(resolution_breached_at__isnull=True)),
)  # fmt: skip


@dataclass
class SweepResult:
    claimed: dict[str, list[int]] = field(default_factory=dict)
    redelivered: int = 0
    chains_started: int = 0
    chains_advanced: int = 0

    def count(self, clock: str, kind: str) -> int:
        return len(self.claimed.get(f"{clock}_{kind}", []))

    @property
    def total(self) -> int:
        return sum(len(ids) for ids in self.claimed.values())


def _claim(claim: Claim, now: datetime) -> list[int]:
    due = (
        Ticket.objects.filter(claim.still_running)
        .filter(**{f"{claim.due_field}__lte": now, f"{claim.mark_field}__isnull": True})
        .order_by(claim.due_field)
        .values("pk")[:BATCH]
    )
    subquery, params = due.query.sql_with_params()
    table = connection.ops.quote_name(Ticket._meta.db_table)
    mark = connection.ops.quote_name(claim.mark_field)
    updated = connection.ops.quote_name("updated_at")
    due_column = connection.ops.quote_name(claim.due_field)
    # updated_at moves too: the live queue notices the change of state.
    sql = (
        f"UPDATE {table} SET {mark} = %s, {updated} = %s "  # noqa: S608 (identifiers from the model)
        f"WHERE id IN ({subquery}) AND {mark} IS NULL RETURNING id, {due_column}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [now, now, *params])
        # In the order they fell due: a sweep that catches up on many (after an outage, or a
        # clock that jumped) records and alerts the oldest first.
        return [ticket_id for ticket_id, _ in sorted(cursor.fetchall(), key=lambda row: row[::-1])]


def _record(claim: Claim, ticket_ids: list[int], now: datetime) -> list[int]:
    due_times = dict(Ticket.objects.filter(pk__in=ticket_ids).values_list("pk", claim.due_field))
    label = "first response" if claim.clock == SlaAlert.Clock.RESPONSE else "resolution"
    verb = "at risk" if claim.kind == SlaAlert.Kind.WARNING else "breached"
    TicketEvent.objects.bulk_create(
        TicketEvent(
            ticket_id=ticket_id,
            at=now,
            kind=claim.event_kind,
            new_value=claim.clock,
            text=f"The {label} target is {verb}: due "
            f"{timezone.localtime(due_times[ticket_id]):%a %d %b %H:%M}.",
        )
        for ticket_id in ticket_ids
    )
    SlaAlert.objects.bulk_create(
        [
            SlaAlert(ticket_id=ticket_id, clock=claim.clock, kind=claim.kind, created_at=now)
            for ticket_id in ticket_ids
        ],
        ignore_conflicts=True,
    )
    # Ids are not returned for rows inserted with ignore_conflicts on every database.
    return list(
        SlaAlert.objects.filter(
            ticket_id__in=ticket_ids, clock=claim.clock, kind=claim.kind, sent_at__isnull=True
        ).values_list("pk", flat=True)
    )


def _page_on_call(ticket_ids: list[int], now: datetime) -> int:
    """Nobody answered in time: page the on-call technician of each ticket's team."""
    tickets = Ticket.objects.filter(pk__in=ticket_ids).only("pk", "team_id")
    return len(
        paging.start_chains(tickets=tickets, reason=PageChain.Reason.RESPONSE_BREACH, now=now)
    )


def sla_sweep(*, now: datetime | None = None) -> SweepResult:
    """Warn and breach what is due, exactly once each; re-enqueue stranded notifications."""
    now = now or timezone.now()
    result = SweepResult()
    # What the broker refused while it was down or hung goes first, whatever its age; the
    # redelivery of old rows below leaves it alone.
    republished = republish_unpublished()
    result.redelivered += sum(len(ids) for ids in republished.values())

    for claim in CLAIMS:
        while True:
            with transaction.atomic():
                ticket_ids = _claim(claim, now)
                if not ticket_ids:
                    break
                queue_sla_alerts(_record(claim, ticket_ids, now), now=now)
                if claim.clock == SlaAlert.Clock.RESPONSE and claim.kind == SlaAlert.Kind.BREACH:
                    result.chains_started += _page_on_call(ticket_ids, now)
            result.claimed.setdefault(f"{claim.clock}_{claim.kind}", []).extend(ticket_ids)
            if len(ticket_ids) < BATCH:
                break

    result.chains_advanced = paging.advance_due_chains(now=now)
    # Redelivery keeps the database's clock, not ``now``: see ``Page.queued_at``.
    result.redelivered += paging.redeliver_stranded(
        republished=republished.get(paging.deliver_pages.name, set())
    )
    result.redelivered += outgoing.redeliver_stranded_emails(
        republished=republished.get(outgoing.send_emails.name, set())
        | republished.get(outgoing.send_email.name, set()),
    )

    if result.total or result.redelivered or result.chains_advanced:
        logger.info(
            "sla sweep: %s; pages: %d chains started, %d advanced; redelivered %d",
            ", ".join(f"{key} {len(ids)}" for key, ids in result.claimed.items()) or "nothing due",
            result.chains_started,
            result.chains_advanced,
            result.redelivered,
        )
    return result


@shared_task(name="tickets.tasks.sla_sweep", acks_late=True, ignore_result=True)
def sla_sweep_task() -> int:
    """Warn and breach what is due. Beat runs it; overlapping runs are safe."""
    return sla_sweep().total
