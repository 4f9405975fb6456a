"""A session cookie Django never issued is no session, never a server error (PostgreSQL
refuses a NUL byte in a query)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from core.sessions import SessionStore
from tests.api.conftest import bearer, issue_token
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

FORGED = ["\x00", "abc\x00def0123456789", "é" * 32, "a b c d e f g h", "../../etc/passwd"]


@pytest.mark.parametrize("key", FORGED)
def test_a_forged_session_key_is_no_session(key):
    store = SessionStore(key)
    assert store.session_key is None
    assert store.load() == {}


@pytest.mark.parametrize("key", FORGED)
def test_a_forged_session_cookie_signs_nobody_in_and_fails_nothing(reference_data, key):
    client = Client(raise_request_exception=False)
    client.cookies[settings.SESSION_COOKIE_NAME] = key
    assert client.get("/file/").status_code == 302  # to the sign-in page
    token = bearer(issue_token(UserFactory(role="technician")))
    assert client.get("/api/tickets/", **token).status_code == 200


def test_a_real_session_still_signs_in(client, reference_data):
    client.force_login(UserFactory(role="requester", home="MEDSURG"))
    assert client.get("/file/").status_code == 200
