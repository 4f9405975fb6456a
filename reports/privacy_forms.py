"""The privacy officer's three questions, as forms read from the query string."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.contrib.auth.models import User

from reports import conf
from reports.forms import EARLIEST_DAY, DateInput
from tickets.models import Ticket, parse_ticket_number


class TicketLookupForm(forms.Form):
    ticket = forms.CharField(label="Ticket number", max_length=20, help_text="For example HD-1042.")

    def clean_ticket(self) -> int:
        text = self.cleaned_data["ticket"]
        pk = parse_ticket_number(text)
        if pk is None:
            raise forms.ValidationError(f"{text!r} is not a ticket number; try HD-1042.")
        if not Ticket.objects.filter(pk=pk).exists():
            raise forms.ValidationError(f"There is no ticket {text.strip().upper()}.")
        return pk


class DateRangeForm(forms.Form):
    """From and To, inclusive, in the hospital's days; by default the last ``default_days``."""

    default_days = 7
    start = forms.DateField(required=False, label="From", widget=DateInput())
    end = forms.DateField(required=False, label="To", widget=DateInput())

    def __init__(self, data: Any, *, today: date) -> None:
        super().__init__(data)
        self.today = today

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        end = data.get("end") or self.today
        start = data.get("start") or end - timedelta(days=self.default_days - 1)
        if end < start:
            raise forms.ValidationError("The To date must be on or after the From date.")
        if start < EARLIEST_DAY:
            raise forms.ValidationError("The From date is too early.")
        if (end - start).days + 1 > conf.MAX_RANGE_DAYS:
            raise forms.ValidationError(
                f"Ask about at most {conf.MAX_RANGE_DAYS} days at a time; shorten the range."
            )
        data["start"], data["end"] = start, end
        return data

    def filters(self) -> dict[str, str]:
        return {"from": self.cleaned_data["start"].isoformat(),
                "to": self.cleaned_data["end"].isoformat()}  # fmt: skip


class PersonActivityForm(DateRangeForm):
    default_days = 30
    person = forms.CharField(label="User name", max_length=150)

    field_order = ["person", "start", "end"]

    def clean_person(self) -> User:
        username = self.cleaned_data["person"].strip()
        user = User.objects.filter(username=username).first()
        if user is None:
            raise forms.ValidationError(f"Nobody has the user name {username!r}.")
        return user

    def filters(self) -> dict[str, str]:
        return {"person": str(self.cleaned_data["person"].pk), **super().filters()}
