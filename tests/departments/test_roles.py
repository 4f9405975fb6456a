"""A person's roles are read once per process and held until people change: group membership,
a group, the flags on the user, a profile. Admin edits show on the very next page."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from departments.roles import Role, role_names
from tests.admin_forms import form_data, signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def tech_client(tech) -> Client:
    return signed_in(tech)


def group_reads(client: Client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("queue")).status_code == 200
    return sum('"auth_group"' in query["sql"] for query in queries.captured_queries)


def test_roles_are_read_once_not_on_every_page(tech_client):
    assert group_reads(tech_client) == 1
    assert group_reads(tech_client) == 0


def test_signing_in_keeps_the_roles_held(tech, tech_client):
    """A sign-in writes the user's last_login: not a change to anyone's roles."""
    group_reads(tech_client)
    signed_in = Client()
    response = signed_in.post(reverse("login"), {"username": "tech", "password": "demo"})
    assert response.status_code == 302
    assert group_reads(signed_in) == 0


def test_taking_a_technician_off_the_team_in_admin_shows_on_the_next_page(
    admin_client, tech_client, tech
):
    assert tech_client.get(reverse("queue")).status_code == 200
    change = reverse("admin:auth_user_change", args=[tech.pk])
    data = form_data(admin_client.get(change).text, "user_form")
    data["groups"] = [str(Group.objects.get(name=Role.REQUESTER).pk)]
    assert admin_client.post(change, data).status_code == 302
    assert tech_client.get(reverse("queue")).status_code == 404


def test_deleting_a_role_with_the_bulk_action_shows_on_the_next_page(admin_client, tech_client):
    assert tech_client.get(reverse("queue")).status_code == 200
    technicians = Group.objects.get(name=Role.TECHNICIAN)
    response = admin_client.post(
        reverse("admin:auth_group_changelist"),
        {"action": "delete_selected", "_selected_action": [technicians.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert tech_client.get(reverse("queue")).status_code == 404


def test_making_someone_a_superuser_makes_them_an_admin_at_once(nurse_ed):
    assert Role.ADMIN not in role_names(nurse_ed)
    nurse_ed.is_superuser = True
    nurse_ed.save()
    assert Role.ADMIN in role_names(nurse_ed)
