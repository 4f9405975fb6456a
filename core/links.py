"""Paths the pages print on every request (the site's navigation, a ticket's actions, the queue's
rows), reversed once per URLconf and script prefix instead of once per link: a ``reverse`` costs
more than the rest of a queue row, and the page shell alone prints a dozen links.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse

# A pk no route can confuse with the rest of its path.
_MARKER = 8080808080

# The links every signed-in page carries (templates/base.html), by the name the template uses.
# (The brand's link to home stays a {% url %}: pages rendered without a request, such as the
# CSRF failure page, have no context processors.)
SITE_LINKS = {
    "file_ticket": "file_ticket",
    "my_tickets": "my_tickets",
    "queue": "queue",
    "pages": "pages",
    "mail": "intake:status",
    "incidents": "incidents:list",
    "reports": "reports:index",
    "privacy": "privacy:ticket",
    "on_call": "on_call",
    "downtimes": "downtime:upcoming",
    "account": "account",
    "logout": "logout",
    "login": "login",
    "keep_alive": "keep_alive",
}


@cache
def _id_path(name: str, keys: tuple[str, ...], urlconf: str, prefix: str) -> tuple[str, ...]:
    """The path's parts around its ids, which it must hold in the order ``keys`` names them."""
    markers = [str(_MARKER + number) for number in range(len(keys))]
    rest = reverse(name, kwargs=dict(zip(keys, markers, strict=True)))
    parts = []
    for key, marker in zip(keys, markers, strict=True):
        head, found, rest = rest.partition(marker)
        assert found, f"{name} has no {key} in its path, or not in this order"
        parts.append(head)
    return (*parts, rest)


@cache
def _site_links(urlconf: str, prefix: str) -> dict[str, str]:
    return {key: reverse(name) for key, name in SITE_LINKS.items()}


def pk_url(name: str) -> Callable[[int], str]:
    """``reverse(name, kwargs={"pk": pk})``, for any number of pks."""
    head, tail = _id_path(name, ("pk",), get_urlconf(settings.ROOT_URLCONF), get_script_prefix())
    return lambda pk: f"{head}{pk}{tail}"


def ids_url(name: str, first: str, second: str) -> Callable[[int, int], str]:
    """``reverse(name, kwargs={first: a, second: b})`` for a path holding two ids (a ticket's
    and one of its rows'), for any number of them."""
    head, middle, tail = _id_path(
        name, (first, second), get_urlconf(settings.ROOT_URLCONF), get_script_prefix()
    )
    return lambda a, b: f"{head}{a}{middle}{b}{tail}"


def site_links() -> dict[str, str]:
    """``reverse`` of each of ``SITE_LINKS``."""
    return _site_links(get_urlconf(settings.ROOT_URLCONF), get_script_prefix())
