from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import HttpRequest

from departments.models import (
    ApiToken,
    BusinessCalendar,
    BusinessHours,
    Department,
    DirectoryGroupMapping,
    Holiday,
    Location,
    Profile,
    Team,
)
from departments.services import reapply_directory_mapping, token_issue, token_revoke


class BusinessHoursInline(admin.TabularInline[BusinessHours, BusinessCalendar]):
    model = BusinessHours
    extra = 0


class HolidayInline(admin.TabularInline[Holiday, BusinessCalendar]):
    model = Holiday
    extra = 0


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin[BusinessCalendar]):
    list_display = ["name", "time_zone", "always_open"]
    inlines = [BusinessHoursInline, HolidayInline]


class LocationInline(admin.TabularInline[Location, Department]):
    model = Location
    extra = 0
    fields = ["code", "name", "kind", "is_active"]


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin[Department]):
    list_display = ["code", "name", "tier", "calendar", "auto_escalate", "is_active"]
    list_editable = ["auto_escalate"]
    list_filter = ["tier", "auto_escalate", "is_active"]
    search_fields = ["code", "name"]
    inlines = [LocationInline]


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin[Location]):
    list_display = ["code", "name", "kind", "department", "is_active"]
    list_filter = ["kind", "department"]
    search_fields = ["code", "name"]
    list_select_related = ["department"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin[Team]):
    list_display = ["name", "email", "phone", "manager"]
    list_select_related = ["manager"]
    filter_horizontal = ["members"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin[Profile]):
    list_display = [
        "user", "home_department", "job_title", "callback", "pager", "page_channels", "source"
    ]  # fmt: skip
    list_select_related = ["user", "home_department"]
    list_filter = ["source"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    readonly_fields = ["source", "directory_groups", "directory_synced_at", "unit_from_directory"]


@admin.register(DirectoryGroupMapping)
class DirectoryGroupMappingAdmin(admin.ModelAdmin[DirectoryGroupMapping]):
    """Saving or deleting a row gives the directory accounts in that group their new roles and
    unit at once, from the groups their last sign-in brought."""

    list_display = ["group", "role", "department"]
    list_select_related = ["department"]
    list_filter = ["role", "department"]
    search_fields = ["group"]

    def save_model(
        self, request: HttpRequest, obj: DirectoryGroupMapping, form: Any, change: bool
    ) -> None:
        # Renaming a row changes what both its old and its new group give.
        groups = {obj.group, form.initial.get("group", obj.group)}
        super().save_model(request, obj, form, change)
        self._reapply(request, groups)

    def delete_model(self, request: HttpRequest, obj: DirectoryGroupMapping) -> None:
        super().delete_model(request, obj)
        self._reapply(request, {obj.group})

    def delete_queryset(
        self, request: HttpRequest, queryset: QuerySet[DirectoryGroupMapping]
    ) -> None:
        groups = set(queryset.values_list("group", flat=True))
        super().delete_queryset(request, queryset)
        self._reapply(request, groups)

    def _reapply(self, request: HttpRequest, groups: set[str]) -> None:
        count = reapply_directory_mapping(groups)
        if count:
            messages.info(request, f"Updated the roles and unit of {count} directory account(s).")


def admin_user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[ApiToken]):
    """Admins make tokens for integrations here. The token is shown once, right after saving;
    only its hash is kept."""

    list_display = ["name", "user", "hint", "created_at", "last_used_at", "revoked_at"]
    list_select_related = ["user"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "user__username"]
    autocomplete_fields = ["user"]
    fields = ["user", "name", "hint", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["hint", "created_at", "last_used_at"]
    actions = ["revoke"]

    def save_model(self, request: HttpRequest, obj: ApiToken, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        token, raw = token_issue(user=obj.user, name=obj.name, actor=admin_user(request))
        obj.pk = token.pk
        obj.key_hash, obj.hint, obj.created_at = token.key_hash, token.hint, token.created_at
        messages.warning(
            request, f"The token for {obj.name} is {raw} . Copy it now: it will not be shown again."
        )

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        count = token_revoke(
            tokens=queryset.filter(revoked_at__isnull=True), actor=admin_user(request)
        )
        messages.success(request, f"Revoked {count} token(s).")
