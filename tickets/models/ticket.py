"""A ticket: what is broken, where, for whom, and its clocks; the categories a nurse files under."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from django.conf import settings
from django.db import models
from django.utils import timezone

from core.ids import parse_id
from core.links import pk_url
from core.reference_cache import ReferenceCache, ReferenceDataModel
from departments import business_time
from departments.models import BusinessCalendar, Department, Location, Team
from departments.roles import is_it_staff
from tickets import sla
from tickets.models.sla import SlaPolicy
from tickets.priority import (
    IMPACT_LABELS,
    PRIORITY_LABELS,
    SCOPE_LABELS,
    URGENCY_LABELS,
    Impact,
    PagingRule,
    Scope,
    Urgency,
    paging_rule,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser


TICKET_PREFIX = "HD-"
# Ticket numbers start at HD-1001: four digits read better over the phone than HD-7 and never
# look like a bed or room number. An offset, not a database sequence setting, so it survives
# every database and every table rebuild.
TICKET_NUMBER_OFFSET = 1000


def ticket_number(pk: int) -> str:
    """What people read and say: "HD-1042"."""
    return f"{TICKET_PREFIX}{pk + TICKET_NUMBER_OFFSET}"


def parse_ticket_number(text: str) -> int | None:
    """ "HD-1042" or "1042" -> the ticket's primary key; None when ``text`` is not a ticket
    number (ASCII digits only: "HD-²", or HD-1042 in Arabic-Indic or full-width digits, are
    not one)."""
    number = parse_id(text.strip().upper().removeprefix(TICKET_PREFIX))
    if number is None or number <= TICKET_NUMBER_OFFSET:
        return None
    return number - TICKET_NUMBER_OFFSET


class Category(ReferenceDataModel):
    """What the problem is about. Top-level categories are the tiles nurses pick from."""

    class Icon(models.TextChoices):
        EHR = "ehr", "Chart"
        PACS = "pacs", "Image"
        MEDICATION = "medication", "Medication"
        PRINTER = "printer", "Printer"
        IDENTITY = "identity", "Badge"
        WORKSTATION = "workstation", "Computer"
        COMMS = "comms", "Phone"
        NETWORK = "network", "Wi-Fi"
        DEVICE = "device", "Monitor"
        INTERFACE = "interface", "Arrows"
        EMAIL = "email", "Envelope"
        SECURITY = "security", "Shield"
        REQUEST = "request", "Clipboard"

    name = models.CharField(max_length=80)
    slug = models.SlugField(max_length=40, unique=True)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="categories")
    hint = models.CharField(
        max_length=120, blank=True, help_text="A few words under the tile, e.g. 'Epic, Haiku'."
    )
    icon = models.CharField(max_length=16, choices=Icon.choices, default=Icon.REQUEST)
    sort_order = models.PositiveSmallIntegerField(default=100)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["sort_order", "name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return f"{self.parent.name}: {self.name}" if self.parent_id and self.parent else self.name


_tiles: ReferenceCache[str, dict[int, Category]] = ReferenceCache(Category)


def filing_categories() -> dict[int, Category]:
    """The category tiles, by id: read on every filing, held per process. Read-only."""
    return _tiles.get_or_set(
        "tiles",
        lambda: {
            category.pk: category
            for category in Category.objects.filter(parent__isnull=True, is_active=True)
        },
    )


def sees_every_ticket(user: AbstractBaseUser | AnonymousUser) -> bool:
    """IT staff see every ticket: ``TicketQuerySet.for_user`` leaves their reads unscoped, and a
    read by primary key for them needs no other condition."""
    return is_it_staff(user)


class TicketQuerySet(models.QuerySet["Ticket"]):
    def open(self) -> TicketQuerySet:
        return self.filter(status__in=Ticket.OPEN_STATUSES)

    def for_user(self, user: AbstractBaseUser | AnonymousUser) -> TicketQuerySet:
        """The tickets this user may see; everything else is a 404 to them."""
        if not user.is_authenticated:
            return self.none()
        if sees_every_ticket(user):
            return self.all()
        own = models.Q(requester=user)
        if settings.HELPDESK["REQUESTERS_SEE_DEPARTMENT"]:
            profile = getattr(user, "profile", None)
            if profile is not None and profile.home_department_id:
                own |= models.Q(department_id=profile.home_department_id)
        return self.filter(own)


class TicketStatus(models.TextChoices):
    NEW = "new", "New"
    ASSIGNED = "assigned", "Assigned"
    IN_PROGRESS = "in_progress", "In progress"
    WAITING_ON_REQUESTER = "waiting_on_requester", "Waiting on you"
    WAITING_ON_VENDOR = "waiting_on_vendor", "Waiting on vendor"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"
    CANCELLED = "cancelled", "Cancelled"


# The resolution clock runs in these; it pauses while the ticket waits on someone.
CLOCK_RUNNING_STATUSES = (TicketStatus.NEW, TicketStatus.ASSIGNED, TicketStatus.IN_PROGRESS)
PAUSED_STATUSES = (TicketStatus.WAITING_ON_REQUESTER, TicketStatus.WAITING_ON_VENDOR)
OPEN_STATUSES = CLOCK_RUNNING_STATUSES + PAUSED_STATUSES


class Ticket(models.Model):
    Status = TicketStatus
    CLOCK_RUNNING_STATUSES = CLOCK_RUNNING_STATUSES
    PAUSED_STATUSES = PAUSED_STATUSES
    OPEN_STATUSES = OPEN_STATUSES

    title = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    # No index of their own on requester and department: ticket_requester_recent and
    # ticket_department_recent lead with them.
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="tickets_filed",
        db_index=False,
    )
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="tickets", db_index=False
    )
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="tickets")
    callback = models.CharField(max_length=60)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="tickets")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="tickets")

    # The nurse's three answers, kept as given, and what the matrix made of them.
    care_delayed = models.BooleanField()
    scope = models.CharField(max_length=8, choices=[(s.value, SCOPE_LABELS[s]) for s in Scope])
    workaround = models.BooleanField()
    urgency = models.CharField(
        max_length=8, choices=[(u.value, URGENCY_LABELS[u]) for u in Urgency]
    )
    impact = models.CharField(max_length=8, choices=[(i.value, IMPACT_LABELS[i]) for i in Impact])
    matrix_priority = models.PositiveSmallIntegerField()
    priority = models.PositiveSmallIntegerField(choices=list(PRIORITY_LABELS.items()))
    auto_escalated = models.BooleanField(default=False)

    status = models.CharField(max_length=24, choices=Status.choices, default=Status.NEW)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets_assigned",
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Set only before a filing's notices were kept in the outbox (tickets.outgoing): a task
    # published then and still queued sends nothing for a ticket that has it.
    filing_notified_at = models.DateTimeField(null=True, blank=True)

    # SLA clocks. Deadlines are computed when the ticket is filed (and again on a priority change
    # or a resumed pause) and stored, so pages, the sweep and reports read columns, never replay.
    sla_calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    response_target_seconds = models.PositiveIntegerField(null=True, blank=True)
    resolution_target_seconds = models.PositiveIntegerField(null=True, blank=True)
    warn_percent = models.PositiveSmallIntegerField(default=75)
    response_due_at = models.DateTimeField(null=True, blank=True)
    response_warn_at = models.DateTimeField(null=True, blank=True)
    resolution_due_at = models.DateTimeField(null=True, blank=True)
    resolution_warn_at = models.DateTimeField(null=True, blank=True)
    # Claimed by the sweep with conditional UPDATEs: each is set once, which is what makes
    # warnings and breaches happen exactly once whatever the number of sweepers.
    response_warned_at = models.DateTimeField(null=True, blank=True)
    response_breached_at = models.DateTimeField(null=True, blank=True)
    resolution_warned_at = models.DateTimeField(null=True, blank=True)
    resolution_breached_at = models.DateTimeField(null=True, blank=True)
    # Facts recorded the moment they become known, for reports.
    response_met = models.BooleanField(null=True, blank=True)
    response_seconds = models.FloatField(null=True, blank=True)
    response_business_seconds = models.FloatField(null=True, blank=True)
    resolution_met = models.BooleanField(null=True, blank=True)
    resolution_seconds = models.FloatField(null=True, blank=True)
    resolution_business_seconds = models.FloatField(null=True, blank=True)
    sla_paused_at = models.DateTimeField(null=True, blank=True)
    sla_paused_seconds = models.FloatField(default=0.0)

    phi_suspected = models.BooleanField(default=False)
    # Filed for a location outside the requester's own units (a float nurse, a call for a
    # colleague): she was asked which unit she reports for, and the timeline says so.
    filed_for_other_unit = models.BooleanField(default=False)
    # The requester's answer to "Fixed?" after a resolve: True yes, False still broken, None not
    # answered; and how many times she said it was still broken (the team's satisfaction figure).
    fixed_confirmed = models.BooleanField(null=True, blank=True)
    still_broken_count = models.PositiveSmallIntegerField(default=0)

    class Source(models.TextChoices):
        """How the ticket reached IT."""

        WEB = "web", "Web form"
        EMAIL = "email", "E-mail"
        API = "api", "API"
        PHONE = "phone", "Phone"

    source = models.CharField(
        max_length=8, choices=Source.choices, default=Source.WEB, db_default=Source.WEB
    )
    # Filed without the three questions answered (by e-mail): it waits at P4 in the queue's
    # Unassigned view until the requester or IT answers them, and never pages on its own.
    needs_triage = models.BooleanField(default=False, db_default=False)

    # Set by the filing form (one per form render) or the API's Idempotency-Key header: a double
    # click or a resubmitted form finds the ticket it already filed. NULL, not "", when absent, so
    # the unique constraint ignores tickets filed without one.
    idempotency_key = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001

    # The queue's order, kept by the database itself: P1 pinned first, tickets waiting on someone
    # (their clock paused) last, and within each, the next deadline (the first response until
    # there is one, then the resolution).
    queue_rank = models.GeneratedField(
        expression=models.Case(
            models.When(priority=1, then=0),
            models.When(status__in=PAUSED_STATUSES, then=2),
            default=1,
        ),
        output_field=models.PositiveSmallIntegerField(),
        db_persist=True,
    )
    next_due_at = models.GeneratedField(
        expression=models.Case(
            models.When(first_response_at__isnull=True, then=models.F("response_due_at")),
            default=models.F("resolution_due_at"),
        ),
        output_field=models.DateTimeField(),
        db_persist=True,
    )

    class ResolutionCode(models.TextChoices):
        FIXED = "fixed", "Fixed"
        WORKAROUND = "workaround", "Workaround given"
        TRAINING = "training", "Explained how to do it"
        HARDWARE_REPLACED = "hardware_replaced", "Hardware replaced"
        VENDOR = "vendor", "Fixed by the vendor"
        NO_FAULT = "no_fault", "No fault found"
        DUPLICATE = "duplicate", "Duplicate of another ticket"

    resolution_code = models.CharField(
        max_length=20, choices=ResolutionCode.choices, blank=True, default=""
    )
    duplicate_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="duplicates"
    )
    related = models.ManyToManyField("self", blank=True, symmetrical=True)

    objects = TicketQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["requester", "-created_at"], name="ticket_requester_recent"),
            models.Index(fields=["department", "-created_at"], name="ticket_department_recent"),
            models.Index(fields=["status"], name="ticket_status"),
            models.Index(fields=["created_at"], name="ticket_created"),
            # Reports aggregate a date range straight from this index on PostgreSQL.
            models.Index(
                fields=["created_at"],
                name="ticket_report_scope",
                include=[
                    "department",
                    "priority",
                    "team",
                    "category",
                    "location",
                    "assignee",
                    "status",
                    "response_met",
                    "resolution_met",
                    "response_breached_at",
                    "resolution_breached_at",
                    "response_seconds",
                    "response_business_seconds",
                    "resolution_seconds",
                    "resolution_business_seconds",
                    "first_response_at",
                    "resolved_at",
                    "closed_at",
                ],
            ),
            # The live queue's fragment answers 304 from MAX(updated_at) alone.
            models.Index(fields=["updated_at"], name="ticket_updated"),
            # The queue: open tickets in pinned-then-deadline order, a few dozen rows per page
            # whatever the history holds.
            models.Index(
                fields=["queue_rank", "next_due_at", "id"],
                # The saved views' counts read only these: one index-only scan of the open tickets.
                include=["assignee_id", "department_id", "status", "needs_triage"],
                name="ticket_queue_order",
                condition=models.Q(status__in=OPEN_STATUSES),
            ),
            # The workspace's "open from the same unit" panel: the department's open tickets,
            # newest first, without touching the closed history.
            models.Index(
                fields=["department_id", "-created_at"],
                name="ticket_open_by_department",
                condition=models.Q(status__in=OPEN_STATUSES),
            ),
            # The sweep's four claims: each reads a small partial index of the tickets that can
            # still warn or breach, so its cost follows the open tickets, not the history.
            models.Index(
                fields=["response_warn_at"],
                name="sla_response_warn_due",
                condition=models.Q(
                    response_warned_at__isnull=True,
                    first_response_at__isnull=True,
                    status__in=OPEN_STATUSES,
                ),
            ),
            models.Index(
                fields=["response_due_at"],
                name="sla_response_breach_due",
                condition=models.Q(
                    response_breached_at__isnull=True,
                    first_response_at__isnull=True,
                    status__in=OPEN_STATUSES,
                ),
            ),
            models.Index(
                fields=["resolution_warn_at"],
                name="sla_resolution_warn_due",
                condition=models.Q(
                    resolution_warned_at__isnull=True, status__in=CLOCK_RUNNING_STATUSES
                ),
            ),
            models.Index(
                fields=["resolution_due_at"],
                name="sla_resolution_breach_due",
                condition=models.Q(
                    resolution_breached_at__isnull=True, status__in=CLOCK_RUNNING_STATUSES
                ),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(priority__gte=1, priority__lte=5), name="ticket_priority_1_to_5"
            ),
            models.UniqueConstraint(
                fields=["requester", "idempotency_key"], name="ticket_filed_once_per_key"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    def get_absolute_url(self) -> str:
        return pk_url("ticket_detail")(self.pk)

    @property
    def number(self) -> str:
        return ticket_number(self.pk)

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def priority_label(self) -> str:
        return PRIORITY_LABELS[self.priority]

    @property
    def paging_rule(self) -> PagingRule:
        """When the on-call is paged for this ticket, by the one rule in tickets/priority.py."""
        return paging_rule(
            priority=self.priority,
            auto_escalate=self.department.auto_escalate,
            care_delayed=self.care_delayed,
        )

    # SLA clocks: rules about one ticket. Each returns the fields it changed, for
    # save(update_fields=...) in the service that calls it.

    def apply_sla_policy(self, policy: SlaPolicy, calendar: BusinessCalendar) -> list[str]:
        """Set targets and deadlines from the filing instant (at filing, or a priority change)."""
        self.sla_calendar = calendar
        self.response_target_seconds = policy.response_minutes * 60
        self.resolution_target_seconds = policy.resolution_minutes * 60
        self.warn_percent = policy.warn_percent
        return ["sla_calendar", "response_target_seconds", "resolution_target_seconds",
                "warn_percent", *self._recompute_deadlines(calendar.as_clock())]  # fmt: skip

    def _recompute_deadlines(self, clock: business_time.BusinessCalendar) -> list[str]:
        assert self.response_target_seconds is not None
        assert self.resolution_target_seconds is not None
        deadlines = sla.compute_deadlines(
            clock,
            filed_at=self.created_at,
            response_seconds=self.response_target_seconds,
            resolution_seconds=self.resolution_target_seconds,
            warn_percent=self.warn_percent,
            paused_seconds=self.sla_paused_seconds,
        )
        self.response_due_at = deadlines.response_due_at
        self.response_warn_at = deadlines.response_warn_at
        self.resolution_due_at = deadlines.resolution_due_at
        self.resolution_warn_at = deadlines.resolution_warn_at
        return ["response_due_at", "response_warn_at", "resolution_due_at", "resolution_warn_at"]

    def pause_clock(self, now: datetime) -> list[str]:
        if self.sla_paused_at is not None:
            return []
        self.sla_paused_at = now
        return ["sla_paused_at"]

    def resume_clock(self, now: datetime) -> list[str]:
        """Move the resolution deadline by the business time spent paused."""
        if self.sla_paused_at is None or self.sla_calendar is None:
            return []
        clock = self.sla_calendar.as_clock()
        self.sla_paused_seconds += business_time.business_seconds_between(
            clock, self.sla_paused_at, now
        )
        self.sla_paused_at = None
        changed = ["sla_paused_at", "sla_paused_seconds", *self._recompute_deadlines(clock)]
        if self.resolution_warn_at is not None and self.resolution_warn_at > now:
            # The new deadline is a new promise: warn again before it, once.
            self.resolution_warned_at = None
            changed.append("resolution_warned_at")
        return changed

    def record_first_response(self, now: datetime) -> list[str]:
        if self.first_response_at is not None:
            return []
        self.first_response_at = now
        self.response_seconds = (now - self.created_at).total_seconds()
        if self.sla_calendar is not None and self.response_due_at is not None:
            self.response_business_seconds = business_time.business_seconds_between(
                self.sla_calendar.as_clock(), self.created_at, now
            )
            self.response_met = now <= self.response_due_at and self.response_breached_at is None
        return ["first_response_at", "response_seconds", "response_business_seconds",
                "response_met"]  # fmt: skip

    def record_resolution(self, now: datetime) -> list[str]:
        """Stop the resolution clock; the facts go on the ticket for reports."""
        changed = self.resume_clock(now) if self.sla_paused_at is not None else []
        self.resolved_at = now
        self.resolution_seconds = (now - self.created_at).total_seconds()
        if self.sla_calendar is not None and self.resolution_due_at is not None:
            self.resolution_business_seconds = (
                business_time.business_seconds_between(
                    self.sla_calendar.as_clock(), self.created_at, now
                )
                - self.sla_paused_seconds
            )
            self.resolution_met = (
                now <= self.resolution_due_at and self.resolution_breached_at is None
            )
        # A resolved ticket's clock stands still until it is closed or reopened.
        self.sla_paused_at = now
        return [*changed, "resolved_at", "resolution_seconds", "resolution_business_seconds",
                "resolution_met", "sla_paused_at"]  # fmt: skip

    def record_reopen(self, now: datetime) -> list[str]:
        """Reopening resumes the resolution clock where it stopped."""
        changed = self.resume_clock(now)
        self.resolved_at = None
        self.resolution_met = None
        self.resolution_seconds = None
        self.resolution_business_seconds = None
        self.resolution_code = ""
        return [*changed, "resolved_at", "resolution_met", "resolution_seconds",
                "resolution_business_seconds", "resolution_code"]  # fmt: skip

    def response_clock(self, now: datetime) -> sla.ClockStatus | None:
        return response_clock(self, now)

    def resolution_clock(self, now: datetime) -> sla.ClockStatus | None:
        return resolution_clock(self, now)


class SlaFacts(Protocol):
    """What a ticket's clocks read: a Ticket, or a queue row read without one."""

    @property
    def status(self) -> str: ...
    @property
    def first_response_at(self) -> datetime | None: ...
    @property
    def response_due_at(self) -> datetime | None: ...
    @property
    def response_warn_at(self) -> datetime | None: ...
    @property
    def response_breached_at(self) -> datetime | None: ...
    @property
    def resolved_at(self) -> datetime | None: ...
    @property
    def resolution_due_at(self) -> datetime | None: ...
    @property
    def resolution_warn_at(self) -> datetime | None: ...
    @property
    def resolution_breached_at(self) -> datetime | None: ...


def response_clock(facts: SlaFacts, now: datetime) -> sla.ClockStatus | None:
    if facts.response_due_at is None or facts.response_warn_at is None:
        return None
    return sla.clock_status(
        now=now,
        due_at=facts.response_due_at,
        warn_at=facts.response_warn_at,
        done_at=facts.first_response_at,
        breached=facts.response_breached_at is not None,
    )


def resolution_clock(facts: SlaFacts, now: datetime) -> sla.ClockStatus | None:
    if facts.resolution_due_at is None or facts.resolution_warn_at is None:
        return None
    return sla.clock_status(
        now=now,
        due_at=facts.resolution_due_at,
        warn_at=facts.resolution_warn_at,
        done_at=facts.resolved_at,
        breached=facts.resolution_breached_at is not None,
        paused=facts.status in PAUSED_STATUSES,
    )
