"""Priority from the nurse's three answers: impact x urgency, then the department rule.

Pure functions of their inputs, so every cell of the matrix is tested without a database.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Urgency(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Impact(StrEnum):
    MANY = "many"
    UNIT = "unit"
    USER = "user"


class Scope(StrEnum):
    """The nurse's answer to "Just you, your unit, or several units?"."""

    ME = "me"
    UNIT = "unit"
    SEVERAL = "several"


SCOPE_LABELS = {
    Scope.ME: "Just me",
    Scope.UNIT: "My unit",
    Scope.SEVERAL: "Several units",
}
URGENCY_LABELS = {
    Urgency.HIGH: "High: care stopped",
    Urgency.MEDIUM: "Medium: workaround exists",
    Urgency.LOW: "Low",
}
IMPACT_LABELS = {
    Impact.MANY: "Several units or a whole system",
    Impact.UNIT: "One unit or a shared clinical device",
    Impact.USER: "One person",
}
PRIORITY_LABELS = {
    1: "P1 Critical",
    2: "P2 High",
    3: "P3 Moderate",
    4: "P4 Low",
    5: "P5 Planning",
}

_MATRIX: dict[tuple[Impact, Urgency], int] = {
    (Impact.MANY, Urgency.HIGH): 1,
    (Impact.MANY, Urgency.MEDIUM): 2,
    (Impact.MANY, Urgency.LOW): 3,
    (Impact.UNIT, Urgency.HIGH): 2,
    (Impact.UNIT, Urgency.MEDIUM): 3,
    (Impact.UNIT, Urgency.LOW): 4,
    (Impact.USER, Urgency.HIGH): 3,
    (Impact.USER, Urgency.MEDIUM): 4,
    (Impact.USER, Urgency.LOW): 5,
}


def urgency_from_answers(*, care_delayed: bool, workaround: bool) -> Urgency:
    if care_delayed and not workaround:
        return Urgency.HIGH
    if care_delayed or not workaround:
        return Urgency.MEDIUM
    return Urgency.LOW


def impact_from_scope(scope: Scope) -> Impact:
    return {Scope.SEVERAL: Impact.MANY, Scope.UNIT: Impact.UNIT, Scope.ME: Impact.USER}[scope]


def matrix_priority(impact: Impact, urgency: Urgency) -> int:
    return _MATRIX[(impact, urgency)]


@dataclass(frozen=True, slots=True)
class PriorityDecision:
    priority: int
    matrix_priority: int
    escalated: bool
    # Why the department rule changed the priority, in words for the ticket's timeline.
    reason: str


def decide_priority(
    *, impact: Impact, urgency: Urgency, department_name: str, auto_escalate: bool
) -> PriorityDecision:
    """Apply the matrix, then the department rule.

    A ticket located in an auto-escalating department (ED and OR by default) moves up one level
    and never sits below P2; with care stopped and no workaround it is P1. Escalation goes by
    where the problem is, never by what the caller says about it.
    """
    base = matrix_priority(impact, urgency)
    if not auto_escalate:
        return PriorityDecision(priority=base, matrix_priority=base, escalated=False, reason="")
    if urgency is Urgency.HIGH:
        escalated_to = 1
        why = "care is delayed with no workaround"
    else:
        escalated_to = min(max(base - 1, 1), 2)
        why = "one level up, never below P2"
    if escalated_to == base:
        return PriorityDecision(priority=base, matrix_priority=base, escalated=False, reason="")
    reason = (
        f"Escalated from P{base} to P{escalated_to}: {department_name} escalates automatically "
        f"({why})."
    )
    return PriorityDecision(
        priority=escalated_to, matrix_priority=base, escalated=True, reason=reason
    )


class PagingRule(StrEnum):
    """When the on-call technician is paged for a ticket."""

    # At once, because it is a P1.
    P1 = "p1"
    # At once: a P2 where the department escalates by itself and the nurse said care is delayed.
    CRITICAL_AREA = "critical_area"
    # Only if nobody has responded by the response target (the sweep starts the chain then).
    ON_RESPONSE_BREACH = "on_response_breach"

    @property
    def at_once(self) -> bool:
        return self is not PagingRule.ON_RESPONSE_BREACH


PAGING_RULE_LABELS = {
    PagingRule.P1: "The on-call technician is paged at once: it is a P1.",
    PagingRule.CRITICAL_AREA: (
        "The on-call technician is paged at once: patient care is delayed in a department "
        "that escalates by itself."
    ),
    PagingRule.ON_RESPONSE_BREACH: (
        "The on-call technician is paged only if nobody has responded by the response target."
    ),
}


def paging_rule(*, priority: int, auto_escalate: bool, care_delayed: bool) -> PagingRule:
    """The one rule for paging the on-call (DOMAIN.md, "On-call"): at once for a P1; at once for
    a P2 in an auto-escalating department only when the nurse said patient care is delayed; any
    other ticket when its response target is breached. Paging every ED and OR ticket would flood
    the pager and teach the on-call to ignore it: a wristband printer with a workaround waits."""
    if priority == 1:
        return PagingRule.P1
    if priority == 2 and auto_escalate and care_delayed:
        return PagingRule.CRITICAL_AREA
    return PagingRule.ON_RESPONSE_BREACH
