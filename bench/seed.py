"""Benchmark data: a year of a hospital's tickets, sized by one parameter.

``seed(SeedConfig(tickets=...))`` runs once per run on a freshly migrated database (the migrations
have seeded departments, their main units, calendars, teams, categories and the role groups) and
returns the ids the measures need as a ``Seeded``. Everything is bulk-inserted in batches; rows
look like what the product writes (``ticket_file`` for a ticket and its timeline) so the planner and
the pages see realistic data:

* requesters: many clinical staff (``size // 50``, 200..10,000) with unusable passwords, each in
  the requester group with a home department; a few technicians (team members) and a manager;
* locations: each department's unit (from the migrations) plus rooms and workstations;
* tickets: ``created_at`` spread over ``days``, ids in filing order; about ``open_fraction`` still
  open (new / assigned / in progress, all recent), the rest resolved (within three days of
  resolution) or closed; priority fields from the pure functions in ``tickets.priority``;
  notifications already sent (``filing_notified_at`` set) so no background work is pending;
* a timeline: a ``filed`` event per ticket, plus ``escalated`` / ``phi_flagged`` where filing
  would have written them;
* the benchmark nurse (``bench.nurse``, home Med-Surg) owns ``nurse_tickets`` of the tickets; the
  filing nurse (``bench.filer``) owns none, so measures that file tickets leave the first one's
  pages unchanged.

Deterministic for a given config (a seeded ``random.Random``), apart from "now".
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, User
from django.db import connection, transaction
from django.utils import timezone

from departments.models import Department, Location, Profile, Team
from departments.roles import Role
from tickets.models import Category, Ticket, TicketEvent
from tickets.priority import (
    PriorityDecision,
    Scope,
    decide_priority,
    impact_from_scope,
    urgency_from_answers,
)

NURSE_USERNAME = "bench.nurse"
FILER_USERNAME = "bench.filer"
MANAGER_USERNAME = "bench.manager"
# Every seeded login's password, for measures that sign in through the login form.
PASSWORD = "bench-password"
NURSE_DEPARTMENT = "MEDSURG"

DAY = 86400.0


@dataclass(frozen=True, slots=True)
class SeedConfig:
    tickets: int = 100_000
    # None: scale with the ticket count (size // 50, at least 200 and at most 10,000).
    requesters: int | None = None
    technicians: int = 24
    nurse_tickets: int = 50
    open_fraction: float = 0.01
    # Open tickets were all filed within this many days; resolved ones close after three days.
    recent_days: int = 10
    days: int = 365
    rooms_per_department: int = 3
    workstations_per_department: int = 4
    batch_size: int = 5_000
    random_seed: int = 1001

    def requester_count(self) -> int:
        if self.requesters is not None:
            return self.requesters
        return max(200, min(10_000, self.tickets // 50))


@dataclass(frozen=True, slots=True)
class Seeded:
    """What the measures need to find in the seeded data."""

    config: SeedConfig
    tickets: int
    events: int
    first_ticket_id: int
    last_ticket_id: int
    # A ticket from the middle of the table, for the floor views' indexed lookup.
    sample_ticket_id: int
    open_tickets: int
    nurse_id: int
    nurse_tickets: int
    filer_id: int
    manager_id: int
    technician_ids: tuple[int, ...]
    requester_ids: tuple[int, ...]
    # The nurses' home unit and a top-level category: what the filing measure picks.
    nurse_location_id: int
    filing_category_id: int
    seconds: float
    counts: dict[str, int] = field(default_factory=dict)


@contextmanager
def _keep_updated_at() -> Iterator[None]:
    """Let bulk_create write the seeded ``updated_at`` instead of "now" (auto_now)."""
    updated_at = Ticket._meta.get_field("updated_at")
    saved = updated_at.auto_now
    updated_at.auto_now = False
    try:
        yield
    finally:
        updated_at.auto_now = saved


def seed(config: SeedConfig, *, log: Callable[[str], None] = lambda _: None) -> Seeded:
    started = time.perf_counter()
    rng = random.Random(config.random_seed)
    now = timezone.now()

    groups = {group.name: group for group in Group.objects.all()}
    departments = list(Department.objects.filter(is_active=True))
    locations = _seed_locations(config, departments)
    log(f"locations: {len(locations)}")

    requester_ids = _seed_requesters(config, rng, departments, groups[Role.REQUESTER], now)
    nurse_department = next(d for d in departments if d.code == NURSE_DEPARTMENT)
    requester_group = groups[Role.REQUESTER]
    nurse = _named_user(NURSE_USERNAME, "Nina", "Benchmark", requester_group, nurse_department)
    filer = _named_user(FILER_USERNAME, "Fiona", "Filer", requester_group, nurse_department)
    manager = _named_user(MANAGER_USERNAME, "Morgan", "Bench", groups[Role.MANAGER], None)
    tech_ids, techs_by_team = _seed_technicians(config, rng, groups[Role.TECHNICIAN], now)
    log(f"users: {len(requester_ids)} requesters, {len(tech_ids)} technicians")

    nurse_location = (
        Location.objects.filter(department=nurse_department, kind=Location.Kind.UNIT)
        .order_by("pk")
        .first()
    )
    assert nurse_location is not None
    categories = list(Category.objects.filter(is_active=True).select_related("parent"))
    top_level = [c for c in categories if c.parent_id is None]
    filing_category = next(c for c in top_level if c.slug == "printers")

    tickets = _TicketMaker(
        config=config,
        rng=rng,
        now=now,
        locations=locations,
        departments={d.pk: d for d in departments},
        top_level=top_level,
        subcategories=[c for c in categories if c.parent_id is not None],
        requester_ids=requester_ids,
        techs_by_team=techs_by_team,
        all_tech_ids=tech_ids,
    )
    size = config.tickets
    nurse_indexes = set(rng.sample(range(size), k=min(config.nurse_tickets, size)))
    # Seconds before "now" each ticket was filed, oldest first, so ids follow filing order.
    ages = sorted((rng.random() * config.days * DAY for _ in range(size)), reverse=True)

    first_id = last_id = 0
    event_count = open_count = 0
    with _keep_updated_at(), _no_commit_flush():
        for start in range(0, size, config.batch_size):
            batch: list[Ticket] = []
            for index in range(start, min(start + config.batch_size, size)):
                requester_id = nurse.pk if index in nurse_indexes else None
                batch.append(tickets.make(ages[index], requester_id))
            with transaction.atomic():
                Ticket.objects.bulk_create(batch)
                events = [event for ticket in batch for event in tickets.timeline(ticket)]
                TicketEvent.objects.bulk_create(events, batch_size=config.batch_size)
            event_count += len(events)
            open_count += sum(1 for ticket in batch if ticket.status in Ticket.OPEN_STATUSES)
            if batch:
                if batch[0].pk is None:
                    raise RuntimeError("bulk_create did not return ticket ids on this database")
                first_id = first_id or batch[0].pk
                last_id = batch[-1].pk
            done = min(start + config.batch_size, size)
            if done % (config.batch_size * 20) == 0 or done == size:
                log(f"tickets: {done:,} of {size:,}")

    analyze_started = time.perf_counter()
    if _analyze():
        log(f"vacuum analyze: {time.perf_counter() - analyze_started:.1f}s")
    sample = Ticket.objects.filter(pk__gte=(first_id + last_id) // 2).order_by("pk").first()
    return Seeded(
        config=config,
        tickets=size,
        events=event_count,
        first_ticket_id=first_id,
        last_ticket_id=last_id,
        sample_ticket_id=sample.pk if sample is not None else first_id,
        open_tickets=open_count,
        nurse_id=nurse.pk,
        nurse_tickets=len(nurse_indexes),
        filer_id=filer.pk,
        manager_id=manager.pk,
        technician_ids=tuple(tech_ids),
        requester_ids=tuple(requester_ids),
        nurse_location_id=nurse_location.pk,
        filing_category_id=filing_category.pk,
        seconds=time.perf_counter() - started,
        counts={
            "locations": len(locations),
            "requesters": len(requester_ids),
            "technicians": len(tech_ids),
        },
    )


@contextmanager
def _no_commit_flush() -> Iterator[None]:
    """On PostgreSQL, commit without waiting for the WAL flush while seeding (a crash would lose
    a throwaway database's last batches, nothing else). The measures run with the default."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO off")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")


def _analyze() -> bool:
    """On PostgreSQL, fresh statistics and a visibility map (for index-only scans), as autovacuum
    would have them on a database that grew over a year. SQLite is left as the product leaves it
    (no ANALYZE). Says whether it ran."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return True


# --- People and places ---------------------------------------------------------------------


def _seed_locations(config: SeedConfig, departments: list[Department]) -> list[Location]:
    extra: list[Location] = []
    for department in departments:
        code = department.code.upper()
        for n in range(1, config.rooms_per_department + 1):
            extra.append(
                Location(
                    department=department,
                    code=f"{code}-RM-{n:02d}",
                    name=f"{department.name.split(' (')[0]} room {n}",
                    kind=Location.Kind.ROOM,
                )
            )
        for n in range(1, config.workstations_per_department + 1):
            extra.append(
                Location(
                    department=department,
                    code=f"WOW-{code}-{n:02d}",
                    name=f"{code} WOW {n:02d}",
                    kind=Location.Kind.WORKSTATION,
                )
            )
    Location.objects.bulk_create(extra)
    return list(Location.objects.filter(is_active=True).select_related("department"))


def _bulk_users(
    prefix: str, count: int, first_names: list[str], rng: random.Random, now: datetime
) -> list[int]:
    # One unusable hash for all: these people never sign in during a run.
    unusable = make_password(None)
    User.objects.bulk_create(
        (
            User(
                username=f"{prefix}{n:05d}",
                first_name=rng.choice(first_names),
                last_name=f"{prefix.rstrip('.').title()}{n:05d}",
                email=f"{prefix}{n:05d}@lakeside.example",
                password=unusable,
                date_joined=now - timedelta(days=rng.randint(30, 3000)),
            )
            for n in range(1, count + 1)
        ),
        batch_size=5_000,
    )
    return list(
        User.objects.filter(username__startswith=prefix).order_by("pk").values_list("pk", flat=True)
    )


FIRST_NAMES = ["Alex", "Sam", "Jordan", "Taylor", "Casey", "Riley", "Jamie", "Avery", "Quinn"]


def _seed_requesters(
    config: SeedConfig,
    rng: random.Random,
    departments: list[Department],
    group: Group,
    now: datetime,
) -> list[int]:
    ids = _bulk_users("staff.", config.requester_count(), FIRST_NAMES, rng, now)
    User.groups.through.objects.bulk_create(
        (User.groups.through(user_id=pk, group_id=group.pk) for pk in ids), batch_size=5_000
    )
    Profile.objects.bulk_create(
        (
            Profile(
                user_id=pk,
                home_department=rng.choice(departments),
                job_title="RN",
                callback=f"x{rng.randint(2000, 7999)}",
            )
            for pk in ids
        ),
        batch_size=5_000,
    )
    return ids


def _named_user(
    username: str, first: str, last: str, group: Group, home: Department | None
) -> User:
    user = User.objects.create_user(
        username=username,
        password=PASSWORD,
        first_name=first,
        last_name=last,
        email=f"{username}@lakeside.example",
    )
    user.groups.add(group)
    Profile.objects.create(user=user, home_department=home, job_title="RN", callback="x4567")
    return user


def _seed_technicians(
    config: SeedConfig, rng: random.Random, group: Group, now: datetime
) -> tuple[list[int], dict[int, list[int]]]:
    ids = _bulk_users("tech.", config.technicians, FIRST_NAMES, rng, now)
    User.groups.through.objects.bulk_create(
        User.groups.through(user_id=pk, group_id=group.pk) for pk in ids
    )
    teams = list(Team.objects.order_by("pk"))
    by_team: dict[int, list[int]] = {team.pk: [] for team in teams}
    memberships = []
    for position, pk in enumerate(ids):
        # Everyone in one team, round robin; every third technician covers a second one.
        mine = {teams[position % len(teams)]}
        if position % 3 == 0:
            mine.add(rng.choice(teams))
        for team in mine:
            by_team[team.pk].append(pk)
            memberships.append(Team.members.through(team_id=team.pk, user_id=pk))
    Team.members.through.objects.bulk_create(memberships)
    return ids, by_team


# --- Tickets ---------------------------------------------------------------------------------

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


@dataclass
class _TicketMaker:
    """Builds unsaved tickets and their timeline rows the way ``ticket_file`` would have."""

    config: SeedConfig
    rng: random.Random
    now: datetime
    locations: list[Location]
    departments: dict[int, Department]
    top_level: list[Category]
    subcategories: list[Category]
    requester_ids: list[int]
    techs_by_team: dict[int, list[int]]
    all_tech_ids: list[int]
    _decisions: dict[tuple[Scope, bool, bool, int], PriorityDecision] = field(default_factory=dict)
    _location_text: dict[int, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.open_chance = min(
            1.0, self.config.open_fraction * self.config.days / self.config.recent_days
        )
        self._location_text = {location.pk: str(location) for location in self.locations}

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

    def make(self, age_seconds: float, requester_id: int | None) -> Ticket:
        rng = self.rng
        created = self.now - timedelta(seconds=age_seconds)
        location = rng.choice(self.locations)
        department = self.departments[location.department_id]
        category = rng.choice(self.top_level)
        if self.subcategories and rng.random() < 0.3:
            # Technicians refile some tickets under a subcategory.
            category = rng.choice(self.subcategories)
        care_delayed = rng.random() < 0.25
        workaround = rng.random() < 0.6
        scope = rng.choices((Scope.ME, Scope.UNIT, Scope.SEVERAL), weights=(60, 30, 10))[0]
        decision = self.decision(scope, care_delayed, workaround, department)

        recent = age_seconds < self.config.recent_days * DAY
        first_response = resolved = closed = None
        assignee_id = None
        if recent and rng.random() < self.open_chance:
            status = rng.choices(
                (Ticket.Status.NEW, Ticket.Status.ASSIGNED, Ticket.Status.IN_PROGRESS),
                weights=(30, 30, 40),
            )[0]
        else:
            resolved = min(created + timedelta(minutes=rng.uniform(15, 72 * 60)), self.now)
            closes = resolved + timedelta(days=3)
            status = Ticket.Status.CLOSED if closes <= self.now else Ticket.Status.RESOLVED
            closed = closes if status == Ticket.Status.CLOSED else None
        if status != Ticket.Status.NEW:
            team_techs = self.techs_by_team.get(category.team_id) or self.all_tech_ids
            assignee_id = rng.choice(team_techs) if team_techs else None
            first_response = min(created + timedelta(minutes=rng.uniform(2, 90)), self.now)
            if resolved is not None:
                first_response = min(first_response, resolved)
        updated = closed or resolved or first_response or created

        title = f"{category.name} {rng.choice(PROBLEMS)}"
        return Ticket(
            title=title[:120],
            description=rng.choice(DETAILS),
            requester_id=requester_id or rng.choice(self.requester_ids),
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
            status=status,
            assignee_id=assignee_id,
            created_at=created,
            updated_at=updated,
            first_response_at=first_response,
            resolved_at=resolved,
            closed_at=closed,
            filing_notified_at=created + timedelta(seconds=3),
            phi_suspected=rng.random() < 0.003,
            idempotency_key=f"{rng.getrandbits(128):032x}",
        )

    def timeline(self, ticket: Ticket) -> Iterator[TicketEvent]:
        """The rows ``ticket_file`` writes with a ticket."""
        yield TicketEvent(
            ticket_id=ticket.pk,
            at=ticket.created_at,
            actor_id=ticket.requester_id,
            kind=TicketEvent.Kind.FILED,
            is_public=True,
            new_value=f"P{ticket.matrix_priority}",
            text=f"Filed from {self._location_text[ticket.location_id]}.",
        )
        if ticket.auto_escalated:
            department = self.departments[ticket.department_id]
            decision = self.decision(
                Scope(ticket.scope), ticket.care_delayed, ticket.workaround, department
            )
            yield TicketEvent(
                ticket_id=ticket.pk,
                at=ticket.created_at,
                kind=TicketEvent.Kind.ESCALATED,
                is_public=True,
                old_value=f"P{ticket.matrix_priority}",
                new_value=f"P{ticket.priority}",
                text=decision.reason,
            )
        if ticket.phi_suspected:
            yield TicketEvent(
                ticket_id=ticket.pk,
                at=ticket.created_at,
                kind=TicketEvent.Kind.PHI_FLAGGED,
                text="The text looks like it holds patient data; it is left out of "
                "notifications and exports.",
            )
