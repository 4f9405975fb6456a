"""The Jinja2 environment for the hot partials: the queue's rows and filter bar, the ticket
page's timeline and workspace. These render dozens of rows on every poll; Jinja2 compiles them to
Python and renders them several times faster than the Django template language. Autoescaping is
on (Django's Jinja2 backend sets it), and undefined names fail loudly instead of printing nothing.

Pages themselves stay Django templates; a view renders a partial with ``render_partial`` and
places the result (escaped HTML) in the page.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import jinja2
from django.http import HttpRequest
from django.template.backends.utils import csrf_input
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString
from markupsafe import Markup, escape

from departments.roles import display_name
from tickets.templatetags.sla_display import age, time_left

ENGINE = "jinja2"


def local(moment: datetime | None, pattern: str) -> str:
    """A moment in the hospital's time zone, as strftime ``pattern`` says ("%a %-d %b, %H:%M")."""
    return "" if moment is None else timezone.localtime(moment).strftime(pattern)


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


def environment(**options: Any) -> jinja2.Environment:
    # Escaping always on, and a missing name is an error, whatever DEBUG says.
    options.pop("autoescape", None)
    options.pop("undefined", None)
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, **options)
    env.globals.update(url=lambda name, *args: reverse(name, args=args))
    env.filters.update(
        age=age,
        iso=iso,
        linebreaksbr=linebreaksbr,
        local=local,
        person=display_name,
        time_left=time_left,
        time_tag=time_tag,
    )
    return env


def render_partial(name: str, context: dict[str, Any], request: HttpRequest) -> SafeString:
    """Render a Jinja2 partial (under templates/jinja2/) to HTML a Django template can include.
    ``csrf`` is the CSRF field, made once (the backend's own ``csrf_input`` masks a new token
    every time a template prints it)."""
    context = {**context, "csrf": csrf_input(request)}
    return SafeString(get_template(name, using=ENGINE).render(context, request))
