"""Shared-workstation safety: lockout, idle sign-out, CSP, CSRF, loud settings."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_five_wrong_passwords_lock_the_account_on_this_address(client, nurse_ed):
    for _ in range(5):
        client.post(reverse("login"), {"username": "nurse.ed", "password": "wrong"})
    response = client.post(reverse("login"), {"username": "nurse.ed", "password": "demo"})
    assert response.status_code == 429
    assert "Too many sign-in attempts" in response.content.decode()
    assert "x4357" in response.content.decode()


def test_lockout_does_not_lock_out_colleagues_on_the_same_address(client, nurse_ed, nurse_or):
    for _ in range(5):
        client.post(reverse("login"), {"username": "nurse.ed", "password": "wrong"})
    response = client.post(reverse("login"), {"username": "nurse.or", "password": "demo"})
    assert response.status_code == 302


def test_wrong_password_says_so_without_saying_which_part(client, nurse_ed):
    response = client.post(reverse("login"), {"username": "nurse.ed", "password": "nope"})
    body = response.content.decode()
    assert "Wrong username or password." in body


def sign_in_error(client: Client, username: str, typed: str = "nope") -> str:
    response = client.post(reverse("login"), {"username": username, "password": typed})
    assert response.status_code == 200
    errors = response.context["form"].non_field_errors()
    assert errors[0] in response.content.decode()
    return str(errors[0])


def test_each_wrong_password_says_how_many_tries_are_left(client, nurse_ed):
    said = [sign_in_error(client, "nurse.ed") for _ in range(4)]
    assert said == [
        "Wrong username or password. 4 tries left before this account is locked for 15 minutes.",
        "Wrong username or password. 3 tries left before this account is locked for 15 minutes.",
        "Wrong username or password. 2 tries left before this account is locked for 15 minutes.",
        "Wrong username or password. 1 try left before this account is locked for 15 minutes.",
    ]
    locked = client.post(reverse("login"), {"username": "nurse.ed", "password": "nope"})
    assert locked.status_code == 429
    assert "Too many sign-in attempts" in locked.content.decode()


def test_an_unknown_username_is_counted_like_a_real_one(client, nurse_ed):
    """The message must not tell an attacker which usernames exist."""
    real = [sign_in_error(client, "nurse.ed") for _ in range(2)]
    unknown = [sign_in_error(client, "nobody.here") for _ in range(2)]
    assert real == unknown
    assert unknown[1].startswith("Wrong username or password. 3 tries left")


def test_tries_are_counted_per_username_on_this_address(client, nurse_ed, nurse_or):
    sign_in_error(client, "nurse.ed")
    sign_in_error(client, "nurse.ed")
    assert "4 tries left" in sign_in_error(client, "nurse.or")


def test_tries_left_follow_the_lockout_settings(client, nurse_ed, settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_COOLOFF_TIME = 0.5  # hours
    assert sign_in_error(client, "nurse.ed") == (
        "Wrong username or password. 2 tries left before this account is locked for 30 minutes."
    )


def test_a_right_password_after_wrong_ones_signs_in_and_starts_the_count_again(client, nurse_ed):
    sign_in_error(client, "nurse.ed")
    sign_in_error(client, "nurse.ed")
    assert (
        client.post(reverse("login"), {"username": "nurse.ed", "password": "demo"}).status_code
        == 302
    )
    client.logout()
    assert "4 tries left" in sign_in_error(client, "nurse.ed")


def test_sessions_end_after_fifteen_idle_minutes():
    assert settings.SESSION_COOKIE_AGE == 15 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE


def test_pages_carry_the_idle_timer_and_a_strict_csp(client, nurse_ed):
    client.force_login(nurse_ed)
    response = client.get(reverse("file_ticket"))
    assert 'data-idle-timeout="900"' in response.content.decode()
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert "<script>" not in response.content.decode()  # no inline script anywhere


def test_keep_alive_renews_a_signed_in_session_only(client, nurse_ed):
    assert client.post(reverse("keep_alive")).status_code == 401
    client.force_login(nurse_ed)
    assert client.post(reverse("keep_alive")).json()["signed_in"] is True


def test_filing_without_csrf_token_is_refused(nurse_ed):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(nurse_ed)
    response = strict.post(reverse("file_ticket"), {"title": "x"})
    assert response.status_code == 403
    assert "This page expired" in response.content.decode()


def test_health_check_answers_without_a_session(client):
    assert client.get("/healthz/").json() == {"database": "ok"}


def run_settings(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "HELPDESK_"))}
    clean.update(env)
    clean["DJANGO_SETTINGS_MODULE"] = "helpdesk.settings"
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=clean,
        capture_output=True,
        text=True,
        check=False,
        cwd=settings.BASE_DIR,
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DJANGO_DEBUG": "maybe"}, "DJANGO_DEBUG must be one of"),
        ({"DJANGO_DEBUG": "0", "SECRET_KEY": ""}, "SECRET_KEY must be set"),
        ({"HELPDESK_IDLE_TIMEOUT_SECONDS": "soon"}, "must be a whole number"),
        ({"HELPDESK_TIME_ZONE": "Mars/Olympus"}, "not a known time zone"),
        ({"DATABASE_URL": "nonsense://x"}, "DATABASE_URL"),
        ({"HELPDESK_BASE_URL": "helpdesk.hospital.org"}, "HELPDESK_BASE_URL must be the address"),
        ({"HELPDESK_FILING_RATE": "lots"}, "HELPDESK_FILING_RATE must be a number of tickets"),
        ({"HELPDESK_FILING_RATE": "0/hour"}, "HELPDESK_FILING_RATE must be a number of tickets"),
    ],
)
def test_bad_settings_stop_start_up_with_a_message(env, message):
    result = run_settings(**env)
    assert result.returncode != 0
    assert message in result.stderr
