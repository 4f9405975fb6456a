"""IT's decision about a held e-mail: whom to file it for, where, and about what."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.db.models import Q

from departments.models import Location
from tickets.models import Category


class AcceptForm(forms.Form):
    requester = forms.CharField(
        required=False,
        max_length=254,
        label="File it for",
        help_text="A help desk user's username or e-mail address. Leave it empty to make a "
        "requester from the sender's address and name.",
    )
    location = forms.ModelChoiceField(
        queryset=Location.objects.filter(is_active=True, department__is_active=True),
        label="Where is the problem?",
        empty_label="Choose a location",
        error_messages={"required": "Say where the problem is."},
    )
    category = forms.ModelChoiceField(
        queryset=Category.objects.filter(is_active=True, parent__isnull=True),
        label="What is it about?",
        empty_label="Choose a category",
        error_messages={"required": "Choose what it is about."},
    )

    def clean_requester(self) -> User | None:
        name = self.cleaned_data["requester"].strip()
        if not name:
            return None
        users = list(
            User.objects.filter(Q(username__iexact=name) | Q(email__iexact=name), is_active=True)[
                :2
            ]
        )
        if len(users) != 1:
            raise forms.ValidationError(
                "No active help desk user has this username or address."
                if not users
                else "Several users have this address: give the username."
            )
        return users[0]

    def decision(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "requester": data["requester"],
            "location": data["location"],
            "category": data["category"],
        }
