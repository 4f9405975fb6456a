"""The benchmark's plan of tickets: when each was filed, which are open, and which stage loads it.

Pure: ``make_plan`` gets its due-ticket combinations by hand, so no database is needed."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from bench.ticketgen import DAY, DueCombo, Kind, Plan, make_plan
from tickets.priority import Scope

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
COMBOS = [DueCombo(1, Scope.UNIT, True, False, response_seconds=900)]
DAYS = 365


def plan(*, tickets: int = 2_000, first_stage: int | None = 200, history: str = "older") -> Plan:
    return make_plan(
        rng=random.Random(7),
        now=NOW,
        tickets=tickets,
        open_tickets=40,
        due=10,
        at_risk=5,
        nurse_tickets=15,
        days=DAYS,
        first_stage=first_stage,
        history=history,
        combos=COMBOS,
        id_offset=0,
    )


def ages_in_days(found: Plan, stage: int) -> list[float]:
    return [found.ages[index] / DAY for index in found.indexes(stage)]


def test_older_history_puts_the_first_stage_in_the_last_days_and_the_grown_tickets_before():
    found = plan()

    first, grown = ages_in_days(found, 1), ages_in_days(found, 2)
    assert len(first) == 200
    assert len(grown) == 1_800
    assert max(first) < DAYS
    assert min(grown) >= DAYS
    # The same filing rate: 1,800 more tickets at 200 a year take nine years.
    assert max(grown) <= DAYS * 10
    assert max(grown) > DAYS * 9.9


def test_older_history_keeps_open_due_and_nurse_tickets_in_the_first_stage():
    found = plan()

    first = set(found.indexes(1))
    open_indexes = {i for i, kind in enumerate(found.kinds) if kind != Kind.CLOSED}
    assert found.count(Kind.DUE) == 10
    assert found.count(Kind.AT_RISK) == 5
    assert len(open_indexes) == 40
    assert open_indexes <= first
    assert len(found.nurse) == 15
    assert found.nurse <= first


def test_older_history_files_tickets_in_id_order():
    found = plan()

    assert found.ages == sorted(found.ages, reverse=True)
    assert found.indexes(2) == list(range(1_800))


def test_spread_history_files_every_ticket_within_the_days():
    found = plan(history="spread")

    first, grown = ages_in_days(found, 1), ages_in_days(found, 2)
    assert len(first) == 200
    assert len(grown) == 1_800
    assert max(first + grown) < DAYS
    open_indexes = {i for i, kind in enumerate(found.kinds) if kind != Kind.CLOSED}
    assert open_indexes | found.nurse <= set(found.indexes(1))


@pytest.mark.parametrize("history", ["older", "spread"])
def test_one_stage_files_every_ticket_within_the_days(history):
    found = plan(first_stage=None, history=history)

    assert found.stages is None
    assert len(found.indexes(1)) == 2_000
    assert max(found.ages) < DAYS * DAY


def test_first_stage_must_hold_the_open_tickets():
    with pytest.raises(ValueError, match="cannot hold"):
        plan(first_stage=30)


def test_unknown_history_is_refused():
    with pytest.raises(ValueError, match="history"):
        plan(history="sideways")
