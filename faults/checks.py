"""What the scenarios that hang Redis, stop the beats, jump the clock, fail the gateway or
restart the database must show beyond the invariants every scenario checks (faults/invariants.py).

Each judgement is a pure function of rows read by SQL (or of what the gateway received), so it
is tested on hand-made rows (tests/faults/test_checks.py); the readers below it run the SQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise

from django.db import connection

from faults.invariants import few

# The timeline events that say a chain moved: paged (the next step, or the same step again) or
# gave up after the last pass of the ladder.
CHAIN_MOVE_EVENTS = ("page", "page_unanswered")

# --- Redis hung ---------------------------------------------------------------------------------


def hung_filing(*, paused_max_ms: float | None, before_max_ms: float, bound_ms: float) -> list[str]:
    """While Redis was paused, no filing may have waited on it longer than the broker's bound
    beyond the slowest filing of as long a stretch just before (the machine's own noise)."""
    if paused_max_ms is None:
        return ["no filing was answered while Redis was paused"]
    if paused_max_ms > before_max_ms + bound_ms:
        return [
            f"a filing took {paused_max_ms:.0f} ms while Redis was paused: more than the "
            f"{before_max_ms:.0f} ms of the slowest before it plus the broker's "
            f"{bound_ms:.0f} ms"
        ]
    return []


# --- Breaches that fell due while no sweep ran, or that a clock jump made due -------------------


@dataclass(frozen=True, slots=True)
class DueTicket:
    """A ticket whose first-response target the scenario made fall due."""

    ticket_id: int
    due_at: datetime
    breached_at: datetime | None
    answered_at: datetime | None
    response_met: bool | None
    breach_events: int


def late_breaches(tickets: Iterable[DueTicket], *, sweeps_back_at: datetime) -> list[str]:
    """Each ticket whose target passed while no sweep could see it is breached exactly once, by
    the first sweep that could (at ``sweeps_back_at`` or later). One answered before that sweep
    is not breached as an event, but its miss stays on the ticket (``response_met`` false)."""
    never: list[int] = []
    early: list[int] = []
    doubled: list[int] = []
    unmarked: list[int] = []
    for ticket in tickets:
        if ticket.breach_events > 1:
            doubled.append(ticket.ticket_id)
        if ticket.breached_at is not None:
            if ticket.breached_at < sweeps_back_at:
                early.append(ticket.ticket_id)
            if ticket.breach_events == 0:
                unmarked.append(ticket.ticket_id)
            continue
        answered_first = ticket.answered_at is not None and ticket.answered_at < sweeps_back_at
        if not answered_first:
            never.append(ticket.ticket_id)
        elif (
            ticket.answered_at is not None
            and ticket.answered_at > ticket.due_at
            and ticket.response_met is not False
        ):
            unmarked.append(ticket.ticket_id)
    return _found(
        (never, "{n} due breach(es) never recorded: {ids}"),
        (doubled, "breach recorded more than once: {ids}"),
        (early, "{n} breach(es) recorded while no sweep ran: {ids}"),
        (unmarked, "{n} missed target(s) not on the ticket: {ids}"),
    )


def _found(*groups: tuple[Sequence[object], str]) -> list[str]:
    """A violation for each group that is not empty: ``{n}`` its size, ``{ids}`` a few of it."""
    return [text.format(n=len(items), ids=few(items)) for items, text in groups if items]


def in_due_order(breaches: Sequence[tuple[int, datetime]]) -> list[str]:
    """``breaches``: (ticket, due time) of one sweep's breach events, in the order written.
    An older target is recorded (and alerted) before a newer one."""
    late = [
        f"{ticket} (due {due:%H:%M:%S}) before {next_ticket} (due {next_due:%H:%M:%S})"
        for (ticket, due), (next_ticket, next_due) in pairwise(breaches)
        if next_due < due
    ]
    return [f"breaches recorded out of due order: {few(late, 3)}"] if late else []


# --- Page chains that fell due while no sweep ran, or that a clock jump made due ----------------


@dataclass(frozen=True, slots=True)
class ChainState:
    chain_id: int
    ticket_id: int
    round: int
    step: int
    repeat: int
    status: str


def moves(before: ChainState, after: ChainState) -> int | None:
    """Ladder positions a chain moved between two readings: 0, 1, or None for a move no single
    sweep makes (a step skipped, or more than one position)."""
    was = (before.round, before.step, before.repeat)
    now = (after.round, after.step, after.repeat)
    if now == was:
        return 0
    one_move = {
        (before.round, before.step, before.repeat + 1),  # paged again at the same step
        (before.round, before.step + 1, 0),  # escalated to the next step
        (before.round + 1, 0, 0),  # the next pass of the ladder (or gave up after the last)
    }
    return 1 if now in one_move else None


def escalations(
    before: Sequence[ChainState],
    after: Mapping[int, ChainState],
    move_events: Mapping[int, int],
    *,
    once: bool = True,
) -> list[str]:
    """Every chain that fell due moved (unless someone acknowledged it or the ticket was
    resolved first), by one position at a time, each move with its timeline event: none skips a
    step, none moves silently. ``move_events`` counts each ticket's events since the fault. With
    ``once``, each chain moved exactly once (one sweep caught up on it)."""
    skipped: list[str] = []
    stuck: list[int] = []
    silent: list[int] = []
    twice: list[int] = []
    for chain in before:
        now = after.get(chain.chain_id)
        if now is None:
            continue
        moved = moves(chain, now)
        events = move_events.get(chain.ticket_id, 0)
        if moved is None:
            skipped.append(
                f"{chain.chain_id} ({chain.round}.{chain.step}.{chain.repeat} to "
                f"{now.round}.{now.step}.{now.repeat})"
            )
        elif moved == 0 and now.status == "active":
            stuck.append(chain.chain_id)
        elif events < moved:
            silent.append(chain.chain_id)
        elif once and events > moved:
            twice.append(chain.chain_id)
    return _found(
        (skipped, "chain(s) moved more than one step at once: {ids}"),
        (stuck, "{n} due chain(s) never moved: {ids}"),
        (silent, "{n} chain(s) moved without a timeline event: {ids}"),
        (twice, "{n} chain(s) moved more than once: {ids}"),
    )


# --- Gateway failing ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Attempt:
    key: str  # the Idempotency-Key: one page
    at: float  # seconds, on any one clock
    status: int


def gateway_recovery(
    attempts: Sequence[Attempt],
    *,
    recovered_at: float,
    failed_keys: Iterable[str],
    max_attempts: int,
) -> list[str]:
    """A page the gateway refused is tried again, each wait longer than the one before; once
    the gateway answers, every page reaches it exactly once; a page marked failed used all its
    attempts while the gateway was failing."""
    by_key: dict[str, list[Attempt]] = {}
    for attempt in sorted(attempts, key=lambda attempt: attempt.at):
        by_key.setdefault(attempt.key, []).append(attempt)
    violations = []
    hurried = []
    for key, tries in by_key.items():
        refused = [attempt.at for attempt in tries if not 200 <= attempt.status < 300]
        waits = [later - earlier for earlier, later in pairwise(refused)]
        # The first retries may wait alike (the batch hands a page on, which then backs off):
        # by the third wait, the waits must have grown.
        if len(waits) >= 3 and not waits[-1] > waits[0]:
            hurried.append(f"{key} ({', '.join(f'{wait:.1f}' for wait in waits)} s)")
    if hurried:
        violations.append(f"retried without backing off: {few(hurried, 3)}")
    twice = [
        key
        for key, tries in by_key.items()
        if sum(1 for attempt in tries if 200 <= attempt.status < 300) > 1
    ]
    if twice:
        violations.append(f"{len(twice)} page(s) delivered more than once: {few(twice)}")
    for key in failed_keys:
        tries = by_key.get(key, [])
        if len(tries) < max_attempts or any(attempt.at >= recovered_at for attempt in tries):
            violations.append(
                f"page {key} marked failed after {len(tries)} attempt(s), not {max_attempts} "
                "while the gateway failed"
            )
    return violations


# --- Reading the rows -----------------------------------------------------------------------------


def read_due_tickets(ticket_ids: Sequence[int]) -> list[DueTicket]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.id, t.response_due_at, t.response_breached_at, t.first_response_at, "
            "t.response_met, (SELECT count(*) FROM tickets_ticketevent e WHERE e.ticket_id = t.id "
            "AND e.kind = 'sla_breach' AND e.new_value = 'response') "
            "FROM tickets_ticket t WHERE t.id = ANY(%s) ORDER BY t.id",
            [list(ticket_ids)],
        )
        return [DueTicket(*row) for row in cursor.fetchall()]


def read_breach_order(at: datetime) -> list[tuple[int, datetime]]:
    """The first-response breaches one sweep (the one at ``at``) wrote, in the order written."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT e.ticket_id, t.response_due_at FROM tickets_ticketevent e "
            "JOIN tickets_ticket t ON t.id = e.ticket_id WHERE e.kind = 'sla_breach' "
            "AND e.new_value = 'response' AND e.at = %s ORDER BY e.id",
            [at],
        )
        return [(int(ticket_id), due) for ticket_id, due in cursor.fetchall()]


def read_chains(
    *, chain_ids: Sequence[int] | None = None, due_by: datetime | None = None
) -> list[ChainState]:
    """The chains named, or the active ones due by ``due_by``."""
    with connection.cursor() as cursor:
        if chain_ids is not None:
            cursor.execute(
                "SELECT id, ticket_id, round, step, repeat, status FROM tickets_pagechain "
                "WHERE id = ANY(%s)",
                [list(chain_ids)],
            )
        else:
            cursor.execute(
                "SELECT id, ticket_id, round, step, repeat, status FROM tickets_pagechain "
                "WHERE status = 'active' AND next_action_at <= %s",
                [due_by],
            )
        return [ChainState(*row) for row in cursor.fetchall()]


def moved_on_the_real_clock(
    ticket_ids: Sequence[int], *, since: datetime, jumped: datetime
) -> set[int]:
    """Tickets whose chain a sweep on the real clock moved after ``since``: its move events are
    dated before ``jumped``, the time the jumped sweep writes on everything it does."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT ticket_id FROM tickets_ticketevent WHERE ticket_id = ANY(%s) "
            "AND kind = ANY(%s) AND at >= %s AND at < %s",
            [list(ticket_ids), list(CHAIN_MOVE_EVENTS), since, jumped],
        )
        return {int(row[0]) for row in cursor.fetchall()}


def read_move_events(ticket_ids: Sequence[int], *, since: datetime) -> dict[int, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ticket_id, count(*) FROM tickets_ticketevent WHERE ticket_id = ANY(%s) "
            "AND kind = ANY(%s) AND at >= %s GROUP BY ticket_id",
            [list(ticket_ids), list(CHAIN_MOVE_EVENTS), since],
        )
        return {int(ticket_id): int(count) for ticket_id, count in cursor.fetchall()}
