from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from departments.models import Location, Team, active_locations
from departments.roles import IT_ROLES, display_name
from helpdesk.ids import parse_id
from tickets.models import Category, Ticket, filing_categories
from tickets.priority import PRIORITY_LABELS, SCOPE_LABELS, Scope
from tickets.services import (
    CALLBACK_MAX_LENGTH,
    COMMENT_MAX_LENGTH,
    DESCRIPTION_MAX_LENGTH,
    TITLE_MAX_LENGTH,
)

YES_NO = [("yes", "Yes"), ("no", "No")]


def _yes(value: str) -> bool:
    return value == "yes"


class CategoryTiles(forms.RadioSelect):
    template_name = "tickets/widgets/category_tiles.html"
    option_template_name = "tickets/widgets/category_tile.html"

    def create_option(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option = super().create_option(*args, **kwargs)
        instance = getattr(option["value"], "instance", None)
        option["category"] = instance
        return option


class CachedChoiceMixin:
    """Validates a submitted id against a cached dict of reference rows instead of a query per
    field: filing is the hot path, and the rows change only when an administrator edits them."""

    lookup: Callable[[], Mapping[int, Any]]
    error_messages: dict[str, Any]

    def to_python(self, value: Any) -> Any:
        if value in self.empty_values:  # type: ignore[attr-defined]
            return None
        found = self.lookup().get(parse_id(str(value)) or 0)
        if found is None:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return found


class LocationChoiceField(CachedChoiceMixin, forms.ModelChoiceField[Location]):
    lookup = staticmethod(active_locations)

    def label_from_instance(self, obj: Location) -> str:
        return f"{obj.department.code.upper()} - {obj}"


class CategoryChoiceField(CachedChoiceMixin, forms.ModelChoiceField[Category]):
    lookup = staticmethod(filing_categories)


class FileTicketForm(forms.Form):
    """At most four things to type or pick, and three taps to answer."""

    category = CategoryChoiceField(
        queryset=Category.objects.none(),
        widget=CategoryTiles,
        label="What is it about?",
        error_messages={"required": "Pick what the problem is about."},
    )
    title = forms.CharField(
        max_length=TITLE_MAX_LENGTH,
        label="What's wrong, in one line?",
        help_text="For example: Epic frozen on all triage PCs.",
        error_messages={
            "required": "Say in one line what is wrong.",
            "max_length": f"Keep the summary under {TITLE_MAX_LENGTH} characters; "
            "put the details in the description.",
        },
        widget=forms.TextInput(attrs={"autocomplete": "off", "data-phi-check": "true"}),
    )
    callback = forms.CharField(
        max_length=CALLBACK_MAX_LENGTH,
        label="Callback number",
        help_text="Extension or Vocera name where IT can reach you.",
        error_messages={
            "required": "Give an extension or Vocera name so IT can call you back.",
            "max_length": f"Keep the callback under {CALLBACK_MAX_LENGTH} characters.",
        },
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    location = LocationChoiceField(
        queryset=Location.objects.none(),
        label="Where are you?",
        help_text="The unit, room or workstation with the problem.",
        error_messages={
            "required": "Pick where the problem is.",
            "invalid_choice": "That location is not in the list; pick one from it.",
        },
    )
    care_delayed = forms.TypedChoiceField(
        choices=YES_NO,
        coerce=_yes,
        widget=forms.RadioSelect,
        label="Is patient care delayed right now?",
        error_messages={"required": "Answer whether patient care is delayed right now."},
    )
    scope = forms.TypedChoiceField(
        choices=[(scope.value, SCOPE_LABELS[scope]) for scope in Scope],
        coerce=Scope,
        widget=forms.RadioSelect,
        label="Who is affected?",
        error_messages={"required": "Answer who is affected: just you, your unit or several."},
    )
    workaround = forms.TypedChoiceField(
        choices=YES_NO,
        coerce=_yes,
        widget=forms.RadioSelect,
        label="Is there a workaround?",
        help_text="Another PC, a downtime form, a phone call...",
        error_messages={"required": "Answer whether there is a workaround."},
    )
    description = forms.CharField(
        required=False,
        max_length=DESCRIPTION_MAX_LENGTH,
        label="Anything else IT should know? (optional)",
        help_text="Error messages, what you tried. Leave patient details out.",
        error_messages={
            "max_length": f"Keep the description under {DESCRIPTION_MAX_LENGTH} characters."
        },
        widget=forms.Textarea(attrs={"rows": 4, "data-phi-check": "true"}),
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        category_field = self.fields["category"]
        assert isinstance(category_field, forms.ModelChoiceField)
        category_field.queryset = Category.objects.filter(parent__isnull=True, is_active=True)
        location_field = self.fields["location"]
        assert isinstance(location_field, forms.ModelChoiceField)
        locations: QuerySet[Location] = Location.objects.filter(
            is_active=True, department__is_active=True
        ).select_related("department")
        location_field.queryset = locations
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4().hex)


class CommentForm(forms.Form):
    text = forms.CharField(
        max_length=COMMENT_MAX_LENGTH,
        label="Add a comment",
        error_messages={
            "required": "Write a comment before sending it.",
            "max_length": f"Keep a comment under {COMMENT_MAX_LENGTH} characters.",
        },
        widget=forms.Textarea(attrs={"rows": 3, "data-phi-check": "true"}),
    )


VISIBILITY_CHOICES = [("reply", "Reply to the requester"), ("internal", "Internal note (IT only)")]


class ReplyForm(forms.Form):
    """IT's reply box: a reply goes to the requester, a note stays in IT."""

    visibility = forms.ChoiceField(
        choices=VISIBILITY_CHOICES,
        widget=forms.RadioSelect,
        initial="reply",
        label="Who sees it?",
    )
    text = forms.CharField(
        max_length=COMMENT_MAX_LENGTH,
        label="Message",
        error_messages={
            "required": "Write something before sending it.",
            "max_length": f"Keep it under {COMMENT_MAX_LENGTH} characters.",
        },
        widget=forms.Textarea(attrs={"rows": 4, "data-phi-check": "true"}),
    )


# The workspace's limits and choices, shared by the forms and the page that prints them.
NOTE_MAX_LENGTH = 500
REASON_MAX_LENGTH = 300
TICKET_NUMBER_MAX_LENGTH = 20
RESOLUTION_CHOICES = [
    (code.value, code.label)
    for code in Ticket.ResolutionCode
    if code != Ticket.ResolutionCode.DUPLICATE
]
LINK_CHOICES = [("duplicate", "This is a duplicate of it"), ("related", "Related to it")]


class StatusForm(forms.Form):
    status = forms.ChoiceField(
        choices=[(s.value, s.label) for s in Ticket.Status if s != Ticket.Status.RESOLVED],
        label="Move to",
    )
    note = forms.CharField(
        max_length=NOTE_MAX_LENGTH, required=False, label="Note for the requester"
    )


class StaffChoiceField(forms.ModelChoiceField[User]):
    def label_from_instance(self, obj: User) -> str:
        return display_name(obj)


class AssignForm(forms.Form):
    assignee = StaffChoiceField(
        queryset=User.objects.none(), required=False, label="Person", empty_label="(keep)"
    )
    team = forms.ModelChoiceField(
        queryset=Team.objects.order_by("name"), required=False, label="Team", empty_label="(keep)"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        assignee = self.fields["assignee"]
        assert isinstance(assignee, forms.ModelChoiceField)
        assignee.queryset = self.people()

    @staticmethod
    def people() -> QuerySet[User]:
        """Whom a ticket can go to: active IT staff."""
        return (
            User.objects.filter(is_active=True, groups__name__in=[r.value for r in IT_ROLES])
            .distinct()
            .order_by("first_name", "last_name")
        )


class PriorityForm(forms.Form):
    priority = forms.TypedChoiceField(
        choices=list(PRIORITY_LABELS.items()), coerce=int, label="New priority"
    )
    reason = forms.CharField(
        max_length=REASON_MAX_LENGTH,
        label="Reason (goes on the record)",
        error_messages={"required": "Give a reason for changing the priority."},
    )


class ResolveForm(forms.Form):
    code = forms.ChoiceField(
        choices=RESOLUTION_CHOICES,
        label="How was it resolved?",
        error_messages={"required": "Choose how it was resolved."},
    )
    note = forms.CharField(
        max_length=COMMENT_MAX_LENGTH,
        required=False,
        label="Note for the requester",
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class LinkForm(forms.Form):
    other = forms.CharField(
        max_length=TICKET_NUMBER_MAX_LENGTH,
        label="Ticket number",
        help_text="For example HD-1042.",
    )
    kind = forms.ChoiceField(
        choices=LINK_CHOICES,
        widget=forms.RadioSelect,
        initial="duplicate",
        label="Link",
    )
