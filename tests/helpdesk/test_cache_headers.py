"""Shared workstations: no page or API answer stays in the browser's cache, so Back after
sign-out shows nothing; static files keep their long caching and the queue's polling its 304s."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.http import HttpResponse
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from rest_framework.test import APIClient

from departments.models import ApiToken
from helpdesk.middleware import NoStoreMiddleware
from tests.factories import TicketFactory
from tickets.models import Ticket

pytestmark = pytest.mark.django_db

TITLE = "Label printer in bay 4 prints blank labels"


def routes(patterns: list[URLPattern | URLResolver], prefix: str = "") -> Iterator[str]:
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from routes(pattern.url_patterns, route)
        else:
            yield route


def fill(route: str, ticket: Ticket) -> str:
    """A concrete URL for a route of the URL conf: ids are the ticket's, the rest plausible."""
    values = {"pk": str(ticket.pk), "report": "compliance", "token": "not-a-real-link",
              "attachment": "1", "name": "servicedesk"}  # fmt: skip
    filled = re.sub(r"\(\?P<format>[^)]*\)", "json", route)
    filled = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: values[m[1]], filled)
    filled = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values[m[1]], filled)
    filled = filled.replace("^", "").replace("$", "").replace("/?", "/").replace("\\.", ".")
    return "/" + filled


@pytest.fixture
def ticket(nurse_medsurg) -> Ticket:
    return TicketFactory(requester=nurse_medsurg, title=TITLE)


@pytest.fixture
def signed_in_urls(ticket) -> list[str]:
    """Every route of the URL conf but Django's admin (whose views mark themselves never-cache,
    and which has a test of its own below). A new route is covered without touching this."""
    urls = [
        fill(route, ticket)
        for route in routes(get_resolver().url_patterns)
        if not route.startswith("admin/")
    ]
    for url in urls:
        resolve(url)  # every filled URL reaches its own view, not a 404 of the resolver
    return urls


def no_store(response) -> bool:
    return "no-store" in response.get("Cache-Control", "")


def test_every_page_and_api_answer_a_technician_gets_is_never_stored(tech, signed_in_urls):
    client = Client(raise_request_exception=False)  # an error page must not be stored either
    client.force_login(tech)
    answers = {url: client.get(url) for url in signed_in_urls}
    assert answers[reverse("ticket_detail", args=[Ticket.objects.get().pk])].status_code == 200
    assert TITLE in answers[reverse("ticket_detail", args=[Ticket.objects.get().pk])].text
    stored = {url: answer.get("Cache-Control") for url, answer in answers.items()}
    assert {url: value for url, value in stored.items() if "no-store" not in (value or "")} == {}


def test_after_sign_out_the_same_urls_show_nothing_and_are_not_stored(tech, signed_in_urls):
    client = Client(raise_request_exception=False)
    client.force_login(tech)
    assert TITLE in client.get(reverse("queue")).text
    client.post(reverse("logout"))
    answers = {url: client.get(url) for url in signed_in_urls}
    assert [url for url, answer in answers.items() if TITLE in answer.content.decode()] == []
    assert [url for url, answer in answers.items() if not no_store(answer)] == []
    assert answers[reverse("queue")].status_code == 302
    assert answers["/api/tickets/"].status_code in {401, 403}


def test_api_answers_to_a_token_are_never_stored(tech, ticket):
    _token, raw = ApiToken.issue(user=tech, name="monitoring")
    response = APIClient().get("/api/tickets/", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 200
    assert TITLE in response.content.decode()
    assert no_store(response)


def test_the_page_showing_a_new_api_token_is_never_stored(client, tech):
    client.force_login(tech)
    response = client.post(reverse("account"), {"name": "my script"})
    assert response.status_code == 200
    assert re.search(r"hd_[\w-]{20,}", response.text)
    assert no_store(response)


def test_a_locked_out_sign_in_is_not_stored(client, nurse_ed):
    for _ in range(6):
        response = client.post(reverse("login"), {"username": "nurse.ed", "password": "wrong"})
    assert response.status_code == 429
    assert no_store(response)


def test_the_admin_is_never_stored(client, django_user_model):
    admin = django_user_model.objects.create_superuser("root", "root@example.org", "pw")
    client.force_login(admin)
    response = client.get("/admin/")
    assert response.status_code == 200
    assert no_store(response)


def test_static_files_keep_their_own_caching(client, tech):
    client.force_login(tech)
    response = client.get("/static/js/queue.js")
    assert response.status_code == 200
    assert "max-age" in response["Cache-Control"]
    assert "no-store" not in response["Cache-Control"]


def test_the_polled_queue_still_answers_304_when_nothing_changed(client, tech, ticket):
    """The page's script keeps the ETag itself and sends If-None-Match by hand, so the 304s do
    not depend on the browser keeping a copy: the fragment is not stored either."""
    client.force_login(tech)
    first = client.get(reverse("queue_fragment"))
    assert first.status_code == 200
    assert no_store(first)
    again = client.get(reverse("queue_fragment"), HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert again["ETag"] == first["ETag"]
    assert no_store(again)


def test_a_view_that_sets_its_own_caching_keeps_it(rf):
    def view(request):
        response = HttpResponse("public")
        response["Cache-Control"] = "public, max-age=600"
        return response

    assert NoStoreMiddleware(view)(rf.get("/"))["Cache-Control"] == "public, max-age=600"
