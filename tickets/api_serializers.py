"""API serializers: one per purpose. Output serializers read what the pages show; input
serializers only validate shapes. Business rules stay in tickets/services.py."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from departments.models import Department, Location, Team
from departments.roles import display_name
from tickets.models import Category, PageChain, Ticket, TicketEvent
from tickets.priority import Scope
from tickets.services import (
    CALLBACK_MAX_LENGTH,
    COMMENT_MAX_LENGTH,
    DESCRIPTION_MAX_LENGTH,
    TITLE_MAX_LENGTH,
)


def person(user: Any) -> str | None:
    return display_name(user) if user is not None else None


class ErrorSerializer(serializers.Serializer[Any]):
    detail = serializers.CharField(help_text="What was wrong, in words to show a person.")


class ValidationErrorSerializer(serializers.Serializer[Any]):
    """Field name -> list of messages."""

    field = serializers.ListField(child=serializers.CharField(), required=False)


class DepartmentSerializer(serializers.ModelSerializer[Department]):
    class Meta:
        model = Department
        fields = ["code", "name", "tier", "auto_escalate"]


class LocationSerializer(serializers.ModelSerializer[Location]):
    department: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )

    class Meta:
        model = Location
        fields = ["code", "name", "kind", "department"]


class TeamSerializer(serializers.ModelSerializer[Team]):
    class Meta:
        model = Team
        fields = ["slug", "name", "email", "phone"]


class CategorySerializer(serializers.ModelSerializer[Category]):
    parent = serializers.SlugRelatedField(  # type: ignore[assignment,var-annotated]
        slug_field="slug", read_only=True, allow_null=True
    )
    team: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )

    class Meta:
        model = Category
        fields = ["slug", "name", "parent", "team", "hint"]


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

    class Meta:
        model = Ticket
        fields = [
            "id", "number", "title", "description", "status", "priority", "priority_label",
            "urgency", "impact", "auto_escalated", "department", "location", "category", "team",
            "requester", "assignee", "callback", "created_at", "updated_at",
            "first_response_at", "resolved_at", "closed_at", "response_due_at",
            "resolution_due_at", "response_state", "resolution_state", "phi_suspected",
            "resolution_code",
        ]  # fmt: skip
        read_only_fields = fields

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

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_response_state(self, ticket: Ticket) -> str | None:
        state = ticket.response_clock(timezone.now())
        return state.value if state else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_resolution_state(self, ticket: Ticket) -> str | None:
        state = ticket.resolution_clock(timezone.now())
        return state.value if state else None


class TicketCreateSerializer(serializers.Serializer[Any]):
    category: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="slug", queryset=Category.objects.filter(is_active=True)
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


class TicketUpdateSerializer(serializers.Serializer[Any]):
    """Fields a PATCH may carry. Which of them a caller may change depends on the role."""

    title = serializers.CharField(max_length=TITLE_MAX_LENGTH, required=False)
    callback = serializers.CharField(max_length=CALLBACK_MAX_LENGTH, required=False)
    category: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="slug", queryset=Category.objects.filter(is_active=True), required=False
    )


class TextSerializer(serializers.Serializer[Any]):
    text = serializers.CharField(max_length=COMMENT_MAX_LENGTH)


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


class TakeNextSerializer(serializers.Serializer[Any]):
    view = serializers.ChoiceField(
        choices=["all", "mine", "unassigned", "critical", "breaching"], required=False
    )


class EventSerializer(serializers.ModelSerializer[TicketEvent]):
    actor = serializers.SerializerMethodField()

    class Meta:
        model = TicketEvent
        fields = ["at", "kind", "actor", "is_public", "old_value", "new_value", "text"]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_actor(self, event: TicketEvent) -> str | None:
        return person(event.actor)


class PersonOnCallSerializer(serializers.Serializer[Any]):
    name = serializers.CharField()
    pager = serializers.CharField(allow_blank=True)
    callback = serializers.CharField(allow_blank=True)


class OnCallSerializer(serializers.Serializer[Any]):
    team = serializers.CharField()
    team_name = serializers.CharField()
    team_phone = serializers.CharField(allow_blank=True)
    primary = PersonOnCallSerializer(allow_null=True)
    secondary = PersonOnCallSerializer(allow_null=True)
    until = serializers.DateTimeField(allow_null=True)


class PageChainSerializer(serializers.ModelSerializer[PageChain]):
    ticket = serializers.CharField(source="ticket.number", read_only=True)
    team: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )
    acknowledged_by = serializers.SerializerMethodField()
    page_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = PageChain
        fields = [
            "id", "ticket", "team", "reason", "status", "started_at", "step", "round",
            "acknowledged_at", "acknowledged_by", "ended_at", "page_count",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_acknowledged_by(self, chain: PageChain) -> str | None:
        return person(chain.acknowledged_by)
