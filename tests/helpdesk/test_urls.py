"""Every URL that takes an id answers a malformed one with 404, never a server error and never
another row: ids are ASCII digits that fit the database's id column, nothing else.

The routes come from the URL conf itself, so a route added later is covered without touching
this file."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.factories import TicketFactory, UserFactory

pytestmark = pytest.mark.django_db

ID_KWARGS = {"pk", "id", "number"}
PLACEHOLDER = 987654321

BAD_IDS = {
    "superscript two": "²",
    "circled one": "①",
    "arabic-indic twelve": "١٢",
    "decimal": "1.5",
    "negative": "-1",
    "beyond bigint": "9223372036854775808",
    "far beyond bigint": "99999999999999999999999999",
    "letters": "abc",
}


def kwarg_names(pattern: Any) -> set[str]:
    """The keyword arguments a pattern captures, for route and regex patterns alike."""
    return set(getattr(pattern, "converters", {})) | set(pattern.regex.groupindex)


def named_routes(
    patterns: list[Any], captured: frozenset[str] = frozenset(), namespace: str = ""
) -> Iterator[tuple[str, frozenset[str]]]:
    for entry in patterns:
        names = captured | kwarg_names(entry.pattern)
        if isinstance(entry, URLResolver):
            # Django's admin is for administrators only and parses its own object ids.
            if entry.namespace != "admin":
                inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                yield from named_routes(entry.url_patterns, names, inner)
        elif isinstance(entry, URLPattern) and entry.name and names:
            yield f"{namespace}{entry.name}", names


def id_routes() -> list[str]:
    """Every named route whose arguments are all ids, as a URL with a placeholder id."""
    urls = {
        reverse(name, kwargs=dict.fromkeys(names, PLACEHOLDER))
        for name, names in named_routes(get_resolver().url_patterns)
        if names <= ID_KWARGS
    }
    return sorted(urls)


ROUTES = id_routes()


def test_the_walk_finds_the_pages_and_the_api():
    placeholder = str(PLACEHOLDER)
    assert f"/tickets/{placeholder}/" in ROUTES
    assert f"/api/tickets/{placeholder}/claim/" in ROUTES
    assert f"/api/pages/{placeholder}/acknowledge/" in ROUTES


@pytest.fixture
def tech_client(client: Any, reference_data: None) -> Any:
    client.force_login(UserFactory(role="technician"))
    return client


@pytest.mark.parametrize("route", ROUTES)
def test_a_malformed_id_is_not_found(tech_client, route):
    """GET and POST alike: a POST-only route answers 404, not 405, since no such row exists."""
    answers = {}
    for name, bad in BAD_IDS.items():
        url = route.replace(str(PLACEHOLDER), bad)
        for method in ("get", "post"):
            response = getattr(tech_client, method)(url)
            json_error = not url.startswith("/api/") or (
                response["Content-Type"] == "application/json" and "detail" in response.json()
            )
            answers[name, method] = (response.status_code, json_error)
    assert answers == dict.fromkeys(answers, (404, True))


def indic(number: int) -> str:
    return str(number).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))


@pytest.mark.parametrize("route", ROUTES)
def test_arabic_indic_digits_are_not_another_spelling_of_an_id(tech_client, route):
    ticket = TicketFactory()
    response = tech_client.get(route.replace(str(PLACEHOLDER), indic(ticket.pk)))
    assert response.status_code == 404
