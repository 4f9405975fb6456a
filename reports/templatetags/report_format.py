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
