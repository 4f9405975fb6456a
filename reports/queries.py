"""The SLA reports as query functions: the pages, the CSV exports and the API call these.

Every report aggregates in SQL over the columns the SLA engine stored on the ticket when the facts
became known (``response_met``, ``resolution_business_seconds``, ``*_breached_at``...), so no
report replays a ticket's history. Each function runs a fixed number of queries whatever the
number of tickets. Percentiles come from :mod:`reports.stats` (``percentile_cont`` on PostgreSQL,
the same definition in Python on SQLite).

A report covers the tickets *filed* in its date range: ``created_at`` from the first day's local
midnight up to, not including, the local midnight after the last day, in the hospital's time
zone (``settings.TIME_ZONE``). Backlog and "open now" figures are states at an instant, and say so.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth.models import User
from django.core.paginator import Page as PaginatorPage
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    When,
)
from django.db.models.functions import Coalesce, TruncHour

from departments.models import Department, Location, Team
from departments.roles import IT_ROLES, display_name
from incidents.models import Incident
from reports import conf
from reports.stats import (
    EMPTY,
    Measure,
    Method,
    Summary,
    grouped_percentiles,
    percentiles_by_sets,
)
from tickets.models import Category, Page, PageChain, Ticket, TicketEvent
from tickets.priority import PRIORITY_LABELS

PRIORITIES = tuple(sorted(PRIORITY_LABELS))
Status = Ticket.Status


# --- Filters ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReportFilters:
    """What a report covers: local dates (both inclusive) and optional filters."""

    start: date
    end: date
    team_id: int | None = None
    category_id: int | None = None
    department_id: int | None = None
    priority: int | None = None

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("A report's range ends on or after the day it starts.")

    @classmethod
    def last_days(cls, days: int, *, today: date | None = None, **filters: Any) -> ReportFilters:
        """The last ``days`` days including today (local)."""
        today = today or local_today()
        return cls(start=today - timedelta(days=days - 1), end=today, **filters)

    @property
    def tz(self) -> ZoneInfo:
        return conf.hospital_tz()

    @property
    def starts_at(self) -> datetime:
        return datetime.combine(self.start, time(0), tzinfo=self.tz)

    @property
    def ends_at(self) -> datetime:
        """The local midnight after the last day: the range's exclusive end."""
        return datetime.combine(self.end + timedelta(days=1), time(0), tzinfo=self.tz)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def scope_q(self, prefix: str = "") -> Q:
        """The team, category, department and priority filters, without the dates."""
        q = Q()
        if self.team_id is not None:
            q &= Q(**{f"{prefix}team_id": self.team_id})
        if self.category_id is not None:
            # A tile takes in its subcategories.
            q &= Q(**{f"{prefix}category_id": self.category_id}) | Q(
                **{f"{prefix}category__parent_id": self.category_id}
            )
        if self.department_id is not None:
            q &= Q(**{f"{prefix}department_id": self.department_id})
        if self.priority is not None:
            q &= Q(**{f"{prefix}priority": self.priority})
        return q

    def q(self, prefix: str = "") -> Q:
        """Tickets filed in the range, with the filters."""
        return self.scope_q(prefix) & Q(
            **{f"{prefix}created_at__gte": self.starts_at, f"{prefix}created_at__lt": self.ends_at}
        )


def local_today() -> date:
    from django.utils import timezone

    return timezone.now().astimezone(conf.hospital_tz()).date()


def tickets(filters: ReportFilters) -> QuerySet[Ticket]:
    """The tickets a report covers: filed in the range, with the filters."""
    return Ticket.objects.filter(filters.q()).order_by()


# --- Shared definitions -----------------------------------------------------------------------

# A target counts once its outcome is known: met when the response (or resolution) came in time,
# missed when it came late or the deadline passed without it. Tickets still inside their deadline
# are not counted yet.
RESPONSE_COUNTED = Q(response_met__isnull=False) | Q(response_breached_at__isnull=False)
RESOLUTION_COUNTED = Q(resolution_met__isnull=False) | Q(resolution_breached_at__isnull=False)
RESPONSE_MISSED = Q(response_met=False) | Q(
    response_met__isnull=True, response_breached_at__isnull=False
)
RESOLUTION_MISSED = Q(resolution_met=False) | Q(
    resolution_met__isnull=True, resolution_breached_at__isnull=False
)


def _rate_counts(prefix: str = "") -> dict[str, Count]:
    # Counting a column the report index covers (never NULL), not the primary key, lets
    # PostgreSQL answer from the index alone.
    return {
        f"{prefix}tickets": Count("*"),
        f"{prefix}response_counted": Count("created_at", filter=RESPONSE_COUNTED),
        f"{prefix}response_met": Count("created_at", filter=Q(response_met=True)),
        f"{prefix}resolution_counted": Count("created_at", filter=RESOLUTION_COUNTED),
        f"{prefix}resolution_met": Count("created_at", filter=Q(resolution_met=True)),
    }


@dataclass(frozen=True, slots=True)
class Rate:
    """Targets met out of targets counted, against the compliance target (percent)."""

    met: int
    counted: int
    target: float

    @property
    def missed(self) -> int:
        return self.counted - self.met

    @property
    def percent(self) -> float | None:
        return None if self.counted == 0 else self.met * 100.0 / self.counted

    @property
    def below_target(self) -> bool:
        return self.counted > 0 and self.met * 100.0 < self.target * self.counted

    @property
    def too_few_to_judge(self) -> bool:
        return conf.too_few_to_judge(self.counted)

    @property
    def judged_below_target(self) -> bool:
        """Below target with enough tickets to say so: what the pages mark in red."""
        return self.below_target and not self.too_few_to_judge

    def __add__(self, other: Rate) -> Rate:
        return Rate(self.met + other.met, self.counted + other.counted, self.target)


@dataclass(frozen=True, slots=True)
class Outcomes:
    """Tickets filed, and how their two targets went."""

    tickets: int
    response: Rate
    resolution: Rate

    def __add__(self, other: Outcomes) -> Outcomes:
        return Outcomes(
            self.tickets + other.tickets,
            self.response + other.response,
            self.resolution + other.resolution,
        )

    @classmethod
    def empty(cls, targets: conf.Targets) -> Outcomes:
        return cls(0, Rate(0, 0, targets.response), Rate(0, 0, targets.resolution))

    @classmethod
    def from_row(cls, row: dict[str, Any], targets: conf.Targets) -> Outcomes:
        return cls(
            tickets=row["tickets"],
            response=Rate(row["response_met"], row["response_counted"], targets.response),
            resolution=Rate(row["resolution_met"], row["resolution_counted"], targets.resolution),
        )


def _total(items: Iterable[Outcomes], targets: conf.Targets) -> Outcomes:
    total = Outcomes.empty(targets)
    for item in items:
        total = total + item
    return total


@dataclass(frozen=True, slots=True)
class DepartmentRef:
    pk: int
    code: str
    name: str
    tier: int
    auto_escalate: bool


def departments_by_pk(pks: Iterable[int]) -> dict[int, DepartmentRef]:
    """The departments of grouped rows, looked up after the aggregation (one small query), so
    the aggregation groups and sorts by integer keys only."""
    return {
        d.pk: DepartmentRef(d.pk, d.code, d.name, d.tier, d.auto_escalate)
        for d in Department.objects.filter(pk__in=set(pks))
    }


def _by_tier_and_name(department: DepartmentRef) -> tuple[int, str]:
    return department.tier, department.name


# --- SLA compliance ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ComplianceRow:
    department: DepartmentRef
    by_priority: dict[int, Outcomes]
    total: Outcomes


@dataclass(frozen=True, slots=True)
class ComplianceReport:
    filters: ReportFilters
    targets: conf.Targets
    rows: list[ComplianceRow]
    by_priority: dict[int, Outcomes]
    overall: Outcomes
    priorities: tuple[int, ...] = PRIORITIES


def compliance(filters: ReportFilters) -> ComplianceReport:
    """Response and resolution compliance by department x priority (two queries: the counts,
    then the departments' names)."""
    targets = conf.compliance_targets()
    found = list(tickets(filters).values("department_id", "priority").annotate(**_rate_counts()))
    departments = departments_by_pk(row["department_id"] for row in found)
    cells: dict[DepartmentRef, dict[int, Outcomes]] = {}
    for row in found:
        department = departments[row["department_id"]]
        cells.setdefault(department, {})[row["priority"]] = Outcomes.from_row(row, targets)
    empty = Outcomes.empty(targets)
    rows = [
        ComplianceRow(
            department=department,
            by_priority={p: cells[department].get(p, empty) for p in PRIORITIES},
            total=_total(cells[department].values(), targets),
        )
        for department in sorted(cells, key=_by_tier_and_name)
    ]
    by_priority = {p: _total((row.by_priority[p] for row in rows), targets) for p in PRIORITIES}
    return ComplianceReport(
        filters=filters,
        targets=targets,
        rows=rows,
        by_priority=by_priority,
        overall=_total((row.total for row in rows), targets),
    )


def headline(filters: ReportFilters) -> Outcomes:
    """Filed tickets and overall compliance, for the landing page (one query)."""
    row = tickets(filters).aggregate(**_rate_counts())
    return Outcomes.from_row(row, conf.compliance_targets())


# --- Speed ------------------------------------------------------------------------------------

SPEED_MEASURES = {
    "response_business": Measure("response_business_seconds"),
    "response_wall": Measure("response_seconds"),
    "resolution_business": Measure("resolution_business_seconds"),
    "resolution_wall": Measure("resolution_seconds"),
}


@dataclass(frozen=True, slots=True)
class SpeedRow:
    key: Any
    label: str
    summaries: dict[str, Summary]
    code: str = ""  # P1-P5, or the team's slug

    def __getitem__(self, name: str) -> Summary:
        return self.summaries[name]


@dataclass(frozen=True, slots=True)
class SpeedReport:
    filters: ReportFilters
    by_priority: list[SpeedRow]
    by_team: list[SpeedRow]
    overall: SpeedRow


def _summaries(found: dict[str, Summary] | None) -> dict[str, Summary]:
    return {name: (found or {}).get(name, EMPTY) for name in SPEED_MEASURES}


def speed(filters: ReportFilters, *, method: Method = "auto") -> SpeedReport:
    """Time to first response and to resolution, median and p90, business and wall-clock, by
    priority, by team and overall (two queries: the three groupings in one pass over the range,
    then the teams' names)."""
    found = percentiles_by_sets(
        tickets(filters), [("priority",), ("team_id",), ()], SPEED_MEASURES, method=method
    )
    by_priority, by_team, overall = found[("priority",)], found[("team_id",)], found[()]
    teams = {pk: (slug, name) for pk, slug, name in Team.objects.filter(
        pk__in=[key[0] for key in by_team]).values_list("pk", "slug", "name")}  # fmt: skip
    return SpeedReport(
        filters=filters,
        by_priority=[
            SpeedRow(p, PRIORITY_LABELS[p], _summaries(by_priority[(p,)]), f"P{p}")
            for p in PRIORITIES
            if (p,) in by_priority
        ],
        by_team=sorted(
            (
                SpeedRow(key[0], teams[key[0]][1], _summaries(found), teams[key[0]][0])
                for key, found in by_team.items()
            ),
            key=lambda row: row.label,
        ),
        overall=SpeedRow(None, "All tickets", _summaries(overall.get(())), "all"),
    )


# --- Breaches ---------------------------------------------------------------------------------

ENDED_STATUSES = (Status.RESOLVED, Status.CLOSED, Status.CANCELLED)


@dataclass(frozen=True, slots=True)
class Overrun:
    """How far past its deadline a target went (wall-clock seconds); ``ongoing`` while the
    clock is still running past it."""

    seconds: float
    ongoing: bool


def _deadline(due_at: datetime | None, breached_at: datetime | None) -> datetime | None:
    # The sweep marks a breach within seconds of the deadline; a resumed pause can move the
    # deadline after the breach it already had. The earlier of the two is when it was missed.
    if due_at is None:
        return breached_at
    return min(due_at, breached_at) if breached_at is not None else due_at


def _overrun(
    *,
    met: bool | None,
    due_at: datetime | None,
    breached_at: datetime | None,
    done_at: datetime | None,
    paused_at: datetime | None,
    status: str,
    ended_at: datetime | None,
    now: datetime,
) -> Overrun | None:
    """How far a missed target ran past its deadline: to when it was met, to when the ticket
    ended, to the pause that stopped its clock, or to now while it still runs."""
    if not (met is False or (met is None and breached_at is not None)):
        return None
    deadline = _deadline(due_at, breached_at)
    if deadline is None:
        return None
    ongoing = False
    if done_at is not None:
        stopped = done_at
    elif status in ENDED_STATUSES and ended_at is not None:
        stopped = ended_at
    elif status in Ticket.PAUSED_STATUSES and paused_at is not None:
        stopped = paused_at
    else:
        stopped, ongoing = now, True
    return Overrun(max(0.0, (stopped - deadline).total_seconds()), ongoing)


def response_overrun(
    *,
    met: bool | None,
    due_at: datetime | None,
    breached_at: datetime | None,
    responded_at: datetime | None,
    status: str,
    ended_at: datetime | None,
    now: datetime,
) -> Overrun | None:
    """None when the response target was not missed. Waiting on someone does not stop the
    response clock."""
    return _overrun(met=met, due_at=due_at, breached_at=breached_at, done_at=responded_at,
                    paused_at=None, status=status, ended_at=ended_at, now=now)  # fmt: skip


def resolution_overrun(
    *,
    met: bool | None,
    due_at: datetime | None,
    breached_at: datetime | None,
    resolved_at: datetime | None,
    paused_at: datetime | None,
    status: str,
    ended_at: datetime | None,
    now: datetime,
) -> Overrun | None:
    """None when the resolution target was not missed. A ticket waiting on someone has its
    clock stopped, so its overrun is counted to the pause."""
    return _overrun(met=met, due_at=due_at, breached_at=breached_at, done_at=resolved_at,
                    paused_at=paused_at, status=status, ended_at=ended_at, now=now)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Breach:
    ticket: Ticket
    response: Overrun | None
    resolution: Overrun | None

    @property
    def targets_missed(self) -> str:
        return " and ".join(
            name
            for name, late in (("First response", self.response), ("Resolution", self.resolution))
            if late is not None
        )


def _ended_at(ticket: Ticket) -> datetime | None:
    # Cancelling records no time of its own; a cancelled ticket is never saved again, so its
    # last update is when it was called off.
    if ticket.closed_at is not None:
        return ticket.closed_at
    return ticket.updated_at if ticket.status == Status.CANCELLED else None


def breach_of(ticket: Ticket, now: datetime) -> Breach:
    ended = _ended_at(ticket)
    return Breach(
        ticket=ticket,
        response=response_overrun(
            met=ticket.response_met,
            due_at=ticket.response_due_at,
            breached_at=ticket.response_breached_at,
            responded_at=ticket.first_response_at,
            status=ticket.status,
            ended_at=ended,
            now=now,
        ),
        resolution=resolution_overrun(
            met=ticket.resolution_met,
            due_at=ticket.resolution_due_at,
            breached_at=ticket.resolution_breached_at,
            resolved_at=ticket.resolved_at,
            paused_at=ticket.sla_paused_at,
            status=ticket.status,
            ended_at=ended,
            now=now,
        ),
    )


def breached_tickets(filters: ReportFilters) -> QuerySet[Ticket]:
    """Tickets that missed a target, newest first."""
    return (
        tickets(filters).filter(RESPONSE_MISSED | RESOLUTION_MISSED).order_by("-created_at", "-pk")
    )


@dataclass(frozen=True, slots=True)
class BreachCount:
    department: DepartmentRef
    tickets: int
    response: int
    resolution: int


@dataclass(frozen=True, slots=True)
class BreachSummary:
    rows: list[BreachCount]
    tickets: int
    response: int
    resolution: int


def breach_summary(filters: ReportFilters) -> BreachSummary:
    """Breached tickets by department and target missed (two queries: the counts, then the
    departments' names)."""
    found = list(
        tickets(filters)
        .filter(RESPONSE_MISSED | RESOLUTION_MISSED)
        .values("department_id")
        .annotate(
            tickets=Count("*"),
            response=Count("created_at", filter=RESPONSE_MISSED),
            resolution=Count("created_at", filter=RESOLUTION_MISSED),
        )
    )
    departments = departments_by_pk(row["department_id"] for row in found)
    rows = sorted(
        (
            BreachCount(
                departments[row["department_id"]],
                row["tickets"],
                row["response"],
                row["resolution"],
            )
            for row in found
        ),
        key=lambda row: (-row.tickets, *_by_tier_and_name(row.department)),
    )
    return BreachSummary(
        rows=rows,
        tickets=sum(row.tickets for row in rows),
        response=sum(row.response for row in rows),
        resolution=sum(row.resolution for row in rows),
    )


@dataclass(frozen=True, slots=True)
class BreachPage:
    page: PaginatorPage[Ticket]
    breaches: list[Breach]


def breaches_page(filters: ReportFilters, number: Any, now: datetime) -> BreachPage:
    """One page of the breach list (two queries: the count and the page)."""
    queryset = breached_tickets(filters).select_related(
        "department", "location", "category__parent", "team", "assignee"
    )
    page = Paginator(queryset, conf.BREACHES_PAGE_SIZE).get_page(number)
    return BreachPage(page=page, breaches=[breach_of(ticket, now) for ticket in page])


# --- Trends -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Shift:
    key: str
    label: str
    starts: int
    ends: int


SHIFTS = (
    Shift("day", "Day (07:00-15:00)", 7, 15),
    Shift("evening", "Evening (15:00-23:00)", 15, 23),
    Shift("night", "Night (23:00-07:00)", 23, 7),
)
# (key, label, upper bound of age in days; None = no bound)
BACKLOG_BANDS = (
    ("under_1d", "Under 1 day", 1),
    ("1_7d", "1-7 days", 7),
    ("7_30d", "7-30 days", 30),
    ("over_30d", "Over 30 days", None),
)


def shift_of(hour: int) -> str:
    """The shift a local hour belongs to: day 07-15, evening 15-23, night 23-07."""
    for shift in SHIFTS[:2]:
        if shift.starts <= hour < shift.ends:
            return shift.key
    return SHIFTS[2].key


@dataclass(frozen=True, slots=True)
class TrendWeek:
    week_of: date  # the Monday of the week
    start: date  # the first day inside the range
    end: date  # the last day inside the range
    outcomes: Outcomes
    by_shift: dict[str, int]
    weekend: int
    backlog_at: datetime
    backlog: dict[str, int]

    @property
    def partial(self) -> bool:
        return (self.end - self.start).days < 6

    @property
    def backlog_total(self) -> int:
        return sum(self.backlog.values())


@dataclass(frozen=True, slots=True)
class ShiftRow:
    shift: Shift
    weekend: bool
    outcomes: Outcomes

    @property
    def label(self) -> str:
        return (
            f"{'Weekend' if self.weekend else 'Weekday'} {self.shift.label.split(' ')[0].lower()}"
        )


@dataclass(frozen=True, slots=True)
class TrendsReport:
    filters: ReportFilters
    weeks: list[TrendWeek]
    shifts: list[ShiftRow]
    overall: Outcomes


def _weeks(filters: ReportFilters) -> list[tuple[date, date, date]]:
    """(Monday, first day in range, last day in range) for each week the range touches."""
    monday = filters.start - timedelta(days=filters.start.weekday())
    weeks = []
    while monday <= filters.end:
        weeks.append(
            (monday, max(monday, filters.start), min(monday + timedelta(days=6), filters.end))
        )
        monday += timedelta(days=7)
    return weeks


def _ended_at_expression() -> Coalesce:
    return Coalesce(
        "resolved_at",
        "closed_at",
        Case(When(status=Status.CANCELLED, then="updated_at")),
    )


def trends(filters: ReportFilters, *, now: datetime | None = None) -> TrendsReport:
    """Per week: volume (by shift, and at weekends), compliance and the open backlog by age at
    the week's end; and compliance by shift on weekdays and weekends (two queries). Shifts and
    weekends go by the local time the ticket was filed."""
    from django.utils import timezone

    now = now or timezone.now()
    tz = filters.tz
    targets = conf.compliance_targets()
    # One time-zone conversion per ticket: group by the local hour filed, then put the hours
    # into weeks, shifts and weekends here (at most 24 x 366 rows).
    found = (
        tickets(filters)
        .annotate(local_hour=TruncHour("created_at", tzinfo=tz))
        .values("local_hour")
        .annotate(**_rate_counts())
    )
    week_outcomes: dict[date, Outcomes] = defaultdict(lambda: Outcomes.empty(targets))
    week_shifts: dict[date, dict[str, int]] = defaultdict(
        lambda: {shift.key: 0 for shift in SHIFTS}
    )
    week_weekend: dict[date, int] = defaultdict(int)
    shift_outcomes: dict[tuple[str, bool], Outcomes] = defaultdict(lambda: Outcomes.empty(targets))
    for row in found:
        local = row["local_hour"].astimezone(tz)
        monday = local.date() - timedelta(days=local.weekday())
        shift = shift_of(local.hour)
        weekend = local.isoweekday() >= 6
        outcomes = Outcomes.from_row(row, targets)
        week_outcomes[monday] += outcomes
        week_shifts[monday][shift] += outcomes.tickets
        if weekend:
            week_weekend[monday] += outcomes.tickets
        shift_outcomes[(shift, weekend)] += outcomes

    spans = _weeks(filters)
    instants = [
        min(datetime.combine(last + timedelta(days=1), time(0), tzinfo=tz), now)
        for _, _, last in spans
    ]
    backlog = _backlog(filters, instants)
    weeks = [
        TrendWeek(
            week_of=monday,
            start=first,
            end=last,
            outcomes=week_outcomes[monday],
            by_shift=dict(week_shifts[monday]),
            weekend=week_weekend[monday],
            backlog_at=instant,
            backlog=backlog[index],
        )
        for index, ((monday, first, last), instant) in enumerate(zip(spans, instants, strict=True))
    ]
    shifts = [
        ShiftRow(shift, weekend, shift_outcomes[(shift.key, weekend)])
        for weekend in (False, True)
        for shift in SHIFTS
    ]
    return TrendsReport(
        filters=filters,
        weeks=weeks,
        shifts=shifts,
        overall=_total((week.outcomes for week in weeks), targets),
    )


def _backlog(filters: ReportFilters, instants: Sequence[datetime]) -> list[dict[str, int]]:
    """Tickets open at each instant, by age band then (one query). A ticket is open from its
    filing until it is resolved, closed or cancelled; a reopened ticket counts as open since
    its filing."""
    if not instants:
        return []
    aggregates: dict[str, Count] = {}
    for index, instant in enumerate(instants):
        open_then = Q(created_at__lt=instant) & (Q(ended_at__isnull=True) | Q(ended_at__gt=instant))
        younger = None
        for key, _, days in BACKLOG_BANDS:
            band = open_then
            if younger is not None:
                band &= Q(created_at__lte=instant - timedelta(days=younger))
            if days is not None:
                band &= Q(created_at__gt=instant - timedelta(days=days))
            aggregates[f"w{index}_{key}"] = Count("created_at", filter=band)
            younger = days
    found = (
        Ticket.objects.filter(filters.scope_q(), created_at__lt=max(instants))
        .annotate(ended_at=_ended_at_expression())
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=min(instants)))
        .aggregate(**aggregates)
    )
    return [
        {key: found[f"w{index}_{key}"] for key, _, _ in BACKLOG_BANDS}
        for index in range(len(instants))
    ]


# --- Critical areas ---------------------------------------------------------------------------

ACK_MEASURES = {"ack": Measure("acknowledged_at", since="started_at")}


@dataclass(frozen=True, slots=True)
class CriticalRow:
    department: DepartmentRef | None  # None: all critical areas together
    open_now: int = 0
    open_breached: int = 0
    filed: int = 0
    pages_sent: int = 0
    chains: int = 0
    acknowledged: int = 0
    ack: Summary = EMPTY
    to_secondary: int = 0
    to_manager: int = 0
    unanswered: int = 0
    # Major incidents declared in the range that affected the area (hospital-wide ones too).
    incidents: int = 0

    @property
    def label(self) -> str:
        return self.department.name if self.department else "All critical areas"


@dataclass(frozen=True, slots=True)
class CriticalReport:
    filters: ReportFilters
    rows: list[CriticalRow]
    total: CriticalRow
    codes: tuple[str, ...]


def critical_departments(filters: ReportFilters) -> list[DepartmentRef]:
    """The auto-escalating departments and those named in the setting (ED, OR, ICU)."""
    found = Department.objects.filter(
        Q(auto_escalate=True) | Q(code__in=conf.critical_area_codes()), is_active=True
    )
    if filters.department_id is not None:
        found = found.filter(pk=filters.department_id)
    return [
        DepartmentRef(d.pk, d.code, d.name, d.tier, d.auto_escalate)
        for d in found.order_by("tier", "-auto_escalate", "name")
    ]


def incidents_declared(filters: ReportFilters) -> QuerySet[Incident]:
    """Major incidents declared in the range, of the team and category filtered for (incidents
    have no priority, and the department filter is the caller's to apply)."""
    found = Incident.objects.filter(
        declared_at__gte=filters.starts_at, declared_at__lt=filters.ends_at
    )
    if filters.team_id is not None:
        found = found.filter(team_id=filters.team_id)
    if filters.category_id is not None:
        found = found.filter(
            Q(category_id=filters.category_id) | Q(category__parent_id=filters.category_id)
        )
    return found.order_by()


def _incidents_by_area(
    filters: ReportFilters, department_ids: list[int]
) -> tuple[dict[int, int], int]:
    """Major incidents affecting each critical area (two queries), and affecting any."""
    declared = incidents_declared(filters)
    everywhere = declared.filter(hospital_wide=True).count()
    named = list(
        Incident.departments.through.objects.filter(
            incident__in=declared.filter(hospital_wide=False), department_id__in=department_ids
        ).values_list("incident_id", "department_id")
    )
    per_area: dict[int, int] = defaultdict(lambda: everywhere)
    for _incident_id, department_id in named:
        per_area[department_id] += 1
    return per_area, everywhere + len({incident_id for incident_id, _ in named})


def critical_areas(filters: ReportFilters, *, method: Method = "auto") -> CriticalReport:
    """The critical-area board (seven queries): tickets open now (filters apply, dates do
    not), and for tickets filed in the range, pages delivered, page chains, time to acknowledge
    (median, p90), escalations to the secondary (step 2 reached, or the ladder ran again) and to
    the manager (step 3, or again), and chains nobody answered; and the major incidents declared
    in the range that affected each area."""
    departments = critical_departments(filters)
    ids = [d.pk for d in departments]
    in_range = filters.q()
    open_now = Q(status__in=Ticket.OPEN_STATUSES)
    breached_open = open_now & (
        Q(first_response_at__isnull=True, response_breached_at__isnull=False)
        | Q(status__in=Ticket.CLOCK_RUNNING_STATUSES, resolution_breached_at__isnull=False)
    )
    ticket_counts = {
        row["department_id"]: row
        for row in Ticket.objects.filter(filters.scope_q(), department_id__in=ids)
        .filter(open_now | in_range)
        .order_by()
        .values("department_id")
        .annotate(
            open_now=Count("created_at", filter=open_now),
            open_breached=Count("created_at", filter=breached_open),
            filed=Count("created_at", filter=in_range),
        )
    }
    pages = {
        row["ticket__department_id"]: row["sent"]
        for row in Page.objects.filter(
            filters.q("ticket__"), ticket__department_id__in=ids, status=Page.Status.SENT
        )
        .order_by()
        .values("ticket__department_id")
        .annotate(sent=Count("*"))
    }
    chain_base = PageChain.objects.filter(filters.q("ticket__"), ticket__department_id__in=ids)
    chain_counts = {
        row["ticket__department_id"]: row
        for row in chain_base.order_by()
        .values("ticket__department_id")
        .annotate(
            chains=Count("*"),
            acknowledged=Count("started_at", filter=Q(acknowledged_at__isnull=False)),
            to_secondary=Count("started_at", filter=Q(step__gte=1) | Q(round__gt=0)),
            to_manager=Count("started_at", filter=Q(step__gte=2) | Q(round__gt=0)),
            unanswered=Count("started_at", filter=Q(status=PageChain.Status.UNANSWERED)),
        )
    }
    ack = percentiles_by_sets(
        chain_base, [("ticket__department_id",), ()], ACK_MEASURES, method=method
    )
    ack_by_department, ack_overall = ack[("ticket__department_id",)], ack[()]
    incidents, incidents_total = _incidents_by_area(filters, ids)

    rows = []
    for department in departments:
        counts = ticket_counts.get(department.pk, {})
        chains = chain_counts.get(department.pk, {})
        rows.append(
            CriticalRow(
                department=department,
                open_now=counts.get("open_now", 0),
                open_breached=counts.get("open_breached", 0),
                filed=counts.get("filed", 0),
                pages_sent=pages.get(department.pk, 0),
                chains=chains.get("chains", 0),
                acknowledged=chains.get("acknowledged", 0),
                ack=ack_by_department.get((department.pk,), {}).get("ack", EMPTY),
                to_secondary=chains.get("to_secondary", 0),
                to_manager=chains.get("to_manager", 0),
                unanswered=chains.get("unanswered", 0),
                incidents=incidents[department.pk],
            )
        )
    total = CriticalRow(
        department=None,
        open_now=sum(row.open_now for row in rows),
        open_breached=sum(row.open_breached for row in rows),
        filed=sum(row.filed for row in rows),
        pages_sent=sum(row.pages_sent for row in rows),
        chains=sum(row.chains for row in rows),
        acknowledged=sum(row.acknowledged for row in rows),
        ack=ack_overall.get((), {}).get("ack", EMPTY),
        to_secondary=sum(row.to_secondary for row in rows),
        to_manager=sum(row.to_manager for row in rows),
        unanswered=sum(row.unanswered for row in rows),
        incidents=incidents_total,
    )
    return CriticalReport(
        filters=filters, rows=rows, total=total, codes=tuple(d.code for d in departments)
    )


# --- Where the work comes from ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ParetoRow:
    category_id: int
    name: str
    tickets: int
    percent: float
    cumulative_percent: float
    cumulative: int  # tickets in this and the larger categories


@dataclass(frozen=True, slots=True)
class RepeatLocation:
    location_id: int
    code: str
    name: str
    department_code: str
    department_name: str
    tickets: int
    repeats: int
    top_category: str
    top_category_tickets: int


@dataclass(frozen=True, slots=True)
class ChannelRow:
    """How many tickets came in one way (the web form, e-mail, the API, the phone)."""

    source: str
    label: str
    tickets: int
    percent: float | None


@dataclass(frozen=True, slots=True)
class SourcesReport:
    filters: ReportFilters
    pareto: list[ParetoRow]
    tickets: int
    locations: list[RepeatLocation]
    channels: list[ChannelRow]


def _channels(per_source: dict[str, int], total: int) -> list[ChannelRow]:
    """Every channel, in a fixed order, none left out: "Phone 0" says as much as a count."""
    return [
        ChannelRow(
            source=source.value,
            label=source.label,
            tickets=per_source.get(source.value, 0),
            percent=per_source.get(source.value, 0) * 100.0 / total if total else None,
        )
        for source in Ticket.Source
    ]


def work_sources(filters: ReportFilters) -> SourcesReport:
    """A Pareto of the category tiles (count, share and cumulative share), the channels the
    tickets came in by (the web form, e-mail, the API, the phone), and the locations where the
    same kind of problem keeps coming back (four queries: tiles by channel, location x category,
    then the categories' and the locations' names).

    A repeat is every ticket after the first from the same location in the same category within
    the range: four "badge tap" tickets from WOW-ED-07 are three repeats."""
    base = tickets(filters)
    per_tile: dict[int, int] = defaultdict(int)
    per_source: dict[str, int] = defaultdict(int)
    for row in (
        base.annotate(tile_id=Coalesce("category__parent_id", "category_id"))
        .values("tile_id", "source")
        .annotate(n=Count("*"))
    ):
        per_tile[row["tile_id"]] += row["n"]
        per_source[row["source"]] += row["n"]
    tiles = [{"tile_id": tile_id, "n": n} for tile_id, n in per_tile.items()]
    categories = {c.pk: c for c in Category.objects.select_related("parent")}
    tiles.sort(key=lambda row: (-row["n"], categories[row["tile_id"]].name))
    total = sum(row["n"] for row in tiles)
    pareto = []
    running = 0
    for row in tiles:
        running += row["n"]
        pareto.append(
            ParetoRow(
                category_id=row["tile_id"],
                name=categories[row["tile_id"]].name,
                tickets=row["n"],
                percent=row["n"] * 100.0 / total,
                cumulative_percent=running * 100.0 / total,
                cumulative=running,
            )
        )

    per_location: dict[int, dict[str, Any]] = {}
    for row in base.values("location_id", "category_id").annotate(n=Count("*")):
        place = per_location.setdefault(
            row["location_id"], {"tickets": 0, "repeats": 0, "top": ("", 0)}
        )
        place["tickets"] += row["n"]
        place["repeats"] += row["n"] - 1
        name = str(categories[row["category_id"]])
        top_name, top_tickets = place["top"]
        if row["n"] > top_tickets or (row["n"] == top_tickets and name < top_name):
            place["top"] = (name, row["n"])
    repeating = sorted(
        (pk for pk, place in per_location.items() if place["repeats"] > 0),
        key=lambda pk: (-per_location[pk]["repeats"], -per_location[pk]["tickets"], pk),
    )[: conf.REPEAT_LOCATIONS_SHOWN]
    places = Location.objects.select_related("department").in_bulk(repeating)
    locations = [
        RepeatLocation(
            location_id=pk,
            code=places[pk].code,
            name=places[pk].name,
            department_code=places[pk].department.code,
            department_name=places[pk].department.name,
            tickets=per_location[pk]["tickets"],
            repeats=per_location[pk]["repeats"],
            top_category=per_location[pk]["top"][0],
            top_category_tickets=per_location[pk]["top"][1],
        )
        for pk in repeating
    ]
    return SourcesReport(
        filters=filters,
        pareto=pareto,
        tickets=total,
        locations=locations,
        channels=_channels(per_source, total),
    )


# --- Technicians ------------------------------------------------------------------------------

RESOLVE_MEASURES = {
    "resolution_business": Measure("resolution_business_seconds"),
    "resolution_wall": Measure("resolution_seconds"),
}


def reopened() -> Exists:
    """The ticket was reopened at least once (a status change out of "resolved" back to work)."""
    return Exists(
        TicketEvent.objects.filter(
            ticket=OuterRef("pk"),
            kind=TicketEvent.Kind.STATUS,
            old_value=Status.RESOLVED,
            new_value__in=Ticket.OPEN_STATUSES,
        )
    )


def it_replies_before_resolution() -> Coalesce:
    """Public replies by IT staff up to the (last) resolution."""
    it_staff = User.objects.filter(Q(groups__name__in=IT_ROLES) | Q(is_superuser=True)).values("pk")
    replies = (
        TicketEvent.objects.filter(
            ticket=OuterRef("pk"),
            kind=TicketEvent.Kind.COMMENT,
            is_public=True,
            at__lte=OuterRef("resolved_at"),
            actor_id__in=it_staff,
        )
        .order_by()
        .values("ticket")
        .annotate(replies=Count("*"))
        .values("replies")
    )
    return Coalesce(Subquery(replies), 0)


@dataclass(frozen=True, slots=True)
class TechnicianRow:
    user_id: int
    username: str
    name: str
    handled: int  # resolved at least once
    resolved: int  # resolved now
    reopened: int
    first_contact: int
    resolve: dict[str, Summary] = field(default_factory=dict)

    @property
    def reopen_rate(self) -> float | None:
        return None if self.handled == 0 else self.reopened * 100.0 / self.handled

    @property
    def first_contact_rate(self) -> float | None:
        return None if self.handled == 0 else self.first_contact * 100.0 / self.handled


@dataclass(frozen=True, slots=True)
class TeamRef:
    pk: int
    slug: str
    name: str


@dataclass(frozen=True, slots=True)
class TeamAnswers:
    """The requesters' answers to "Fixed?" on a team's tickets: how many answered, and how many
    said "No, still broken" at least once (a ticket fixed on the second try still counts)."""

    team: TeamRef
    answered: int
    still_broken: int

    @property
    def still_broken_percent(self) -> float | None:
        return None if self.answered == 0 else self.still_broken * 100.0 / self.answered

    @property
    def too_few_to_judge(self) -> bool:
        return conf.too_few_to_judge(self.answered)


@dataclass(frozen=True, slots=True)
class TechniciansReport:
    filters: ReportFilters
    rows: list[TechnicianRow]
    teams: list[TeamAnswers] = field(default_factory=list)


# A requester answered "Fixed?" (yes or still broken), or said still broken and the ticket is
# back at work before she could answer again.
ANSWERED_FIXED = Q(fixed_confirmed__isnull=False) | Q(still_broken_count__gt=0)
SAID_STILL_BROKEN = Q(still_broken_count__gt=0)


def fixed_answers(filters: ReportFilters) -> list[TeamAnswers]:
    """Per team, tickets filed in the range whose requester answered "Fixed?", and those she
    said were still broken at least once (one query, the teams' names joined)."""
    found = (
        tickets(filters)
        .filter(ANSWERED_FIXED)
        .values("team_id", "team__slug", "team__name")
        .annotate(
            answered=Count("created_at"),
            still_broken=Count("created_at", filter=SAID_STILL_BROKEN),
        )
        .order_by("team__name")
    )
    return [
        TeamAnswers(
            team=TeamRef(row["team_id"], row["team__slug"], row["team__name"]),
            answered=row["answered"],
            still_broken=row["still_broken"],
        )
        for row in found
    ]


FIRST_CONTACT_HELP = (
    "First-contact resolution: a ticket resolved with no more than one reply from IT to the "
    "requester before it was resolved, and never reopened."
)


# Per ticket, computed once each (a reopen event exists; IT replies up to the resolution), then
# summed per assignee around it: the per-ticket subqueries run once per ticket, not once per
# count that uses them.
_TECHNICIAN_COUNTS = """
SELECT per_ticket.tech,
       SUM(CASE WHEN per_ticket.resolved_at IS NOT NULL OR per_ticket.reopened THEN 1 ELSE 0 END),
       SUM(CASE WHEN per_ticket.resolved_at IS NOT NULL THEN 1 ELSE 0 END),
       SUM(CASE WHEN per_ticket.reopened THEN 1 ELSE 0 END),
       SUM(CASE WHEN per_ticket.resolved_at IS NOT NULL AND NOT per_ticket.reopened
                     AND per_ticket.replies <= 1 THEN 1 ELSE 0 END)
FROM ({inner}) AS per_ticket
GROUP BY per_ticket.tech
"""


def technicians(filters: ReportFilters, *, method: Method = "auto") -> TechniciansReport:
    """Per assignee (three queries: counts, times to resolve, names): tickets handled (resolved
    at least once), reopen rate (reopened / handled), first-contact resolution (see
    FIRST_CONTACT_HELP) and the median time to resolve, in business and wall-clock time; and per
    team, the requesters' answers to "Fixed?" (a fourth query, :func:`fixed_answers`)."""
    base = tickets(filters).filter(assignee__isnull=False)
    per_ticket = base.annotate(
        tech=F("assignee_id"),
        reopened=reopened(),
        replies=it_replies_before_resolution(),
    ).values("tech", "resolved_at", "reopened", "replies")
    inner, params = per_ticket.query.sql_with_params()
    with connections[base.db].cursor() as cursor:
        cursor.execute(_TECHNICIAN_COUNTS.format(inner=inner), params)
        counts = {row[0]: row[1:] for row in cursor.fetchall() if row[1]}
    times = grouped_percentiles(base, ["assignee_id"], RESOLVE_MEASURES, method=method)
    people = User.objects.in_bulk(list(counts))
    rows = []
    for pk, (handled, resolved, reopened_count, first_contact) in counts.items():
        person = people[pk]
        rows.append(
            TechnicianRow(
                user_id=pk,
                username=person.username,
                name=display_name(person),
                handled=int(handled),
                resolved=int(resolved),
                reopened=int(reopened_count),
                first_contact=int(first_contact),
                resolve={name: times.get((pk,), {}).get(name, EMPTY) for name in RESOLVE_MEASURES},
            )
        )
    rows.sort(key=lambda row: (-row.handled, row.name))
    return TechniciansReport(filters=filters, rows=rows, teams=fixed_answers(filters))


__all__ = [
    "BACKLOG_BANDS",
    "FIRST_CONTACT_HELP",
    "PRIORITIES",
    "SHIFTS",
    "ComplianceReport",
    "CriticalReport",
    "Outcomes",
    "Rate",
    "ReportFilters",
    "SourcesReport",
    "SpeedReport",
    "TeamAnswers",
    "TechniciansReport",
    "TrendsReport",
    "breach_of",
    "breach_summary",
    "breached_tickets",
    "breaches_page",
    "compliance",
    "critical_areas",
    "fixed_answers",
    "headline",
    "speed",
    "technicians",
    "tickets",
    "trends",
    "work_sources",
]
