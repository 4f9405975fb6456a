"""The mailboxes and what they received, for looking things up, and "Poll now" for an admin.
Held mail is decided on the help desk's own "Mail to review" page, which records who decided."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from intake.imap import mailbox_config
from intake.models import InboundMessage, MailboxStatus
from intake.polling import poll


@admin.register(MailboxStatus)
class MailboxStatusAdmin(admin.ModelAdmin[MailboxStatus]):
    list_display = ["name", "last_poll_at", "last_error", "failed_count", "leased_until"]
    readonly_fields = [field.name for field in MailboxStatus._meta.fields]
    actions = ["poll_now"]

    @admin.action(description="Poll the selected mailboxes now")
    def poll_now(self, request: HttpRequest, queryset: QuerySet[MailboxStatus]) -> None:
        for status in queryset:
            config = mailbox_config(status.name)
            if config is None:
                self.message_user(
                    request, f"{status.name}: no longer configured.", messages.WARNING
                )
                continue
            result = poll(config)
            level = messages.ERROR if result.error else messages.SUCCESS
            self.message_user(request, result.summary, level)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(InboundMessage)
class InboundMessageAdmin(admin.ModelAdmin[InboundMessage]):
    list_display = ["received_at", "mailbox", "sender", "outcome", "hold", "ticket"]
    list_filter = ["mailbox", "outcome", "hold"]
    list_select_related = ["ticket"]
    search_fields = ["sender", "message_key"]
    date_hierarchy = "received_at"
    exclude = ["raw", "body"]
    show_full_result_count = False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in InboundMessage._meta.fields if field.name != "raw"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
