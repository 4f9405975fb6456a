from __future__ import annotations

from django import template

from reports import formatting

register = template.Library()


@register.filter
def duration(seconds: float | None) -> str:
    return formatting.duration(seconds)


@register.filter
def percent(value: float | None) -> str:
    return formatting.percent(value)


@register.filter
def share(part: int, whole: int) -> str:
    """{{ row.reopened|share:row.handled }}: "12.5% (1 of 8)"."""
    return formatting.share(part, whole)
