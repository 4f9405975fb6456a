"""The filter bar every report shares: a period (or custom dates) and four filters."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.db.models import F
from django.db.models.functions import Coalesce
from django.http import QueryDict

from departments.models import Department, Team
from reports import conf
from reports.queries import ReportFilters
from tickets.models import Category
from tickets.priority import PRIORITY_LABELS

DEFAULT_PERIOD = "30"
PERIODS = [
    ("7", "Last 7 days"),
    ("30", "Last 30 days"),
    ("90", "Last 90 days"),
    ("custom", "Custom dates"),
]
FILTER_FIELDS = ("period", "start", "end", "team", "category", "department", "priority")
# No help desk history goes back further; and date arithmetic near year 1 overflows.
EARLIEST_DAY = date(2000, 1, 1)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class ReportFilterForm(forms.Form):
    period = forms.ChoiceField(choices=PERIODS, required=False, label="Period")
    start = forms.DateField(required=False, label="From", widget=DateInput())
    end = forms.DateField(required=False, label="To", widget=DateInput())
    team = forms.ModelChoiceField(
        queryset=Team.objects.order_by("name"), required=False, empty_label="All teams"
    )
    category = forms.ModelChoiceField(
        queryset=Category.objects.select_related("parent").order_by(
            Coalesce("parent__sort_order", "sort_order"),
            Coalesce("parent__name", "name"),
            F("parent_id").asc(nulls_first=True),
            "sort_order",
            "name",
        ),
        required=False,
        empty_label="All categories",
        help_text="A tile takes in its subcategories.",
    )
    department = forms.ModelChoiceField(
        queryset=Department.objects.order_by("tier", "name"),
        required=False,
        empty_label="All departments",
    )
    priority = forms.TypedChoiceField(
        choices=[("", "All priorities"), *PRIORITY_LABELS.items()],
        coerce=int,
        empty_value=None,
        required=False,
    )

    def __init__(self, data: QueryDict | dict[str, Any] | None, *, today: date) -> None:
        super().__init__(data)
        self.today = today

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        period = data.get("period") or ("custom" if start or end else DEFAULT_PERIOD)
        if period == "custom":
            if not (start and end):
                raise forms.ValidationError("Give both a From and a To date for a custom period.")
            if end < start:
                raise forms.ValidationError("The To date must be on or after the From date.")
            if start < EARLIEST_DAY:
                raise forms.ValidationError(f"The From date cannot be before {_day(EARLIEST_DAY)}.")
            if end > self.today:
                raise forms.ValidationError("The To date cannot be after today.")
            if (end - start).days + 1 > conf.MAX_RANGE_DAYS:
                raise forms.ValidationError(
                    f"A report covers at most {conf.MAX_RANGE_DAYS} days; shorten the range."
                )
            data["period"] = "custom"
        else:
            # A chosen period wins over dates left in the form from an earlier custom range.
            data["period"] = period
            days = int(period)
            data["start"] = self.today - timedelta(days=days - 1)
            data["end"] = self.today
        return data

    def report_filters(self) -> ReportFilters:
        data = self.cleaned_data
        return ReportFilters(
            start=data["start"],
            end=data["end"],
            team_id=data["team"].pk if data.get("team") else None,
            category_id=data["category"].pk if data.get("category") else None,
            department_id=data["department"].pk if data.get("department") else None,
            priority=data.get("priority"),
        )

    def query_params(self) -> dict[str, str]:
        """The filters as the query string that gives them back (valid forms only)."""
        data = self.cleaned_data
        params = {"period": data["period"]}
        if data["period"] == "custom":
            params["start"] = data["start"].isoformat()
            params["end"] = data["end"].isoformat()
        for name in ("team", "category", "department"):
            if data.get(name):
                params[name] = str(data[name].pk)
        if data.get("priority"):
            params["priority"] = str(data["priority"])
        return params

    def querystring(self) -> str:
        return urlencode(self.query_params())

    def audit(self) -> dict[str, Any]:
        """The filters in words and codes, for the export audit trail."""
        data = self.cleaned_data
        found: dict[str, Any] = {
            "period": data["period"],
            "from": data["start"].isoformat(),
            "to": data["end"].isoformat(),
            "time_zone": conf.hospital_tz().key,
        }
        if data.get("team"):
            found["team"] = data["team"].slug
        if data.get("category"):
            found["category"] = data["category"].slug
        if data.get("department"):
            found["department"] = data["department"].code
        if data.get("priority"):
            found["priority"] = data["priority"]
        return found

    def describe(self) -> str:
        """ "1 Mar 2026 to 30 Mar 2026 · Network & Telecom · P1 Critical" """
        data = self.cleaned_data
        parts = [f"{_day(data['start'])} to {_day(data['end'])}"]
        for name in ("team", "category", "department"):
            if data.get(name):
                parts.append(str(data[name]))
        if data.get("priority"):
            parts.append(PRIORITY_LABELS[data["priority"]])
        return " · ".join(parts)


def _day(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def filter_data(query: QueryDict) -> dict[str, Any]:
    """The filter fields of a request's query string; empty values count as absent. With no
    period and no dates, the default period."""
    data = {name: query.get(name, "") for name in FILTER_FIELDS if query.get(name, "")}
    if not {"period", "start", "end"} & data.keys():
        data["period"] = DEFAULT_PERIOD
    return data
