"""The Jinja2 environment every page of the project renders with (the Django admin keeps Django's
own templates). The pages that matter most are lists of fifty rows polled every few seconds;
Jinja2 compiles a template to Python, so a macro or an include per row costs a function call
where the Django template language walks its node tree again.

Autoescaping is always on, and an undefined name fails loudly instead of printing nothing. The
filters here are how times and durations read; the environment the settings name
(``helpdesk.jinja``) adds the apps' own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import jinja2
from django.template.defaultfilters import floatformat
from django.templatetags.static import static
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.text import capfirst
from markupsafe import Markup, escape


def local(moment: datetime | None, pattern: str) -> str:
    """A moment in the hospital's time zone, as strftime ``pattern`` says ("%a %-d %b, %H:%M")."""
    return "" if moment is None else timezone.localtime(moment).strftime(pattern)


def date(moment: datetime | dt.date | None, pattern: str) -> str:
    """Django's ``date`` filter: a day, or a moment in the hospital's time zone, in Django's
    date format ("D j M, H:i", "c"); nothing for no moment."""
    if moment is None:
        return ""
    if isinstance(moment, datetime) and timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return dateformat.format(moment, pattern)


def iso(moment: datetime | None) -> str:
    """The machine-readable form for ``<time datetime>`` and ``data-due``: ISO 8601 with the
    offset the moment carries (UTC, as the database gives it). Browsers and scripts read any
    offset; nobody reads it as a clock, so the queue's fifty rows skip converting it."""
    return "" if moment is None else moment.isoformat()


def time_tag(moment: datetime | None, pattern: str) -> Markup:
    """``<time datetime="ISO">formatted</time>`` in the hospital's time zone (one conversion for
    both); nothing for no moment."""
    if moment is None:
        return Markup("")
    local_moment = timezone.localtime(moment)
    machine, shown = escape(local_moment.isoformat()), escape(local_moment.strftime(pattern))
    # Both parts are escaped above; Markup.format would do the same at five times the cost, and
    # the timeline prints one of these per event.
    return Markup(f'<time datetime="{machine}">{shown}</time>')  # noqa: S704


def linebreaksbr(text: str) -> Markup:
    """The text, escaped, its line breaks as ``<br>``: Django's filter of the same name."""
    lines = str(text).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return Markup("<br>").join(escape(line) for line in lines)


def pluralize(count: int, suffix: str = "s") -> str:
    """ "ticket{{ n|pluralize }}": the suffix unless there is exactly one."""
    return "" if count == 1 else suffix


def due_phrase(due: datetime | None) -> str:
    """How an SLA deadline reads to people, in the hospital's time zone, relative to today:
    "by 14:35", "by 10:00 tomorrow", "by Friday 09:00"."""
    if due is None:
        return ""
    moment = timezone.localtime(due)
    today = timezone.localdate()
    if moment.date() == today:
        return f"by {moment:%H:%M}"
    if moment.date() == today + timedelta(days=1):
        return f"by {moment:%H:%M} tomorrow"
    if today < moment.date() < today + timedelta(days=7):
        return f"by {moment:%A %H:%M}"
    return f"by {moment:%a %-d %b, %H:%M}"


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


def time_left(due: datetime | None) -> str:
    """ "in 20 min" before the deadline, "12 min overdue" after it."""
    if due is None:
        return ""
    seconds = (due - timezone.now()).total_seconds()
    return f"in {_span(seconds)}" if seconds >= 0 else f"{_span(seconds)} overdue"


def duration_words(seconds: float | None) -> str:
    """ "4 min", "1 h 20 min"."""
    return "" if seconds is None else _span(seconds)


def age(since: datetime | None) -> str:
    """How long ago, short: "12 min", "3 h 5 min", "2 d 4 h"."""
    if since is None:
        return ""
    return _span((timezone.now() - since).total_seconds())


def html_attrs(attrs: Mapping[str, Any]) -> Markup:
    """A form widget's attributes as Django's ``widgets/attrs.html`` writes them: True as the
    bare name, False left out, anything else as its text."""
    parts = []
    for name, value in attrs.items():
        if value is True:
            parts.append(f" {escape(name)}")
        elif value is not False:
            parts.append(f' {escape(name)}="{escape(value)}"')
    # Names and values are escaped above.
    return Markup("".join(parts))  # noqa: S704


def url(name: str, *args: Any) -> str:
    return reverse(name, args=args)


def environment(**options: Any) -> jinja2.Environment:
    """The environment with the filters every app's pages use; ``helpdesk.jinja`` adds the
    apps' own (how a person is named, how a report prints its figures)."""
    # Escaping always on, and a missing name is an error, whatever DEBUG says.
    options.pop("autoescape", None)
    options.pop("undefined", None)
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, **options)
    env.globals.update(html_attrs=html_attrs, static=static, url=url)
    env.filters.update(
        age=age,
        capfirst=capfirst,
        date=date,
        due_phrase=due_phrase,
        duration_words=duration_words,
        floatformat=floatformat,
        iso=iso,
        linebreaksbr=linebreaksbr,
        local=local,
        pluralize=pluralize,
        time_left=time_left,
        time_tag=time_tag,
    )
    return env
