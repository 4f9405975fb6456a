"""The sign-in's own pages: the one question about her unit, the account page saying where the
account comes from, and switching user on a shared workstation."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEntry
from departments.models import AccountSource, ApiToken, Department, Profile
from departments.services import provision_directory_user
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

UNIT = reverse("choose_unit")


@pytest.fixture
def unitless(reference_data, settings):
    """A directory nurse whose groups give no unit, with a local password for the test client
    (the sign-in view is the same whichever backend checks the password)."""
    settings.HELPDESK_DIRECTORY = {"GROUP_ROLES": {}, "GROUP_UNITS": {}}
    user = provision_directory_user(
        source=AccountSource.LDAP, username="nia", first_name="Nia", groups=["Domain Users"]
    )
    user.set_password("pw")
    user.save()
    return user


def sign_in(client: Client, username: str, password: str, next_url: str = ""):
    data = {"username": username, "password": password, "next": next_url}
    return client.post(reverse("login"), data)


def test_a_requester_with_no_unit_is_asked_for_it_once(client, unitless):
    going_to = reverse("my_tickets")
    response = sign_in(client, "nia", "pw", going_to)
    assert response["Location"].startswith(f"{UNIT}?next=")
    page = client.get(response["Location"])
    assert "Which unit do you work in?" in page.content.decode()

    icu = Department.objects.get(code="ICU")
    chosen = client.post(UNIT, {"department": str(icu.pk), "next": going_to})
    assert chosen["Location"] == going_to
    profile = Profile.objects.get(user=unitless)
    assert profile.home_department == icu
    assert not profile.unit_from_directory

    again = Client()
    assert sign_in(again, "nia", "pw", going_to)["Location"] == going_to


def test_skipping_the_question_is_remembered(client, unitless):
    location = sign_in(client, "nia", "pw")["Location"]
    assert location.startswith(UNIT)
    assert client.post(UNIT, {"skip": "1", "next": "/"})["Location"] == "/"
    assert Profile.objects.get(user=unitless).home_department is None
    assert not sign_in(Client(), "nia", "pw")["Location"].startswith(UNIT)


def test_choosing_no_unit_says_what_to_do_and_changes_nothing(client, unitless):
    client.force_login(unitless)
    response = client.post(UNIT, {"department": ""})
    assert response.status_code == 200
    assert "Choose your unit, or skip this for now." in response.content.decode()
    assert Profile.objects.get(user=unitless).unit_asked_at is None


def test_the_unit_page_never_sends_her_to_another_site(client, unitless):
    client.force_login(unitless)
    icu = Department.objects.get(code="ICU")
    response = client.post(UNIT, {"department": str(icu.pk), "next": "https://evil.example/"})
    assert response["Location"] == reverse("home")


def test_the_unit_page_reads_a_fixed_number_of_queries(client, unitless, django_assert_num_queries):
    client.force_login(unitless)
    client.get(UNIT)
    # Session, user, profile, the departments for the select (one query, however many there
    # are), and the session's renewal (savepoint, update, release).
    with django_assert_num_queries(7):
        assert client.get(UNIT).status_code == 200


def test_nurses_with_a_unit_and_it_staff_are_not_asked(client, nurse_ed, tech):
    assert not sign_in(client, "nurse.ed", "demo")["Location"].startswith(UNIT)
    assert not sign_in(Client(), "tech", "demo")["Location"].startswith(UNIT)


def test_the_account_page_says_what_the_directory_gave(client, reference_data, settings):
    settings.HELPDESK_DIRECTORY = {
        "GROUP_ROLES": {"GRP-ED-NURSING": "requester"},
        "GROUP_UNITS": {"GRP-ED-NURSING": "ED"},
    }
    user = provision_directory_user(
        source=AccountSource.LDAP, username="erin", groups=["GRP-ED-NURSING", "Domain Users"]
    )
    client.force_login(user)
    body = client.get(reverse("account")).content.decode()
    assert "Hospital directory (LDAP / Active Directory)" in body
    assert "Domain Users, GRP-ED-NURSING" in body
    assert "requester" in body
    assert "Emergency Department" in body


def test_the_account_page_of_a_local_account_says_so(client, nurse_ed):
    client.force_login(nurse_ed)
    assert "A local account of the help desk" in client.get(reverse("account")).content.decode()


def test_switch_user_signs_out_and_shows_the_sign_in_page(client, nurse_ed):
    client.force_login(nurse_ed)
    page = client.get(reverse("my_tickets")).content.decode()
    assert "Not you? Switch user" in page
    response = client.post(reverse("logout"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("login")
    assert "_auth_user_id" not in client.session


def test_a_user_without_a_profile_still_sees_her_account(client, reference_data):
    user = UserFactory(username="bare")
    Profile.objects.filter(user=user).delete()
    client.force_login(user)
    assert client.get(reverse("account")).status_code == 200


def test_the_account_page_reads_a_fixed_number_of_queries(
    client, reference_data, settings, django_assert_num_queries
):
    settings.HELPDESK_DIRECTORY = {"GROUP_ROLES": {}, "GROUP_UNITS": {"GRP-ED-NURSING": "ED"}}
    user = provision_directory_user(
        source=AccountSource.LDAP, username="erin", groups=["GRP-ED-NURSING"]
    )
    client.force_login(user)
    client.get(reverse("account"))
    # Session, user, the profile with its unit, the tokens, and the session's renewal
    # (savepoint, update, release); roles are held per process.
    with django_assert_num_queries(7):
        assert client.get(reverse("account")).status_code == 200


def test_a_token_made_and_revoked_on_the_account_page_is_on_the_audit_log(client, tech):
    client.force_login(tech)
    client.post(reverse("account"), {"name": "Phone app"})
    token = ApiToken.objects.get(user=tech)
    client.post(reverse("revoke_token", kwargs={"pk": token.pk}))
    logged = AuditEntry.objects.filter(
        kind__in=[AuditEntry.Kind.TOKEN_CREATED, AuditEntry.Kind.TOKEN_REVOKED]
    )
    assert [(e.kind, e.actor, e.object_type, e.object_id) for e in logged] == [
        (AuditEntry.Kind.TOKEN_CREATED, tech, "departments.apitoken", str(token.pk)),
        (AuditEntry.Kind.TOKEN_REVOKED, tech, "departments.apitoken", str(token.pk)),
    ]
    # The token itself, and its hash, never go on the log.
    assert token.key_hash not in str(list(logged.values()))
