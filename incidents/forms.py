from __future__ import annotations

from typing import Any

from django import forms

from departments.models import Department
from incidents.services import MESSAGE_MAX_LENGTH, NOTE_MAX_LENGTH
from tickets.models import Category


class DeclareForm(forms.Form):
    service = forms.CharField(
        label="What is down", max_length=80, help_text="In the words the units use: EHR (Epic)."
    )
    category = forms.ModelChoiceField(
        label="Category", queryset=Category.objects.none(), help_text="Its team is paged."
    )
    hospital_wide = forms.BooleanField(label="Hospital-wide", required=False, initial=True)
    departments = forms.ModelMultipleChoiceField(
        label="Affected departments (when not hospital-wide)",
        queryset=Department.objects.none(),
        required=False,
    )
    message = forms.CharField(
        label="Message for clinical staff", max_length=MESSAGE_MAX_LENGTH, widget=forms.Textarea
    )
    workaround = forms.CharField(
        label="Workaround or downtime procedure",
        max_length=MESSAGE_MAX_LENGTH,
        required=False,
        widget=forms.Textarea,
    )
    next_update_at = forms.DateTimeField(
        label="Next update by",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        category = self.fields["category"]
        assert isinstance(category, forms.ModelChoiceField)
        category.queryset = Category.objects.filter(parent__isnull=True, is_active=True)
        departments = self.fields["departments"]
        assert isinstance(departments, forms.ModelMultipleChoiceField)
        departments.queryset = Department.objects.order_by("name")


class UpdateForm(forms.Form):
    text = forms.CharField(label="Update", max_length=MESSAGE_MAX_LENGTH, widget=forms.Textarea)
    next_update_at = forms.DateTimeField(
        label="Next update by",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )


class ResolveForm(forms.Form):
    resolution = forms.CharField(
        label="What everyone affected is told",
        max_length=MESSAGE_MAX_LENGTH,
        widget=forms.Textarea,
        help_text="The EHR is back; re-enter the downtime forms' orders.",
    )


class JoinForm(forms.Form):
    callback = forms.CharField(
        label="Callback (extension or Vocera name)", max_length=60, required=False
    )
    note = forms.CharField(
        label="Anything different for you? (optional)", max_length=NOTE_MAX_LENGTH, required=False
    )


class LinkForm(forms.Form):
    ticket = forms.CharField(label="Ticket number", max_length=20)


class RecoveryForm(forms.Form):
    text = forms.CharField(label="Checklist item", max_length=200)
