"""PATCH /api/tickets/{id}/ changes what the role may change and nothing else.

The writable fields are read from the published schema (``PatchedTicketUpdateRequest``), so a
field added there without a rule in tickets/services.py shows up here. A PATCH that carries
anything the caller may not change is refused whole: 400 naming the fields, and the row is
exactly as it was (no partial write, no timeline event).
"""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from tickets.models import Ticket, TicketEvent
from tickets.services import REQUESTER_EDITABLE, STAFF_EDITABLE

pytestmark = pytest.mark.django_db

# A value for every field someone might try to slip in: the ticket's read-only fields as the
# API shows them, and model fields the API never shows.
FORBIDDEN_VALUES: dict[str, Any] = {
    "id": 999999,
    "number": "HD-9",
    "description": "Rewritten description",
    "status": "resolved",
    "priority": 1,
    "priority_label": "P1 Critical",
    "urgency": "high",
    "impact": "many",
    "auto_escalated": True,
    "department": "ED",
    "location": "ED",
    "team": "security",
    "requester": "nurse.other",
    "assignee": "tech",
    "created_at": "2020-01-01T00:00:00Z",
    "updated_at": "2020-01-01T00:00:00Z",
    "first_response_at": "2020-01-01T00:00:00Z",
    "resolved_at": "2020-01-01T00:00:00Z",
    "closed_at": "2020-01-01T00:00:00Z",
    "response_due_at": "2099-01-01T00:00:00Z",
    "resolution_due_at": "2099-01-01T00:00:00Z",
    "response_state": "met",
    "resolution_state": "met",
    "phi_suspected": True,
    "resolution_code": "fixed",
    "care_delayed": True,
    "pages_on_call": "p1",
    # Filed through the API whatever the caller says; triage ends only with the three answers.
    "source": "phone",
    "needs_triage": True,
    # Not in the API's output at all: model fields a client might guess.
    "scope": "several",
    "workaround": False,
    "matrix_priority": 1,
    "duplicate_of": 1,
    "idempotency_key": "stolen",
    "sla_paused_seconds": 99999,
    "requester_id": 1,
    "assignee_id": 1,
}
NEW_VALUES = {
    "title": "Wristband printer jams on every print",
    "callback": "Vocera: Maya",
    "category": "ehr",
}


@pytest.fixture
def schema(reference_data: None) -> dict[str, Any]:
    return APIClient().get("/api/schema/?format=json").json()


@pytest.fixture
def writable(schema: dict[str, Any]) -> set[str]:
    """Every field the schema lets any role PATCH."""
    return set(schema["components"]["schemas"]["PatchedTicketUpdateRequest"]["properties"])


@pytest.fixture
def ticket(nurse_medsurg, file_ticket) -> Ticket:
    return file_ticket(nurse_medsurg, title="Wristband printer jams")


def row(ticket: Ticket) -> dict[str, Any]:
    return Ticket.objects.filter(pk=ticket.pk).values().get()


FIXTURE_FOR = {"requester": "nurse_medsurg", "technician": "tech", "manager": "manager"}


def caller(role: str, request: pytest.FixtureRequest) -> Any:
    """The requester is the ticket's own requester; IT roles see every ticket."""
    return request.getfixturevalue(FIXTURE_FOR[role])


ALLOWED = {"requester": REQUESTER_EDITABLE, "technician": STAFF_EDITABLE, "manager": STAFF_EDITABLE}
ROLES = list(ALLOWED)


def test_the_schema_offers_exactly_the_staff_editable_fields(writable, schema):
    assert writable == STAFF_EDITABLE
    assert writable > REQUESTER_EDITABLE
    ticket_schema = schema["components"]["schemas"]["Ticket"]["properties"]
    assert all(field.get("readOnly") for field in ticket_schema.values())
    # Every field the API shows is tried below.
    assert set(ticket_schema) <= set(FORBIDDEN_VALUES) | writable


@pytest.mark.parametrize("role", ROLES)
def test_a_patch_of_every_writable_field(api, request, ticket, writable, role):
    """Each role sends everything the schema lists; what it may change changes, and when it
    sends more than it may change, nothing does."""
    client = api(caller(role, request), token=True)
    before = row(ticket)
    response = client.patch(
        f"/api/tickets/{ticket.pk}/", {f: NEW_VALUES[f] for f in writable}, format="json"
    )
    refused = writable - ALLOWED[role]
    if refused:
        assert response.status_code == 400
        detail = response.json()["detail"]
        assert all(field in detail for field in refused), detail
        assert not any(field in detail for field in ALLOWED[role]), detail
        assert row(ticket) == before
        assert not ticket.events.filter(kind=TicketEvent.Kind.EDITED).exists()
    else:
        assert response.status_code == 200, response.content
        ticket.refresh_from_db()
        assert ticket.title == NEW_VALUES["title"]
        assert ticket.callback == NEW_VALUES["callback"]
        assert ticket.category.slug == NEW_VALUES["category"]
        assert response.json()["category"] == NEW_VALUES["category"]
        edits = ticket.events.filter(kind=TicketEvent.Kind.EDITED)
        assert sorted(edits.values_list("text", flat=True)) == sorted(
            f"Changed the {field}." for field in writable
        )


@pytest.mark.parametrize("role", ROLES)
def test_what_the_role_may_change_changes(api, request, ticket, role):
    client = api(caller(role, request), token=True)
    changes = {field: NEW_VALUES[field] for field in ALLOWED[role]}
    response = client.patch(f"/api/tickets/{ticket.pk}/", changes, format="json")
    assert response.status_code == 200, response.content
    for field, value in changes.items():
        assert response.json()[field] == value
    ticket.refresh_from_db()
    assert ticket.callback == NEW_VALUES["callback"]
    # The requester sees the change on her timeline: edits are public.
    timeline = api(ticket.requester).get(f"/api/tickets/{ticket.pk}/timeline/").json()
    assert "Changed the callback." in [event["text"] for event in timeline]


@pytest.mark.parametrize("field", sorted(FORBIDDEN_VALUES))
@pytest.mark.parametrize("role", ROLES)
def test_a_read_only_field_is_refused_and_changes_nothing(api, request, ticket, role, field):
    """Alone, or riding along with a change the role may make: 400 naming the field, and the
    allowed change is not made either."""
    client = api(caller(role, request), token=True)
    before = row(ticket)
    for body in (
        {field: FORBIDDEN_VALUES[field]},
        {field: FORBIDDEN_VALUES[field], "callback": "x9999"},
    ):
        response = client.patch(f"/api/tickets/{ticket.pk}/", body, format="json")
        assert response.status_code == 400, response.content
        assert response.json() == {"detail": f"These fields cannot be changed here: {field}."}
        assert row(ticket) == before
    assert not ticket.events.filter(kind=TicketEvent.Kind.EDITED).exists()


def test_the_refusal_names_every_field_at_once(api, tech, ticket):
    body = {"status": "resolved", "priority": 1, "assignee": "tech", "title": "New title"}
    response = api(tech, token=True).patch(f"/api/tickets/{ticket.pk}/", body, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "detail": "These fields cannot be changed here: assignee, priority, status."
    }
    ticket.refresh_from_db()
    assert ticket.title == "Wristband printer jams"


@pytest.mark.parametrize("role", ["technician", "manager"])
def test_staff_cannot_blank_or_overfill_a_field(api, request, ticket, role):
    client = api(caller(role, request), token=True)
    before = row(ticket)
    for body, field in (
        ({"title": "   "}, "title"),
        ({"title": "x" * 121}, "title"),
        ({"callback": ""}, "callback"),
        ({"category": "no-such-category"}, "category"),
    ):
        response = client.patch(f"/api/tickets/{ticket.pk}/", body, format="json")
        assert response.status_code == 400
        assert field in response.json()
    assert row(ticket) == before


def test_a_requester_cannot_patch_someone_elses_callback(api, outsider, ticket):
    response = api(outsider, token=True).patch(
        f"/api/tickets/{ticket.pk}/", {"callback": "x0000"}, format="json"
    )
    assert response.status_code == 404
    ticket.refresh_from_db()
    assert ticket.callback == "x4567"


@pytest.mark.parametrize("body", [[1], [{}]], ids=["array of numbers", "array of objects"])
def test_a_patch_that_is_not_an_object_is_400(api, tech, ticket, body):
    response = api(tech, token=True).patch(f"/api/tickets/{ticket.pk}/", body, format="json")
    assert response.status_code == 400
