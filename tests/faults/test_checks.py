"""The judgements of the scenarios that hang Redis, stop the beats, jump the clock and fail the
gateway, on hand-made rows: what counts as a late breach, a skipped or silent escalation, a
retry without back-off, a page delivered twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from faults.checks import (
    Attempt,
    ChainState,
    DueTicket,
    escalations,
    gateway_recovery,
    hung_filing,
    in_due_order,
    late_breaches,
    moves,
)

BACK = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)  # the sweeps ran again
DUE = BACK - timedelta(minutes=5)


def due(ticket_id: int, **changes: object) -> DueTicket:
    fields: dict[str, object] = {
        "ticket_id": ticket_id,
        "due_at": DUE,
        "breached_at": BACK + timedelta(seconds=3),
        "answered_at": None,
        "response_met": None,
        "breach_events": 1,
    }
    fields.update(changes)
    return DueTicket(**fields)  # type: ignore[arg-type]


def chain(chain_id: int, round_: int, step: int, repeat: int, status: str = "active"):
    return ChainState(chain_id, chain_id + 100, round_, step, repeat, status)


def tries(key: str, status: int, *times: float) -> list[Attempt]:
    return [Attempt(key, at, status) for at in times]


def test_a_filing_no_slower_while_redis_was_paused_passes():
    assert hung_filing(paused_max_ms=1400, before_max_ms=1200, bound_ms=900) == []


def test_a_filing_that_waited_on_the_paused_redis_fails():
    assert hung_filing(paused_max_ms=9800, before_max_ms=1200, bound_ms=900) == [
        "a filing took 9800 ms while Redis was paused: more than the 1200 ms of the slowest "
        "before it plus the broker's 900 ms"
    ]


def test_no_filing_answered_while_paused_fails():
    assert hung_filing(paused_max_ms=None, before_max_ms=1200, bound_ms=900) == [
        "no filing was answered while Redis was paused"
    ]


def test_breaches_recorded_once_after_the_sweeps_came_back_pass():
    assert late_breaches([due(1), due(2)], sweeps_back_at=BACK) == []


def test_a_breach_never_recorded_recorded_twice_or_while_no_sweep_ran_fails():
    violations = late_breaches(
        [
            due(1, breached_at=None, breach_events=0),
            due(2, breach_events=2),
            due(3, breached_at=BACK - timedelta(seconds=1)),
        ],
        sweeps_back_at=BACK,
    )
    assert violations == [
        "1 due breach(es) never recorded: 1",
        "breach recorded more than once: 2",
        "1 breach(es) recorded while no sweep ran: 3",
    ]


def test_a_ticket_answered_late_before_any_sweep_keeps_its_miss_on_the_ticket():
    answered = DUE + timedelta(minutes=1)
    kept = due(1, breached_at=None, breach_events=0, answered_at=answered, response_met=False)
    assert late_breaches([kept], sweeps_back_at=BACK) == []
    lost = due(2, breached_at=None, breach_events=0, answered_at=answered, response_met=True)
    assert late_breaches([lost], sweeps_back_at=BACK) == ["1 missed target(s) not on the ticket: 2"]


def test_breaches_out_of_due_order_fail():
    assert in_due_order([(5, DUE), (3, DUE + timedelta(minutes=1))]) == []
    assert in_due_order([(5, DUE + timedelta(minutes=1)), (3, DUE)]) == [
        "breaches recorded out of due order: 5 (due 11:56:00) before 3 (due 11:55:00)"
    ]


def test_one_move_is_a_repage_the_next_step_or_the_next_pass():
    start = chain(1, 0, 1, 0)
    assert moves(start, chain(1, 0, 1, 0)) == 0
    assert moves(start, chain(1, 0, 1, 1)) == 1
    assert moves(start, chain(1, 0, 2, 0)) == 1
    assert moves(start, chain(1, 1, 0, 0, "unanswered")) == 1
    assert moves(start, chain(1, 0, 3, 0)) is None
    assert moves(start, chain(1, 0, 1, 2)) is None


def test_each_due_chain_moves_once_with_its_event():
    before = [chain(1, 0, 0, 0), chain(2, 0, 1, 1), chain(3, 0, 0, 0)]
    after = {1: chain(1, 0, 0, 1), 2: chain(2, 0, 2, 0), 3: chain(3, 0, 0, 0, "acknowledged")}
    assert escalations(before, after, {101: 1, 102: 1}) == []


def test_a_stuck_skipping_silent_or_doubled_chain_fails():
    before = [chain(1, 0, 0, 0), chain(2, 0, 0, 0), chain(3, 0, 0, 0), chain(4, 0, 0, 0)]
    after = {
        1: chain(1, 0, 0, 0),
        2: chain(2, 0, 2, 0),
        3: chain(3, 0, 1, 0),
        4: chain(4, 0, 1, 0),
    }
    assert escalations(before, after, {103: 0, 104: 2}) == [
        "chain(s) moved more than one step at once: 2 (0.0.0 to 0.2.0)",
        "1 due chain(s) never moved: 1",
        "1 chain(s) moved without a timeline event: 3",
        "1 chain(s) moved more than once: 4",
    ]


def test_a_gateway_that_recovered_got_each_page_once_after_backing_off():
    attempts = [*tries("page-1", 500, 0.0, 2.1, 6.3), *tries("page-1", 200, 14.5)]
    attempts += tries("page-2", 200, 20.0)
    assert gateway_recovery(attempts, recovered_at=10.0, failed_keys=[], max_attempts=5) == []


def test_retries_without_back_off_or_a_second_delivery_fail():
    attempts = [*tries("page-1", 500, 0.0, 2.0, 4.0, 6.0), *tries("page-2", 200, 12.0, 13.0)]
    assert gateway_recovery(attempts, recovered_at=10.0, failed_keys=[], max_attempts=5) == [
        "retried without backing off: page-1 (2.0, 2.0, 2.0 s)",
        "1 page(s) delivered more than once: page-2",
    ]


def test_a_page_marked_failed_must_have_used_every_attempt_while_the_gateway_failed():
    every = tries("page-1", 500, *(float(2**n) for n in range(5)))
    assert gateway_recovery(every, recovered_at=40.0, failed_keys=["page-1"], max_attempts=5) == []
    assert gateway_recovery(
        every[:3], recovered_at=40.0, failed_keys=["page-1"], max_attempts=5
    ) == ["page page-1 marked failed after 3 attempt(s), not 5 while the gateway failed"]
