"""Who is on call and how they are paged: each team's rotation, its overrides (swaps and sick-day
cover) and its escalation ladder. The tables keep the names they had in departments, where these
models started."""

from __future__ import annotations

from datetime import time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from departments.models import Team


class Rotation(models.Model):
    """A team's on-call rotation: members take turns, handing off on a local day and time."""

    team = models.OneToOneField(Team, on_delete=models.CASCADE, related_name="rotation")
    starts_on = models.DateField(help_text="The date of the first hand-off (first member).")
    handoff_time = models.TimeField(default=time(8, 0), help_text="Local time of each hand-off.")
    length_days = models.PositiveSmallIntegerField(
        default=7, help_text="Days per shift: 7 is a weekly rotation."
    )

    class Meta:
        db_table = "departments_rotation"

    def __str__(self) -> str:
        return f"{self.team.name} on-call rotation"

    def clean(self) -> None:
        if self.length_days < 1:
            raise ValidationError("A shift lasts at least one day.")


class RotationMember(models.Model):
    rotation = models.ForeignKey(Rotation, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        db_table = "departments_rotationmember"
        ordering = ["rotation", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["rotation", "user"], name="rotation_member_once")
        ]

    def __str__(self) -> str:
        return f"{self.position}: {self.user}"


class RotationOverride(models.Model):
    """A swap or sick-day cover: ``user`` is primary on call from ``starts_at`` to ``ends_at``.
    Where overrides overlap, the one entered last wins."""

    rotation = models.ForeignKey(Rotation, on_delete=models.CASCADE, related_name="overrides")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "departments_rotationoverride"
        ordering = ["-starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="override_ends_after_it_starts",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} covers {self.starts_at:%Y-%m-%d %H:%M}-{self.ends_at:%Y-%m-%d %H:%M}"

    def clean(self) -> None:
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError("An override must end after it starts.")


class EscalationPolicy(models.Model):
    """How a team is paged until someone acknowledges: ordered steps, the whole ladder repeated
    ``repeat_count`` times, then the chain is marked unanswered for managers to see.

    A team has up to one ladder per purpose: the one its tickets page, and the one a declared
    major incident pages to find its incident commander (usually the manager on call first, who
    takes command or hands it on, then a named deputy). A team without a commander ladder is
    paged through its ticket ladder, and the incident page says so."""

    class Purpose(models.TextChoices):
        TICKETS = "tickets", "Tickets"
        COMMANDER = "commander", "Incident commander"

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="escalation_policies")
    purpose = models.CharField(
        max_length=12,
        choices=Purpose.choices,
        default=Purpose.TICKETS,
        help_text="Tickets: who a ticket pages. Incident commander: who a declared major "
        "incident pages to take command.",
    )
    repeat_count = models.PositiveSmallIntegerField(
        default=2, help_text="Times to run the whole ladder before giving up as unanswered."
    )

    class Meta:
        db_table = "departments_escalationpolicy"
        verbose_name_plural = "escalation policies"
        ordering = ["team", "purpose"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "purpose"], name="escalation_policy_one_per_purpose"
            )
        ]

    def __str__(self) -> str:
        if self.purpose == self.Purpose.COMMANDER:
            return f"{self.team.name} incident commander escalation"
        return f"{self.team.name} escalation"


class EscalationStep(models.Model):
    class Target(models.TextChoices):
        PRIMARY = "primary", "Primary on call"
        SECONDARY = "secondary", "Secondary on call"
        MANAGER = "manager", "Manager on call"
        USER = "user", "A named person"

    policy = models.ForeignKey(EscalationPolicy, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField(default=0)
    target = models.CharField(max_length=12, choices=Target.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Only for 'a named person'.",
    )
    repage_minutes = models.PositiveSmallIntegerField(
        default=5, help_text="Page again this often while nobody acknowledges (0: once)."
    )
    wait_minutes = models.PositiveSmallIntegerField(
        default=15, help_text="Minutes without acknowledgement before the next step."
    )

    class Meta:
        db_table = "departments_escalationstep"
        ordering = ["policy", "position", "pk"]

    def __str__(self) -> str:
        return f"{self.position + 1}. {self.get_target_display()}"

    def clean(self) -> None:
        if (self.target == self.Target.USER) != (self.user_id is not None):
            raise ValidationError("Name a person for 'a named person', and only then.")
        if self.wait_minutes < 1:
            raise ValidationError("Wait at least one minute before the next step.")
