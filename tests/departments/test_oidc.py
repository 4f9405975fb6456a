"""Single sign-on's rules against a real OpenID Connect provider (tests/departments/
oidc_provider, its own process): accounts made and refreshed from the claims through the
directory's one provisioning function, ID tokens refused when they are not the provider's,
not for this help desk or stale, a provider that does not answer, back-channel logout, and the
background check that asks the provider about each signed-in person with her refresh token."""

from __future__ import annotations

import socket
import sqlite3
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import User
from django.contrib.messages import get_messages
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import AuditEntry
from departments.models import AccountSource, OidcSession
from departments.oidc import (
    REFRESH_IN_SESSION,
    OidcConfig,
    ProviderUnavailable,
    SessionCheck,
    check_oidc_sessions,
    claim,
    decrypt_token,
    discovery,
    oidc_config,
)
from departments.roles import Role
from departments.tasks import check_oidc_sessions_task
from tests.concurrency import at_once
from tests.conftest import need, silent_server
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


# The session check: the provider asked, in the background, about each signed-in person with
# her refresh token.

RECHECK = timedelta(minutes=10)


def refresh_tokens_at_provider(provider: OidcProvider, username: str) -> set[str]:
    """The refresh tokens the provider holds, unrevoked, for ``username`` (read from its own
    database)."""
    with sqlite3.connect(provider.folder / "provider.sqlite3") as database:
        rows = database.execute(
            "SELECT token.token FROM oauth2_provider_refreshtoken token "
            "JOIN auth_user person ON person.id = token.user_id "
            "WHERE person.username = ? AND token.revoked IS NULL",
            (username,),
        ).fetchall()
    return {row[0] for row in rows}


def stored_refresh_token(client: Any) -> str:
    row = OidcSession.objects.get(session_id=client.session.session_key)
    return row.refresh_token


def make_due(*clients: Any) -> None:
    """Last asked about longer ago than the interval."""
    keys = [client.session.session_key for client in clients]
    OidcSession.objects.filter(session_id__in=keys).update(
        checked_at=timezone.now() - RECHECK - timedelta(minutes=1)
    )


def test_the_refresh_token_is_kept_encrypted_with_the_session(
    client: Any, oidc: OidcProvider
) -> None:
    sign_in_with_test_client(client, oidc, "nora.nurse")
    [clear] = refresh_tokens_at_provider(oidc, "nora.nurse")
    stored = stored_refresh_token(client)
    assert stored
    assert clear not in stored
    assert decrypt_token(stored) == clear
    # Not in the session's data either.
    assert clear not in str(Session.objects.get(pk=client.session.session_key).get_decoded())
    assert REFRESH_IN_SESSION not in client.session


def test_a_person_the_provider_still_has_keeps_her_session_and_a_rotated_token(
    client: Any, oidc: OidcProvider, caplog: pytest.LogCaptureFixture
) -> None:
    sign_in_with_test_client(client, oidc, "nora.nurse")
    first = decrypt_token(stored_refresh_token(client))
    make_due(client)
    asked_before = oidc.refreshes()

    check_oidc_sessions_task()

    assert oidc.refreshes() == asked_before + 1
    assert signed_in(client)
    stored = stored_refresh_token(client)
    second = decrypt_token(stored)
    assert second
    assert second != first
    assert refresh_tokens_at_provider(oidc, "nora.nurse") == {second}
    assert second not in stored
    row = OidcSession.objects.get(session_id=client.session.session_key)
    assert timezone.now() - row.checked_at < timedelta(minutes=1)
    assert first not in caplog.text
    assert second not in caplog.text


@pytest.mark.parametrize("revoke_tokens", [False, True])
def test_a_person_the_provider_switched_off_is_signed_out_at_the_next_check(
    client: Any, oidc: OidcProvider, caplog: pytest.LogCaptureFixture, revoke_tokens: bool
) -> None:
    sign_in_with_test_client(client, oidc, "nora.nurse")
    ivan = type(client)()
    sign_in_with_test_client(ivan, oidc, "ivan.it")
    clear = decrypt_token(stored_refresh_token(client))
    key = client.session.session_key
    oidc.disable("nora.nurse", revoke_tokens=revoke_tokens)
    make_due(client, ivan)

    result = check_oidc_sessions()

    assert (result.asked, result.kept, result.ended) == (2, 1, 1)
    assert not Session.objects.filter(pk=key).exists()
    assert client.get("/tickets/mine/")["Location"].startswith("/accounts/login/")
    assert signed_in(ivan)
    nora = User.objects.get(username="nora.nurse")
    [entry] = AuditEntry.objects.filter(kind=AuditEntry.Kind.SIGNED_OUT_BY_PROVIDER)
    assert (entry.object_type, entry.object_id) == ("auth.user", str(nora.pk))
    assert entry.detail == {"reason": "invalid_grant"}
    assert entry.actor is None
    assert "refused (invalid_grant)" in caplog.text
    assert clear
    assert clear not in caplog.text
    assert key not in caplog.text


def test_a_session_asked_about_minutes_ago_is_not_asked_about_again(
    client: Any, oidc: OidcProvider
) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        sign_in_with_test_client(client, oidc, "nora.nurse")
    asked_before = oidc.refreshes()
    with time_machine.travel(start + timedelta(minutes=3), tick=False):
        assert check_oidc_sessions().asked == 0
    assert oidc.refreshes() == asked_before
    with time_machine.travel(start + RECHECK + timedelta(seconds=30), tick=False):
        assert check_oidc_sessions().kept == 1
        # Asked about again only an interval later.
        assert check_oidc_sessions().asked == 0
    assert oidc.refreshes() == asked_before + 1


@pytest.mark.django_db(transaction=True)
def test_two_checks_at_once_ask_about_each_session_once(client: Any, oidc: OidcProvider) -> None:
    need(connection.vendor == "postgresql", "PostgreSQL")
    sign_in_with_test_client(client, oidc, "nora.nurse")
    ivan = type(client)()
    sign_in_with_test_client(ivan, oidc, "ivan.it")
    make_due(client, ivan)
    asked_before = oidc.refreshes()

    results = at_once(check_oidc_sessions, check_oidc_sessions)

    checks = [result for result in results if isinstance(result, SessionCheck)]
    assert len(checks) == 2, results
    assert sum(check.asked for check in checks) == 2
    assert oidc.refreshes() == asked_before + 2
    # Had a session been asked about twice, its rotated-away token would have been refused.
    assert sum(check.ended for check in checks) == 0
    assert signed_in(client)
    assert signed_in(ivan)


def token_endpoint_not_answering(provider: OidcProvider, url: str) -> None:
    """The provider's discovery document as kept, with its token endpoint at ``url``."""
    config = oidc_config()
    assert config is not None
    cache.set(
        f"oidc-discovery:{provider.issuer}", {**discovery(config), "token_endpoint": url}, 3600
    )


@pytest.mark.parametrize("provider", ["down", "hung"])
def test_a_provider_that_does_not_answer_changes_nothing_and_holds_the_check_briefly(
    client: Any,
    oidc: OidcProvider,
    settings: Any,
    caplog: pytest.LogCaptureFixture,
    hung_server: str,
    provider: str,
) -> None:
    sign_in_with_test_client(client, oidc, "nora.nurse")
    ivan = type(client)()
    sign_in_with_test_client(ivan, oidc, "ivan.it")
    make_due(client, ivan)
    due_since = dict(OidcSession.objects.values_list("session_id", "checked_at"))
    stored = dict(OidcSession.objects.values_list("session_id", "refresh_token"))
    settings.HELPDESK_OIDC = {**settings.HELPDESK_OIDC, "TIMEOUT_SECONDS": 2}
    token_endpoint_not_answering(oidc, hung_server if provider == "hung" else closed_port())

    started = time.monotonic()
    result = check_oidc_sessions()

    # One timeout at most: the run stops at the first session the provider did not answer for.
    assert time.monotonic() - started < 5
    assert result.unreachable
    assert result.ended == 0
    assert signed_in(client)
    assert signed_in(ivan)
    # Still due, with the same tokens: the next run asks again.
    assert dict(OidcSession.objects.values_list("session_id", "checked_at")) == due_since
    assert dict(OidcSession.objects.values_list("session_id", "refresh_token")) == stored
    assert caplog.text.count("did not answer the session check") == 1
    assert not AuditEntry.objects.filter(kind=AuditEntry.Kind.SIGNED_OUT_BY_PROVIDER).exists()


@pytest.mark.parametrize("trouble", ["outage", "registration"])
def test_a_provider_in_trouble_or_refusing_the_help_desk_signs_nobody_out(
    client: Any, oidc: OidcProvider, settings: Any, caplog: pytest.LogCaptureFixture, trouble: str
) -> None:
    sign_in_with_test_client(client, oidc, "nora.nurse")
    make_due(client)
    due_since = OidcSession.objects.get().checked_at
    if trouble == "outage":
        oidc.outage(on=True)
    else:
        # The client secret was renewed at the provider and not here yet.
        settings.HELPDESK_OIDC = {**settings.HELPDESK_OIDC, "CLIENT_SECRET": "an-old-secret"}

    result = check_oidc_sessions()

    assert result.unreachable
    assert result.ended == 0
    assert signed_in(client)
    assert OidcSession.objects.get().checked_at == due_since
    complaint = "503 temporarily_unavailable" if trouble == "outage" else "401 invalid_client"
    assert complaint in caplog.text
    oidc.outage(on=False)
    settings.HELPDESK_OIDC = {**settings.HELPDESK_OIDC, "CLIENT_SECRET": oidc.client_secret}
    assert check_oidc_sessions().kept == 1


def test_a_refresh_token_kept_under_another_secret_key_is_not_used(
    client: Any, oidc: OidcProvider, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    sign_in_with_test_client(client, oidc, "nora.nurse")
    clear = decrypt_token(stored_refresh_token(client))
    make_due(client)
    asked_before = oidc.refreshes()
    settings.SECRET_KEY = "another-secret-key-" + "z" * 40

    result = check_oidc_sessions()

    assert (result.asked, result.undecryptable) == (0, 1)
    assert oidc.refreshes() == asked_before
    assert stored_refresh_token(client) == ""
    assert "no longer decrypts" in caplog.text
    assert clear
    assert clear not in caplog.text
    # Left to the idle sign-out (the session itself was signed with the old key), and not
    # asked about again.
    assert Session.objects.filter(pk=client.session.session_key).exists()
    make_due(client)
    assert check_oidc_sessions().undecryptable == 0


def test_a_refresh_token_kept_under_a_fallback_key_still_works(
    client: Any, oidc: OidcProvider, settings: Any
) -> None:
    sign_in_with_test_client(client, oidc, "nora.nurse")
    make_due(client)
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "the-new-secret-key-" + "n" * 40
    assert check_oidc_sessions().kept == 1
    assert decrypt_token(stored_refresh_token(client)) in refresh_tokens_at_provider(
        oidc, "nora.nurse"
    )


def test_nothing_is_asked_about_in_a_page_request(
    client: Any, oidc: OidcProvider, reference_data: None
) -> None:
    sign_in_with_test_client(client, oidc, "nora.nurse")
    make_due(client)
    by_password = type(client)()
    by_password.force_login(User.objects.get(username="nora.nurse"))
    by_password.get("/tickets/mine/")
    client.get("/tickets/mine/")
    asked_before = oidc.refreshes()

    with CaptureQueriesContext(connection) as signed_in_by_sso:
        assert client.get("/tickets/mine/").status_code == 200
    with CaptureQueriesContext(connection) as signed_in_by_password:
        assert by_password.get("/tickets/mine/").status_code == 200

    assert len(signed_in_by_sso) == len(signed_in_by_password)
    assert not any("oidcsession" in query["sql"] for query in signed_in_by_sso.captured_queries)
    assert oidc.refreshes() == asked_before


def test_without_single_sign_on_the_check_does_nothing(settings: Any, db: None) -> None:
    settings.HELPDESK_OIDC = None
    assert check_oidc_sessions() == SessionCheck()
    entry = settings.CELERY_BEAT_SCHEDULE["oidc-sessions"]
    assert entry["task"] == check_oidc_sessions_task.name
