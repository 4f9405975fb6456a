"""The hospital's organisation: clinical departments, their locations, IT teams, business
calendars and the people who work in them ("who, where, when")."""

from __future__ import annotations

import hashlib
import secrets
from datetime import time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from core.reference_cache import ReferenceCache, ReferenceDataModel
from departments.business_time import BusinessCalendar as ClockCalendar
from departments.roles import DIRECTORY_ROLES


def _validate_time_zone(value: str) -> None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(f"{value!r} is not a time zone such as America/Chicago.") from None


class BusinessCalendar(ReferenceDataModel):
    """When the clock of a business-hours SLA runs: a time zone, weekly hours and holidays."""

    name = models.CharField(max_length=80, unique=True)
    time_zone = models.CharField(
        max_length=64, default="America/Chicago", validators=[_validate_time_zone]
    )
    always_open = models.BooleanField(
        default=False, help_text="Open around the clock every day (24x7); weekly hours are ignored."
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def as_clock(self) -> ClockCalendar:
        """The pure calendar that business time is counted on (held per process)."""
        return _clocks.get_or_set(self.pk, self._build_clock)

    def _build_clock(self) -> ClockCalendar:
        if self.always_open:
            return ClockCalendar.always_open(self.time_zone)
        weekly: dict[int, list[tuple[time, time]]] = {}
        for hours in self.hours.all():
            weekly.setdefault(hours.weekday, []).append((hours.opens, hours.closes))
        return ClockCalendar(
            tz=ZoneInfo(self.time_zone),
            weekly_hours={day: tuple(sorted(spans)) for day, spans in weekly.items()},
            holidays=frozenset(h.date for h in self.holidays.all()),
        )


class BusinessHours(ReferenceDataModel):
    class Weekday(models.IntegerChoices):
        MONDAY = 0
        TUESDAY = 1
        WEDNESDAY = 2
        THURSDAY = 3
        FRIDAY = 4
        SATURDAY = 5
        SUNDAY = 6

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    opens = models.TimeField()
    closes = models.TimeField(help_text="00:00 means midnight at the end of the day.")

    class Meta:
        ordering = ["calendar", "weekday", "opens"]
        verbose_name_plural = "business hours"

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}-{self.closes:%H:%M}"

    def clean(self) -> None:
        if self.closes != time(0, 0) and self.closes <= self.opens:
            raise ValidationError("Closing time must be after opening time (00:00 = midnight).")


class Holiday(ReferenceDataModel):
    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="holidays"
    )
    date = models.DateField()
    name = models.CharField(max_length=80)

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="holiday_once_per_calendar")
        ]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.name}"


_clocks: ReferenceCache[int, ClockCalendar] = ReferenceCache(
    BusinessCalendar, BusinessHours, Holiday
)


class Department(ReferenceDataModel):
    """A clinical department (ED, OR, ICU...): where a problem is, and so how urgent it is."""

    class Tier(models.IntegerChoices):
        CRITICAL = 1, "Tier 1: critical, 24x7"
        ROUND_THE_CLOCK = 2, "Tier 2: 24x7"
        BUSINESS_HOURS = 3, "Tier 3: business hours"

    code = models.SlugField(max_length=16, unique=True, help_text="Short code, e.g. ED or OR.")
    name = models.CharField(max_length=80)
    tier = models.PositiveSmallIntegerField(choices=Tier.choices, default=Tier.ROUND_THE_CLOCK)
    calendar = models.ForeignKey(
        BusinessCalendar,
        on_delete=models.PROTECT,
        related_name="departments",
        help_text="The clock this department's P2 and lower tickets run on.",
    )
    auto_escalate = models.BooleanField(
        default=False,
        help_text=(
            "Tickets located here move up one priority level, never sit below P2, and are P1 "
            "when care is delayed with no workaround."
        ),
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["tier", "name"]

    def __str__(self) -> str:
        return self.name


class Location(ReferenceDataModel):
    """A unit, room or workstation. Its department is where a ticket filed from it belongs."""

    class Kind(models.TextChoices):
        UNIT = "unit", "Unit"
        ROOM = "room", "Room or bay"
        WORKSTATION = "workstation", "Workstation"

    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="locations")
    code = models.CharField(
        max_length=32,
        unique=True,
        help_text="Workstation or room tag, as on its sticker (e.g. WOW-ED-07).",
    )
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.UNIT)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["department__tier", "department__name", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})" if self.kind == self.Kind.WORKSTATION else self.name


_locations: ReferenceCache[str, dict[int, Location]] = ReferenceCache(
    Location, Department, BusinessCalendar
)


def active_locations() -> dict[int, Location]:
    """Every location a ticket can be filed for, by id, with its department and calendar:
    read on every filing, held per process. Treat the rows as read-only."""
    return _locations.get_or_set(
        "active",
        lambda: {
            location.pk: location
            for location in Location.objects.filter(
                is_active=True, department__is_active=True
            ).select_related("department__calendar")
        },
    )


class Team(ReferenceDataModel):
    """An IT support team. Categories route to a team; a team has an on-call rotation.

    Teams are their own model rather than a kind of Department: they own categories, members and
    on-call rotations, and never own locations, calendars or the escalation switch.
    """

    slug = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=80)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True, help_text="Team line or hunt group.")
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="teams")
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="managed_teams",
        help_text="The manager on call: the last step of the escalation ladder.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PageChannel(models.TextChoices):
    """The ways a page can reach a person; oncall.channels delivers each of them."""

    CONSOLE = "console", "Console"
    EMAIL = "email", "E-mail"
    WEBHOOK = "webhook", "Webhook"


class AccountSource(models.TextChoices):
    LOCAL = "local", "Local account"
    LDAP = "ldap", "Hospital directory (LDAP / Active Directory)"
    OIDC = "oidc", "Hospital single sign-on (OpenID Connect)"


class Profile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    home_department = models.ForeignKey(
        Department, on_delete=models.SET_NULL, null=True, blank=True, related_name="staff"
    )
    job_title = models.CharField(max_length=80, blank=True)
    callback = models.CharField(
        max_length=60, blank=True, help_text="Extension or Vocera name to call back on."
    )
    pager = models.CharField(
        max_length=40, blank=True, help_text="Pager or mobile number for SMS pages."
    )
    page_channels = models.CharField(
        max_length=60,
        default="console,email",
        help_text="How pages reach this person, comma-separated: console, email, webhook.",
    )
    source = models.CharField(
        max_length=8,
        choices=AccountSource.choices,
        default=AccountSource.LOCAL,
        help_text="Where the account comes from. A directory account's roles, unit and details "
        "are set by the directory at every sign-in.",
    )
    directory_groups = models.JSONField(
        default=list, blank=True, help_text="The groups the directory gave at the last sign-in."
    )
    directory_synced_at = models.DateTimeField(
        null=True, blank=True, help_text="When the directory last refreshed this account."
    )
    unit_from_directory = models.BooleanField(
        default=False, help_text="The home department was given by the directory group mapping."
    )
    unit_asked_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When this person was asked for her unit (asked once, when the directory "
        "gives none).",
    )

    def __str__(self) -> str:
        return f"Profile of {self.user}"

    def clean(self) -> None:
        unknown = sorted(set(self.channels) - set(PageChannel.values))
        if unknown:
            raise ValidationError(
                {"page_channels": f"Unknown channel {', '.join(unknown)}; use "
                 f"{', '.join(sorted(PageChannel.values))}."}
            )  # fmt: skip

    @property
    def channels(self) -> list[str]:
        return [name.strip() for name in self.page_channels.split(",") if name.strip()]

    @property
    def from_directory(self) -> bool:
        return self.source != AccountSource.LOCAL


class DirectoryGroupMapping(ReferenceDataModel):
    """What a directory group gives its members here: a role, a unit (home department), or both.
    A row with neither takes away what the settings' mapping gives that group."""

    group = models.CharField(
        max_length=200,
        unique=True,
        help_text="The group's name as the directory gives it (its cn), e.g. GRP-ED-NURSING. "
        "Matched without regard to case.",
    )
    role = models.CharField(
        max_length=16,
        blank=True,
        choices=[
            (role.value, role.value.replace("_", " ").capitalize()) for role in DIRECTORY_ROLES
        ],
        help_text="The role members of this group have here.",
    )
    department = models.ForeignKey(
        Department,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="directory_groups",
        help_text="The unit members of this group work in.",
    )

    class Meta:
        ordering = ["group"]
        verbose_name = "directory group mapping"

    def __str__(self) -> str:
        return self.group


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def active(self) -> ApiTokenQuerySet:
        return self.filter(revoked_at__isnull=True, user__is_active=True)


class ApiToken(models.Model):
    """A token for an integration (a monitoring system, a script, a phone app). Only a hash is
    stored; the token itself is shown once, when it is made. It acts as its user, with exactly
    that user's role and scope."""

    PREFIX = "hd_"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=80, help_text="What uses it, e.g. 'SolarWinds alerts'.")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    hint = models.CharField(max_length=12, editable=False, help_text="The token's first letters.")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.hint}...)"

    @staticmethod
    def hash(raw: str) -> str:
        return hashlib.sha256(raw.encode()).hexdigest()

    @classmethod
    def issue(cls, *, user: Any, name: str) -> tuple[ApiToken, str]:
        """Make a token; returns the row and the raw token, which is never stored."""
        raw = cls.PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(user=user, name=name, key_hash=cls.hash(raw), hint=raw[:8])
        return token, raw


class OidcSession(models.Model):
    """A help desk session begun by signing in with the hospital's OpenID Connect provider, and
    what the provider's back-channel logout names it by: the person's subject and, when the
    provider gives one, its own session id. The row goes with the session (sign-out, idle
    timeout, expiry).

    With the provider's refresh token (encrypted, never in clear: departments.oidc), the
    background check asks the provider about the person every few minutes; ``checked_at`` is
    when it was last asked (or the sign-in)."""

    session = models.OneToOneField(
        Session, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    subject = models.CharField(max_length=255, db_index=True)
    provider_session = models.CharField(max_length=255, blank=True, db_index=True)
    started_at = models.DateTimeField(auto_now_add=True)
    # Fernet ciphertext of the provider's latest refresh token; empty: none to ask with.
    refresh_token = models.TextField(blank=True, editable=False)
    checked_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = "OpenID Connect session"

    def __str__(self) -> str:
        return f"OpenID Connect session of {self.subject}"
