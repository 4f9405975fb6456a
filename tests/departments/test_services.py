"""Directory accounts: made at the first sign-in, refreshed at every one after, roles and unit
from the group mapping only, and never a local account taken over."""

from __future__ import annotations

import logging
import threading

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection
from django.test import Client
from django.urls import reverse

from core.reference_cache import forget_reference_rows
from departments.models import AccountSource, Department, DirectoryGroupMapping, Profile
from departments.roles import Role, role_names
from departments.services import (
    DirectoryAccountRefused,
    directory_grants,
    provision_directory_user,
)
from tests.admin_forms import form_data
from tests.conftest import need
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def mapping(settings, reference_data) -> None:
    settings.HELPDESK_DIRECTORY = {
        "GROUP_ROLES": {
            "GRP-ED-NURSING": "requester",
            "GRP-IT-SERVICEDESK": "technician",
            "GRP-IT-MANAGERS": "manager",
        },
        "GROUP_UNITS": {"GRP-ED-NURSING": "ED", "GRP-OR-NURSING": "OR"},
    }
    forget_reference_rows()


def sign_in(username: str = "jdoe", groups: tuple[str, ...] = (), **details: str) -> User:
    values = {"email": "jdoe@lakeside.example", "first_name": "Jane", "last_name": "Doe"}
    values.update(details)
    return provision_directory_user(
        source=AccountSource.LDAP, username=username, groups=groups, **values
    )


def roles(user: User) -> set[str]:
    return set(user.groups.values_list("name", flat=True))


def test_first_sign_in_makes_an_account_with_no_usable_password():
    user = sign_in("JDoe", ("GRP-ED-NURSING",), phone="x5512")
    assert user.username == "jdoe"
    assert user.get_full_name() == "Jane Doe"
    assert user.email == "jdoe@lakeside.example"
    assert not user.has_usable_password()
    profile = Profile.objects.get(user=user)
    assert profile.source == AccountSource.LDAP
    assert profile.callback == "x5512"
    assert profile.directory_groups == ["GRP-ED-NURSING"]
    assert profile.directory_synced_at is not None


def test_ed_nursing_group_makes_a_requester_in_the_ed():
    user = sign_in(groups=("GRP-ED-NURSING", "Domain Users"))
    assert roles(user) == {Role.REQUESTER}
    assert Profile.objects.get(user=user).home_department.code == "ED"


def test_it_group_makes_a_technician():
    user = sign_in(groups=("grp-it-servicedesk",))
    assert roles(user) == {Role.TECHNICIAN}


def test_no_mapped_group_is_a_requester_with_no_unit():
    user = sign_in(groups=("Domain Users",))
    assert roles(user) == {Role.REQUESTER}
    assert Profile.objects.get(user=user).home_department is None


def test_every_sign_in_refreshes_details_roles_and_unit():
    user = sign_in(groups=("GRP-IT-SERVICEDESK",))
    user = sign_in(groups=("GRP-IT-MANAGERS", "GRP-OR-NURSING"), last_name="Smith", phone="x9")
    assert roles(user) == {Role.MANAGER}
    profile = Profile.objects.get(user=user)
    assert profile.home_department.code == "OR"
    assert profile.callback == "x9"
    assert User.objects.get(pk=user.pk).last_name == "Smith"
    assert User.objects.filter(username="jdoe").count() == 1


def test_roles_given_by_hand_to_a_directory_account_go_at_the_next_sign_in():
    user = sign_in(groups=("GRP-ED-NURSING",))
    user.groups.add(Group.objects.get(name=Role.ADMIN))
    assert roles(sign_in(groups=("GRP-ED-NURSING",))) == {Role.REQUESTER}


def test_a_role_change_shows_on_the_next_role_read():
    user = sign_in(groups=("GRP-IT-SERVICEDESK",))
    assert role_names(user) == {Role.TECHNICIAN}
    sign_in(groups=("GRP-ED-NURSING",))
    assert role_names(user) == {Role.REQUESTER}


def test_a_unit_she_chose_stays_when_the_directory_gives_none(nurse_ed):
    user = sign_in(groups=("Domain Users",))
    Profile.objects.filter(user=user).update(home_department=Department.objects.get(code="ICU"))
    sign_in(groups=("Domain Users",))
    assert Profile.objects.get(user=user).home_department.code == "ICU"


def test_a_unit_the_directory_no_longer_gives_goes_and_she_is_asked_again():
    user = sign_in(groups=("GRP-ED-NURSING",))
    sign_in(groups=("Domain Users",))
    profile = Profile.objects.get(user=user)
    assert profile.home_department is None
    assert profile.unit_asked_at is None


def test_a_local_account_is_never_taken_over(caplog):
    local = UserFactory(username="admin", role="admin")
    with caplog.at_level(logging.WARNING), pytest.raises(DirectoryAccountRefused):
        sign_in("Admin", ("GRP-IT-SERVICEDESK",))
    local.refresh_from_db()
    assert local.has_usable_password()
    assert roles(local) == {Role.ADMIN}
    assert Profile.objects.get(user=local).source == AccountSource.LOCAL
    assert "local account" in caplog.text


def test_an_empty_username_is_refused():
    with pytest.raises(DirectoryAccountRefused):
        sign_in("  ")
    assert not User.objects.filter(username="").exists()


def test_a_deactivated_account_stays_deactivated():
    user = sign_in()
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert not sign_in().is_active


def test_an_admin_row_replaces_what_the_settings_give_a_group():
    DirectoryGroupMapping.objects.create(
        group="GRP-ED-NURSING", role=Role.TECHNICIAN, department=Department.objects.get(code="OR")
    )
    grants = directory_grants(["GRP-ED-NURSING"])
    assert grants.roles == {Role.TECHNICIAN}
    assert grants.department_id == Department.objects.get(code="OR").pk


def test_changing_the_mapping_in_admin_gives_members_their_new_role_at_once(admin_client):
    user = sign_in(groups=("GRP-HELPERS",))
    assert role_names(user) == {Role.REQUESTER}
    response = admin_client.post(
        reverse("admin:departments_directorygroupmapping_add"),
        {"group": "GRP-HELPERS", "role": Role.TECHNICIAN, "department": ""},
    )
    assert response.status_code == 302
    assert role_names(user) == {Role.TECHNICIAN}

    change = reverse(
        "admin:departments_directorygroupmapping_change",
        args=[DirectoryGroupMapping.objects.get().pk],
    )
    data = form_data(admin_client.get(change).text, "directorygroupmapping_form")
    data["department"] = str(Department.objects.get(code="ICU").pk)
    assert admin_client.post(change, data).status_code == 302
    assert Profile.objects.get(user=user).home_department.code == "ICU"

    mapping_row = DirectoryGroupMapping.objects.get()
    delete = reverse("admin:departments_directorygroupmapping_delete", args=[mapping_row.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 302
    assert role_names(user) == {Role.REQUESTER}
    assert Profile.objects.get(user=user).home_department is None


@pytest.mark.parametrize("password", ["", "!", "jdoe"])
def test_a_directory_account_has_no_local_password_to_sign_in_with(password):
    sign_in()
    response = Client().post(reverse("login"), {"username": "jdoe", "password": password})
    assert response.status_code == 200
    assert "_auth_user_id" not in response.wsgi_request.session


def test_the_department_the_directory_names_gives_a_unit_through_the_mapping():
    DirectoryGroupMapping.objects.create(
        group="Emergency Department", department=Department.objects.get(code="ED")
    )
    user = sign_in(groups=("Domain Users",), department_hint="emergency department")
    assert Profile.objects.get(user=user).home_department.code == "ED"
    assert roles(user) == {Role.REQUESTER}


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_first_sign_ins_at_once_make_one_account():
    """A badge tapped twice: both sign-ins get the one account."""
    need(connection.vendor == "postgresql", "PostgreSQL")
    barrier = threading.Barrier(2)
    made: list[int] = []
    errors: list[BaseException] = []

    def first_sign_in() -> None:
        try:
            barrier.wait()
            made.append(sign_in("twin", ("GRP-ED-NURSING",)).pk)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=first_sign_in) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(set(made)) == 1
    assert User.objects.filter(username="twin").count() == 1
    assert roles(User.objects.get(username="twin")) == {Role.REQUESTER}
