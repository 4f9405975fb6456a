"""The form IT schedules or changes a planned downtime with, in the hospital's local time."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django import forms
from django.db.models import F
from django.db.models.functions import Coalesce

from departments.models import Department
from incidents.downtime import DowntimeInvalid, DowntimeNotice, hospital_tz, local_instant
from incidents.models import PlannedDowntime
from tickets.models import Category

WALL_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S")
# The service's names for what the form asks in other words.
FIELD_OF = {"length": "length_minutes", "notice": "notice_hours", "__all__": None}


class WallTimeField(forms.Field):
    """A date and time on the hospital's wall clock, kept as entered (no time zone yet): the
    service decides what instant it is, and says so when it is none or two."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")

    def to_python(self, value: Any) -> datetime | None:
        if value in self.empty_values:
            return None
        if isinstance(value, datetime):
            return value.replace(tzinfo=None)
        text = str(value).strip()
        for pattern in WALL_FORMATS:
            try:
                return datetime.strptime(text, pattern)
            except ValueError:
                continue
        raise forms.ValidationError("Enter a date and a time, for example 2026-12-13 02:00.")


class DowntimeForm(forms.Form):
    service = forms.CharField(
        max_length=80,
        label="System or service",
        help_text="In the words clinical staff use: EHR (Epic), PACS, Wi-Fi on 4 West.",
    )
    category = forms.ModelChoiceField(
        queryset=Category.objects.filter(is_active=True)
        .select_related("parent")
        .order_by(
            Coalesce("parent__sort_order", "sort_order"),
            Coalesce("parent__name", "name"),
            F("parent_id").asc(nulls_first=True),
            "sort_order",
            "name",
        ),
        required=False,
        empty_label="None",
        label="Category (optional)",
    )
    hospital_wide = forms.BooleanField(required=False, label="Hospital-wide")
    departments = forms.ModelMultipleChoiceField(
        queryset=Department.objects.filter(is_active=True).order_by("tier", "name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Departments affected",
        help_text="Or tick hospital-wide.",
    )
    starts_at = WallTimeField(label="Starts")
    length_minutes = forms.IntegerField(
        required=False,
        label="Expected length (minutes)",
        help_text="Or give the end below.",
    )
    ends_at = WallTimeField(required=False, label="Ends")
    notice_hours = forms.IntegerField(
        initial=24,
        label="Show the advance notice (hours before the start)",
    )
    reason = forms.CharField(max_length=200, label="Reason")
    procedure = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        label="Procedure to follow",
        help_text="What units do meanwhile: downtime forms, the read-only workstation...",
    )
    is_drill = forms.BooleanField(required=False, label="This is a downtime drill")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        zone = hospital_tz().key
        self.fields["starts_at"].help_text = f"Local time ({zone})."
        self.fields["ends_at"].help_text = f"Local time ({zone}), or give the expected length."
        self.notice: DowntimeNotice | None = None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        try:
            starts_at = local_instant(data["starts_at"], field="starts_at")
            ends_at = (
                local_instant(data["ends_at"], field="ends_at") if data.get("ends_at") else None
            )
        except DowntimeInvalid as invalid:
            self.add_service_errors(invalid)
            return data
        length = data.get("length_minutes")
        self.notice = DowntimeNotice(
            service=data["service"],
            reason=data["reason"],
            procedure=data.get("procedure", ""),
            category=data.get("category"),
            hospital_wide=bool(data.get("hospital_wide")),
            departments=list(data.get("departments") or ()),
            starts_at=starts_at,
            ends_at=ends_at,
            length=None if length is None else timedelta(minutes=length),
            notice=timedelta(hours=data["notice_hours"]),
            is_drill=bool(data.get("is_drill")),
        )
        return data

    def add_service_errors(self, invalid: DowntimeInvalid) -> None:
        for field, messages in invalid.errors.items():
            for message in messages:
                self.add_error(FIELD_OF.get(field, field), message)


def form_initial(downtime: PlannedDowntime) -> dict[str, Any]:
    """A downtime as the form shows it: local wall times, the notice in whole hours."""
    tz = hospital_tz()
    return {
        "service": downtime.service,
        "category": downtime.category_id,
        "hospital_wide": downtime.hospital_wide,
        "departments": [department.pk for department in downtime.departments.all()],
        "starts_at": downtime.starts_at.astimezone(tz).replace(tzinfo=None),
        "ends_at": downtime.ends_at.astimezone(tz).replace(tzinfo=None),
        "notice_hours": int((downtime.starts_at - downtime.notice_from).total_seconds() // 3600),
        "reason": downtime.reason,
        "procedure": downtime.procedure,
        "is_drill": downtime.is_drill,
    }
