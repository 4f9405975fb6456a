"""While the database cannot be reached (restarting, failing over), people get a page that says
so and the API a JSON 503, both with Retry-After, never a 500; once it is back, the next request
is served as usual."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import pytest
from django.conf import settings
from django.db import OperationalError, connection
from django.shortcuts import redirect
from django.test import Client
from django.urls import reverse

from bench.slapd import free_port
from core.errors import (
    DATABASE_RETRY_AFTER_SECONDS,
    DATABASE_UNAVAILABLE,
    DATABASE_UNAVAILABLE_NOT_SAVED,
)
from helpdesk.middleware import DatabaseAvailabilityMiddleware
from tests.conftest import need
from tests.factories import UserFactory
from tests.tickets.test_paging_reliability import FILE_URL, answers
from tickets.models import Ticket


@contextmanager
def database_unreachable() -> Iterator[None]:
    """The app's database settings name a port nobody listens on: a real connection attempt,
    refused. (SQLite, embedded in the process, is never out of reach.)"""
    need_postgres()
    config = connection.settings_dict
    saved = dict(config)
    connection.close()
    config.update(HOST="127.0.0.1", PORT=str(free_port()))
    try:
        yield
    finally:
        connection.close()
        config.clear()
        config.update(saved)


def need_postgres() -> None:
    need(connection.vendor == "postgresql", "PostgreSQL")


@pytest.fixture
def down(django_db_blocker):
    with django_db_blocker.unblock(), database_unreachable():
        yield


def test_a_page_says_the_database_is_unreachable_with_a_503(down):
    response = Client().get("/file/")
    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/html")
    assert response["Retry-After"] == str(DATABASE_RETRY_AFTER_SECONDS)
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    assert "Try again in a minute" in page
    assert "Reload this page in a minute" in page
    # She only asked for a page: nothing of hers was lost, and she is not told otherwise.
    assert "not filed" not in page
    assert "not saved" not in page


def test_a_filing_sent_while_it_is_down_is_told_it_was_not_filed(down):
    response = Client().post("/file/", {"title": "Printer jams"})
    assert response.status_code == 503
    page = response.content.decode()
    assert "what you sent was not saved (a ticket was not filed)" in page
    assert "the form keeps what you typed" in page


def test_the_api_answers_json_503(down):
    response = Client().post(
        "/api/tickets/", {}, content_type="application/json", HTTP_AUTHORIZATION="Bearer x"
    )
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": DATABASE_UNAVAILABLE_NOT_SAVED}
    assert response["Retry-After"] == str(DATABASE_RETRY_AFTER_SECONDS)


def test_an_api_read_is_told_to_try_again_only(down):
    response = Client().get("/api/tickets/", HTTP_AUTHORIZATION="Bearer x")
    assert response.status_code == 503
    assert response.json() == {"detail": DATABASE_UNAVAILABLE}


@pytest.mark.django_db(transaction=True)
def test_the_next_request_after_it_is_back_is_served(reference_data):
    user = UserFactory(role="technician")
    client = Client()
    client.force_login(user)
    with database_unreachable():
        assert client.get("/queue/").status_code == 503
    assert client.get("/queue/").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_a_filing_kept_before_the_database_went_away_is_answered_as_filed(nurse_ed, monkeypatch):
    """The filing commits, then the database goes away before the nurse's session is renewed:
    she is sent to her confirmation as usual, not told (by Django's 400) that her request was
    bad, and her ticket is there, once."""
    going = ExitStack()

    def redirect_then_the_database_goes(*args, **kwargs):
        response = redirect(*args, **kwargs)
        going.enter_context(database_unreachable())
        return response

    need_postgres()
    monkeypatch.setattr("tickets.views.redirect", redirect_then_the_database_goes)
    client = Client()
    client.force_login(nurse_ed)
    with going:
        response = client.post(FILE_URL, answers())
    [ticket] = Ticket.objects.filter(requester=nurse_ed)
    assert (response.status_code, response.url) == (302, reverse("ticket_filed", args=[ticket.pk]))
    # Back, the database serves her confirmation: she is still signed in.
    assert client.get(response.url).status_code == 200


def on_call_page_when(monkeypatch, board):
    """The on-call page, with its board read by ``board``; the error page it ends on."""
    monkeypatch.setattr("oncall.views.on_call_board", board)
    client = Client(raise_request_exception=False)
    client.force_login(UserFactory(role="technician"))
    return client.get("/on-call/")


@pytest.mark.django_db
def test_a_connection_lost_mid_request_is_a_503_too(reference_data, monkeypatch):
    def lost(now):
        raise OperationalError("server closed the connection unexpectedly")

    response = on_call_page_when(monkeypatch, lost)
    assert response.status_code == 503
    assert "Try again in a minute" in response.content.decode()


@pytest.mark.django_db
def test_a_query_the_database_refused_stays_a_server_error(reference_data, monkeypatch):
    need_postgres()

    def refused(now):
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL statement_timeout = 1")
            cursor.execute("SELECT pg_sleep(1)")

    assert on_call_page_when(monkeypatch, refused).status_code == 500


def test_the_check_comes_before_the_session_and_the_user():
    order = settings.MIDDLEWARE
    check = order.index(
        f"{DatabaseAvailabilityMiddleware.__module__}.DatabaseAvailabilityMiddleware"
    )
    assert check < order.index("helpdesk.middleware.IdleAwareSessionMiddleware")
