"""Every cell of the impact x urgency matrix, with the department rule on and off."""

from __future__ import annotations

import pytest

from tickets.priority import (
    Impact,
    Scope,
    Urgency,
    decide_priority,
    impact_from_scope,
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
