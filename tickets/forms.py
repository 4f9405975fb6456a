from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any

from django import forms
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.forms.widgets import SearchInput

from core.ids import parse_id
from departments.models import Department, Location, Team, active_locations
from departments.roles import IT_ROLES, display_name
from departments.units import (
    files_anywhere,
    files_for_other_unit,
    home_department_id,
    own_department_ids,
)
from tickets.attachments import limits_text
from tickets.models import Category, Ticket, filing_categories
from tickets.priority import PRIORITY_LABELS, SCOPE_LABELS, Scope
from tickets.queue import (
    ASSIGNEE_CHOICES,
    PRIORITY_CHOICES,
    STATUS_CHOICES,
    department_names,
    team_names,
)
from tickets.services import (
    ATTACHMENT_REASON_MAX_LENGTH,
    CALLBACK_MAX_LENGTH,
    COMMENT_MAX_LENGTH,
    DESCRIPTION_MAX_LENGTH,
    PASSAGE_MAX_LENGTH,
    STILL_BROKEN_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    RedactTarget,
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


def location_label(location: Location) -> str:
    return f"{location.department.code.upper()} - {location}"


class LocationSelect(forms.Select):
    """A location of another unit carries that unit's code and name, so that the page asks
    "Which unit are you reporting for?" as soon as one is picked."""

    other_units: Mapping[str, Location] = {}

    def create_option(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option = super().create_option(*args, **kwargs)
        location = self.other_units.get(str(option["value"]))
        if location is not None:
            option["attrs"]["data-other-unit"] = location.department.code
            option["attrs"]["data-other-unit-name"] = location.department.name
        return option


# The answer to "Which unit are you reporting for?" that means "mine after all".
OWN_UNIT = "own"


class CategoryChoiceField(CachedChoiceMixin, forms.ModelChoiceField[Category]):
    lookup = staticmethod(filing_categories)


# What the browser's picker offers (a phone offers its camera for image/*); the server decides
# by content whatever is sent.
ACCEPT = "image/*,.heic,.pdf,.txt,.log,.csv,.docx,.xlsx,.msg,.eml"


class FilesInput(forms.FileInput):
    """``<input type="file" name="attachments" multiple>``: the browser's own picker, which the
    page's script also fills from a paste or a drop."""

    allow_multiple_selected = True


class AttachmentsField(forms.FileField):
    """Any number of files (none included); what they are is decided by the service from
    their content (tickets/attachments.py), not here."""

    widget = FilesInput

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", "Screenshots or files (optional)")
        kwargs.setdefault("widget", FilesInput(attrs={"multiple": True, "accept": ACCEPT}))
        super().__init__(**kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        files = data if isinstance(data, list | tuple) else [data]
        return [super(AttachmentsField, self).clean(file, initial) for file in files if file]


def attachments_field() -> AttachmentsField:
    return AttachmentsField(help_text=limits_text())


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
        widget=LocationSelect,
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
    # Last on the form: fields sent after a file that is cut off for its size would be lost.
    attachments = attachments_field()
    # Asked only for a location outside her own units: that unit's code, or OWN_UNIT.
    reporting_for = forms.CharField(
        required=False, max_length=16, label="Which unit are you reporting for?"
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(
        self,
        *args: Any,
        user: AbstractBaseUser | AnonymousUser,
        workstation: Location | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.user, self.workstation = user, workstation
        # The location she was asked about ("Which unit are you reporting for?"), if any.
        self.other_unit: Location | None = None
        # Her home department, named in the question's "my own unit" answer.
        self.home_department: Department | None = None
        category_field = self.fields["category"]
        assert isinstance(category_field, forms.ModelChoiceField)
        category_field.queryset = Category.objects.filter(parent__isnull=True, is_active=True)
        location_field = self.fields["location"]
        assert isinstance(location_field, LocationChoiceField)
        location_field.choices = self._location_choices(location_field)
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4().hex)

    def _location_choices(self, field: LocationChoiceField) -> list[Any]:
        """Her own units' locations first (the workstation's, her home department's, the
        workstation's department's), then every other unit's, which asks which unit she is
        reporting for. Read from the cached locations: no query."""
        locations = list(active_locations().values())
        workstation = self.workstation
        home_id = home_department_id(self.user)
        own_ids = own_department_ids(self.user, workstation=workstation)
        groups: list[tuple[str, list[Location]]] = []
        if workstation is not None:
            groups.append(("This workstation", [workstation]))
        for department_id in sorted(own_ids, key=lambda pk: pk != home_id):
            unit = [loc for loc in locations if loc.department_id == department_id]
            if not unit:
                continue
            if department_id == home_id:
                self.home_department = unit[0].department
                title = f"Your unit: {unit[0].department.name}"
            else:
                title = f"This workstation's unit: {unit[0].department.name}"
            groups.append((title, [loc for loc in unit if loc != workstation]))
        others = [loc for loc in locations if loc.department_id not in own_ids]
        if files_anywhere(self.user):
            if not groups:
                return [("", "Choose a location"), *self._options(others)]
            groups.append(("Other units", others))
        else:
            groups.append(("Other units: you will be asked which unit you report for", others))
            assert isinstance(field.widget, LocationSelect)
            field.widget.other_units = {str(loc.pk): loc for loc in others}
        return [
            ("", "Choose a location"),
            *((title, self._options(members)) for title, members in groups if members),
        ]

    @staticmethod
    def _options(locations: list[Location]) -> list[tuple[int, str]]:
        return [(location.pk, location_label(location)) for location in locations]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        location: Location | None = cleaned.get("location")
        if location is None or not files_for_other_unit(
            self.user, location, workstation=self.workstation
        ):
            return cleaned
        self.other_unit = location
        department = location.department
        answer = cleaned.get("reporting_for")
        if answer == department.code:
            return cleaned
        if answer == OWN_UNIT:
            self.add_error(
                "location",
                f"{location} is in the {department.name}, not your unit: pick your unit's "
                f"location, or answer that you are reporting for the {department.name}.",
            )
        else:
            self.add_error(
                "reporting_for",
                f"{location} is in the {department.name}, not your unit: say which unit you "
                "are reporting for.",
            )
        return cleaned


class QuestionsForm(forms.Form):
    """The filing form's three questions, asked on their own of a ticket filed without them (by
    e-mail): the same fields, the same words."""

    care_delayed = FileTicketForm.base_fields["care_delayed"]
    scope = FileTicketForm.base_fields["scope"]
    workaround = FileTicketForm.base_fields["workaround"]


class MessageForm(forms.Form):
    """A message box with files: the words may be left out when files are sent."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.files.getlist("attachments"):
            self.fields["text"].required = False


class CommentForm(MessageForm):
    text = forms.CharField(
        max_length=COMMENT_MAX_LENGTH,
        label="Add a comment",
        error_messages={
            "required": "Write a comment before sending it.",
            "max_length": f"Keep a comment under {COMMENT_MAX_LENGTH} characters.",
        },
        widget=forms.Textarea(attrs={"rows": 3, "data-phi-check": "true"}),
    )
    attachments = attachments_field()


VISIBILITY_CHOICES = [("reply", "Reply to the requester"), ("internal", "Internal note (IT only)")]


class ReplyForm(MessageForm):
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
    attachments = attachments_field()


class RemoveAttachmentForm(forms.Form):
    """IT's "Remove this attachment", with the reason the timeline keeps."""

    reason = forms.CharField(
        max_length=ATTACHMENT_REASON_MAX_LENGTH,
        label="Why remove it?",
        help_text="For example: shows a patient's name. The timeline keeps the reason.",
        error_messages={
            "required": "Say why the attachment is removed.",
            "max_length": f"Keep the reason under {ATTACHMENT_REASON_MAX_LENGTH} characters.",
        },
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
    """IT's status change. Cancelling needs a reason: it goes to the requester on her ticket."""

    cancel_needs_note = True

    status = forms.ChoiceField(
        choices=[(s.value, s.label) for s in Ticket.Status if s != Ticket.Status.RESOLVED],
        label="Move to",
        error_messages={"required": "Choose the status to move the ticket to."},
    )
    note = forms.CharField(
        max_length=NOTE_MAX_LENGTH,
        required=False,
        label="Note for the requester",
        help_text="Required to cancel: say why.",
        error_messages={"max_length": f"Keep the note under {NOTE_MAX_LENGTH} characters."},
        # static/js/helpdesk.js makes the note required while "Cancelled" is chosen.
        widget=forms.TextInput(
            attrs={"data-required-with": "status-status", "data-required-when": "cancelled"}
        ),
    )

    @classmethod
    def offering(cls, statuses: list[tuple[str, str]]) -> StatusForm:
        """The workspace's form: the moves this ticket allows, none chosen until IT chooses."""
        form = cls(prefix="status")
        form.fields["status"].choices = [("", "Choose…"), *statuses]  # type: ignore[attr-defined]
        return form

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        cancelling = data.get("status") == Ticket.Status.CANCELLED
        if self.cancel_needs_note and cancelling and not data.get("note", "").strip():
            self.add_error("note", "Give a reason for cancelling; the requester sees it.")
        return data


class RequesterStatusForm(StatusForm):
    """A requester reopening or calling off her own ticket. A reason for calling it off is
    welcome but optional: a nurse whose problem went away should not be held up saying why."""

    cancel_needs_note = False


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

    @classmethod
    def offering(cls, *, people: list[tuple[int, str]], teams: list[tuple[int, str]]) -> AssignForm:
        """The workspace's form, its choices from the cached lists: rendering it reads nothing."""
        form = cls(prefix="assign")
        keep = ("", "(keep)")
        form.fields["assignee"].choices = [keep, *people]  # type: ignore[attr-defined]
        form.fields["team"].choices = [keep, *teams]  # type: ignore[attr-defined]
        return form

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
    )
    kind = forms.ChoiceField(
        choices=LINK_CHOICES,
        widget=forms.RadioSelect,
        initial="duplicate",
        label="Link",
    )


class FixedForm(forms.Form):
    """The requester's answer to "Fixed?" on a resolved ticket: one tap for yes; for "No, still
    broken", a line saying what is still wrong."""

    fixed = forms.TypedChoiceField(
        choices=[("yes", "Yes, it's fixed"), ("no", "No, still broken")],
        coerce=lambda value: value == "yes",
        error_messages={"required": "Choose yes or no.", "invalid_choice": "Choose yes or no."},
    )
    answer = forms.CharField(
        required=False,
        max_length=STILL_BROKEN_MAX_LENGTH,
        label="What is still broken?",
        error_messages={"max_length": f"Keep it under {STILL_BROKEN_MAX_LENGTH} characters."},
        widget=forms.TextInput(attrs={"data-phi-check": "true", "autocomplete": "off"}),
    )
    # Where the answer was given, to go back there: the list of her tickets or the ticket.
    back = forms.ChoiceField(choices=[("mine", "mine"), ("ticket", "ticket")], required=False)


class RedactForm(forms.Form):
    """Remove a passage of patient data: where it is, and the passage (selected or pasted)."""

    # Which text of the page the box is under (see redact_form).
    key = ""

    target = forms.ChoiceField(
        choices=RedactTarget.choices,
        error_messages={"required": "Choose the title, the description or a comment."},
    )
    event = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    passage = forms.CharField(
        max_length=PASSAGE_MAX_LENGTH,
        label="Text to remove",
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={
            "required": "Paste or type the text to remove.",
            "max_length": f"Keep the text to remove under {PASSAGE_MAX_LENGTH} characters.",
        },
    )


def redact_form(target: str, key: str, event_id: int | None = None) -> RedactForm:
    """The "Remove patient data" box under one text of a ticket page. A page holds several, so
    each box's ids carry its key ("id_redact-passage-title"); ``key`` also names the text the
    page's script reads a selection from."""
    form = RedactForm(
        prefix="redact", auto_id=f"id_%s-{key}", initial={"target": target, "event": event_id}
    )
    form.key = key
    return form


class QueueFilterForm(forms.Form):
    """The queue's filter bar as the page prints it, filled in from the URL (tickets.queue's
    QueueFilter applies the same names). Its lists come from the cached names: printing it reads
    nothing."""

    view = forms.CharField(required=False, widget=forms.HiddenInput)
    q = forms.CharField(
        required=False,
        label="Search",
        widget=SearchInput(attrs={"placeholder": "HD-1042 or words in the title"}),
    )
    team = forms.ChoiceField(required=False, label="Team")
    department = forms.ChoiceField(required=False, label="Department")
    assignee = forms.ChoiceField(
        required=False, label="Assignee", choices=[("", "Anyone"), *ASSIGNEE_CHOICES]
    )
    priority = forms.MultipleChoiceField(
        required=False,
        label="Priority",
        choices=PRIORITY_CHOICES,
        widget=forms.CheckboxSelectMultiple,
    )
    status = forms.MultipleChoiceField(
        required=False, label="Status", choices=STATUS_CHOICES, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].choices = [("", "Any team"), *team_names()]  # type: ignore[attr-defined]
        self.fields["department"].choices = [  # type: ignore[attr-defined]
            ("", "Any department"),
            *department_names(),
        ]

    @property
    def selects(self) -> list[forms.BoundField]:
        return [self["team"], self["department"], self["assignee"]]

    @property
    def checks(self) -> list[forms.BoundField]:
        return [self["priority"], self["status"]]

    @property
    def more_open(self) -> bool:
        """Whether "Priority and status" starts open: when the URL picks any of them."""
        return any(self[name].value() for name in ("priority", "status"))
