"""Benchmark data: a hospital's tickets, a year of them or more, sized by a few parameters.

``Seeder(SeedConfig(...)).seed()`` runs once per run on a freshly migrated database (the
migrations have seeded departments, their main units, calendars, teams, categories, SLA policies,
escalation ladders and the role groups) and returns the ids the measures need as a ``Seeded``.
With ``first_stage`` set, ``seed()`` inserts that many tickets (every open one among them) and
``grow()`` adds the rest of the closed history later, so a measure can be timed at two history
sizes in one run. ``history`` says what growing means (``bench.ticketgen``):

* ``older`` (default): the first stage is the last ``days`` of tickets; the second adds the
  years before, filed at the same rate (``--profile queue``: 100,000 tickets in the last 365
  days, then 900,000 more over the 3,285 days before them). The last 90 days hold about 25,000
  tickets at both sizes, so a report over them should cost the same.
* ``spread``: every ticket is filed within ``days`` and the first stage is a random sample of
  them; growing makes the same days denser (``--profile queue``: the last 90 days hold about
  25,000 tickets, then 250,000).

Without ``first_stage`` all the tickets are filed over ``days``. Rows look like what the
product writes, so the planner and the pages see realistic data:

* requesters: many clinical staff (``size // 50``, 200..10,000) with unusable passwords, each in
  the requester group with a home department; technicians (team members, ``page_channels``
  "console"), a manager, and an on-call rotation per team (weekly, handing off Monday 08:00);
* locations: each department's unit (from the migrations) plus rooms and workstations;
* tickets (``bench.ticketgen``): ``created_at`` as above, ids in filing order;
  ``open_tickets`` still open (the newest), the rest resolved (within three days of filing) or
  closed; priority fields from the pure functions in ``tickets.priority``; SLA targets, deadlines,
  first response and resolution facts from the product's own model methods, and the warning and
  breach marks the sweep would have claimed; of the open tickets, ``at_risk`` are past their
  resolution warning and ``due`` are due for a first-response breach just after "now";
  no e-mail in the outbox, as if every notice had long been sent, so no background work is
  pending;
* a timeline: a ``filed`` event per ticket, plus ``escalated`` / ``phi_flagged`` where filing
  would have written them;
* the benchmark nurse (``bench.nurse``, home Med-Surg) owns ``nurse_tickets`` of the tickets
  (first-stage ones, filed within ``days``, like every open ticket); the
  filing nurse (``bench.filer``) owns none, so measures that file tickets leave the first one's
  pages unchanged.

Tickets and events go in with ``COPY`` on PostgreSQL (``bench.bulk``; made in forked processes,
loaded on a thread while the next chunk is made) and ``bulk_create`` on SQLite. Deterministic for
a given config (seeded ``random.Random`` instances), apart from "now".
"""

from __future__ import annotations

import multiprocessing
import os
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from datetime import time as clock_time

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, User
from django.db import connection, connections, transaction
from django.db.models import Max
from django.utils import timezone

from bench import bulk
from bench.ticketgen import (
    BREACH_WINDOW,
    EVENT_COLUMNS,
    HISTORIES,
    Chunk,
    History,
    Kind,
    Plan,
    SlaTerms,
    TicketFactory,
    due_combos,
    make_plan,
    older_days,
)
from departments.models import Department, Location, Profile, Team
from departments.roles import Role
from oncall.models import Rotation, RotationMember
from tickets.models import Category, Ticket, TicketEvent

NURSE_USERNAME = "bench.nurse"
FILER_USERNAME = "bench.filer"
MANAGER_USERNAME = "bench.manager"
# Every seeded login's password, for measures that sign in through the login form.
PASSWORD = "bench-password"
NURSE_DEPARTMENT = "MEDSURG"
# Where page_latency files its P1 from, and what about (the category's team is paged).
PAGE_DEPARTMENT = "ED"
PAGE_CATEGORY = "ehr"
# Technicians are paged on the console channel (it logs on "helpdesk.pages"; the bench mutes it).
TECH_CHANNELS = "console"


@dataclass(frozen=True, slots=True)
class SeedConfig:
    tickets: int = 100_000
    # None: max(open_fraction of the tickets, twice the due ones).
    open_tickets: int | None = None
    open_fraction: float = 0.01
    # None: 1,000, or a twentieth of the tickets when that is fewer (small smoke runs).
    due_tickets: int | None = None
    # None: 300, or a tenth of the open tickets when that is fewer.
    at_risk_tickets: int | None = None
    # Tickets in the first stage (all the open ones among them); None: everything at once.
    first_stage: int | None = None
    # What the second stage adds: "older" tickets, filed before the first stage's ``days`` at
    # the same rate, or more tickets "spread" over the same ``days``.
    history: History = "older"
    # None: scale with the ticket count (size // 50, at least 200 and at most 10,000).
    requesters: int | None = None
    technicians: int = 24
    nurse_tickets: int = 50
    days: int = 365
    rooms_per_department: int = 3
    workstations_per_department: int = 4
    # Tickets per chunk: per bulk_create batch on SQLite, per COPY transaction on PostgreSQL.
    batch_size: int = 5_000
    copy_batch_size: int = 25_000
    # Processes making PostgreSQL chunks (None: one per CPU); 0 or 1 makes them in this one.
    makers: int | None = None
    random_seed: int = 1001

    def requester_count(self) -> int:
        if self.requesters is not None:
            return self.requesters
        return max(200, min(10_000, self.tickets // 50))

    def due_count(self) -> int:
        if self.due_tickets is not None:
            return self.due_tickets
        return min(1_000, max(1, self.tickets // 20))

    def open_count(self) -> int:
        if self.open_tickets is not None:
            return self.open_tickets
        return min(
            self.tickets, max(round(self.tickets * self.open_fraction), 2 * self.due_count())
        )

    def at_risk_count(self) -> int:
        if self.at_risk_tickets is not None:
            return self.at_risk_tickets
        return min(300, self.open_count() // 10)

    def describe_history(self) -> str:
        """What the tickets' filing dates look like, for the run's log."""
        if self.first_stage is None or self.first_stage >= self.tickets:
            return f"{self.tickets:,} tickets filed over the last {self.days} days"
        grown = self.tickets - self.first_stage
        if self.history == "older":
            before = older_days(days=self.days, recent=self.first_stage, grown=grown)
            return (
                f"{self.first_stage:,} tickets filed over the last {self.days} days, then "
                f"{grown:,} older ones over the {before:,.0f} days before (history 'older')"
            )
        return (
            f"{self.first_stage:,} tickets, then {grown:,} more, all filed over the last "
            f"{self.days} days (history 'spread')"
        )

    def validate(self) -> None:
        if self.history not in HISTORIES:
            raise ValueError(f"history is one of {', '.join(HISTORIES)}, not {self.history!r}")
        due, open_count = self.due_count(), self.open_count()
        if not 0 < due <= open_count <= self.tickets:
            raise ValueError(
                f"need 0 < due tickets ({due:,}) <= open tickets ({open_count:,}) <= tickets "
                f"({self.tickets:,})"
            )
        if self.first_stage is not None and not open_count <= self.first_stage <= self.tickets:
            raise ValueError(
                f"the first stage ({self.first_stage:,}) must hold the open tickets "
                f"({open_count:,}) and not exceed the tickets ({self.tickets:,})"
            )


@dataclass(frozen=True, slots=True)
class Seeded:
    """What the measures need to find in the seeded data."""

    config: SeedConfig
    # Tickets in the database now (the stage's), and the ids the seed gave them.
    tickets: int
    events: int
    first_ticket_id: int
    last_ticket_id: int
    # A ticket from the middle of the table, for the floor views' indexed lookup.
    sample_ticket_id: int
    open_tickets: int
    # Open tickets by clock state: on_track, at_risk, breached, paused, due.
    states: dict[str, int]
    nurse_id: int
    nurse_tickets: int
    filer_id: int
    manager_id: int
    technician_ids: tuple[int, ...]
    requester_ids: tuple[int, ...]
    # The nurses' home unit and a top-level category: what the filing measure picks.
    nurse_location_id: int
    filing_category_id: int
    # page_latency: an ED unit and the category whose team is paged.
    page_location_id: int
    page_category_id: int
    # The instant the data was made for: a sweep at sweep_idle_at finds nothing to do, one at
    # sweep_breach_at breaches exactly breach_ticket_ids (first response due in between).
    now: datetime
    sweep_idle_at: datetime
    sweep_breach_at: datetime
    breach_ticket_ids: tuple[int, ...]
    # Seconds spent seeding this stage (everything before it for the first).
    seconds: float
    stage: int = 1
    stages: int = 1
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


# Set in this process before forking the makers, which inherit it.
_FACTORY: TicketFactory | None = None


def _make_csv_chunk(job: tuple[int, int, list[int]]) -> Chunk:
    assert _FACTORY is not None
    stage, number, indexes = job
    return _FACTORY.chunk(stage, number, indexes, as_csv=True)


class Seeder:
    def __init__(self, config: SeedConfig, *, log: Callable[[str], None] = lambda _: None) -> None:
        config.validate()
        self.config = config
        self.log = log
        self.plan: Plan | None = None
        self.factory: TicketFactory | None = None
        self.seeded: Seeded | None = None

    def seed(self) -> Seeded:
        """People, places, rotations and the first stage of tickets."""
        started = time.perf_counter()
        config, log = self.config, self.log
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
        Profile.objects.filter(user=manager).update(page_channels=TECH_CHANNELS)
        tech_ids, techs_by_team = _seed_technicians(config, rng, groups[Role.TECHNICIAN], now)
        rotations = _seed_rotations(techs_by_team, manager, now)
        log(
            f"users: {len(requester_ids)} requesters, {len(tech_ids)} technicians; "
            f"{rotations} on-call rotations"
        )

        nurse_location = _unit(nurse_department)
        page_department = next(d for d in departments if d.code == PAGE_DEPARTMENT)
        page_location = _unit(page_department)
        categories = list(Category.objects.filter(is_active=True).select_related("parent"))
        top_level = [c for c in categories if c.parent_id is None]
        filing_category = next(c for c in top_level if c.slug == "printers")
        page_category = next(c for c in top_level if c.slug == PAGE_CATEGORY)

        terms = SlaTerms(departments)
        id_offset = Ticket.objects.aggregate(top=Max("pk"))["top"] or 0
        plan = make_plan(
            rng=rng,
            now=now,
            tickets=config.tickets,
            open_tickets=config.open_count(),
            due=config.due_count(),
            at_risk=config.at_risk_count(),
            nurse_tickets=config.nurse_tickets,
            days=config.days,
            first_stage=config.first_stage,
            history=config.history,
            combos=due_combos(departments, terms),
            id_offset=id_offset,
        )
        self.plan = plan
        self.factory = TicketFactory(
            plan=plan,
            terms=terms,
            locations=locations,
            departments={d.pk: d for d in departments},
            top_level=top_level,
            subcategories=[c for c in categories if c.parent_id is not None],
            requester_ids=requester_ids,
            nurse_id=nurse.pk,
            techs_by_team=techs_by_team,
            all_tech_ids=tech_ids,
            random_seed=config.random_seed,
        )
        loaded = self._load(1)
        sample = (
            Ticket.objects.filter(pk__gte=(loaded.first_id + loaded.last_id) // 2)
            .order_by("pk")
            .values_list("pk", flat=True)
            .first()
        )
        due_ids = tuple(sorted(loaded.due_ids))
        if len(due_ids) != plan.count(Kind.DUE):
            raise RuntimeError(f"{len(due_ids)} due tickets seeded, {plan.count(Kind.DUE)} planned")
        self.seeded = Seeded(
            config=config,
            tickets=loaded.count,
            events=loaded.event_count,
            first_ticket_id=loaded.first_id,
            last_ticket_id=loaded.last_id,
            sample_ticket_id=sample or loaded.first_id,
            open_tickets=sum(n for state, n in loaded.states.items() if state != "closed"),
            states={state: n for state, n in loaded.states.items() if state != "closed"},
            nurse_id=nurse.pk,
            nurse_tickets=len(plan.nurse),
            filer_id=filer.pk,
            manager_id=manager.pk,
            technician_ids=tuple(tech_ids),
            requester_ids=tuple(requester_ids),
            nurse_location_id=nurse_location.pk,
            filing_category_id=filing_category.pk,
            page_location_id=page_location.pk,
            page_category_id=page_category.pk,
            now=now,
            sweep_idle_at=now,
            sweep_breach_at=now + BREACH_WINDOW,
            breach_ticket_ids=due_ids,
            seconds=time.perf_counter() - started,
            stage=1,
            stages=2 if plan.stages is not None else 1,
            counts={
                "locations": len(locations),
                "requesters": len(requester_ids),
                "technicians": len(tech_ids),
                "rotations": rotations,
            },
        )
        return self.seeded

    def grow(self) -> Seeded:
        """Add the rest of the closed history (the second stage): older tickets, or more in the
        same days (``SeedConfig.history``)."""
        if self.seeded is None or self.plan is None or self.plan.stages is None:
            raise RuntimeError("grow() follows seed() of a two-stage config")
        started = time.perf_counter()
        loaded = self._load(2)
        before = self.seeded
        self.seeded = replace(
            before,
            tickets=before.tickets + loaded.count,
            events=before.events + loaded.event_count,
            first_ticket_id=min(before.first_ticket_id, loaded.first_id or before.first_ticket_id),
            last_ticket_id=max(before.last_ticket_id, loaded.last_id),
            seconds=time.perf_counter() - started,
            stage=2,
        )
        return self.seeded

    # Tickets ------------------------------------------------------------------------------------

    def _load(self, stage: int) -> _Loaded:
        assert self.plan is not None
        indexes = self.plan.indexes(stage)
        started = time.perf_counter()
        if connection.vendor == "postgresql":
            loaded = self._copy(stage, indexes)
        else:
            loaded = self._bulk_create(stage, indexes)
        self.log(
            f"tickets: {loaded.count:,} and {loaded.event_count:,} events in "
            f"{time.perf_counter() - started:.1f}s ({loaded.how})"
        )
        analyze_started = time.perf_counter()
        if _after_load():
            self.log(f"vacuum analyze: {time.perf_counter() - analyze_started:.1f}s")
        return loaded

    def _bulk_create(self, stage: int, indexes: Sequence[int]) -> _Loaded:
        assert self.factory is not None
        loaded = _Loaded(how="bulk_create")
        size = self.config.batch_size
        with _keep_updated_at():
            for number, start in enumerate(range(0, len(indexes), size)):
                chunk = self.factory.chunk(
                    stage, number, indexes[start : start + size], as_csv=False
                )
                with transaction.atomic():
                    Ticket.objects.bulk_create(chunk.tickets)
                    TicketEvent.objects.bulk_create(
                        (TicketEvent(**dict(zip(EVENT_COLUMNS, row, strict=True)))
                         for row in chunk.events),
                        batch_size=size,
                    )  # fmt: skip
                loaded.add(chunk)
                self._progress(loaded, len(indexes))
        return loaded

    def _copy(self, stage: int, indexes: Sequence[int]) -> _Loaded:
        global _FACTORY
        size = self.config.copy_batch_size
        jobs = [
            (stage, number, list(indexes[start : start + size]))
            for number, start in enumerate(range(0, len(indexes), size))
        ]
        makers = self.config.makers
        if makers is None:
            makers = os.cpu_count() or 1
        makers = min(makers, len(jobs))
        ticket_sql = bulk.copy_sql(Ticket)
        event_sql = bulk.copy_sql(TicketEvent, EVENT_COLUMNS)
        loaded = _Loaded(how="COPY, made in this process")
        pool = None
        if makers > 1:
            # Fork before any connection is open: the makers never touch the database.
            connections.close_all()
            _FACTORY = self.factory
            pool = multiprocessing.get_context("fork").Pool(makers)
            loaded.how = f"COPY, made in {makers} forked processes"
            chunks: Iterator[Chunk] = pool.imap(_make_csv_chunk, jobs)
        else:
            _FACTORY = self.factory
            chunks = map(_make_csv_chunk, jobs)
        try:
            with bulk.foreign_keys_dropped(Ticket, TicketEvent) as dropped:
                loader = bulk.CopyLoader()
                try:
                    for chunk in chunks:
                        loader.put((ticket_sql, chunk.ticket_csv), (event_sql, chunk.event_csv))
                        chunk.ticket_csv = chunk.event_csv = ""
                        loaded.add(chunk)
                        self._progress(loaded, len(indexes))
                finally:
                    loader.close()
                copied = time.perf_counter()
        finally:
            _FACTORY = None
            if pool is not None:
                pool.terminate()
                pool.join()
        loaded.how += (
            f"; {dropped} foreign keys off for the load, back on and checked in "
            f"{time.perf_counter() - copied:.1f}s"
        )
        _reset_sequence(Ticket)
        return loaded

    def _progress(self, loaded: _Loaded, total: int) -> None:
        step = 100_000 if total >= 500_000 else 25_000
        if loaded.count // step != (loaded.count - loaded.last_chunk) // step:
            self.log(f"tickets: {loaded.count:,} of {total:,}")


@dataclass
class _Loaded:
    how: str
    count: int = 0
    event_count: int = 0
    first_id: int = 0
    last_id: int = 0
    last_chunk: int = 0
    states: Counter[str] = field(default_factory=Counter)
    due_ids: list[int] = field(default_factory=list)

    def add(self, chunk: Chunk) -> None:
        self.count += chunk.count
        self.event_count += chunk.event_count
        self.last_chunk = chunk.count
        self.states.update(chunk.states)
        self.due_ids.extend(chunk.due_ids)
        if chunk.count:
            self.first_id = min(self.first_id or chunk.first_id, chunk.first_id)
            self.last_id = max(self.last_id, chunk.last_id)


def _reset_sequence(model: type[Ticket]) -> None:
    """Explicit ids went in: the next ticket filed takes the one after the highest."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence(%s, 'id'), "  # noqa: S608 (a model's table)
            f"(SELECT COALESCE(MAX(id), 1) FROM {connection.ops.quote_name(table)}))",
            [table],
        )


def _after_load() -> bool:
    """On PostgreSQL, fresh statistics and a visibility map (for index-only scans), as autovacuum
    would have them on a database that grew over a year. SQLite is left as the product leaves it
    (no ANALYZE). Says whether it ran."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return True


def _unit(department: Department) -> Location:
    found = (
        Location.objects.filter(department=department, kind=Location.Kind.UNIT)
        .order_by("pk")
        .first()
    )
    if found is None:
        raise RuntimeError(f"department {department.code} has no unit")
    return found


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
    # Paged on the console: a page is a log line on "helpdesk.pages" (the bench mutes it).
    Profile.objects.bulk_create(
        Profile(
            user_id=pk,
            job_title="IT Support Technician",
            callback=f"x{4300 + n}",
            pager=f"Pager {2200 + n}",
            page_channels=TECH_CHANNELS,
        )
        for n, pk in enumerate(ids, start=1)
    )
    return ids, by_team


def _seed_rotations(techs_by_team: dict[int, list[int]], manager: User, now: datetime) -> int:
    """A weekly rotation per team handing off Monday 08:00 (as the demo sets them up), its
    technicians in turn; the bench manager is every team's manager on call."""
    today = timezone.localdate(now)
    this_monday = today - timedelta(days=today.weekday())
    count = 0
    for team in Team.objects.order_by("pk"):
        members = techs_by_team.get(team.pk) or []
        if not members:
            continue
        rotation = Rotation.objects.create(
            team=team, starts_on=this_monday, handoff_time=clock_time(8, 0), length_days=7
        )
        RotationMember.objects.bulk_create(
            RotationMember(rotation=rotation, user_id=user_id, position=position)
            for position, user_id in enumerate(members)
        )
        count += 1
    Team.objects.update(manager=manager)
    return count
