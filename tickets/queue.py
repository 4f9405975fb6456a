"""The technicians' queue: open tickets in time-to-breach order, saved views and their counts.

Selectors only; every change goes through services. The order is two stored columns
(``queue_rank`` pins P1s, ``next_due_at`` is the next deadline) read through a partial index,
so a page costs a few dozen rows whatever the history holds.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import django_filters
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db.models import Count, Q, QuerySet
from django.forms import CheckboxSelectMultiple
from django.http import HttpRequest, QueryDict

from core.reference_cache import ReferenceCache
from departments.models import Department, Team
from tickets.models import (
    Ticket,
    parse_ticket_number,
)

PAGE_SIZE = 50
BREACHING_SOON = timedelta(hours=1)
QUEUE_ORDER = ("queue_rank", "next_due_at", "id")


class SavedView(StrEnum):
    ALL = "all"
    MINE = "mine"
    UNASSIGNED = "unassigned"
    CRITICAL = "critical"
    BREACHING = "breaching"
    TRIAGE = "triage"


VIEW_LABELS = {
    SavedView.ALL: "All open",
    SavedView.MINE: "Mine",
    SavedView.UNASSIGNED: "Unassigned",
    SavedView.CRITICAL: "Critical areas",
    SavedView.BREACHING: "Breaching soon",
    SavedView.TRIAGE: "Needs triage",
}

_critical: ReferenceCache[str, list[int]] = ReferenceCache(Department)


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
    if view == SavedView.TRIAGE:
        # Filed by e-mail without the three answers: waiting at P4 for someone to ask them.
        return Q(needs_triage=True)
    return Q()


def view_counts(user: User, now: datetime) -> dict[str, int]:
    """Every saved view's count in one aggregate over the open tickets."""
    counts = Ticket.objects.open().aggregate(
        **{view.value: Count("pk", filter=view_q(view, user, now)) for view in SavedView}
    )
    return {view: counts[view.value] or 0 for view in SavedView}


PRIORITY_CHOICES = [(p, f"P{p}") for p in range(1, 6)]
STATUS_CHOICES = [(s.value, s.label) for s in Ticket.Status if s in Ticket.OPEN_STATUSES]
ASSIGNEE_CHOICES = [("mine", "Mine"), ("unassigned", "Unassigned")]


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
        choices=PRIORITY_CHOICES, widget=CheckboxSelectMultiple
    )
    status = django_filters.MultipleChoiceFilter(
        choices=STATUS_CHOICES, widget=CheckboxSelectMultiple
    )
    assignee = django_filters.ChoiceFilter(
        choices=ASSIGNEE_CHOICES, method="filter_assignee", empty_label="Anyone"
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
        pk = parse_ticket_number(value)
        if pk is not None:
            return queryset.filter(pk=pk)
        for word in value.split()[:6]:
            queryset = queryset.filter(title__icontains=word)
        return queryset


def queue_rows(queryset: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """The open tickets of ``queryset`` in queue order."""
    return queryset.filter(status__in=Ticket.OPEN_STATUSES).order_by(*QUEUE_ORDER)


def _version(user: User, latest: datetime | None, now: datetime) -> str:
    """What a technician's queue depends on: any ticket's change, who is asking (Mine), and the
    minute, for the counts that move with the clock ("breaching soon")."""
    return f"{latest.isoformat() if latest else '-'}|{user.pk}|{now:%Y%m%d%H%M}"


def queue_etag(user: User, query: str, now: datetime, latest: datetime | None) -> str:
    """Changes whenever the queue's version does, and when the filters do."""
    raw = f"{_version(user, latest, now)}|{query}"
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


COUNTS_SECONDS = 120


def current_view_counts(user: User, now: datetime, latest: datetime | None) -> dict[str, int]:
    """``view_counts``, counted once per version of the queue: reloading a queue where nothing
    changed (the same minute, no ticket written since) reads the counts it already made."""
    key = "queue-counts:" + hashlib.sha256(_version(user, latest, now).encode()).hexdigest()
    counts: dict[str, int] | None = cache.get(key)
    if counts is None:
        counts = view_counts(user, now)
        cache.set(key, counts, COUNTS_SECONDS)
    return counts


_names: ReferenceCache[str, list[tuple[int, str]]] = ReferenceCache(Team, Department)


def team_names() -> list[tuple[int, str]]:
    """Every team as (pk, name), by name: the filters' and the workspace's choices."""
    return _names.get_or_set(
        "teams", lambda: list(Team.objects.order_by("name").values_list("pk", "name"))
    )


def department_names() -> list[tuple[int, str]]:
    return _names.get_or_set(
        "departments", lambda: list(Department.objects.order_by("name").values_list("pk", "name"))
    )


def unfiltered(data: QueryDict) -> bool:
    """Whether the URL names no filter (the queue as a technician opens it)."""
    return data.keys().isdisjoint(QueueFilter.base_filters)


def filtered(data: QueryDict, request: HttpRequest, now: datetime) -> QuerySet[Ticket] | None:
    """The tickets the URL's filters select; None when they are not valid. A URL naming no
    filter selects every ticket without building the filter set and its form."""
    if unfiltered(data):
        return Ticket.objects.all()
    filters = QueueFilter(data, queryset=Ticket.objects.all(), request=request, now=now)
    return filters.qs if filters.is_valid() else None


@dataclass(frozen=True, slots=True)
class ViewTab:
    key: str
    label: str
    count: int
    current: bool


def view_tabs(user: User, now: datetime, current: str, latest: datetime | None) -> list[ViewTab]:
    counts = current_view_counts(user, now, latest)
    return [
        ViewTab(view.value, VIEW_LABELS[view], counts[view], view == current) for view in SavedView
    ]
