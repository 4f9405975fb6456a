from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from tickets.models import Category, Page, PageChain, SlaAlert, SlaPolicy, Ticket, TicketEvent


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin[Category]):
    list_display = ["name", "parent", "team", "sort_order", "is_active"]
    list_filter = ["team", "is_active"]
    list_select_related = ["parent", "team"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name"]


class TicketEventInline(admin.TabularInline[TicketEvent, Ticket]):
    """The timeline, read-only: audit rows are never edited or removed."""

    model = TicketEvent
    extra = 0
    can_delete = False
    fields = ("at", "kind", "actor", "is_public", "old_value", "new_value", "text")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin[Ticket]):
    """For looking things up. Changes go through the help desk's own pages, which record them on
    the timeline; admin edits would not be audited, so every field is read-only here."""

    list_display = [
        "__str__", "department", "priority", "status", "assignee", "source", "needs_triage",
        "created_at",
    ]  # fmt: skip
    list_filter = ["status", "priority", "source", "needs_triage", "department", "team"]
    list_select_related = ["department", "assignee"]
    search_fields = ["title"]
    date_hierarchy = "created_at"
    inlines = [TicketEventInline]
    show_full_result_count = False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in Ticket._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin[SlaPolicy]):
    list_display = [
        "priority",
        "department",
        "response_minutes",
        "resolution_minutes",
        "warn_percent",
        "calendar",
    ]
    list_filter = ["priority", "department"]
    list_select_related = ["department", "calendar"]


@admin.register(SlaAlert)
class SlaAlertAdmin(admin.ModelAdmin[SlaAlert]):
    list_display = ["ticket", "clock", "kind", "created_at"]
    list_filter = ["clock", "kind"]
    list_select_related = ["ticket"]
    readonly_fields = ["ticket", "clock", "kind", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


class PageInline(admin.TabularInline[Page, PageChain]):
    model = Page
    extra = 0
    can_delete = False
    fields = ("created_at", "step", "round", "repeat", "recipient", "channel", "status",
              "attempts", "sent_at", "last_error")  # fmt: skip
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PageChain)
class PageChainAdmin(admin.ModelAdmin[PageChain]):
    """Read-only: chains move through the paging engine, which records every step."""

    list_display = ["__str__", "team", "reason", "status", "started_at", "acknowledged_by"]
    list_filter = ["status", "reason", "team"]
    list_select_related = ["ticket", "team", "acknowledged_by"]
    inlines = [PageInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in PageChain._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
