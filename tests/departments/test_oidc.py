"""Single sign-on's rules against a real OpenID Connect provider (tests/departments/
oidc_provider, its own process): accounts made and refreshed from the claims through the
directory's one provisioning function, ID tokens refused when they are not the provider's,
not for this help desk or stale, a provider that does not answer, and back-channel logout."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.contrib.messages import get_messages
from django.contrib.sessions.models import Session
from django.core.cache import cache

from departments.models import AccountSource, OidcSession
from departments.oidc import OidcConfig, ProviderUnavailable, claim, discovery, oidc_config
from departments.roles import Role
from tests.conftest import silent_server
from tests.departments.oidc_provider.server import OidcProvider, sign_in_with_test_client
from tests.factories import UserFactory

BACK_CHANNEL = "/oidc/backchannel-logout/"


def told(response: Any) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def signed_in(client: Any) -> bool:
    return bool(client.get("/tickets/mine/").status_code == 200)


def roles(username: str) -> set[str]:
    return set(User.objects.get(username=username).groups.values_list("name", flat=True))


def test_the_first_sign_in_makes_her_account_and_every_sign_in_refreshes_it(
    client: Any, oidc: OidcProvider
) -> None:
    response = sign_in_with_test_client(client, oidc, "nora.nurse")
    assert response["Location"] == "/"
    assert signed_in(client)
    nora = User.objects.get(username="nora.nurse")
    assert nora.profile.source == AccountSource.OIDC
    assert nora.profile.home_department.code == "ED"
    assert roles("nora.nurse") == {Role.REQUESTER}
    assert "GRP-ED-NURSING" in nora.profile.directory_groups

    # She moves to the service desk and marries: the next sign-in says so.
    oidc.set_claims("nora.nurse", groups=["GRP-IT-SERVICEDESK"], family_name="Berg")
    client.post("/accounts/logout/")
    sign_in_with_test_client(client, oidc, "nora.nurse")
    assert roles("nora.nurse") == {Role.TECHNICIAN}
    assert User.objects.get(username="nora.nurse").last_name == "Berg"
    assert User.objects.filter(username="nora.nurse").count() == 1


def test_the_department_claim_gives_the_unit_the_mapping_gives_it(
    client: Any, oidc: OidcProvider
) -> None:
    sign_in_with_test_client(client, oidc, "olga.periop")
    olga = User.objects.get(username="olga.periop")
    assert olga.profile.home_department.code == "OR"
    assert roles("olga.periop") == {Role.REQUESTER}


def test_someone_in_no_mapped_group_is_a_requester_asked_for_her_unit(
    client: Any, oidc: OidcProvider
) -> None:
    response = sign_in_with_test_client(client, oidc, "nobody.mapped")
    assert response["Location"].startswith("/account/unit/")
    assert roles("nobody.mapped") == {Role.REQUESTER}
    assert User.objects.get(username="nobody.mapped").profile.home_department is None


def test_the_directory_cannot_take_over_a_local_account(client: Any, oidc: OidcProvider) -> None:
    admin = UserFactory(username="admin", is_superuser=True, is_staff=True)
    response = sign_in_with_test_client(client, oidc, "admin")
    assert response["Location"] == "/accounts/login/"
    assert any("admin is a local account here" in message for message in told(response))
    assert not signed_in(client)
    admin.refresh_from_db()
    assert admin.has_usable_password()
    assert not OidcSession.objects.exists()


def test_a_switched_off_account_stays_out(client: Any, oidc: OidcProvider) -> None:
    sign_in_with_test_client(client, oidc, "nora.nurse")
    User.objects.filter(username="nora.nurse").update(is_active=False)
    assert client.get("/tickets/mine/")["Location"].startswith("/accounts/login/")

    response = sign_in_with_test_client(client, oidc, "nora.nurse")
    assert "This account is switched off in the help desk. Call the service desk." in told(response)
    assert not signed_in(client)


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("forged", "not signed by a key the hospital's directory publishes"),
        ("expired", "the directory's answer had expired"),
        ("wrong-audience", "the directory's answer did not check out"),
    ],
)
def test_an_id_token_that_is_not_the_providers_word_for_this_help_desk_is_refused(
    client: Any, oidc: OidcProvider, mode: str, message: str
) -> None:
    oidc.next_id_token(mode)
    response = sign_in_with_test_client(client, oidc, "nora.nurse")
    assert response["Location"] == "/accounts/login/"
    assert any(message in text for text in told(response))
    assert not signed_in(client)
    assert not User.objects.filter(username="nora.nurse").exists()


def test_the_provider_clock_a_minute_ahead_is_tolerated(client: Any, oidc: OidcProvider) -> None:
    oidc.next_id_token("skewed")
    sign_in_with_test_client(client, oidc, "nora.nurse")
    assert signed_in(client)


def test_discovery_is_read_once_then_kept_in_the_shared_cache(oidc: OidcProvider) -> None:
    config = oidc_config()
    assert config is not None
    document = discovery(config)
    assert document["issuer"] == oidc.issuer
    assert cache.get(f"oidc-discovery:{oidc.issuer}") == document


def test_a_discovery_document_naming_another_issuer_is_refused(oidc: OidcProvider) -> None:
    config = oidc_config()
    assert config is not None
    elsewhere = OidcConfig(
        **{**vars(config), "issuer": oidc.issuer.replace("127.0.0.1", "localhost")}
    )
    with pytest.raises(ProviderUnavailable):
        discovery(elsewhere)


@pytest.fixture
def hung_server() -> Iterator[str]:
    """A provider that accepts connections and never answers."""
    with silent_server() as port:
        yield f"http://127.0.0.1:{port}/o"


def closed_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/o"


@pytest.mark.parametrize("provider", ["down", "hung"])
def test_a_provider_that_does_not_answer_is_told_within_seconds(
    client: Any, oidc: OidcProvider, settings: Any, hung_server: str, provider: str
) -> None:
    issuer = hung_server if provider == "hung" else closed_port()
    settings.HELPDESK_OIDC = {**settings.HELPDESK_OIDC, "ISSUER": issuer, "TIMEOUT_SECONDS": 2}
    started = time.monotonic()
    response = client.get("/oidc/start/")
    assert time.monotonic() - started < 5
    assert response["Location"] == "/accounts/login/"
    assert told(response) == [
        "The hospital's sign-in service is not answering. Try again in a minute, or call the "
        "service desk."
    ]


def test_claims_are_read_by_name_or_by_dotted_path() -> None:
    claims = {"upn": "nora@lakeside.example", "realm_access": {"roles": ["GRP-ED-NURSING"]}}
    assert claim(claims, "upn") == "nora@lakeside.example"
    assert claim(claims, "realm_access.roles") == ["GRP-ED-NURSING"]
    assert claim(claims, "realm_access.missing") is None
    assert claim(claims, "upn.deeper") is None
    assert claim(claims, "") is None


def session_alive(client: Any) -> bool:
    return Session.objects.filter(session_key=client.session.session_key).exists()


def test_a_back_channel_logout_ends_every_help_desk_session_of_the_person(
    client: Any, oidc: OidcProvider, live_server: Any
) -> None:
    sign_in_with_test_client(client, oidc, "nora.nurse")
    ivan = type(client)()
    sign_in_with_test_client(ivan, oidc, "ivan.it")

    answer = oidc.back_channel_logout("nora.nurse", f"{live_server.url}{BACK_CHANNEL}")
    assert answer["status"] == 200
    assert not session_alive(client)
    assert client.get("/tickets/mine/")["Location"].startswith("/accounts/login/")
    assert session_alive(ivan)
    assert list(OidcSession.objects.values_list("subject", flat=True)) == [
        str(oidc.subject_of("ivan.it"))
    ]


@pytest.mark.parametrize(
    ("forged", "extra", "reason"),
    [
        (True, {}, "not signed by a key"),
        (False, {"nonce": "n-0S6_WzA2Mj"}, "must not carry a nonce"),
        (False, {"events": {}}, "no back-channel logout event"),
        (False, {"sub": ""}, "neither a subject nor a session"),
        (False, {"iat": 1_600_000_000, "exp": 4_000_000_000}, "too old"),
        (False, {"aud": "another-application"}, "did not check out"),
    ],
)
def test_a_logout_token_that_does_not_check_out_ends_nothing(
    client: Any, oidc: OidcProvider, forged: bool, extra: dict[str, Any], reason: str
) -> None:
    sign_in_with_test_client(client, oidc, "nora.nurse")
    token = oidc.back_channel_logout("nora.nurse", forged=forged, **extra)["token"]
    response = type(client)().post(BACK_CHANNEL, {"logout_token": token})
    assert response.status_code == 400
    assert reason in response.json()["error_description"]
    assert session_alive(client)


def test_a_logout_token_works_once(client: Any, oidc: OidcProvider) -> None:
    sign_in_with_test_client(client, oidc, "nora.nurse")
    token = oidc.back_channel_logout("nora.nurse")["token"]
    provider = type(client)()
    assert provider.post(BACK_CHANNEL, {"logout_token": token}).status_code == 200
    assert not session_alive(client)
    again = provider.post(BACK_CHANNEL, {"logout_token": token})
    assert again.status_code == 400
    assert again.json()["error_description"] == "the logout token was already used"


def test_a_logout_without_a_token_is_refused(client: Any, oidc: OidcProvider) -> None:
    assert client.post(BACK_CHANNEL).status_code == 400
    assert client.get(BACK_CHANNEL).status_code == 405
