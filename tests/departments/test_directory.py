"""Signing in with the hospital directory, against a real OpenLDAP server (slapd) started by the
tests, and the nightly check that shuts leavers out."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bench.slapd import DISABLED, free_port
from departments.directory import DIRECTORY_DOWN
from departments.models import AccountSource, ApiToken, Location, Profile
from departments.roles import Role
from departments.tasks import check_directory_leavers_task
from tests.departments.conftest import DANA, ERIN, MORGAN, TERRY, point_at
from tests.factories import UserFactory
from tickets.models import Ticket

pytestmark = [pytest.mark.django_db, pytest.mark.services]


def sign_in(client: Client, username: str, password: str, **extra: str):
    return client.post(reverse("login"), {"username": username, "password": password, **extra})


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def roles(username: str) -> set[str]:
    return set(User.objects.get(username=username).groups.values_list("name", flat=True))


def test_the_right_password_signs_in_and_makes_an_ed_requester(directory, client):
    response = sign_in(client, ERIN.uid, ERIN.password)
    assert response.status_code == 302
    assert signed_in(client)
    user = User.objects.get(username=ERIN.uid)
    assert user.get_full_name() == "Erin Nurse"
    assert user.email == ERIN.email
    assert not user.has_usable_password()
    profile = Profile.objects.get(user=user)
    assert (profile.source, profile.home_department.code, profile.callback) == (
        AccountSource.LDAP,
        "ED",
        ERIN.phone,
    )
    assert roles(ERIN.uid) == {Role.REQUESTER}


def test_a_wrong_password_is_refused_and_makes_no_account(directory, client):
    response = sign_in(client, ERIN.uid, "not-her-password")
    assert response.status_code == 200
    assert "Wrong username or password." in response.content.decode()
    assert not signed_in(client)
    assert not User.objects.filter(username=ERIN.uid).exists()


def test_an_unknown_username_is_refused(directory, client):
    response = sign_in(client, "nobody.here", "whatever")
    assert "Wrong username or password." in response.content.decode()


def test_a_disabled_account_cannot_sign_in(directory, client):
    response = sign_in(client, DANA.uid, DANA.password)
    assert response.status_code == 200
    assert not signed_in(client)
    assert not User.objects.filter(username=DANA.uid).exists()


def test_the_it_group_makes_a_technician_who_sees_the_queue(directory, client):
    assert sign_in(client, TERRY.uid, TERRY.password).status_code == 302
    assert roles(TERRY.uid) == {Role.TECHNICIAN}
    assert client.get(reverse("queue")).status_code == 200


def test_the_managers_group_makes_a_manager(directory, client):
    assert sign_in(client, MORGAN.uid, MORGAN.password).status_code == 302
    assert roles(MORGAN.uid) == {Role.MANAGER}


def test_a_group_change_is_picked_up_at_the_next_sign_in(directory, newcomer):
    first = Client()
    assert sign_in(first, newcomer.uid, newcomer.password).status_code == 302
    assert first.get(reverse("queue")).status_code == 404

    directory.remove_from_group(newcomer.uid, "GRP-ED-NURSING")
    directory.add_to_group(newcomer.uid, "GRP-IT-SERVICEDESK")
    second = Client()
    assert sign_in(second, newcomer.uid, newcomer.password).status_code == 302
    assert roles(newcomer.uid) == {Role.TECHNICIAN}
    assert second.get(reverse("queue")).status_code == 200
    profile = Profile.objects.get(user__username=newcomer.uid)
    assert profile.directory_groups == ["GRP-IT-SERVICEDESK"]
    # The ED unit came from the nursing group, which she left.
    assert profile.home_department is None


def test_signing_in_again_with_nothing_changed_keeps_everyones_roles_held(directory):
    """The directory is asked at sign-in; a sign-in that changes nothing tells no process to
    read people's roles again."""
    first = Client()
    assert sign_in(first, ERIN.uid, ERIN.password).status_code == 302
    assert first.get(reverse("my_tickets")).status_code == 200
    second = Client()
    assert sign_in(second, ERIN.uid, ERIN.password).status_code == 302
    with CaptureQueriesContext(connection) as queries:
        assert second.get(reverse("my_tickets")).status_code == 200
    assert not any('"auth_group"' in query["sql"] for query in queries.captured_queries)


def test_a_directory_account_disabled_later_cannot_sign_in_again(directory, newcomer, client):
    assert sign_in(client, newcomer.uid, newcomer.password).status_code == 302
    directory.set_account_control(newcomer.uid, DISABLED)
    assert sign_in(Client(), newcomer.uid, newcomer.password).status_code == 200


def test_the_nightly_check_shuts_out_a_leaver(directory, newcomer, client):
    assert sign_in(client, newcomer.uid, newcomer.password).status_code == 302
    assert sign_in(Client(), ERIN.uid, ERIN.password).status_code == 302
    leaver = User.objects.get(username=newcomer.uid)
    token, raw = ApiToken.issue(user=leaver, name="phone app")
    tickets_before = Ticket.objects.count()

    directory.remove(newcomer.uid)
    check_directory_leavers_task()

    leaver.refresh_from_db()
    assert not leaver.is_active
    token.refresh_from_db()
    assert token.revoked_at is not None
    # Her open session ended: the next page asks her to sign in.
    response = client.get(reverse("my_tickets"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    api = Client().get("/api/tickets/", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.status_code == 401
    # Nothing deleted; the people still in the directory stay in.
    assert User.objects.filter(username=newcomer.uid).exists()
    assert Ticket.objects.count() == tickets_before
    assert User.objects.get(username=ERIN.uid).is_active


def test_the_nightly_check_shuts_out_an_account_disabled_in_the_directory(directory, newcomer):
    assert sign_in(Client(), newcomer.uid, newcomer.password).status_code == 302
    directory.set_account_control(newcomer.uid, DISABLED)
    check_directory_leavers_task()
    assert not User.objects.get(username=newcomer.uid).is_active


def test_the_nightly_check_leaves_local_accounts_alone(directory, nurse_ed):
    check_directory_leavers_task()
    nurse_ed.refresh_from_db()
    assert nurse_ed.is_active


def test_the_nightly_check_changes_nothing_when_the_directory_is_down(
    directory, newcomer, settings, monkeypatch, caplog
):
    assert sign_in(Client(), newcomer.uid, newcomer.password).status_code == 302
    point_at(settings, monkeypatch, {"HELPDESK_LDAP_SERVER_URI": f"ldap://127.0.0.1:{free_port()}"})
    check_directory_leavers_task()
    assert User.objects.get(username=newcomer.uid).is_active
    assert "did not answer the leaver check" in caplog.text


@pytest.fixture
def local_admin(reference_data) -> User:
    return UserFactory(username="breakglass", role="admin", password="local-admin-pass")


@pytest.fixture
def hung_directory() -> Iterator[str]:
    """A server that accepts connections and never answers (a hung domain controller)."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        yield f"ldap://127.0.0.1:{server.getsockname()[1]}"


@pytest.mark.parametrize("down", ["closed port", "hung server"])
def test_a_directory_that_does_not_answer_says_so_within_5_seconds(
    down, directory, settings, monkeypatch, hung_directory, local_admin
):
    uri = hung_directory if down == "hung server" else f"ldap://127.0.0.1:{free_port()}"
    point_at(settings, monkeypatch, {"HELPDESK_LDAP_SERVER_URI": uri})
    started = time.monotonic()
    response = sign_in(Client(), ERIN.uid, ERIN.password)
    assert time.monotonic() - started < 5
    assert response.status_code == 200
    assert DIRECTORY_DOWN in response.content.decode()

    # The break-glass admin still signs in, through the same form.
    admin = Client()
    started = time.monotonic()
    assert sign_in(admin, "breakglass", "local-admin-pass").status_code == 302
    assert time.monotonic() - started < 5
    assert signed_in(admin)


def test_a_second_server_takes_over_when_the_first_is_down(directory, settings, monkeypatch):
    uris = f"ldap://127.0.0.1:{free_port()} {directory.uri}"
    point_at(settings, monkeypatch, {"HELPDESK_LDAP_SERVER_URI": uris})
    assert sign_in(Client(), ERIN.uid, ERIN.password).status_code == 302


@pytest.mark.parametrize("encryption", ["StartTLS", "LDAPS"])
def test_signing_in_over_tls_checks_the_directorys_certificate(
    encryption, directory, slapd_tls, settings, monkeypatch
):
    env = {**slapd_tls.env(), "HELPDESK_LDAP_CA_FILE": str(slapd_tls.ca_file)}
    if encryption == "StartTLS":
        env["HELPDESK_LDAP_START_TLS"] = "1"
    else:
        env["HELPDESK_LDAP_SERVER_URI"] = slapd_tls.ldaps_uri
    point_at(settings, monkeypatch, env)
    assert sign_in(Client(), ERIN.uid, ERIN.password).status_code == 302


def test_a_directory_certificate_no_trusted_ca_signed_is_refused(
    directory, slapd_tls, settings, monkeypatch
):
    """Without its CA file, the directory's certificate is checked against the system's CAs,
    which never signed it: no password is sent to it."""
    env = {**slapd_tls.env(), "HELPDESK_LDAP_START_TLS": "1"}
    point_at(settings, monkeypatch, env)
    started = time.monotonic()
    response = sign_in(Client(), ERIN.uid, ERIN.password)
    assert time.monotonic() - started < 5
    assert DIRECTORY_DOWN in response.content.decode()
    assert not User.objects.filter(username=ERIN.uid).exists()


def test_a_directory_username_taken_by_a_local_account_cannot_sign_in_through_it(directory, client):
    local = UserFactory(username=ERIN.uid, role="admin", password="local-pass")
    assert sign_in(client, ERIN.uid, ERIN.password).status_code == 200
    assert not signed_in(client)
    assert roles(ERIN.uid) == {Role.ADMIN}
    assert sign_in(client, ERIN.uid, "local-pass").status_code == 302
    local.refresh_from_db()
    assert local.has_usable_password()


def test_the_lockout_applies_to_directory_usernames(directory, client):
    for _ in range(5):
        sign_in(client, ERIN.uid, "wrong")
    assert sign_in(client, ERIN.uid, ERIN.password).status_code == 429
    assert not signed_in(client)


def test_a_directory_nurse_files_a_ticket_from_a_workstation_link(directory, client):
    workstation = Location.objects.create(
        department=Location.objects.get(code="ED").department,
        code="WOW-ED-07",
        name="Workstation on wheels 7",
        kind=Location.Kind.WORKSTATION,
    )
    link = f"{reverse('file_ticket')}?ws=WOW-ED-07"
    assert client.get(link)["Location"].startswith(reverse("login"))
    response = sign_in(client, ERIN.uid, ERIN.password, next=link)
    assert response["Location"] == link
    form = client.get(link)
    assert form.context["form"].initial["location"] == workstation.pk
    data = {
        "category": str(form.context["form"].fields["category"].queryset.get(slug="ehr").pk),
        "title": "Badge reader not signing in on WOW 7",
        "callback": ERIN.phone,
        "location": str(workstation.pk),
        "care_delayed": "no",
        "scope": "me",
        "workaround": "yes",
        "description": "",
        "idempotency_key": "ldap-e2e-1",
    }
    filed = client.post(link, data)
    assert filed.status_code == 302
    ticket = Ticket.objects.get()
    assert ticket.requester.username == ERIN.uid
    assert ticket.location == workstation
    assert ticket.department.code == "ED"
