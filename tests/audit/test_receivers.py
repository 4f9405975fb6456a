"""Sign-ins, failed sign-ins, role (group) changes and admin changes are recorded from Django's
own signals, whichever page or command caused them."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from audit.models import AuditEntry
from departments.models import Department
from tests.admin_forms import form_data

pytestmark = pytest.mark.django_db
K = AuditEntry.Kind


def entries(kind: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(kind=kind))


def test_a_sign_in_is_recorded(client, nurse_medsurg):
    response = client.post(reverse("login"), {"username": "nurse.medsurg", "password": "demo"})
    assert response.status_code == 302
    [entry] = entries(K.SIGN_IN)
    assert (entry.actor, entry.object_type, entry.object_id) == (
        nurse_medsurg,
        "auth.user",
        str(nurse_medsurg.pk),
    )


def test_a_failed_sign_in_is_recorded_without_the_password(client, nurse_medsurg):
    client.post(reverse("login"), {"username": "nurse.medsurg", "password": "wrong-one"})
    client.post(reverse("login"), {"username": "nobody.here", "password": "s3cret-guess"})
    known, unknown = entries(K.SIGN_IN_FAILED)
    assert (known.actor, known.object_id, known.detail) == (None, str(nurse_medsurg.pk), {})
    assert (unknown.actor, unknown.object_id, unknown.detail) == (
        None,
        "",
        {"username": "nobody.here"},
    )
    assert not entries(K.SIGN_IN)
    stored = str(list(AuditEntry.objects.values("detail", "object_id")))
    assert "wrong-one" not in stored
    assert "s3cret-guess" not in stored


def test_a_group_change_is_recorded_from_either_side(tech, nurse_medsurg):
    managers = Group.objects.get(name="manager")
    before = AuditEntry.objects.filter(kind=K.GROUPS_CHANGED).count()
    tech.groups.add(managers)
    managers.user_set.remove(tech)
    nurse_medsurg.groups.clear()
    changes = list(AuditEntry.objects.filter(kind=K.GROUPS_CHANGED).order_by("pk"))[before:]
    assert [(entry.object_id, entry.detail) for entry in changes] == [
        (str(tech.pk), {"added": ["manager"]}),
        (str(tech.pk), {"removed": ["manager"]}),
        (str(nurse_medsurg.pk), {"removed": ["requester"]}),
    ]


def test_a_role_given_in_admin_is_recorded_with_who_gave_it(admin_client, admin_user, tech):
    change = reverse("admin:auth_user_change", args=[tech.pk])
    data = form_data(admin_client.get(change).text, "user_form")
    privacy = Group.objects.get(name="privacy_officer")
    data["groups"] = [*data.get("groups", []), str(privacy.pk)]
    # Never signed in: the page's empty date and time boxes.
    data["last_login_0"] = data["last_login_1"] = [""]
    response = admin_client.post(change, data)
    assert response.status_code == 302
    given = [
        entry.object_id
        for entry in entries(K.GROUPS_CHANGED)
        if entry.detail == {"added": ["privacy_officer"]}
    ]
    assert given == [str(tech.pk)]
    [admin_change] = entries(K.ADMIN_CHANGE)
    assert (admin_change.actor, admin_change.object_type, admin_change.object_id) == (
        admin_user,
        "auth.user",
        str(tech.pk),
    )
    assert admin_change.detail == {"action": "changed", "fields": ["Groups"]}


def test_an_admin_change_names_the_row_and_fields_never_their_values(
    admin_client, admin_user, reference_data
):
    him = Department.objects.get(code="HIM")
    change = reverse("admin:departments_department_change", args=[him.pk])
    data = form_data(admin_client.get(change).text, "department_form")
    data["name"] = ["Medical Records"]
    assert admin_client.post(change, data).status_code == 302
    [entry] = entries(K.ADMIN_CHANGE)
    assert (entry.actor, entry.object_type, entry.object_id, entry.ticket_id) == (
        admin_user,
        "departments.department",
        str(him.pk),
        None,
    )
    assert entry.detail == {"action": "changed", "fields": ["Name"]}
    assert "Medical Records" not in str(entry.detail)
