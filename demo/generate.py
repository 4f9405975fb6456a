"""The demo generator: Lakeside Regional Medical Center's help desk, three months in.

What an IT manager sees after ``make run``: the demo accounts, the workstations and rooms of a
real hospital, and about 350 tickets over the last 90 days, with timelines: worked by a dozen IT
staff at their own pace, resolved with a resolution code, and answered "Fixed?" by their
requesters (mostly yes, sometimes "still broken" and reopened, sometimes not at all), so every
report has something true to show. Priorities come from the same pure functions that
``tickets.services.ticket_file`` uses, so ED and OR tickets are escalated exactly as filing would
escalate them. A fixed seed makes every run look the same (relative to the day it runs). The
hospital itself (people, places, problems, replies) is in ``demo.data``.

Only ever in a demo installation (DEBUG or DEMO_MODE), and only once: the demo accounts are the
marker, so ``make run`` can call it every time.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, User
from django.db import transaction
from django.utils import timezone

from demo.data import (
    ANSWER_WITHIN_MINUTES,
    ANSWERED_YES_SHARE,
    ANSWERS,
    AUTO_CLOSED,
    BEDS,
    CANCEL_REASONS,
    CLINICAL_STAFF,
    CLOSE_AFTER,
    CONFIRMED_CLOSED,
    DAYS,
    DEMO_ACCOUNTS,
    DEMO_PASSWORD,
    EMAILED,
    FIXES,
    HOUR_WEIGHTS,
    INTERNAL_NOTES,
    IT_STAFF,
    LOCATIONS,
    NURSE_TICKETS,
    OPEN_BY_AGE,
    PHI_FLAGGED,
    PHI_REPLY,
    PROBLEMS,
    QUESTIONS,
    REQUESTER_REPLIES,
    RESOLUTION_MINUTES,
    RESOLUTION_MIX,
    RESPONSE_MINUTES,
    SEED,
    SLOW_ONE_IN,
    STILL_BROKEN,
    STILL_BROKEN_REOPENED,
    STILL_BROKEN_SHARE,
    TEAM_TECHNICIAN,
    TICKET_COUNT,
    VENDORS,
    WEEKEND_FACTOR,
    YES_AFTER_REOPEN,
    Emailed,
    Person,
    Problem,
)
from demo.downtime import seed_downtimes
from demo.incidents import seed_incidents
from demo.sla_history import replay_sla
from departments.models import BusinessCalendar, Department, Holiday, Location, Profile, Team
from departments.roles import Role, people_changed
from oncall.models import Rotation, RotationMember
from tickets.models import Category, SlaPolicy, Ticket, TicketEvent
from tickets.priority import (
    PriorityDecision,
    Scope,
    Urgency,
    decide_priority,
    impact_from_scope,
    urgency_from_answers,
)
from tickets.services import (
    TRIAGE_ANSWERS,
    Answers,
    answers_in_words,
    text_has_phi,
    weigh_answers,
)

__all__ = ["DemoRefused", "DemoSummary", "seed_demo"]

Status = Ticket.Status
Kind = TicketEvent.Kind


class DemoRefused(Exception):
    """Seeding was refused; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class DemoSummary:
    created: bool
    users: int
    locations: int
    tickets: int
    open_tickets: int
    events: int
    # (username, who they are) of the accounts that sign in with DEMO_PASSWORD.
    accounts: tuple[tuple[str, str], ...]


# --- The seeder -------------------------------------------------------------------------------


def seed_demo(*, now: datetime | None = None) -> DemoSummary:
    """Seed the demo hospital once; a no-op (``created=False``) when the demo accounts exist."""
    if not (settings.DEBUG or getattr(settings, "DEMO_MODE", False)):
        raise DemoRefused(
            "Demo data is only seeded in a demo installation (DJANGO_DEBUG=1 or "
            "HELPDESK_DEMO=1). This one is neither, so nothing was changed."
        )
    now = now or timezone.now()
    usernames = [person.username for person in (*DEMO_ACCOUNTS, *CLINICAL_STAFF, *IT_STAFF)]
    with transaction.atomic():
        # Inside the transaction: with SQLite's IMMEDIATE mode two racing seeders queue here.
        if User.objects.filter(username__in=usernames).exists():
            return _summary(created=False)
        rng = random.Random(SEED)
        # Who fixed it, how, and what the requester said: drawn from a stream of their own.
        outcomes = random.Random(SEED + 1)
        users = _create_users(now)
        _create_rotations(users, now)
        locations = _create_locations()
        plans = _plan_tickets(rng, now, locations)
        _choose_statuses(rng, now, plans, _TeamStaff(outcomes, users))
        _choose_answers(outcomes, now, plans)
        _choose_requesters(rng, plans, users)
        # In filing order, with the mail that came in among the rest.
        plans = sorted(
            [*plans, *_plan_emailed(now, locations, users)], key=lambda plan: plan.created_at
        )
        _write(rng, now, plans)
        seed_incidents(now=now, users=users)
        seed_downtimes(by=users["tech"], now=now)
    return _summary(created=True)


def _summary(*, created: bool) -> DemoSummary:
    return DemoSummary(
        created=created,
        users=User.objects.count(),
        locations=Location.objects.count(),
        tickets=Ticket.objects.count(),
        open_tickets=Ticket.objects.open().count(),
        events=TicketEvent.objects.count(),
        accounts=tuple(
            (person.username, f"{person.full_name}, {person.job_title}") for person in DEMO_ACCOUNTS
        ),
    )


def _create_users(now: datetime) -> dict[str, User]:
    people = [*DEMO_ACCOUNTS, *CLINICAL_STAFF, *IT_STAFF]
    departments = {department.code: department for department in Department.objects.all()}
    groups = {group.name: group for group in Group.objects.all()}
    teams = {team.slug: team for team in Team.objects.all()}
    missing = sorted(
        {p.home for p in people if p.home and p.home not in departments}
        | {p.role.value for p in people if p.role.value not in groups}
        | {slug for p in people for slug in p.teams if slug not in teams}
    )
    if missing:
        raise DemoRefused(
            f"The database lacks {', '.join(missing)}; run `manage.py migrate` first."
        )

    # Hashing is slow on purpose; one hash serves every account that signs in.
    password = make_password(DEMO_PASSWORD)
    signs_in = {person.username for person in DEMO_ACCOUNTS}
    users = User.objects.bulk_create(
        User(
            username=person.username,
            first_name=person.first_name,
            last_name=person.last_name,
            email=f"{person.username}@lakeside.example",
            password=password if person.username in signs_in else make_password(None),
            is_staff=person.role is Role.ADMIN,
            is_superuser=person.role is Role.ADMIN,
            date_joined=now - timedelta(days=DAYS + 30),
        )
        for person in people
    )
    Profile.objects.bulk_create(
        Profile(
            user=user,
            home_department=departments[person.home] if person.home else None,
            job_title=person.job_title,
            callback=person.callback,
            pager=person.pager,
            # Pages show up in the terminal `make run` was started from.
            page_channels="console",
        )
        for user, person in zip(users, people, strict=True)
    )
    User.groups.through.objects.bulk_create(
        User.groups.through(user_id=user.pk, group_id=groups[person.role.value].pk)
        for user, person in zip(users, people, strict=True)
    )
    Team.members.through.objects.bulk_create(
        Team.members.through(user_id=user.pk, team_id=teams[slug].pk)
        for user, person in zip(users, people, strict=True)
        for slug in person.teams
    )
    # Bulk writes send no signals: every process's held names and roles are read again.
    people_changed()
    return {user.username: user for user in users}


def _create_rotations(users: dict[str, User], now: datetime) -> None:
    """A weekly rotation per team, handing off Monday 08:00, with the demo technician on call
    this week, so a P1 filed in the demo pages someone you can sign in as."""
    this_monday = timezone.localdate(now) - timedelta(days=timezone.localdate(now).weekday())
    people = [*DEMO_ACCOUNTS, *IT_STAFF]
    for team in Team.objects.all():
        members = [users[p.username] for p in people if team.slug in p.teams]
        members.sort(key=lambda user: user.username not in ("tech", "tech2"))
        rotation = Rotation.objects.create(
            team=team, starts_on=this_monday, handoff_time=time(8, 0), length_days=7
        )
        RotationMember.objects.bulk_create(
            RotationMember(rotation=rotation, user=user, position=position)
            for position, user in enumerate(members)
        )
    Team.objects.update(manager=users["manager"])


def _create_locations() -> dict[str, Location]:
    """Add the demo rooms and workstations that are not there yet; return all active by code."""
    departments = {department.code: department for department in Department.objects.all()}
    existing = set(Location.objects.values_list("code", flat=True))
    Location.objects.bulk_create(
        Location(department=departments[department], code=code, name=name, kind=kind)
        for department, code, name, kind in LOCATIONS
        if code not in existing
    )
    return {
        location.code: location
        for location in Location.objects.select_related("department").filter(is_active=True)
    }


@dataclass(slots=True, eq=False)
class _Plan:
    """One ticket before it is written: what, where and when, then what became of it."""

    created_at: datetime
    problem: Problem
    category: Category
    title: str
    description: str
    location: Location
    scope: Scope
    urgency: Urgency
    decision: PriorityDecision
    phi_suspected: bool
    requester: User | None = None
    status: str = Status.NEW
    assignee: User | None = None
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    resolution_code: str = ""
    # The requester's answers to "Fixed?": a first resolution she said was still broken (and
    # when), and her answer to the last one (None: not answered).
    first_resolved_at: datetime | None = None
    still_broken_at: datetime | None = None
    still_broken_text: str = ""
    fixed_confirmed: bool | None = None
    confirmed_at: datetime | None = None
    # Mail to the help desk's mailbox: filed at P4 (``filed_as``) without the three answers,
    # waiting for triage until they were given on the web (``triaged_at``), if they were.
    source: str = Ticket.Source.WEB
    filed_as: PriorityDecision | None = None
    answers: Answers | None = None
    triaged_at: datetime | None = None

    @property
    def priority(self) -> int:
        return self.decision.priority

    @property
    def is_open(self) -> bool:
        return self.status in Ticket.OPEN_STATUSES


def _plan_tickets(rng: random.Random, now: datetime, locations: dict[str, Location]) -> list[_Plan]:
    categories = {
        category.slug: category
        for category in Category.objects.select_related("parent", "team").filter(is_active=True)
    }
    drawn = [problem for problem in PROBLEMS if not problem.once]
    # Every problem at least once, then the rest by how often each happens.
    problems = list(PROBLEMS) + rng.choices(
        drawn, weights=[p.weight for p in drawn], k=TICKET_COUNT - len(PROBLEMS)
    )
    rng.shuffle(problems)
    told: set[str] = set()
    plans: list[_Plan] = []
    for created_at, problem in zip(_filing_times(rng, now, TICKET_COUNT), problems, strict=True):
        places = _places(problem.places, locations)
        # The title as the nurse first wrote it, then in other words from other places (and
        # now and then the same device again: some keep breaking).
        if problem.title not in told or not places or not problem.variants or rng.random() < 0.1:
            told.add(problem.title)
            location = _location(locations, problem.home)
            title = problem.title
        else:
            location = rng.choice(places)
            title = _fill(rng.choice(problem.variants), rng, location, created_at)
        description = _fill(problem.description, rng, location, created_at)
        care_delayed, workaround = ANSWERS[problem.urgency]
        urgency = urgency_from_answers(care_delayed=care_delayed, workaround=workaround)
        scope = rng.choice(problem.scopes)
        department = location.department
        plans.append(
            _Plan(
                created_at=created_at,
                problem=problem,
                category=_category(categories, problem.category),
                title=title,
                description=description,
                location=location,
                scope=scope,
                urgency=urgency,
                decision=decide_priority(
                    impact=impact_from_scope(scope),
                    urgency=urgency,
                    department_name=department.name,
                    auto_escalate=department.auto_escalate,
                ),
                phi_suspected=text_has_phi(title, description),
            )
        )
    return plans


def _plan_emailed(
    now: datetime, locations: dict[str, Location], users: dict[str, User]
) -> list[_Plan]:
    """The tickets that came in by e-mail (demo.data.EMAILED): new, unassigned, some still
    waiting for triage so the queue shows its Triage badges, some answered on the web since."""
    categories = {
        category.slug: category
        for category in Category.objects.select_related("parent", "team").filter(is_active=True)
    }
    return [_emailed(mail, now, locations, categories, users) for mail in EMAILED]


def _emailed(
    mail: Emailed,
    now: datetime,
    locations: dict[str, Location],
    categories: dict[str, Category],
    users: dict[str, User],
) -> _Plan:
    problem = mail.problem
    location = _location(locations, problem.home)
    care_delayed, scope, workaround = TRIAGE_ANSWERS
    filed_as = weigh_answers(
        department=location.department,
        care_delayed=care_delayed,
        scope=scope,
        workaround=workaround,
        escalate=False,
    )
    created_at = (now - timedelta(hours=mail.hours_ago)).replace(microsecond=0)
    plan = _Plan(
        created_at=created_at,
        problem=problem,
        category=_category(categories, problem.category),
        title=problem.title,
        description=problem.description,
        location=location,
        scope=scope,
        urgency=filed_as.urgency,
        decision=filed_as.decision,
        phi_suspected=text_has_phi(problem.title, problem.description),
        requester=users[mail.sender],
        source=Ticket.Source.EMAIL,
        filed_as=filed_as.decision,
    )
    if mail.answered is not None:
        urgency, plan.scope, minutes = mail.answered
        care_delayed, workaround = ANSWERS[urgency]
        plan.answers = weigh_answers(
            department=location.department,
            care_delayed=care_delayed,
            scope=plan.scope,
            workaround=workaround,
        )
        plan.urgency, plan.decision = plan.answers.urgency, plan.answers.decision
        plan.triaged_at = created_at + timedelta(minutes=minutes)
    return plan


def _location(locations: dict[str, Location], code: str) -> Location:
    try:
        return locations[code]
    except KeyError:
        raise DemoRefused(f"Location {code} is missing or inactive.") from None


def _category(categories: dict[str, Category], slug: str) -> Category:
    # An admin may have retired a subcategory; its tile still routes to the same team.
    found = categories.get(slug) or categories.get(slug.split("-")[0])
    if found is None:
        raise DemoRefused(f"Category {slug} is missing; run `manage.py migrate` first.")
    return found


def _places(patterns: Sequence[str], locations: dict[str, Location]) -> list[Location]:
    found: list[Location] = []
    for pattern in patterns:
        if pattern.endswith("*"):
            prefix = pattern[:-1]
            found += [loc for code, loc in sorted(locations.items()) if code.startswith(prefix)]
        elif pattern in locations:
            found.append(locations[pattern])
    return found


def _filing_times(rng: random.Random, now: datetime, count: int) -> list[datetime]:
    """``count`` moments in the last DAYS days: busier by day, quieter on weekends and holidays."""
    tz = ZoneInfo(settings.TIME_ZONE)
    holidays: set[date] = set(Holiday.objects.values_list("date", flat=True))
    peak = max(HOUR_WEIGHTS)
    span = DAYS * 86400
    times: list[datetime] = []
    while len(times) < count:
        at = (now - timedelta(seconds=rng.uniform(300, span - 3600))).replace(microsecond=0)
        local = at.astimezone(tz)
        weight = HOUR_WEIGHTS[local.hour]
        if local.weekday() >= 5 or local.date() in holidays:
            weight *= WEEKEND_FACTOR
        if rng.random() * peak < weight:
            times.append(at)
    return sorted(times)


def _fill(text: str, rng: random.Random, location: Location, at: datetime) -> str:
    since = at.astimezone(ZoneInfo(settings.TIME_ZONE)) - timedelta(
        minutes=rng.randrange(10, 95, 5)
    )
    return text.format(
        name=location.name,
        tag=location.code,
        time=f"{since:%H:%M}",
        minutes=rng.randrange(15, 50, 5),
        beds=rng.choice(BEDS),
    )


# --- What became of each ticket ---------------------------------------------------------------


class _TeamStaff:
    """Who works a team's tickets. The demo technicians keep the open ones, so whoever signs in
    as tech or tech2 has a queue; finished ones went to the team's members by their share, and
    took them as long as their pace says."""

    def __init__(self, rng: random.Random, users: dict[str, User]) -> None:
        self.rng = rng
        self._users = users
        self._members: dict[str, list[Person]] = {}
        for person in (*DEMO_ACCOUNTS, *IT_STAFF):
            for slug in person.teams:
                self._members.setdefault(slug, []).append(person)

    def demo_technician(self, plan: _Plan) -> User:
        return self._users[TEAM_TECHNICIAN.get(plan.category.team.slug, "tech")]

    def pick(self, plan: _Plan) -> tuple[User, float]:
        """A member of the ticket's team, and their pace."""
        members = self._members.get(plan.category.team.slug)
        if not members:
            return self.demo_technician(plan), 1.0
        person = self.rng.choices(members, weights=[p.share for p in members])[0]
        return self._users[person.username], person.pace


def _resolution_code(rng: random.Random, plan: _Plan) -> str:
    mix = _for(RESOLUTION_MIX, plan.category)
    return rng.choices([code for code, _ in mix], weights=[weight for _, weight in mix])[0]


def _choose_statuses(
    rng: random.Random, now: datetime, plans: list[_Plan], staff: _TeamStaff
) -> None:
    # Weighted sampling without replacement (Efraimidis-Spirakis): the queue holds about as
    # many open tickets, mostly recent ones, whatever day the demo is seeded on.
    keyed = sorted(
        plans,
        key=lambda p: rng.random() ** (1 / _open_weight(now - p.created_at, p.priority)),
        reverse=True,
    )
    # The demo nurses' newest tickets stay open, so each has something to follow.
    pinned = [
        plan
        for username, (open_count, _) in NURSE_TICKETS.items()
        for plan in [p for p in _newest_from(plans, _home(username)) if p.priority > 1][:open_count]
    ]
    count = rng.randint(34, 42) - len(pinned)
    still_open = set(pinned)
    still_open.update([plan for plan in keyed if plan not in still_open][:count])
    for plan in plans:
        age = now - plan.created_at
        if plan in still_open:
            _keep_open(rng, now, plan, staff.demo_technician(plan))
        elif age > timedelta(days=1) and rng.random() < 0.03:
            _cancel(rng, plan, age, staff.demo_technician(plan))
        else:
            technician, pace = staff.pick(plan)
            _resolve(rng, now, plan, age, technician, pace)
            plan.resolution_code = _resolution_code(staff.rng, plan)


def _home(username: str) -> str | None:
    return next(person.home for person in DEMO_ACCOUNTS if person.username == username)


def _newest_from(plans: list[_Plan], department: str | None) -> list[_Plan]:
    """A department's tickets a demo nurse could have filed, newest first."""
    return [
        plan
        for plan in reversed(plans)
        if plan.location.department.code == department and not plan.phi_suspected
    ]


def _open_weight(age: timedelta, priority: int) -> float:
    """How likely a ticket this old is still open: recent ones mostly; a P1 for hours at most,
    a P2 for a day or so; what lingers is low-priority requests and vendor cases."""
    hours = age.total_seconds() / 3600
    if priority == 1:
        return 30.0 if hours < 3 else 0.001
    weight = next(weight for limit, weight in OPEN_BY_AGE if hours < limit)
    if priority == 2 and hours >= 24:
        return weight * (0.3 if hours < 168 else 0.05)
    return weight * 1.5 if priority >= 4 and hours >= 72 else weight


def _minutes(rng: random.Random, bounds: tuple[int, int]) -> timedelta:
    minutes = rng.uniform(*bounds)
    if rng.randrange(SLOW_ONE_IN) == 0:
        minutes *= rng.uniform(1.5, 4.0)
    return timedelta(minutes=minutes)


def _first_response(rng: random.Random, plan: _Plan) -> datetime:
    """When IT picks a ticket up: P1 and P2 at once, lower ones when the day shift starts."""
    start = plan.created_at
    if plan.priority >= 3:
        local = start.astimezone(ZoneInfo(settings.TIME_ZONE))
        if local.hour < 7 or local.hour >= 18:
            morning = local.replace(hour=7, minute=0, second=0)
            if local.hour >= 18:
                morning += timedelta(days=1)
            local = morning
        # P4 and P5 run on business hours: a weekend ticket waits for Monday.
        if plan.priority >= 4 and local.weekday() >= 5:
            local = local.replace(hour=7, minute=0, second=0) + timedelta(days=7 - local.weekday())
        start = local.astimezone(start.tzinfo)
    return start + _minutes(rng, RESPONSE_MINUTES[plan.priority])


def _keep_open(rng: random.Random, now: datetime, plan: _Plan, tech: User) -> None:
    picked_up = _first_response(rng, plan)
    if picked_up > now - timedelta(minutes=5):
        return  # still new: nobody has picked it up yet
    if now - plan.created_at < timedelta(days=3):
        statuses = [Status.ASSIGNED, Status.IN_PROGRESS, Status.WAITING_ON_REQUESTER]
        weights = [2, 5, 2]
    else:
        statuses = [Status.IN_PROGRESS, Status.WAITING_ON_REQUESTER, Status.WAITING_ON_VENDOR]
        weights = [3, 2, 5]
    plan.status = rng.choices([*statuses, Status.WAITING_ON_VENDOR], weights=[*weights, 1])[0]
    plan.assignee = tech
    plan.first_response_at = picked_up


def _cancel(rng: random.Random, plan: _Plan, age: timedelta, tech: User) -> None:
    plan.status = Status.CANCELLED
    after = min(age * 0.05, timedelta(hours=2))
    plan.closed_at = plan.created_at + after
    if rng.random() < 0.5:
        plan.assignee = tech
        plan.first_response_at = plan.created_at + after * 0.3


def _resolve(
    rng: random.Random, now: datetime, plan: _Plan, age: timedelta, tech: User, pace: float
) -> None:
    plan.assignee = tech
    response = _first_response(rng, plan) - plan.created_at
    work = _minutes(rng, RESOLUTION_MINUTES[plan.priority]) * pace
    room = age - timedelta(minutes=2)
    if response + work > room:
        # Filed recently and fixed on the first call: the same story, squeezed into the time.
        scale = room / (response + work) * rng.uniform(0.5, 0.95)
        response, work = response * scale, work * scale
    plan.first_response_at = plan.created_at + response
    plan.resolved_at = plan.first_response_at + work
    closes = plan.resolved_at + CLOSE_AFTER + timedelta(minutes=rng.uniform(0, 15))
    if closes < now:
        plan.status = Status.CLOSED
        plan.closed_at = closes
    else:
        plan.status = Status.RESOLVED


def _choose_answers(rng: random.Random, now: datetime, plans: list[_Plan]) -> None:
    """The requesters' answers to "Fixed?" after a resolve: "yes" closes the ticket then and
    there; "still broken" reopened it at a first resolution, and it was resolved again later;
    some never answer, and their tickets close by themselves."""
    for plan in plans:
        if plan.resolved_at is None or plan.first_response_at is None:
            continue
        work = plan.resolved_at - plan.first_response_at
        draw = rng.random()
        if draw < STILL_BROKEN_SHARE and work > timedelta(minutes=40):
            first = plan.first_response_at + work * rng.uniform(0.3, 0.55)
            plan.first_resolved_at = first
            plan.still_broken_at = first + min(work * 0.3, timedelta(minutes=rng.uniform(10, 240)))
            plan.still_broken_text = rng.choice(_for(STILL_BROKEN, plan.category))
            says_yes = rng.random() < YES_AFTER_REOPEN
        else:
            says_yes = draw < STILL_BROKEN_SHARE + ANSWERED_YES_SHARE
        answered = plan.resolved_at + timedelta(minutes=rng.uniform(*ANSWER_WITHIN_MINUTES))
        if says_yes and answered < now and (plan.closed_at is None or answered < plan.closed_at):
            plan.fixed_confirmed = True
            plan.confirmed_at = answered
            plan.status = Status.CLOSED
            plan.closed_at = answered


def _choose_requesters(rng: random.Random, plans: list[_Plan], users: dict[str, User]) -> None:
    staff: dict[str, list[User]] = {}
    for person in CLINICAL_STAFF:
        staff.setdefault(person.home or "", []).append(users[person.username])
    everyone = [users[person.username] for person in CLINICAL_STAFF]
    for plan in plans:
        plan.requester = rng.choice(staff.get(plan.location.department.code, everyone))
    # The demo nurses own a few each: open ones to follow (one waiting on them if there is
    # one), resolved ones to look back on.
    for username, (open_count, done_count) in NURSE_TICKETS.items():
        theirs = _newest_from(plans, _home(username))
        still_open = sorted(
            (plan for plan in theirs if plan.is_open),
            key=lambda plan: (plan.status != Status.WAITING_ON_REQUESTER, rng.random()),
        )
        done = [plan for plan in theirs if plan.status in (Status.RESOLVED, Status.CLOSED)]
        for plan in still_open[:open_count] + rng.sample(done, min(done_count, len(done))):
            plan.requester = users[username]


# --- Writing it down --------------------------------------------------------------------------


def _write(rng: random.Random, now: datetime, plans: list[_Plan]) -> None:
    callbacks = {person.username: person.callback for person in CLINICAL_STAFF + DEMO_ACCOUNTS}
    sla_terms = _SlaTerms()
    tickets: list[Ticket] = []
    timelines: list[list[TicketEvent]] = []
    for plan in plans:
        assert plan.requester is not None
        ticket = Ticket(
            title=plan.title,
            description=plan.description,
            requester=plan.requester,
            department=plan.location.department,
            location=plan.location,
            callback=callbacks[plan.requester.username],
            category=plan.category,
            team=plan.category.team,
            care_delayed=ANSWERS[plan.urgency][0],
            scope=plan.scope,
            workaround=ANSWERS[plan.urgency][1],
            urgency=plan.urgency,
            impact=impact_from_scope(plan.scope),
            matrix_priority=plan.decision.matrix_priority,
            priority=plan.decision.priority,
            auto_escalated=plan.decision.escalated,
            status=plan.status,
            assignee=plan.assignee,
            created_at=plan.created_at,
            closed_at=plan.closed_at,
            phi_suspected=plan.phi_suspected,
            resolution_code=plan.resolution_code,
            fixed_confirmed=plan.fixed_confirmed,
            still_broken_count=1 if plan.still_broken_at is not None else 0,
            source=plan.source,
            needs_triage=plan.filed_as is not None and plan.answers is None,
        )
        timeline = _timeline(rng, now, plan)
        _replay_sla(ticket, plan, timeline, now, sla_terms)
        tickets.append(ticket)
        timelines.append(timeline)
    # In filing order, so ticket numbers grow with time as they would have.
    Ticket.objects.bulk_create(tickets)
    for ticket, timeline in zip(tickets, timelines, strict=True):
        for event in timeline:
            event.ticket = ticket
    TicketEvent.objects.bulk_create(event for timeline in timelines for event in timeline)


class _SlaTerms:
    """SlaPolicy.for_ticket and its calendar, looked up once per priority and department, with
    the calendars' hours and holidays prefetched so computing a deadline runs no query."""

    def __init__(self) -> None:
        self._calendars = {
            calendar.pk: calendar
            for calendar in BusinessCalendar.objects.prefetch_related("hours", "holidays")
        }
        self._found: dict[tuple[int, int], tuple[SlaPolicy, BusinessCalendar] | None] = {}

    def __call__(
        self, priority: int, department: Department
    ) -> tuple[SlaPolicy, BusinessCalendar] | None:
        key = (priority, department.pk)
        if key not in self._found:
            try:
                policy = SlaPolicy.for_ticket(priority=priority, department=department)
            except SlaPolicy.DoesNotExist:
                self._found[key] = None  # no targets configured: the ticket runs without a clock
            else:
                calendar = self._calendars[policy.calendar_for(department).pk]
                self._found[key] = (policy, calendar)
        return self._found[key]


def _replay_sla(
    ticket: Ticket, plan: _Plan, timeline: list[TicketEvent], now: datetime, terms: _SlaTerms
) -> None:
    found = terms(plan.priority, plan.location.department)
    if found is None:
        ticket.first_response_at = plan.first_response_at
        ticket.resolved_at = plan.resolved_at
        return
    policy, calendar = found
    paused = next(
        (
            event.at
            for event in timeline
            if event.kind == Kind.STATUS and event.new_value in Ticket.PAUSED_STATUSES
        ),
        None,
    )
    replay_sla(
        ticket,
        policy=policy,
        calendar=calendar,
        now=now,
        first_response_at=plan.first_response_at,
        paused_at=paused,
        resolved_at=plan.resolved_at,
        closed_at=plan.closed_at,
    )


# (kind, actor, public, old value, new value, text)
_Step = tuple[str, User | None, bool, str, str, str]
_T = TypeVar("_T")


def _timeline(rng: random.Random, now: datetime, plan: _Plan) -> list[TicketEvent]:
    """The events the ticket's history holds, in order, from filing to now."""
    requester, tech = plan.requester, plan.assignee
    assert requester is not None
    if plan.filed_as is not None:
        return _emailed_timeline(plan, requester)
    events = [
        TicketEvent(
            at=plan.created_at,
            actor=requester,
            kind=Kind.FILED,
            is_public=True,
            new_value=f"P{plan.decision.matrix_priority}",
            text=f"Filed from {plan.location}.",
        )
    ]
    if plan.decision.escalated:
        events.append(
            TicketEvent(
                at=plan.created_at,
                kind=Kind.ESCALATED,
                is_public=True,
                old_value=f"P{plan.decision.matrix_priority}",
                new_value=f"P{plan.decision.priority}",
                text=plan.decision.reason,
            )
        )
    if plan.phi_suspected:
        events.append(TicketEvent(at=plan.created_at, kind=Kind.PHI_FLAGGED, text=PHI_FLAGGED))
    if tech is not None and plan.first_response_at is not None:
        events.append(
            TicketEvent(
                at=plan.first_response_at,
                actor=tech,
                kind=Kind.ASSIGNMENT,
                is_public=True,
                new_value=tech.username,
                text=f"Assigned to {tech.get_full_name()}.",
            )
        )
    if plan.status == Status.CANCELLED:
        assert plan.closed_at is not None
        was = Status.ASSIGNED if tech is not None else Status.NEW
        cancelled = _status(
            plan.closed_at, requester, was, Status.CANCELLED, rng.choice(CANCEL_REASONS)
        )
        return [*events, cancelled]
    if tech is None or plan.first_response_at is None or plan.status == Status.ASSIGNED:
        return events

    # Work starts minutes after pick-up; the rest spreads out in order until the resolution
    # (or until now, while the ticket is open).
    picked_up = plan.first_response_at
    end = plan.resolved_at or now - timedelta(minutes=1)
    span = (end - picked_up).total_seconds()
    started = picked_up + timedelta(seconds=int(min(rng.uniform(60, 900), span * 0.1)))
    events.append(_status(started, tech, Status.ASSIGNED, Status.IN_PROGRESS, ""))
    said, resolution = rng.choice(_for(FIXES, plan.category))
    steps = _steps(rng, plan, tech, requester, said)
    rest = (end - started).total_seconds()
    fractions = sorted(rng.uniform(0.05, 0.95) for _ in steps)
    for (kind, actor, public, old, new, text), fraction in zip(steps, fractions, strict=True):
        events.append(
            TicketEvent(
                at=started + timedelta(seconds=int(rest * fraction)),
                actor=actor,
                kind=kind,
                is_public=public,
                old_value=old,
                new_value=new,
                text=text,
            )
        )
    if plan.first_resolved_at is not None and plan.still_broken_at is not None:
        said_no = f"Still broken: {plan.still_broken_text}"
        events += [
            _status(plan.first_resolved_at, tech, Status.IN_PROGRESS, Status.RESOLVED, resolution),
            _answer(plan.still_broken_at, requester, "no", said_no),
            _status(plan.still_broken_at, requester, Status.RESOLVED, Status.IN_PROGRESS,
                    STILL_BROKEN_REOPENED),
        ]  # fmt: skip
        # Work went on around the reopen; a stable sort keeps same-moment events in order.
        events.sort(key=lambda event: event.at)
    if plan.resolved_at is not None:
        events.append(
            _status(plan.resolved_at, tech, Status.IN_PROGRESS, Status.RESOLVED, resolution)
        )
    if plan.confirmed_at is not None:
        events.append(_answer(plan.confirmed_at, requester, "yes", "Fixed: yes."))
        events.append(
            _status(plan.confirmed_at, requester, Status.RESOLVED, Status.CLOSED, CONFIRMED_CLOSED)
        )
    elif plan.closed_at is not None:
        events.append(_status(plan.closed_at, None, Status.RESOLVED, Status.CLOSED, AUTO_CLOSED))
    return events


def _emailed_timeline(plan: _Plan, requester: User) -> list[TicketEvent]:
    """Filed by e-mail, waiting for triage; then, if she answered, her answers and what the
    department rule made of them, as ticket_answer_questions writes them."""
    assert plan.filed_as is not None
    filed = plan.filed_as.matrix_priority
    events = [
        _public(plan.created_at, requester, Kind.FILED, "", f"P{filed}",
                f"Filed by e-mail for {plan.location}: waiting for triage."),
    ]  # fmt: skip
    if plan.answers is None or plan.triaged_at is None:
        return events
    decision = plan.answers.decision
    events.append(
        _public(plan.triaged_at, requester, Kind.TRIAGED, f"P{filed}",
                f"P{decision.matrix_priority}", answers_in_words(plan.answers))
    )  # fmt: skip
    if decision.escalated:
        events.append(
            _public(plan.triaged_at, None, Kind.ESCALATED, f"P{decision.matrix_priority}",
                    f"P{decision.priority}", decision.reason)
        )  # fmt: skip
    return events


def _steps(rng: random.Random, plan: _Plan, tech: User, requester: User, said: str) -> list[_Step]:
    """What happens between starting work and the end, in order; times are given later."""
    category = plan.category
    vendor = _for(VENDORS, category)
    vendor_case = f"Vendor case {rng.randrange(10**8):08d} opened with {vendor}."
    steps: list[_Step] = []
    if plan.phi_suspected:
        steps.append((Kind.COMMENT, tech, True, "", "", PHI_REPLY))
    if plan.status == Status.WAITING_ON_REQUESTER:
        question = rng.choice(_for(QUESTIONS, category))
        steps.append((Kind.COMMENT, tech, True, "", "", question))
        steps.append((Kind.STATUS, tech, True, Status.IN_PROGRESS, plan.status, ""))
    elif plan.status == Status.WAITING_ON_VENDOR:
        steps.append((Kind.INTERNAL_NOTE, tech, False, "", "", vendor_case))
        waiting = f"Waiting on {vendor}; we'll update this ticket when they answer."
        steps.append((Kind.STATUS, tech, True, Status.IN_PROGRESS, plan.status, waiting))
    else:
        if rng.random() < 0.75:
            steps.append((Kind.COMMENT, tech, True, "", "", said))
            if plan.resolved_at is not None and rng.random() < 0.3:
                answer = rng.choice(_for(REQUESTER_REPLIES, category))
                steps.append((Kind.COMMENT, requester, True, "", "", answer))
        if rng.random() < 0.25:
            note = vendor_case if rng.random() < 0.5 else rng.choice(_for(INTERNAL_NOTES, category))
            steps.append((Kind.INTERNAL_NOTE, tech, False, "", "", note))
    return steps


def _for(table: Mapping[str, _T], category: Category) -> _T:
    """The entry for the category, else for its tile, else the one for anything ("")."""
    for key in (category.slug, category.parent.slug if category.parent else "", ""):
        if key in table:
            return table[key]
    raise KeyError(category.slug)


def _public(
    at: datetime, actor: User | None, kind: str, old: str, new: str, text: str
) -> TicketEvent:
    return TicketEvent(
        at=at, actor=actor, kind=kind, is_public=True, old_value=old, new_value=new, text=text
    )


def _status(at: datetime, actor: User | None, old: str, new: str, text: str) -> TicketEvent:
    return _public(at, actor, Kind.STATUS, old, new, text)


def _answer(at: datetime, requester: User, answer: str, text: str) -> TicketEvent:
    """The requester's answer to "Fixed?": "yes" or "no", in her words."""
    return _public(at, requester, Kind.FEEDBACK, "", answer, text)
