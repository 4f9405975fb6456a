"""API serializers: one per purpose. Output serializers read what the pages show; input
serializers only validate shapes. Business rules stay in tickets/services.py."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, tzinfo
from typing import Any

from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from departments.models import Department, Location, Team
from departments.roles import display_name, person_name
from tickets.models import (
    Attachment,
    Category,
    PageChain,
    Ticket,
    TicketEvent,
    resolution_clock,
    response_clock,
    ticket_number,
)
from tickets.priority import PRIORITY_LABELS, PagingRule, Scope, paging_rule
from tickets.queue import SavedView
from tickets.selectors import PEOPLE_COLUMNS, REFERENCE_CODES
from tickets.services import (
    CALLBACK_MAX_LENGTH,
    COMMENT_MAX_LENGTH,
    DESCRIPTION_MAX_LENGTH,
    PASSAGE_MAX_LENGTH,
    STILL_BROKEN_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    RedactTarget,
)
from tickets.sla import ClockStatus


def person(user: Any) -> str | None:
    return display_name(user) if user is not None else None


class ApiRootSerializer(serializers.Serializer[Any]):
    """Where each of the API's resources is, and its documentation."""

    tickets = serializers.URLField()
    departments = serializers.URLField()
    locations = serializers.URLField()
    categories = serializers.URLField()
    teams = serializers.URLField()
    on_call = serializers.URLField()
    pages = serializers.URLField(help_text="IT staff only.")
    reports = serializers.URLField(help_text="Managers and admins only.")
    schema = serializers.URLField(help_text="The OpenAPI schema (YAML; ?format=json for JSON).")
    docs = serializers.URLField(help_text="The API, browsable.")


class ValidationErrorSerializer(serializers.Serializer[Any]):
    """Field name -> list of messages."""

    field = serializers.ListField(child=serializers.CharField(), required=False)


class DepartmentSerializer(serializers.ModelSerializer[Department]):
    class Meta:
        model = Department
        fields = ["id", "code", "name", "tier", "auto_escalate"]


class LocationSerializer(serializers.ModelSerializer[Location]):
    department: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )

    class Meta:
        model = Location
        fields = ["id", "code", "name", "kind", "department"]


class TeamSerializer(serializers.ModelSerializer[Team]):
    class Meta:
        model = Team
        fields = ["id", "slug", "name", "email", "phone"]


class CategorySerializer(serializers.ModelSerializer[Category]):
    parent = serializers.SlugRelatedField(  # type: ignore[assignment,var-annotated]
        slug_field="slug", read_only=True, allow_null=True
    )
    team: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )

    class Meta:
        model = Category
        fields = ["id", "slug", "name", "parent", "team", "hint"]


def as_filed(ticket: Ticket) -> Ticket:
    """A ticket just filed, whose related rows are all at hand, with the values api_tickets()
    would read: the answer to a filing does not read back the row it has just written."""
    people = {"requester": ticket.requester, "assignee": ticket.assignee}
    vars(ticket).update(
        department_code=ticket.department.code,
        department_auto_escalate=ticket.department.auto_escalate,
        location_code=ticket.location.code,
        category_slug=ticket.category.slug,
        team_slug=ticket.team.slug,
        **{
            name: getattr(people[role], column) if people[role] is not None else None
            for name, (role, column) in PEOPLE_COLUMNS.items()
        },
    )
    return ticket


def named(first_name: str | None, last_name: str | None, username: str | None) -> str | None:
    """``person()`` from the columns of a LEFT JOIN: None when there is nobody."""
    if username is None:
        return None
    return person_name(first_name or "", last_name or "", username)


def moment(value: datetime | None, zone: tzinfo) -> str | None:
    """A timestamp exactly as DRF's DateTimeField writes it (ISO 8601 in the current time zone,
    "Z" for UTC), without building a field for each one."""
    if value is None:
        return None
    if timezone.is_naive(value):
        value = timezone.make_aware(value, zone)
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def clock_state(state: ClockStatus | None) -> str | None:
    return state.value if state else None


class TicketListSerializer(serializers.ListSerializer[Ticket]):
    """One clock reading and one time zone for the whole page."""

    def to_representation(self, data: Any) -> list[dict[str, Any]]:
        child = self.child
        assert isinstance(child, TicketSerializer)
        now, zone = timezone.now(), timezone.get_current_timezone()
        return [child.represent(ticket, now=now, zone=zone) for ticket in data]


# A ticket as the API shows it. The declared fields are the schema. Tickets read with
# selectors.api_tickets() or api_ticket_rows() (or given as_filed()) are written straight from
# their values, with one clock reading per page: a page of 50 through the fields cost more than
# all the rest of the request. tests/api/test_api_serializers.py checks the two give the same
# answer. (A comment, not a docstring: the docstring would become the schema's description.)
class TicketSerializer(serializers.ModelSerializer[Ticket]):
    number = serializers.CharField(read_only=True)
    priority_label = serializers.CharField(read_only=True)
    department: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    location: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    category: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )
    team: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )
    requester = serializers.SerializerMethodField()
    assignee = serializers.SerializerMethodField()
    response_state = serializers.SerializerMethodField()
    resolution_state = serializers.SerializerMethodField()
    resolution_code = serializers.SerializerMethodField()
    pages_on_call = serializers.SerializerMethodField()
    source = serializers.ChoiceField(  # type: ignore[assignment]
        choices=Ticket.Source.choices,
        read_only=True,
        help_text="How the ticket reached IT: the web form, e-mail, the API or the phone.",
    )
    needs_triage = serializers.BooleanField(
        read_only=True,
        help_text=(
            "Filed without the three questions answered (by e-mail): it waits at P4, neither "
            "escalated nor paged, until the requester or IT answers them on the ticket's "
            "questions page (/tickets/<id>/questions/)."
        ),
    )

    class Meta:
        model = Ticket
        fields = [
            "id", "number", "title", "description", "status", "priority", "priority_label",
            "urgency", "impact", "auto_escalated", "care_delayed", "pages_on_call", "department",
            "location", "category", "team",
            "requester", "assignee", "callback", "created_at", "updated_at",
            "first_response_at", "resolved_at", "closed_at", "response_due_at",
            "resolution_due_at", "response_state", "resolution_state", "phi_suspected",
            "resolution_code", "source", "needs_triage",
        ]  # fmt: skip
        read_only_fields = fields
        list_serializer_class = TicketListSerializer

    def to_representation(self, instance: Ticket) -> dict[str, Any]:
        return self.represent(instance, now=timezone.now(), zone=timezone.get_current_timezone())

    def represent(self, ticket: Any, *, now: datetime, zone: tzinfo) -> dict[str, Any]:
        """``ticket``: a row of api_ticket_rows(), a Ticket fetched with api_tickets(), or any other
        Ticket (through the declared fields)."""
        if isinstance(ticket, Ticket) and not REFERENCE_CODES.keys() <= vars(ticket).keys():
            return super().to_representation(ticket)
        return {
            "id": ticket.id,
            "number": ticket_number(ticket.id),
            "title": ticket.title,
            "description": ticket.description,
            "status": str(ticket.status),
            "priority": ticket.priority,
            "priority_label": PRIORITY_LABELS[ticket.priority],
            "urgency": str(ticket.urgency),
            "impact": str(ticket.impact),
            "auto_escalated": ticket.auto_escalated,
            "care_delayed": ticket.care_delayed,
            "pages_on_call": paging_rule(
                priority=ticket.priority,
                auto_escalate=ticket.department_auto_escalate,
                care_delayed=ticket.care_delayed,
            ).value,
            "department": ticket.department_code,
            "location": ticket.location_code,
            "category": ticket.category_slug,
            "team": ticket.team_slug,
            "requester": named(
                ticket.requester_first_name, ticket.requester_last_name, ticket.requester_username
            ),
            "assignee": named(
                ticket.assignee_first_name, ticket.assignee_last_name, ticket.assignee_username
            ),
            "callback": ticket.callback,
            "created_at": moment(ticket.created_at, zone),
            "updated_at": moment(ticket.updated_at, zone),
            "first_response_at": moment(ticket.first_response_at, zone),
            "resolved_at": moment(ticket.resolved_at, zone),
            "closed_at": moment(ticket.closed_at, zone),
            "response_due_at": moment(ticket.response_due_at, zone),
            "resolution_due_at": moment(ticket.resolution_due_at, zone),
            "response_state": clock_state(response_clock(ticket, now)),
            "resolution_state": clock_state(resolution_clock(ticket, now)),
            "phi_suspected": ticket.phi_suspected,
            "resolution_code": ticket.resolution_code or None,
            "source": str(ticket.source),
            "needs_triage": ticket.needs_triage,
        }

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_requester(self, ticket: Ticket) -> str | None:
        return person(ticket.requester)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_assignee(self, ticket: Ticket) -> str | None:
        return person(ticket.assignee)

    @extend_schema_field(
        serializers.ChoiceField(choices=Ticket.ResolutionCode.choices, allow_null=True)
    )
    def get_resolution_code(self, ticket: Ticket) -> str | None:
        return ticket.resolution_code or None

    @extend_schema_field(serializers.ChoiceField(choices=[rule.value for rule in PagingRule]))
    def get_pages_on_call(self, ticket: Ticket) -> str:
        """When the on-call is paged for this ticket: at once for a P1 ("p1") or for a P2 with
        care delayed in a department that escalates by itself ("critical_area"); otherwise only
        if its response target is breached ("on_response_breach")."""
        return ticket.paging_rule.value

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_response_state(self, ticket: Ticket) -> str | None:
        return clock_state(ticket.response_clock(timezone.now()))

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_resolution_state(self, ticket: Ticket) -> str | None:
        return clock_state(ticket.resolution_clock(timezone.now()))


def attachments_field() -> serializers.ListField:
    return serializers.ListField(
        child=serializers.FileField(allow_empty_file=True),
        required=False,
        default=list,
        write_only=True,
        help_text=(
            "Files, sent as multipart/form-data (repeat the field for several). Checked by "
            "content: screenshots, PDF, text/CSV, Word and Excel files, e-mails; 10 MB a file "
            "and 25 MB a ticket by default."
        ),
    )


class TicketCreateSerializer(serializers.Serializer[Any]):
    category: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="slug", queryset=Category.objects.filter(is_active=True).select_related("team")
    )
    title = serializers.CharField(max_length=TITLE_MAX_LENGTH)
    callback = serializers.CharField(max_length=CALLBACK_MAX_LENGTH)
    location: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Location.objects.filter(is_active=True).select_related("department"),
        required=False,
        help_text="Where the problem is (workstation, room or unit code). Required for people.",
    )
    department: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Department.objects.filter(is_active=True),
        required=False,
        help_text="Machine accounts only: file for a department's main unit.",
    )
    care_delayed = serializers.BooleanField()
    scope = serializers.ChoiceField(choices=[s.value for s in Scope])
    workaround = serializers.BooleanField()
    description = serializers.CharField(
        max_length=DESCRIPTION_MAX_LENGTH, required=False, allow_blank=True, default=""
    )
    attachments = attachments_field()
    for_other_unit = serializers.BooleanField(
        required=False,
        default=False,
        help_text=(
            "People only: true to file for a location outside your own units (your home "
            "department), as when covering another unit; the ticket records it. Without it, "
            "such a filing is refused."
        ),
    )


class TicketUpdateSerializer(serializers.Serializer[Any]):
    """Fields a PATCH may carry. Which of them a caller may change depends on the role."""

    title = serializers.CharField(max_length=TITLE_MAX_LENGTH, required=False)
    callback = serializers.CharField(max_length=CALLBACK_MAX_LENGTH, required=False)
    category: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="slug", queryset=Category.objects.filter(is_active=True), required=False
    )


class TextSerializer(serializers.Serializer[Any]):
    text = serializers.CharField(max_length=COMMENT_MAX_LENGTH)


class MessageSerializer(serializers.Serializer[Any]):
    """A reply or an internal note: words, files, or both (``text`` may be left out when files
    are sent)."""

    text = serializers.CharField(max_length=COMMENT_MAX_LENGTH)
    attachments = attachments_field()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        data: Any = getattr(self, "initial_data", None)
        if isinstance(data, Mapping) and data.get("attachments"):
            text = self.fields["text"]
            assert isinstance(text, serializers.CharField)
            text.required, text.allow_blank = False, True


class AttachmentSerializer(serializers.ModelSerializer[Attachment]):
    """An attachment's metadata and the link that serves it (with the ticket's scope)."""

    name = serializers.CharField(source="original_name")
    event = serializers.IntegerField(source="event_id")
    url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = ["id", "event", "name", "content_type", "size", "sha256", "created_at", "url"]
        read_only_fields = fields

    def get_url(self, attachment: Attachment) -> str:
        return reverse(
            "api-ticket-attachment",
            kwargs={"pk": attachment.ticket_id, "attachment": attachment.pk},
        )


class FixedSerializer(serializers.Serializer[Any]):
    fixed = serializers.BooleanField()
    answer = serializers.CharField(
        max_length=STILL_BROKEN_MAX_LENGTH, required=False, allow_blank=True, default=""
    )


class TransitionSerializer(serializers.Serializer[Any]):
    status = serializers.ChoiceField(choices=Ticket.Status.choices)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class ResolveSerializer(serializers.Serializer[Any]):
    code = serializers.ChoiceField(choices=Ticket.ResolutionCode.choices)
    note = serializers.CharField(
        max_length=COMMENT_MAX_LENGTH, required=False, allow_blank=True, default=""
    )


class AssignSerializer(serializers.Serializer[Any]):
    assignee = serializers.CharField(required=False, help_text="Username of an IT staff member.")
    team: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="slug", queryset=Team.objects.all(), required=False
    )


class PrioritySerializer(serializers.Serializer[Any]):
    priority = serializers.IntegerField(min_value=1, max_value=5)
    reason = serializers.CharField(max_length=300)


class LinkSerializer(serializers.Serializer[Any]):
    other = serializers.CharField(max_length=20, help_text="The other ticket's number, HD-1042.")
    kind = serializers.ChoiceField(choices=["duplicate", "related"])


class RedactSerializer(serializers.Serializer[Any]):
    target = serializers.ChoiceField(
        choices=RedactTarget.choices, help_text="Where the passage is: title, description, comment."
    )
    passage = serializers.CharField(
        max_length=PASSAGE_MAX_LENGTH,
        help_text="The patient data to remove, exactly as it is written there.",
    )
    event = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="For a comment: its id on the timeline (GET .../timeline/).",
    )


class TakeNextSerializer(serializers.Serializer[Any]):
    view = serializers.ChoiceField(choices=[view.value for view in SavedView], required=False)


class EventSerializer(serializers.ModelSerializer[TicketEvent]):
    actor = serializers.SerializerMethodField()

    class Meta:
        model = TicketEvent
        fields = ["id", "at", "kind", "actor", "is_public", "old_value", "new_value", "text"]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_actor(self, event: TicketEvent) -> str | None:
        return person(event.actor)


class PageChainSerializer(serializers.ModelSerializer[PageChain]):
    # A chain about something else than a ticket (a major incident) has none; its summary says.
    ticket = serializers.CharField(source="ticket.number", read_only=True, allow_null=True)
    team: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )
    acknowledged_by = serializers.SerializerMethodField()
    page_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = PageChain
        fields = [
            "id", "ticket", "summary", "team", "reason", "status", "started_at", "step", "round",
            "acknowledged_at", "acknowledged_by", "ended_at", "page_count",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_acknowledged_by(self, chain: PageChain) -> str | None:
        return person(chain.acknowledged_by)
