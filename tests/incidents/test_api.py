"""The incidents API: declare, update, resolve as IT; "me too" as anyone it concerns; scoped."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from incidents.models import Affected
from tickets.models import PageChain, Ticket

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def test_it_declares_updates_and_resolves(reference_data, tech):
    api = client_for(tech)
    created = api.post(
        "/api/incidents/",
        {"service": "EHR (Epic)", "category": "ehr", "message": "Epic is down.",
         "workaround": "Downtime forms."},
        format="json",
    )  # fmt: skip
    assert created.status_code == 201, created.content
    number, pk = created.json()["number"], created.json()["id"]
    assert number == f"MI-{pk}"
    updated = api.post(f"/api/incidents/{pk}/updates/", {"text": "Restarting."}, format="json")
    assert updated.status_code == 200
    assert updated.json()["last_update_at"] is not None
    resolved = api.post(f"/api/incidents/{pk}/resolve/", {"resolution": "Back."}, format="json")
    assert resolved.json()["status"] == "resolved"


def test_a_requester_cannot_declare(reference_data, nurse_ed):
    response = client_for(nurse_ed).post(
        "/api/incidents/", {"service": "EHR", "category": "ehr", "message": "x"}, format="json"
    )
    assert response.status_code == 403


def test_me_too_is_idempotent_and_files_nothing(reference_data, tech, nurse_ed):
    pk = (
        client_for(tech)
        .post(
            "/api/incidents/",
            {"service": "EHR", "category": "ehr", "message": "Down."},
            format="json",
        )
        .json()["id"]
    )
    tickets, chains = Ticket.objects.count(), PageChain.objects.count()
    api = client_for(nurse_ed)
    first = api.post(f"/api/incidents/{pk}/me-too/", {"callback": "x4411"}, format="json")
    again = api.post(f"/api/incidents/{pk}/me-too/", {}, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == {"incident": f"MI-{pk}", "joined": False, "affected_count": 1}
    assert Affected.objects.filter(user=nurse_ed).count() == 1
    assert (Ticket.objects.count(), PageChain.objects.count()) == (tickets, chains)


def test_a_unit_incident_is_not_found_by_another_unit(reference_data, tech, nurse_or):
    pk = client_for(tech).post(
        "/api/incidents/",
        {"service": "ED Wi-Fi", "category": "ehr", "message": "Down.", "hospital_wide": False,
         "departments": ["ED"]},
        format="json",
    ).json()["id"]  # fmt: skip
    api = client_for(nurse_or)
    assert api.get(f"/api/incidents/{pk}/").status_code == 404
    assert api.post(f"/api/incidents/{pk}/me-too/", {}, format="json").status_code == 404
    assert api.get("/api/incidents/").json() == []


def test_the_list_costs_the_same_queries_however_many(
    reference_data, tech, django_assert_num_queries
):
    api = client_for(tech)
    for _ in range(3):
        api.post(
            "/api/incidents/", {"service": "EHR", "category": "ehr", "message": "Down."},
            format="json",
        )  # fmt: skip
    api.get("/api/incidents/")
    # Session and user, incidents with their counts, their departments in one query, and the
    # session's refresh (savepoint, update, release): no query per incident.
    with django_assert_num_queries(7):
        assert api.get("/api/incidents/").status_code == 200
