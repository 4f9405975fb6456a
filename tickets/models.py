"""Tickets and everything that happens to them ("what, how fast")."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from departments.models import Department, Location, Team
from departments.roles import is_it_staff
from tickets.priority import (
    IMPACT_LABELS,
    PRIORITY_LABELS,
    SCOPE_LABELS,
    URGENCY_LABELS,
    Impact,
    Scope,
    Urgency,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

TICKET_PREFIX = "HD-"


class Category(models.Model):
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


class TicketQuerySet(models.QuerySet["Ticket"]):
    def open(self) -> TicketQuerySet:
        return self.filter(status__in=Ticket.OPEN_STATUSES)

    def for_user(self, user: AbstractBaseUser | AnonymousUser) -> TicketQuerySet:
        """The tickets this user may see; everything else is a 404 to them."""
        if not user.is_authenticated:
            return self.none()
        if is_it_staff(user):
            return self.all()
        own = models.Q(requester=user)
        if settings.HELPDESK["REQUESTERS_SEE_DEPARTMENT"]:
            profile = getattr(user, "profile", None)
            if profile is not None and profile.home_department_id:
                own |= models.Q(department_id=profile.home_department_id)
        return self.filter(own)

    def with_list_columns(self) -> TicketQuerySet:
        return self.select_related("department", "location", "category", "assignee")


class Ticket(models.Model):
    class Status(models.TextChoices):
        NEW = "new", "New"
        ASSIGNED = "assigned", "Assigned"
        IN_PROGRESS = "in_progress", "In progress"
        WAITING_ON_REQUESTER = "waiting_on_requester", "Waiting on you"
        WAITING_ON_VENDOR = "waiting_on_vendor", "Waiting on vendor"
        RESOLVED = "resolved", "Resolved"
        CLOSED = "closed", "Closed"
        CANCELLED = "cancelled", "Cancelled"

    OPEN_STATUSES = (
        Status.NEW,
        Status.ASSIGNED,
        Status.IN_PROGRESS,
        Status.WAITING_ON_REQUESTER,
        Status.WAITING_ON_VENDOR,
    )

    title = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="tickets_filed"
    )
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="tickets")
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
    # Claimed by the notification task with a conditional UPDATE, so a redelivered task mails once.
    filing_notified_at = models.DateTimeField(null=True, blank=True)

    phi_suspected = models.BooleanField(default=False)
    # Set by the filing form (one per form render) or the API's Idempotency-Key header: a double
    # click or a resubmitted form finds the ticket it already filed. NULL, not "", when absent, so
    # the unique constraint ignores tickets filed without one.
    idempotency_key = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001

    objects = TicketQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["requester", "-created_at"], name="ticket_requester_recent"),
            models.Index(fields=["department", "-created_at"], name="ticket_department_recent"),
            models.Index(fields=["status"], name="ticket_status"),
            models.Index(fields=["created_at"], name="ticket_created"),
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
        return reverse("ticket_detail", kwargs={"pk": self.pk})

    @property
    def number(self) -> str:
        return f"{TICKET_PREFIX}{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def priority_label(self) -> str:
        return PRIORITY_LABELS[self.priority]


class TicketEventQuerySet(models.QuerySet["TicketEvent"]):
    def update(self, **kwargs: Any) -> int:
        raise TypeError("The ticket timeline is append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError("The ticket timeline is append-only.")

    def public(self) -> TicketEventQuerySet:
        return self.filter(is_public=True)


class TicketEvent(models.Model):
    """The ticket's timeline and audit trail. Rows are only ever added."""

    class Kind(models.TextChoices):
        FILED = "filed", "Filed"
        ESCALATED = "escalated", "Escalated by department"
        COMMENT = "comment", "Comment"
        INTERNAL_NOTE = "internal_note", "Internal note"
        STATUS = "status", "Status changed"
        PRIORITY = "priority", "Priority changed"
        ASSIGNMENT = "assignment", "Assigned"
        PHI_FLAGGED = "phi_flagged", "Possible patient data"
        SLA_WARNING = "sla_warning", "SLA at risk"
        SLA_BREACH = "sla_breach", "SLA breached"
        PAGE = "page", "Page"
        ACK = "ack", "Acknowledged"
        VIEWED = "viewed", "Viewed"

    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # Whether the requester sees it on their ticket page; internal notes and audit rows never.
    is_public = models.BooleanField(default=False)
    old_value = models.CharField(max_length=120, blank=True)
    new_value = models.CharField(max_length=120, blank=True)
    text = models.TextField(blank=True)

    objects = TicketEventQuerySet.as_manager()

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["ticket", "at"], name="event_ticket_at")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.ticket_id} at {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise TypeError("The ticket timeline is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise TypeError("The ticket timeline is append-only.")
