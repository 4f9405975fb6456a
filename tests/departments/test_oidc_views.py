"""The sign-in page with and without single sign-on, the local sign-in switch, and single
sign-on's start and callback answering what a browser may send them."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.messages import get_messages

from tests.departments.oidc_provider.server import OidcProvider, provider_redirect
from tests.factories import UserFactory

SSO_LINK = "Sign in with Lakeside Regional Medical Center</a>"


def told(response: Any) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_without_single_sign_on_the_sign_in_page_is_the_password_form(
    client: Any, reference_data: None
) -> None:
    page = client.get("/accounts/login/").content.decode()
    assert "Sign in with" not in page
    assert 'class="btn btn-primary btn-block" type="submit">Sign in</button>' in page


def test_with_single_sign_on_the_hospital_button_comes_first(
    client: Any, oidc: OidcProvider, django_assert_num_queries: Any
) -> None:
    # Nothing read to draw the page: no provider, no database.
    with django_assert_num_queries(0):
        page = client.get("/accounts/login/?next=/tickets/mine/").content.decode()
    assert page.index(SSO_LINK) < page.index('name="password"')
    assert 'href="/oidc/start/?next=%2Ftickets%2Fmine%2F"' in page
    assert "Or with a help desk account:" in page


def test_signing_in_goes_on_to_the_page_she_asked_for(client: Any, oidc: OidcProvider) -> None:
    start = client.get("/oidc/start/?next=/tickets/mine/")
    response = client.get(provider_redirect(client, oidc, "nora.nurse", start))
    assert response["Location"] == "/tickets/mine/"


def test_the_provider_is_asked_for_a_code_with_pkce_state_and_nonce(
    client: Any, oidc: OidcProvider, settings: Any
) -> None:
    settings.HELPDESK_OIDC = {**settings.HELPDESK_OIDC, "PROMPT": "login"}
    query = parse_qs(urlsplit(client.get("/oidc/start/")["Location"]).query)
    assert query["response_type"] == ["code"]
    assert query["code_challenge_method"] == ["S256"]
    assert query["scope"] == ["openid email profile"]
    assert query["redirect_uri"] == ["http://testserver/oidc/callback/"]
    assert query["prompt"] == ["login"]
    assert len(query["state"][0]) >= 32
    assert len(query["nonce"][0]) >= 32


def test_local_sign_in_switched_off_folds_the_form_away_for_break_glass_admins(
    client: Any, oidc: OidcProvider, settings: Any
) -> None:
    settings.HELPDESK = {**settings.HELPDESK, "LOCAL_SIGN_IN": False}
    page = client.get("/accounts/login/").content.decode()
    assert SSO_LINK in page
    assert "<summary>Administrator sign-in (when the directory is down)</summary>" in page
    assert "Or with a help desk account:" not in page


def test_local_sign_in_switched_off_refuses_staff_passwords_but_not_a_superuser(
    client: Any, oidc: OidcProvider, settings: Any, nurse_ed: Any
) -> None:
    settings.HELPDESK = {**settings.HELPDESK, "LOCAL_SIGN_IN": False}
    UserFactory(username="breakglass", is_superuser=True, is_staff=True)

    refused = client.post("/accounts/login/", {"username": "nurse.ed", "password": "demo"})
    assert refused.status_code == 200
    assert (
        "Help desk passwords are switched off here: use “Sign in with Lakeside Regional "
        "Medical Center”." in refused.content.decode()
    )
    assert client.get("/tickets/mine/").status_code == 302

    admitted = client.post("/accounts/login/", {"username": "breakglass", "password": "demo"})
    assert admitted.status_code == 302
    assert client.get("/tickets/mine/").status_code == 200


@pytest.mark.parametrize("path", ["/oidc/start/", "/oidc/callback/?code=x&state=y"])
def test_without_single_sign_on_its_addresses_are_not_there(
    client: Any, reference_data: None, path: str
) -> None:
    assert client.get(path).status_code == 404
    assert client.post("/oidc/backchannel-logout/", {"logout_token": "x"}).status_code == 404


def test_a_callback_the_directory_refused_says_so(client: Any, oidc: OidcProvider) -> None:
    response = client.get("/oidc/callback/?error=access_denied&state=whatever")
    assert response["Location"] == "/accounts/login/"
    assert told(response) == [
        "The hospital's directory did not sign you in (access_denied). Sign in again."
    ]


def test_a_callback_this_browser_never_started_is_refused(client: Any, oidc: OidcProvider) -> None:
    response = client.get("/oidc/callback/?code=made-up&state=made-up")
    assert response["Location"] == "/accounts/login/"
    assert told(response) == ["The sign-in did not complete. Sign in again."]


def test_a_callback_used_twice_is_refused_the_second_time(client: Any, oidc: OidcProvider) -> None:
    callback = provider_redirect(client, oidc, "nora.nurse", client.get("/oidc/start/"))
    client.get(callback)
    client.post("/accounts/logout/")
    client.get("/oidc/start/")  # a new sign-in begun, so the session holds states again
    replayed = client.get(callback)
    assert replayed["Location"] == "/accounts/login/"
    assert told(replayed) == [
        "This sign-in was not started on this computer, or was already used. Sign in again."
    ]


def test_after_a_sign_out_the_next_single_sign_on_asks_for_the_password(
    client: Any, oidc: OidcProvider
) -> None:
    def prompt() -> list[str]:
        query = parse_qs(urlsplit(client.get("/oidc/start/")["Location"]).query)
        return query.get("prompt", [])

    assert prompt() == []
    client.get(provider_redirect(client, oidc, "nora.nurse", client.get("/oidc/start/")))
    assert client.post("/accounts/logout/")["Location"] == "/accounts/login/"
    assert prompt() == ["login"]
    # Once: a sign-in started again without signing out in between is single sign-on again.
    assert prompt() == []
