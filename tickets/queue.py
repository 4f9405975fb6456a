"""The technicians' queue: open tickets in time-to-breach order, saved views and their counts.

Selectors only; every change goes through services. The order is two stored columns
(``queue_rank`` pins P1s, ``next_due_at`` is the next deadline) read through a partial index,
so a page costs a few dozen rows whatever the history holds.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import django_filters
from django.contrib.auth.models import User
from django.db.models import Count, Max, Q, QuerySet
from django.forms import CheckboxSelectMultiple

from departments.models import Department, Team
from helpdesk.ttl_cache import TtlCache, reference_cache
from tickets.models import TICKET_NUMBER_OFFSET, TICKET_PREFIX, Ticket

PAGE_SIZE = 50
BREACHING_SOON = timedelta(hours=1)
QUEUE_ORDER = ("queue_rank", "next_due_at", "id")


class SavedView(StrEnum):
    ALL = "all"
    MINE = "mine"
    UNASSIGNED = "unassigned"
    CRITICAL = "critical"
    BREACHING = "breaching"


VIEW_LABELS = {
    SavedView.ALL: "All open",
    SavedView.MINE: "Mine",
    SavedView.UNASSIGNED: "Unassigned",
    SavedView.CRITICAL: "Critical areas",
    SavedView.BREACHING: "Breaching soon",
}

_critical: TtlCache[list[int]] = reference_cache()


def critical_department_ids() -> list[int]:
    """ED, OR and the other tier-1 and auto-escalating departments."""
    return _critical.get_or_set(
        "critical",
        lambda: list(
            Department.objects.filter(
                Q(auto_escalate=True) | Q(tier=Department.Tier.CRITICAL)
            ).values_list("pk", flat=True)
        ),
    )


def view_q(view: SavedView, user: User, now: datetime) -> Q:
    if view == SavedView.MINE:
        return Q(assignee=user)
    if view == SavedView.UNASSIGNED:
        return Q(assignee__isnull=True)
    if view == SavedView.CRITICAL:
        return Q(department_id__in=critical_department_ids())
    if view == SavedView.BREACHING:
        # A ticket waiting on someone cannot breach while it waits.
        return Q(next_due_at__lte=now + BREACHING_SOON) & ~Q(status__in=Ticket.PAUSED_STATUSES)
    return Q()


def view_counts(user: User, now: datetime) -> dict[str, int]:
    """Every saved view's count in one aggregate over the open tickets."""
    counts = Ticket.objects.open().aggregate(
        **{view.value: Count("pk", filter=view_q(view, user, now)) for view in SavedView}
    )
    return {view: counts[view.value] or 0 for view in SavedView}


def ticket_pk_from_number(text: str) -> int | None:
    """ "HD-1042" or "1042" -> the ticket's primary key."""
    cleaned = text.strip().upper().removeprefix(TICKET_PREFIX)
    if cleaned.isdigit() and len(cleaned) < 12:
        return int(cleaned) - TICKET_NUMBER_OFFSET
    return None


class QueueFilter(django_filters.FilterSet):  # type: ignore[misc]
    """The queue's filters, all in the URL so a view can be bookmarked. The API's ticket list
    uses the same filters."""

    view = django_filters.ChoiceFilter(
        choices=[(view.value, VIEW_LABELS[view]) for view in SavedView],
        method="filter_view",
        empty_label="All open",
    )
    team = django_filters.ModelChoiceFilter(
        queryset=Team.objects.order_by("name"), empty_label="Any team"
    )
    department = django_filters.ModelChoiceFilter(
        queryset=Department.objects.order_by("name"), empty_label="Any department"
    )
    priority = django_filters.MultipleChoiceFilter(
        choices=[(p, f"P{p}") for p in range(1, 6)], widget=CheckboxSelectMultiple
    )
    status = django_filters.MultipleChoiceFilter(
        choices=[(s.value, s.label) for s in Ticket.Status if s in Ticket.OPEN_STATUSES],
        widget=CheckboxSelectMultiple,
    )
    assignee = django_filters.ChoiceFilter(
        choices=[("mine", "Mine"), ("unassigned", "Unassigned")],
        method="filter_assignee",
        empty_label="Anyone",
    )
    q = django_filters.CharFilter(method="filter_search", label="Search")

    class Meta:
        model = Ticket
        fields: list[str] = []

    def __init__(self, *args: Any, now: datetime, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.now = now

    def filter_view(self, queryset: QuerySet[Ticket], name: str, value: str) -> QuerySet[Ticket]:
        return queryset.filter(view_q(SavedView(value), self.request.user, self.now))

    def filter_assignee(
        self, queryset: QuerySet[Ticket], name: str, value: str
    ) -> QuerySet[Ticket]:
        if value == "mine":
            return queryset.filter(assignee=self.request.user)
        return queryset.filter(assignee__isnull=True)

    def filter_search(self, queryset: QuerySet[Ticket], name: str, value: str) -> QuerySet[Ticket]:
        value = value.strip()[:100]
        if not value:
            return queryset
        pk = ticket_pk_from_number(value)
        if pk is not None:
            return queryset.filter(pk=pk)
        for word in value.split()[:6]:
            queryset = queryset.filter(title__icontains=word)
        return queryset


def queue_rows(queryset: QuerySet[Ticket]) -> QuerySet[Ticket]:
    return (
        queryset.filter(status__in=Ticket.OPEN_STATUSES)
        .select_related("department", "location", "assignee", "team")
        .defer("description")
        .order_by(*QUEUE_ORDER)
    )


def queue_etag(user: User, query: str, now: datetime) -> str:
    """Changes whenever any ticket does (every write moves updated_at), when the filters do, and
    once a minute, for the counts that move with the clock ("breaching soon")."""
    latest = Ticket.objects.aggregate(latest=Max("updated_at"))["latest"]
    raw = f"{latest.isoformat() if latest else '-'}|{user.pk}|{query}|{now:%Y%m%d%H%M}"
    return hashlib.sha256(raw.encode()).hexdigest()[:32]
