"""The Jinja2 environment the settings name: core's filters, and those of the apps whose pages
need them (how a person is named, how a report prints its figures)."""

from __future__ import annotations

from typing import Any

import jinja2

from core import jinja
from departments.roles import display_name
from reports.formatting import duration, percent, share


def environment(**options: Any) -> jinja2.Environment:
    env = jinja.environment(**options)
    env.filters.update(duration=duration, percent=percent, person=display_name, share=share)
    return env
