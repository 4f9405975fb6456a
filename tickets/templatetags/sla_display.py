"""How SLA times read to people: "by 14:35", "by 10:00 tomorrow", "in 1 h 20 min"."""

from __future__ import annotations

from datetime import datetime, timedelta

from django import template
from django.utils import timezone

register = template.Library()


@register.filter
def due_phrase(due: datetime | None) -> str:
    """When, in the hospital's time zone, relative to today."""
    if due is None:
        return ""
    local = timezone.localtime(due)
    today = timezone.localdate()
    if local.date() == today:
        return f"by {local:%H:%M}"
    if local.date() == today + timedelta(days=1):
        return f"by {local:%H:%M} tomorrow"
    if today < local.date() < today + timedelta(days=7):
        return f"by {local:%A %H:%M}"
    return f"by {local:%a %-d %b, %H:%M}"


def _span(seconds: float) -> str:
    minutes = int(abs(seconds) // 60)
    if minutes < 1:
        return "under a minute"
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


@register.filter
def time_left(due: datetime | None) -> str:
    """ "in 20 min" before the deadline, "12 min overdue" after it."""
    if due is None:
        return ""
    seconds = (due - timezone.now()).total_seconds()
    return f"in {_span(seconds)}" if seconds >= 0 else f"{_span(seconds)} overdue"


@register.filter
def duration_words(seconds: float | None) -> str:
    """ "4 min", "1 h 20 min"."""
    return "" if seconds is None else _span(seconds)


@register.filter
def age(since: datetime | None) -> str:
    """How long ago, short: "12 min", "3 h 5 min", "2 d 4 h"."""
    if since is None:
        return ""
    return _span((timezone.now() - since).total_seconds())
