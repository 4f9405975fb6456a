from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from reports.models import ExportAudit


@admin.register(ExportAudit)
class ExportAuditAdmin(admin.ModelAdmin[ExportAudit]):
    """Read-only: the audit trail of exports is written by the export views alone."""

    list_display = ["at", "user", "report", "included_titles", "rows"]
    list_filter = ["report", "included_titles"]
    list_select_related = ["user"]
    search_fields = ["user__username"]
    date_hierarchy = "at"
    fields = ("at", "user", "report", "filters", "included_titles", "rows")
    readonly_fields = ("at", "user", "report", "filters", "included_titles", "rows")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
