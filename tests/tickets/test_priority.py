"""Every cell of the impact x urgency matrix, with the department rule on and off."""

from __future__ import annotations

import pytest

from departments.defaults import DEPARTMENTS
from tickets.priority import (
    PAGING_RULE_LABELS,
    Impact,
    PagingRule,
    Scope,
    Urgency,
    decide_priority,
    impact_from_scope,
    paging_rule,
    urgency_from_answers,
)

# (impact, urgency, plain priority, priority in an auto-escalating department)
CELLS = [
    (Impact.MANY, Urgency.HIGH, 1, 1),
    (Impact.MANY, Urgency.MEDIUM, 2, 1),
    (Impact.MANY, Urgency.LOW, 3, 2),
    (Impact.UNIT, Urgency.HIGH, 2, 1),
    (Impact.UNIT, Urgency.MEDIUM, 3, 2),
    (Impact.UNIT, Urgency.LOW, 4, 2),
    (Impact.USER, Urgency.HIGH, 3, 1),
    (Impact.USER, Urgency.MEDIUM, 4, 2),
    (Impact.USER, Urgency.LOW, 5, 2),
]


@pytest.mark.parametrize(("impact", "urgency", "plain", "escalated"), CELLS)
def test_matrix_without_department_rule(impact, urgency, plain, escalated):
    decision = decide_priority(
        impact=impact,
        urgency=urgency,
        department_name="Medical-Surgical Units",
        auto_escalate=False,
    )
    assert decision.priority == plain
    assert decision.matrix_priority == plain
    assert decision.escalated is False
    assert decision.reason == ""


@pytest.mark.parametrize(("impact", "urgency", "plain", "escalated"), CELLS)
def test_matrix_with_department_rule(impact, urgency, plain, escalated):
    decision = decide_priority(
        impact=impact, urgency=urgency, department_name="Emergency Department", auto_escalate=True
    )
    assert decision.priority == escalated
    assert decision.matrix_priority == plain
    assert decision.escalated is (escalated != plain)
    if decision.escalated:
        assert decision.reason.startswith(f"Escalated from P{plain} to P{escalated}")
        assert "Emergency Department" in decision.reason


def test_many_units_and_care_stopped_is_p1_without_escalation():
    decision = decide_priority(
        impact=Impact.MANY, urgency=Urgency.HIGH, department_name="ED", auto_escalate=True
    )
    assert decision.priority == 1
    assert decision.escalated is False


@pytest.mark.parametrize(
    ("care_delayed", "workaround", "urgency"),
    [
        (True, False, Urgency.HIGH),
        (True, True, Urgency.MEDIUM),
        (False, False, Urgency.MEDIUM),
        (False, True, Urgency.LOW),
    ],
)
def test_urgency_from_the_nurses_answers(care_delayed, workaround, urgency):
    assert urgency_from_answers(care_delayed=care_delayed, workaround=workaround) is urgency


@pytest.mark.parametrize(
    ("scope", "impact"),
    [(Scope.SEVERAL, Impact.MANY), (Scope.UNIT, Impact.UNIT), (Scope.ME, Impact.USER)],
)
def test_impact_from_who_is_affected(scope, impact):
    assert impact_from_scope(scope) is impact


@pytest.mark.parametrize("impact", list(Impact))
@pytest.mark.parametrize("urgency", list(Urgency))
def test_department_rule_never_lowers_and_never_leaves_below_p2(impact, urgency):
    plain = decide_priority(
        impact=impact, urgency=urgency, department_name="X", auto_escalate=False
    )
    ruled = decide_priority(impact=impact, urgency=urgency, department_name="X", auto_escalate=True)
    assert ruled.priority <= plain.priority
    assert ruled.priority <= 2


# When the on-call is paged: one rule, every department of the demo hospital x priority x answer.
PAGES_AT_ONCE = {
    # (auto-escalating department, priority, care delayed) -> paged at filing
    **{(auto, 1, delayed): True for auto in (True, False) for delayed in (True, False)},
    (True, 2, True): True,
    (True, 2, False): False,
    (False, 2, True): False,
    (False, 2, False): False,
    **{
        (auto, priority, delayed): False
        for auto in (True, False)
        for priority in (3, 4, 5)
        for delayed in (True, False)
    },
}


@pytest.mark.parametrize("priority", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("care_delayed", [True, False])
@pytest.mark.parametrize(
    ("code", "tier", "auto_escalate"),
    [(code, tier, auto) for code, _name, tier, _calendar, auto, _unit in DEPARTMENTS],
)
def test_paging_rule_for_every_department_priority_and_answer(
    code, tier, auto_escalate, priority, care_delayed
):
    rule = paging_rule(priority=priority, auto_escalate=auto_escalate, care_delayed=care_delayed)
    assert rule.at_once is PAGES_AT_ONCE[(auto_escalate, priority, care_delayed)], code
    if priority == 1:
        assert rule is PagingRule.P1
    elif rule.at_once:
        assert (rule, code) in {(PagingRule.CRITICAL_AREA, "ED"), (PagingRule.CRITICAL_AREA, "OR")}
    else:
        assert rule is PagingRule.ON_RESPONSE_BREACH


def test_only_the_ed_and_the_or_escalate_by_default():
    assert {code for code, _n, _t, _c, auto, _u in DEPARTMENTS if auto} == {"ED", "OR"}


def test_a_wristband_printer_with_a_workaround_in_the_ed_does_not_page():
    """P2 by the department rule, but care is not delayed: it waits for its response target."""
    decision = decide_priority(
        impact=impact_from_scope(Scope.UNIT),
        urgency=urgency_from_answers(care_delayed=False, workaround=True),
        department_name="Emergency Department",
        auto_escalate=True,
    )
    assert decision.priority == 2
    rule = paging_rule(priority=decision.priority, auto_escalate=True, care_delayed=False)
    assert rule is PagingRule.ON_RESPONSE_BREACH
    assert "only if nobody has responded" in PAGING_RULE_LABELS[rule]
