"""A major incident, its updates, the people and tickets it affects, and the alert that may
raise one."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from departments.models import Department, Team
from tickets.models import Category, PageChain, Ticket


class Incident(models.Model):
    """A system down for many units at once, declared by IT and told to clinical staff."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"

    # What is down, in the words clinical staff use ("EHR (Epic)", "Wi-Fi on 4 West"), and the
    # category whose tickets it explains (the filing form offers "add yourself" on it).
    service = models.CharField(max_length=80)
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="incidents")
    hospital_wide = models.BooleanField(default=True)
    departments = models.ManyToManyField(Department, blank=True, related_name="incidents")
    # What the banner says: plain language for a nurse, and what to do meanwhile.
    message = models.TextField()
    workaround = models.TextField(blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    # The incident's clock: when the first ticket came, when detection saw it, when IT declared,
    # each update, and the end.
    started_at = models.DateTimeField(default=timezone.now)
    detected_at = models.DateTimeField(null=True, blank=True)
    declared_at = models.DateTimeField(default=timezone.now)
    declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    commander = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Declaring pages the team's incident commander ladder: the one chain, started with the
    # incident (its acknowledgement, escalation and end are the paging engine's).
    commander_chain = models.OneToOneField(
        PageChain, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    last_update_at = models.DateTimeField(null=True, blank=True)
    next_update_at = models.DateTimeField(null=True, blank=True)
    # When the commander was reminded of a missed next update (once per promised time).
    update_reminded_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # What every affected person is told once at the end ("the EHR is back; ...").
    resolution = models.TextField(blank=True)

    class Meta:
        ordering = ["-declared_at"]
        indexes = [
            models.Index(
                fields=["next_update_at"],
                name="incident_update_due",
                condition=models.Q(status="open"),
            ),
            models.Index(fields=["-declared_at"], name="incident_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.number}: {self.service}"

    def get_absolute_url(self) -> str:
        return reverse("incidents:detail", args=[self.pk])

    @property
    def number(self) -> str:
        return f"MI-{self.pk}"


class IncidentUpdate(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="updates")
    text = models.TextField()
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    posted_at = models.DateTimeField(default=timezone.now)
    next_update_at = models.DateTimeField(null=True, blank=True)
    # Set only before incident notices were kept in the outbox (tickets.outgoing): a task
    # published then and still queued sends nothing for an update that has it.
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["incident", "posted_at", "pk"]

    def __str__(self) -> str:
        return f"{self.incident.number} update {self.posted_at:%Y-%m-%d %H:%M}"


class Affected(models.Model):
    """A person who said "me too": counted and told, with no ticket of her own."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="affected")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    callback = models.CharField(max_length=60, blank=True)
    note = models.CharField(max_length=140, blank=True)
    joined_at = models.DateTimeField(default=timezone.now)
    # Set only before incident notices were kept in the outbox: a task published then and still
    # queued does not tell her again.
    told_resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["incident", "joined_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["incident", "user"], name="affected_once_per_person")
        ]

    def __str__(self) -> str:
        return f"{self.user} affected by {self.incident.number}"


class IncidentTicket(models.Model):
    """A ticket the incident explains: resolved with it. A ticket is in one incident at most."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="ticket_links")
    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="+")
    linked_at = models.DateTimeField(default=timezone.now)
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["incident", "linked_at", "pk"]

    def __str__(self) -> str:
        return f"{self.ticket_id} in {self.incident.number}"


class RecoveryItem(models.Model):
    """One line of the recovery checklist: back-entry of downtime forms, verify interfaces..."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="recovery")
    text = models.CharField(max_length=200)
    position = models.PositiveSmallIntegerField(default=0)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["incident", "position", "pk"]

    def __str__(self) -> str:
        return self.text


class IncidentAlert(models.Model):
    """A "possible major incident": a cluster of tickets of one category from several units in a
    short window, raised once to the on-call of the category's team, then confirmed (declared)
    or dismissed."""

    class Status(models.TextChoices):
        OPEN = "open", "Waiting for a technician"
        DECLARED = "declared", "Declared a major incident"
        DISMISSED = "dismissed", "Dismissed"

    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="+")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    detected_at = models.DateTimeField(default=timezone.now)
    first_ticket_at = models.DateTimeField()
    tickets = models.ManyToManyField(Ticket, related_name="+")
    unit_count = models.PositiveSmallIntegerField()
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # A dismissed cluster stays quiet until then; a declared one while its incident is open.
    quiet_until = models.DateTimeField(null=True, blank=True)
    incident = models.ForeignKey(
        Incident, on_delete=models.SET_NULL, null=True, blank=True, related_name="alerts"
    )

    class Meta:
        ordering = ["-detected_at"]
        constraints = [
            # However many sweepers run at once, one open alert per category.
            models.UniqueConstraint(
                fields=["category"],
                condition=models.Q(status="open"),
                name="incident_alert_one_open_per_category",
            )
        ]

    def __str__(self) -> str:
        return f"Possible major incident: {self.category} ({self.get_status_display()})"
