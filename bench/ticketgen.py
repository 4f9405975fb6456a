"""Benchmark tickets: which ones are open, at risk or due, and the rows each one is made of.

``make_plan`` decides, for every ticket of the run, when it was filed and what it is: closed
history, open, open and at risk, or open and due for a response breach at the bench's sweep
instant. Ticket ids follow filing order (index + 1 over any tickets already in the table).

When the tickets go in two stages (``first_stage``), the history has one of two shapes:

* ``older`` (the default): the first stage's tickets are filed over the last ``days``, and the
  second stage's over the years before them, at the same filing rate (100,000 in the last year
  grown to 1,000,000 adds 900,000 over the nine years before). A date range in the recent past
  holds the same tickets at both sizes, as in a hospital whose help desk has simply run longer.
  The grown tickets take the lowest ids (they were filed first), though they are loaded last.
* ``spread``: all the tickets are filed over the last ``days`` and the first stage is a random
  sample of them, so growing makes the same year denser (a busier hospital, or a larger one).

Either way every open ticket (due and at-risk ones included) and every one of the nurse's is in
the first stage and filed within ``days``.

``TicketFactory`` builds one ticket from its slot the way the product would have left it: the
priority from the pure functions of ``tickets.priority``, the SLA deadlines from the product's own
``SlaPolicy.for_ticket`` + ``policy.calendar_for`` + ``Ticket.apply_sla_policy`` (looked up once per
priority and department, with each calendar's clock built once and reused), the first response
and resolution through ``record_first_response`` / ``record_resolution``, and the warning and
breach marks the sweep would have claimed on the way (so the first sweep at "now" finds nothing
from the past). Open tickets' clocks are placed relative to "now":

* most are on track: a ticket that is days old has spent most of that time paused (waiting on
  the requester or a vendor), which ``sla_paused_seconds`` carries, as the product's
  ``resume_clock`` would have left it; new (unanswered) tickets are minutes or hours old;
* ``at_risk`` of them have passed the resolution warning (marked) but not the deadline;
* a few per cent keep their natural clocks (mostly breached long ago, marked);
* ``due`` of them are new P2 (or P1) tickets on a 24x7 clock whose first-response deadline falls
  in ``(now, now + BREACH_WINDOW)``: what the ``sla_sweep_breach_*`` measures breach. Nothing
  else has an unclaimed deadline before ``now + QUIET``, so a sweep at ``now`` is idle and one at
  ``now + BREACH_WINDOW`` claims exactly the due tickets.

Pure Python once built: no query runs while tickets are made, so chunks can be made in forked
processes.
"""

from __future__ import annotations

import csv
import io
import math
import random
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import IntEnum
from operator import attrgetter
from typing import Any, Literal

from django.db.models import Model
from django.db.models.base import ModelState

from demo.sla_history import reached, replay_sla
from departments import business_time
from departments.models import BusinessCalendar, Department, Location
from tickets.models import Category, SlaPolicy, Ticket, TicketEvent
from tickets.priority import (
    PRIORITY_LABELS,
    PriorityDecision,
    Scope,
    decide_priority,
    impact_from_scope,
    urgency_from_answers,
)

DAY = 86400.0
# The due tickets' first-response deadlines fall in (now, now + BREACH_WINDOW); the breach sweep
# runs at now + BREACH_WINDOW.
BREACH_WINDOW = timedelta(seconds=60)
# No other unclaimed deadline falls before now + QUIET.
QUIET = timedelta(minutes=5)
# Open tickets are the newest ones, spread over at least this many days of history.
OPEN_WINDOW_DAYS = 30.0
# At-risk tickets are at least this old, so that any priority's clock has run long enough.
AT_RISK_MIN_AGE_DAYS = 20.0
# Share of open tickets whose clocks are left as their filing time makes them (mostly breached).
NATURAL_SHARE = 0.04

# How a second stage grows the history: older tickets before the first stage's ``days``, or a
# denser ``days`` (see the module docstring).
History = Literal["older", "spread"]
HISTORIES: tuple[History, ...] = ("older", "spread")

Status = Ticket.Status
OPEN_STATUS_WEIGHTS = (
    (Status.NEW, 20),
    (Status.ASSIGNED, 25),
    (Status.IN_PROGRESS, 40),
    (Status.WAITING_ON_REQUESTER, 8),
    (Status.WAITING_ON_VENDOR, 7),
)
RUNNING = frozenset(Ticket.CLOCK_RUNNING_STATUSES)
PAUSED = frozenset(Ticket.PAUSED_STATUSES)

PROBLEMS = [
    "not working since this morning",
    "frozen on the login screen",
    "very slow, takes minutes to load",
    "keeps disconnecting",
    "error message when saving",
    "prints blank pages",
    "asks for a password every few minutes",
    "missing from the menu",
    "shows the wrong patient list",
    "won't turn on",
]
DETAILS = [
    "",
    "",
    "Tried restarting, same thing.",
    "Happens on both WOWs on the unit.",
    "Started after last night's update. Charge nurse aware.",
    "Using the downtime forms for now.",
]


class Kind(IntEnum):
    CLOSED = 0
    OPEN = 1
    AT_RISK = 2
    DUE = 3


# --- SLA terms ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Terms:
    policy: SlaPolicy
    # The policy's calendar for the department; its as_clock() answers ``clock`` without work.
    calendar: BusinessCalendar
    clock: business_time.BusinessCalendar
    response_seconds: int
    resolution_seconds: int


def _pin_clock(calendar: BusinessCalendar) -> BusinessCalendar:
    """Build the calendar's clock once; this instance answers it from then on (the product's
    methods call ``as_clock()`` on the ticket's calendar for every deadline)."""
    clock = calendar.as_clock()

    def as_clock() -> business_time.BusinessCalendar:
        return clock

    vars(calendar)["as_clock"] = as_clock
    return calendar


class SlaTerms:
    """``SlaPolicy.for_ticket`` and ``policy.calendar_for`` for every priority and department,
    looked up once, up front (so making tickets runs no query)."""

    def __init__(self, departments: Sequence[Department]) -> None:
        calendars = {
            calendar.pk: _pin_clock(calendar)
            for calendar in BusinessCalendar.objects.prefetch_related("hours", "holidays")
        }
        self._found: dict[tuple[int, int], Terms | None] = {}
        for department in departments:
            for priority in PRIORITY_LABELS:
                try:
                    policy = SlaPolicy.for_ticket(priority=priority, department=department)
                except SlaPolicy.DoesNotExist:
                    self._found[(priority, department.pk)] = None  # no clock, as in the product
                    continue
                calendar = calendars[policy.calendar_for(department).pk]
                self._found[(priority, department.pk)] = Terms(
                    policy=policy,
                    calendar=calendar,
                    clock=calendar.as_clock(),
                    response_seconds=policy.response_minutes * 60,
                    resolution_seconds=policy.resolution_minutes * 60,
                )

    def __call__(self, priority: int, department_id: int) -> Terms | None:
        return self._found.get((priority, department_id))


# --- The plan --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DueCombo:
    """What a due ticket is: a department on a 24x7 clock and answers that make it P2 there
    (a P2 outside the auto-escalating departments pages nobody when filed, so the breach is what
    starts its page chain)."""

    department_id: int
    scope: Scope
    care_delayed: bool
    workaround: bool
    response_seconds: int


@dataclass(slots=True)
class Plan:
    now: datetime
    # Seconds before ``now`` each ticket was filed, oldest first; ticket id = id_offset + index + 1.
    ages: list[float]
    kinds: bytearray
    due_combos: dict[int, DueCombo]
    nurse: frozenset[int]
    # 1 or 2 per index when the history grows in two stages, else None (everything in stage 1).
    stages: bytearray | None
    id_offset: int

    def indexes(self, stage: int) -> list[int]:
        if self.stages is None:
            return list(range(len(self.ages))) if stage == 1 else []
        stages = self.stages
        return [index for index in range(len(stages)) if stages[index] == stage]

    def count(self, kind: Kind) -> int:
        return self.kinds.count(kind)


def due_combos(departments: Sequence[Department], terms: SlaTerms) -> list[DueCombo]:
    """Departments and answers whose ticket is P2 (else P1) on a 24x7 clock."""
    found: dict[int, list[DueCombo]] = {1: [], 2: []}
    for department in departments:
        for scope in Scope:
            for care_delayed in (True, False):
                for workaround in (True, False):
                    decision = decide_priority(
                        impact=impact_from_scope(scope),
                        urgency=urgency_from_answers(
                            care_delayed=care_delayed, workaround=workaround
                        ),
                        department_name=department.name,
                        auto_escalate=department.auto_escalate,
                    )
                    if decision.priority not in found or (
                        decision.priority == 2 and department.auto_escalate
                    ):
                        continue
                    found_terms = terms(decision.priority, department.pk)
                    if found_terms is None or not found_terms.clock.is_24x7:
                        continue
                    if found_terms.response_seconds <= 2 * BREACH_WINDOW.total_seconds():
                        continue
                    found[decision.priority].append(
                        DueCombo(
                            department.pk,
                            scope,
                            care_delayed,
                            workaround,
                            found_terms.response_seconds,
                        )
                    )
    combos = found[2] or found[1]
    if not combos:
        raise RuntimeError(
            "no department has a P1 or P2 policy on a 24x7 clock: the breach measures need one"
        )
    return combos


def make_plan(
    *,
    rng: random.Random,
    now: datetime,
    tickets: int,
    open_tickets: int,
    due: int,
    at_risk: int,
    nurse_tickets: int,
    days: int,
    first_stage: int | None,
    history: History,
    combos: Sequence[DueCombo],
    id_offset: int,
) -> Plan:
    if not 0 <= due <= open_tickets <= tickets:
        raise ValueError(f"need 0 <= due ({due}) <= open ({open_tickets}) <= tickets ({tickets})")
    if history not in HISTORIES:
        raise ValueError(f"history is one of {', '.join(HISTORIES)}, not {history!r}")
    stage_size = first_stage if first_stage is not None and first_stage < tickets else None
    if stage_size is not None and stage_size < open_tickets:
        raise ValueError(
            f"the first stage ({stage_size:,} tickets) cannot hold the {open_tickets:,} open "
            "tickets"
        )
    # Tickets filed within the last ``days``: all of them, unless the second stage is older.
    recent = stage_size if stage_size is not None and history == "older" else tickets
    regular = [rng.random() * days * DAY for _ in range(recent - due)]
    if recent < tickets:
        before = older_days(days=days, recent=recent, grown=tickets - recent) * DAY
        regular += [days * DAY + rng.random() * before for _ in range(tickets - recent)]
    regular.sort(reverse=True)
    window = BREACH_WINDOW.total_seconds()
    due_slots = []
    for number in range(due):
        combo = combos[number % len(combos)]
        due_slots.append((combo.response_seconds - rng.uniform(1.0, window - 1.0), number, combo))
    # Due tickets are minutes old: merge them into the young end of the sorted ages.
    limit = max((age for age, _, _ in due_slots), default=0.0)
    old_count = len(regular)
    while old_count and regular[old_count - 1] < limit:
        old_count -= 1
    young: list[tuple[float, int]] = [(age, -1) for age in regular[old_count:]]
    young += [(age, number) for age, number, _ in due_slots]
    young.sort(reverse=True)
    ages = regular[:old_count] + [age for age, _ in young]
    kinds = bytearray(len(ages))
    due_at: dict[int, DueCombo] = {}
    regular_indexes = list(range(old_count))
    for position, (_, number) in enumerate(young, start=old_count):
        if number >= 0:
            kinds[position] = Kind.DUE
            due_at[position] = due_slots[number][2]
        else:
            regular_indexes.append(position)
    # Oldest first: the tickets filed before the last ``days`` (if any) come first.
    within_days = regular_indexes[len(regular_indexes) - (recent - due) :]

    # Open tickets: the newest ones, over at least OPEN_WINDOW_DAYS of history.
    wanted = open_tickets - due
    span = max(3 * wanted, math.ceil(len(within_days) * OPEN_WINDOW_DAYS / max(days, 1)))
    candidates = within_days[-min(span, len(within_days)) :]
    opened = rng.sample(candidates, k=min(wanted, len(candidates)))
    for index in opened:
        kinds[index] = Kind.OPEN
    old_enough = [index for index in opened if ages[index] >= AT_RISK_MIN_AGE_DAYS * DAY]
    for index in rng.sample(old_enough, k=min(at_risk, len(old_enough))):
        kinds[index] = Kind.AT_RISK

    nurse = frozenset(rng.sample(within_days, k=min(nurse_tickets, len(within_days))))

    stages = None
    if stage_size is not None and recent < tickets:
        stages = bytearray(b"\x02") * (tickets - recent) + bytearray(b"\x01") * recent
    elif stage_size is not None:
        stages = bytearray(b"\x02") * len(ages)
        must = [i for i in range(len(ages)) if kinds[i] != Kind.CLOSED or i in nurse]
        for index in must:
            stages[index] = 1
        history_indexes = [i for i in range(len(ages)) if stages[i] == 2]
        extra = stage_size - len(must)
        if extra < 0:
            raise ValueError(
                f"the first stage ({stage_size:,} tickets) cannot hold the {len(must):,} open "
                "and nurse's tickets"
            )
        for index in rng.sample(history_indexes, k=extra):
            stages[index] = 1
    return Plan(
        now=now,
        ages=ages,
        kinds=kinds,
        due_combos=due_at,
        nurse=nurse,
        stages=stages,
        id_offset=id_offset,
    )


def older_days(*, days: int, recent: int, grown: int) -> float:
    """Days before the last ``days`` that ``grown`` more tickets span at the filing rate of
    ``recent`` tickets in ``days``."""
    return days * grown / recent if recent else 0.0


# --- Making tickets -----------------------------------------------------------------------------


EVENT_COLUMNS = (
    "ticket_id",
    "at",
    "actor_id",
    "kind",
    "is_public",
    "old_value",
    "new_value",
    "text",
)
EventRow = tuple[int, datetime, int | None, str, bool, str, str, str]


@dataclass
class Chunk:
    """One batch of tickets: model instances (SQLite) or CSV text for COPY (PostgreSQL)."""

    tickets: list[Ticket] = field(default_factory=list)
    events: list[EventRow] = field(default_factory=list)
    ticket_csv: str = ""
    event_csv: str = ""
    count: int = 0
    event_count: int = 0
    states: Counter[str] = field(default_factory=Counter)
    due_ids: list[int] = field(default_factory=list)
    first_id: int = 0
    last_id: int = 0


@dataclass
class TicketFactory:
    plan: Plan
    terms: SlaTerms
    locations: list[Location]
    departments: dict[int, Department]
    top_level: list[Category]
    subcategories: list[Category]
    requester_ids: list[int]
    nurse_id: int
    techs_by_team: dict[int, list[int]]
    all_tech_ids: list[int]
    random_seed: int
    _decisions: dict[tuple[Scope, bool, bool, int], PriorityDecision] = field(default_factory=dict)
    _location_text: dict[int, str] = field(default_factory=dict)
    _by_department: dict[int, list[Location]] = field(default_factory=dict)
    _statuses: list[str] = field(default_factory=list)
    _weights: list[int] = field(default_factory=list)
    _defaults: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._defaults = {
            name: value for name, value in Ticket().__dict__.items() if name != "_state"
        }
        self._location_text = {location.pk: str(location) for location in self.locations}
        for location in self.locations:
            self._by_department.setdefault(location.department_id, []).append(location)
        self._statuses = [status for status, _ in OPEN_STATUS_WEIGHTS]
        self._weights = [weight for _, weight in OPEN_STATUS_WEIGHTS]
        self.now = self.plan.now
        self.quiet_until = self.now + QUIET
        self.breach_at = self.now + BREACH_WINDOW
        # Decide every combination up front: forked makers then never fill the cache.
        for department in self.departments.values():
            for scope in Scope:
                for care_delayed in (True, False):
                    for workaround in (True, False):
                        self.decision(scope, care_delayed, workaround, department)

    def _blank(self, **values: Any) -> Ticket:
        """``Ticket(**values)`` without Model.__init__'s per-field work (a hundred microseconds a
        ticket): the defaults of one blank ticket, then the values, by attribute name."""
        ticket: Ticket = Ticket.__new__(Ticket)
        attributes = ticket.__dict__
        attributes.update(self._defaults)
        attributes.update(values)
        attributes["_state"] = ModelState()
        return ticket

    def decision(
        self, scope: Scope, care_delayed: bool, workaround: bool, department: Department
    ) -> PriorityDecision:
        key = (scope, care_delayed, workaround, department.pk)
        found = self._decisions.get(key)
        if found is None:
            found = decide_priority(
                impact=impact_from_scope(scope),
                urgency=urgency_from_answers(care_delayed=care_delayed, workaround=workaround),
                department_name=department.name,
                auto_escalate=department.auto_escalate,
            )
            self._decisions[key] = found
        return found

    # One chunk ---------------------------------------------------------------------------------

    def chunk(self, stage: int, number: int, indexes: Sequence[int], *, as_csv: bool) -> Chunk:
        """Tickets for ``indexes`` of the plan, deterministic for (seed, stage, number)."""
        rng = random.Random(f"{self.random_seed}:{stage}:{number}")
        out = Chunk()
        tickets: list[Ticket] = []
        events: list[EventRow] = []
        for index in indexes:
            ticket, state = self.make(rng, index)
            tickets.append(ticket)
            events.extend(self.timeline(ticket))
            out.states[state] += 1
            if state == "due":
                out.due_ids.append(ticket.pk)
        out.count = len(tickets)
        out.event_count = len(events)
        if tickets:
            out.first_id, out.last_id = tickets[0].pk, tickets[-1].pk
        if as_csv:
            out.ticket_csv = to_csv(ticket_rows(tickets))
            out.event_csv = to_csv(events)
        else:
            out.tickets, out.events = tickets, events
        return out

    def make(self, rng: random.Random, index: int) -> tuple[Ticket, str]:
        plan = self.plan
        kind = plan.kinds[index]
        created = self.now - timedelta(seconds=plan.ages[index])
        combo = plan.due_combos.get(index)
        if combo is not None:
            location = rng.choice(self._by_department[combo.department_id])
            scope, care_delayed, workaround = combo.scope, combo.care_delayed, combo.workaround
        else:
            location = rng.choice(self.locations)
            care_delayed = rng.random() < 0.25
            workaround = rng.random() < 0.6
            scope = rng.choices((Scope.ME, Scope.UNIT, Scope.SEVERAL), weights=(60, 30, 10))[0]
        department = self.departments[location.department_id]
        category = rng.choice(self.top_level)
        if self.subcategories and rng.random() < 0.3:
            # Technicians refile some tickets under a subcategory.
            category = rng.choice(self.subcategories)
        decision = self.decision(scope, care_delayed, workaround, department)
        title = f"{category.name} {rng.choice(PROBLEMS)}"
        requester_id = self.nurse_id if index in plan.nurse else rng.choice(self.requester_ids)
        ticket = self._blank(
            id=plan.id_offset + index + 1,
            title=title[:120],
            description=rng.choice(DETAILS),
            requester_id=requester_id,
            department_id=department.pk,
            location_id=location.pk,
            callback=f"x{rng.randint(2000, 7999)}",
            category_id=category.pk,
            team_id=category.team_id,
            care_delayed=care_delayed,
            scope=scope.value,
            workaround=workaround,
            urgency=urgency_from_answers(care_delayed=care_delayed, workaround=workaround).value,
            impact=impact_from_scope(scope).value,
            matrix_priority=decision.matrix_priority,
            priority=decision.priority,
            auto_escalated=decision.escalated,
            created_at=created,
            phi_suspected=rng.random() < 0.003,
            idempotency_key=f"{rng.getrandbits(128):032x}",
        )
        terms = self.terms(decision.priority, department.pk)
        if kind == Kind.CLOSED:
            self._history(rng, ticket, terms)
            return ticket, "closed"
        if kind == Kind.DUE:
            return ticket, self._due(ticket, terms)
        return ticket, self._open(rng, ticket, terms, at_risk=kind == Kind.AT_RISK)

    def _assignee(self, rng: random.Random, ticket: Ticket) -> int | None:
        team_techs = self.techs_by_team.get(ticket.team_id) or self.all_tech_ids
        return rng.choice(team_techs) if team_techs else None

    def _delays(self, rng: random.Random, terms: Terms | None) -> tuple[float, float]:
        """Seconds from filing to the first response and to the resolution: mostly within the
        targets (about one in ten late), in wall-clock time (a business-hours target spans
        nights and weekends); without a policy, 2-90 minutes and up to three days."""
        if terms is None:
            return rng.uniform(120, 90 * 60), rng.uniform(15 * 60, 72 * 3600)
        stretch = 1.0 if terms.clock.is_24x7 else 2.5

        def share() -> float:
            return rng.uniform(0.05, 0.95) if rng.random() < 0.9 else rng.uniform(1.0, 3.0)

        response = max(60.0, terms.response_seconds * stretch * share())
        resolution = max(response + 600.0, terms.resolution_seconds * stretch * share())
        return response, resolution

    def _history(self, rng: random.Random, ticket: Ticket, terms: Terms | None) -> None:
        """Answered and resolved (mostly within the targets), closed three days after that."""
        created = ticket.created_at
        answer_after, resolve_after = self._delays(rng, terms)
        resolved = min(created + timedelta(seconds=resolve_after), self.now)
        closes = resolved + timedelta(days=3)
        ticket.status = Status.CLOSED if closes <= self.now else Status.RESOLVED
        ticket.closed_at = closes if ticket.status == Status.CLOSED else None
        ticket.assignee_id = self._assignee(rng, ticket)
        first_response = min(created + timedelta(seconds=answer_after), resolved)
        ticket.updated_at = ticket.closed_at or resolved
        if terms is None:
            ticket.first_response_at, ticket.resolved_at = first_response, resolved
            return
        replay_sla(
            ticket,
            policy=terms.policy,
            calendar=terms.calendar,
            now=self.now,
            first_response_at=first_response,
            resolved_at=resolved,
        )

    def _due(self, ticket: Ticket, terms: Terms | None) -> str:
        """New, unanswered, first response due within BREACH_WINDOW after now, warning claimed."""
        ticket.status = Status.NEW
        if terms is None:
            raise RuntimeError("a due ticket needs an SLA policy")
        ticket.apply_sla_policy(terms.policy, terms.calendar)
        ticket.response_warned_at = reached(ticket.response_warn_at, self.now)
        ticket.updated_at = ticket.response_warned_at or ticket.created_at
        due_at = ticket.response_due_at
        assert due_at is not None
        if not self.now < due_at < self.breach_at or not self._quiet(ticket, skip="response_due"):
            raise RuntimeError(
                f"due ticket {ticket.pk}: response due {due_at.isoformat()}, not in "
                f"({self.now.isoformat()}, {self.breach_at.isoformat()}) with nothing else due"
            )
        return "due"

    def _open(
        self, rng: random.Random, ticket: Ticket, terms: Terms | None, *, at_risk: bool
    ) -> str:
        now = self.now
        created = ticket.created_at
        age = (now - created).total_seconds()
        status = Status.IN_PROGRESS if at_risk else rng.choices(self._statuses, self._weights)[0]
        if status == Status.NEW and (
            terms is None or age >= 0.75 * terms.response_seconds - QUIET.total_seconds()
        ):
            status = Status.ASSIGNED  # a new ticket this old would be at risk: someone took it
        ticket.status = status
        first_response = paused_at = None
        if status != Status.NEW:
            ticket.assignee_id = self._assignee(rng, ticket)
            answered_after = min(self._delays(rng, terms)[0], age * rng.uniform(0.1, 0.9))
            first_response = created + timedelta(seconds=answered_after)
        if status in PAUSED:
            assert first_response is not None
            paused_at = first_response + (now - first_response) * rng.uniform(0.2, 1.0)
        ticket.updated_at = paused_at or first_response or created
        if terms is None:
            ticket.first_response_at = first_response
            ticket.sla_paused_at = paused_at
            return "paused" if paused_at else "on_track"

        stopped = paused_at or now
        elapsed = business_time.business_seconds_between(terms.clock, created, stopped)
        target = terms.resolution_seconds
        if at_risk:
            running = rng.uniform(0.78, 0.95) * target
        elif status != Status.NEW and rng.random() < NATURAL_SHARE:
            running = elapsed
        else:
            running = rng.uniform(0.0, 0.7) * target
        for attempt in (running, 0.0):
            # Time the resolution clock stood still (earlier waits on the requester or a
            # vendor), which the product's resume_clock adds to sla_paused_seconds.
            ticket.sla_paused_seconds = max(0.0, elapsed - min(attempt, elapsed))
            self._clocks(ticket, terms, first_response, paused_at)
            if self._quiet(ticket):
                break
        else:
            raise RuntimeError(f"ticket {ticket.pk}: a deadline falls in the quiet window")
        # Each claim moved updated_at, as the sweep's UPDATE does.
        ticket.updated_at = max(
            moment
            for moment in (
                ticket.updated_at,
                ticket.response_warned_at,
                ticket.response_breached_at,
                ticket.resolution_warned_at,
                ticket.resolution_breached_at,
            )
            if moment is not None
        )
        return self._state(ticket)

    def _clocks(
        self,
        ticket: Ticket,
        terms: Terms,
        first_response: datetime | None,
        paused_at: datetime | None,
    ) -> None:
        # Each attempt starts the clocks afresh.
        ticket.sla_paused_at = None
        ticket.first_response_at = None
        replay_sla(
            ticket,
            policy=terms.policy,
            calendar=terms.calendar,
            now=self.now,
            first_response_at=first_response,
            paused_at=paused_at,
        )

    def _quiet(self, ticket: Ticket, *, skip: str = "") -> bool:
        """No clock the sweep claims has an unclaimed deadline before quiet_until."""
        quiet = self.quiet_until
        pending: list[tuple[str, datetime | None, datetime | None]] = []
        if ticket.first_response_at is None:
            pending.append(("response_warn", ticket.response_warn_at, ticket.response_warned_at))
            pending.append(("response_due", ticket.response_due_at, ticket.response_breached_at))
        if ticket.status in RUNNING:
            pending.append(
                ("resolution_warn", ticket.resolution_warn_at, ticket.resolution_warned_at)
            )
            pending.append(
                ("resolution_due", ticket.resolution_due_at, ticket.resolution_breached_at)
            )
        return all(
            name == skip or deadline is None or mark is not None or deadline > quiet
            for name, deadline, mark in pending
        )

    def _state(self, ticket: Ticket) -> str:
        if ticket.status in PAUSED:
            return "paused"
        if ticket.response_breached_at and ticket.first_response_at is None:
            return "breached"
        if ticket.resolution_breached_at:
            return "breached"
        if ticket.resolution_warned_at or (
            ticket.first_response_at is None and ticket.response_warned_at
        ):
            return "at_risk"
        return "on_track"

    def timeline(self, ticket: Ticket) -> Iterator[EventRow]:
        """The rows ``ticket_file`` writes with a ticket."""
        yield (
            ticket.pk,
            ticket.created_at,
            ticket.requester_id,
            TicketEvent.Kind.FILED,
            True,
            "",
            f"P{ticket.matrix_priority}",
            f"Filed from {self._location_text[ticket.location_id]}.",
        )
        if ticket.auto_escalated:
            department = self.departments[ticket.department_id]
            decision = self.decision(
                Scope(ticket.scope), ticket.care_delayed, ticket.workaround, department
            )
            yield (
                ticket.pk,
                ticket.created_at,
                None,
                TicketEvent.Kind.ESCALATED,
                True,
                f"P{ticket.matrix_priority}",
                f"P{ticket.priority}",
                decision.reason,
            )
        if ticket.phi_suspected:
            yield (
                ticket.pk,
                ticket.created_at,
                None,
                TicketEvent.Kind.PHI_FLAGGED,
                False,
                "",
                "",
                "The text looks like it holds patient data; it is left out of notifications "
                "and exports.",
            )


# --- Rows for COPY -----------------------------------------------------------------------------


def insertable_columns(model: type[Model]) -> list[str]:
    """The columns an INSERT writes: concrete, not generated by the database."""
    return [f.column for f in model._meta.concrete_fields if not getattr(f, "generated", False)]


def not_null_text_columns(model: type[Model]) -> list[str]:
    """Columns where an empty CSV field means '' rather than NULL."""
    text = {"CharField", "TextField", "SlugField", "EmailField", "URLField"}
    return [
        f.column
        for f in model._meta.concrete_fields
        if not getattr(f, "generated", False) and not f.null and f.get_internal_type() in text
    ]


_ticket_values = attrgetter(
    *[f.attname for f in Ticket._meta.concrete_fields if not getattr(f, "generated", False)]
)


def ticket_rows(tickets: Sequence[Ticket]) -> Iterator[tuple[Any, ...]]:
    for ticket in tickets:
        yield _ticket_values(ticket)


def to_csv(rows: Iterable[Sequence[Any]]) -> str:
    """CSV for COPY ... (FORMAT csv): None is an empty field (NULL, or '' in FORCE_NOT_NULL
    columns), booleans True/False and datetimes ISO-like with their offset, as PostgreSQL reads
    them."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()
