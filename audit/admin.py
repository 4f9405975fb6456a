from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.actions import delete_selected as django_delete_selected
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from audit.models import AuditEntry
from audit.services import audit_record, object_type


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin[AuditEntry]):
    """Read only: the log takes no change from anyone."""

    list_display = ["at", "kind", "actor", "ticket_id", "object_type", "object_id"]
    list_filter = ["kind"]
    list_select_related = ["actor"]
    date_hierarchy = "at"
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.action(permissions=["delete"], description=django_delete_selected.short_description)  # type: ignore[attr-defined]
def delete_selected(
    modeladmin: admin.ModelAdmin[Any], request: HttpRequest, queryset: QuerySet[Any]
) -> TemplateResponse | None:
    """Django's "Delete selected", recorded: the admin's history of a deletion of several rows
    is written in bulk, which tells no signal (receivers.py records the one-row case)."""
    pks = [str(pk) for pk in queryset.values_list("pk", flat=True)]
    answer = django_delete_selected(modeladmin, request, queryset)
    if answer is None and len(pks) > 1:  # confirmed, and done
        label = object_type(queryset.model)
        for pk in pks:
            audit_record(
                kind=AuditEntry.Kind.ADMIN_CHANGE, actor=request.user, about_type=label,
                about_id=pk, detail={"action": "deleted"},
            )  # fmt: skip
    return answer


admin.site.add_action(delete_selected, "delete_selected")
