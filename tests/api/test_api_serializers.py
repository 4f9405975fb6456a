"""TicketSerializer writes tickets fetched with api_tickets() (instances) or api_ticket_rows()
(plain rows) straight from their values. The answer must be exactly what the declared fields
give (they are the schema), for every kind of ticket and at every point of its clocks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import User
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator

from tests.factories import UserFactory
from tickets.api_serializers import TicketSerializer
from tickets.models import Category, Ticket
from tickets.priority import Scope
from tickets.selectors import api_ticket_rows, api_tickets
from tickets.services import (
    ticket_claim,
    ticket_comment,
    ticket_resolve,
    ticket_set_status,
)

pytestmark = pytest.mark.django_db


def declared(ticket: Ticket) -> dict[str, Any]:
    """The answer field by field: a ticket fetched without api_tickets() takes DRF's own path."""
    return dict(TicketSerializer(Ticket.objects.get(pk=ticket.pk)).data)


def fetched(ticket: Ticket) -> list[Any]:
    """The ticket both ways the API reads it: an instance (detail, actions), a row (the list)."""
    one = Ticket.objects.filter(pk=ticket.pk)
    return [api_tickets(tickets=one).get(), api_ticket_rows(tickets=one).get()]


@pytest.fixture
def variety(
    nurse_medsurg: User, nurse_ed: User, tech: User, on_call_team: Any, file_ticket: Callable
) -> list[Ticket]:
    """Open, claimed, answered, paused, resolved, cancelled, unassigned, a P1 from the ED that
    paged, one with PHI in its text, one without deadlines, one from a person with no name and
    one filed by e-mail waiting for triage."""
    with time_machine.travel(timezone.now(), tick=False):
        fresh = file_ticket(nurse_medsurg, title="Wristband printer jams")
        claimed = ticket_claim(ticket=file_ticket(nurse_medsurg, title="Scanner"), user=tech)
        answered = file_ticket(nurse_medsurg, title="Badge reader", description="Door 3")
        ticket_claim(ticket=answered, user=tech)
        ticket_comment(ticket=answered, author=tech, text="On my way.")
        paused = file_ticket(nurse_medsurg, title="Monitor flickers")
        ticket_claim(ticket=paused, user=tech)
        ticket_set_status(ticket=paused, actor=tech, status=Ticket.Status.WAITING_ON_REQUESTER)
        resolved = file_ticket(nurse_medsurg, title="Printer offline")
        ticket_claim(ticket=resolved, user=tech)
        ticket_resolve(ticket=resolved, actor=tech, code=Ticket.ResolutionCode.FIXED)
        cancelled = file_ticket(nurse_medsurg, title="Never mind")
        ticket_set_status(ticket=cancelled, actor=nurse_medsurg, status=Ticket.Status.CANCELLED)
        critical = file_ticket(
            nurse_ed, location="ED", category=Category.objects.get(slug="ehr"),
            title="Epic down in the ED", care_delayed=True, workaround=False, scope=Scope.UNIT,
        )  # fmt: skip
        phi = file_ticket(nurse_medsurg, title="Label printer for MRN 00123456")
        bare = file_ticket(nurse_medsurg, title="No deadlines")
        Ticket.objects.filter(pk=bare.pk).update(response_due_at=None, resolution_warn_at=None)
        nameless = UserFactory(username="nurse.anon", first_name="", last_name="", role="requester")
        anonymous = file_ticket(nameless, title="Whose is this")
        emailed = file_ticket(
            nurse_medsurg, title="Printer on 4 West keeps jamming", care_delayed=None,
            scope=None, workaround=None, source=Ticket.Source.EMAIL,
        )  # fmt: skip
    tickets = [
        fresh,
        claimed,
        answered,
        paused,
        resolved,
        cancelled,
        critical,
        phi,
        bare,
        anonymous,
        emailed,
    ]
    assert critical.priority == 1
    assert emailed.needs_triage
    assert critical.auto_escalated
    assert phi.phi_suspected
    return tickets


# Far enough apart that the running clocks go from on track to at risk to breached.
LATER = [timedelta(0), timedelta(hours=3), timedelta(days=3), timedelta(days=30)]


@pytest.mark.parametrize("zone", ["America/Chicago", "UTC", "Asia/Kolkata"])
@pytest.mark.parametrize("later", LATER, ids=["now", "3h", "3d", "30d"])
def test_the_fast_answer_is_the_declared_fields_answer(variety, zone, later):
    with time_machine.travel(timezone.now() + later, tick=False), timezone.override(zone):
        for ticket in variety:
            for read in fetched(ticket):
                assert TicketSerializer(read).data == declared(ticket), ticket.title


def test_the_clocks_cover_every_state(variety):
    """The comparison above means something only if the tickets show every clock state."""
    seen = set()
    for later in LATER:
        with time_machine.travel(timezone.now() + later, tick=False):
            for ticket in variety:
                answer = TicketSerializer(fetched(ticket)[0]).data
                seen |= {answer["response_state"], answer["resolution_state"]}
    assert seen == {None, "on_track", "at_risk", "breached", "paused", "met"}


def test_a_fetched_ticket_is_written_without_a_query(variety, django_assert_num_queries):
    """The fast path is taken: the declared fields would load the department, location..."""
    instances = list(api_tickets(tickets=Ticket.objects.all()))
    rows = list(api_ticket_rows(tickets=Ticket.objects.all()))
    with django_assert_num_queries(0):
        assert TicketSerializer(instances[0]).data
        assert TicketSerializer(rows[0]).data
        assert len(TicketSerializer(instances, many=True).data) == len(variety)
        assert len(TicketSerializer(rows, many=True).data) == len(variety)


def test_the_list_and_the_detail_answer_the_declared_fields(api, tech, variety):
    client = api(tech, token=True)
    with time_machine.travel(timezone.now() + timedelta(hours=3), tick=False):
        rows = client.get("/api/tickets/", {"open_only": "false"}).json()["results"]
        assert {row["id"]: row for row in rows} == {t.pk: declared(t) for t in variety}
        for ticket in variety:
            assert client.get(f"/api/tickets/{ticket.pk}/").json() == declared(ticket)


FILINGS = {
    "a printer on a ward": {"location": "MEDSURG"},
    "PHI in the title": {"location": "MEDSURG", "title": "Label printer for MRN 00123456"},
    # A Med-Surg nurse filing for the ED says so.
    "the ED, care delayed": {
        "location": "ED", "category": "ehr", "care_delayed": True, "workaround": False,
        "scope": "several", "for_other_unit": True,
    },
}  # fmt: skip


@pytest.mark.parametrize("filing", list(FILINGS))
def test_the_answer_to_a_filing_is_the_declared_fields(api, nurse_medsurg, on_call_team, filing):
    """The answer to a filing is written from the ticket just saved, not read back."""
    body = {"category": "printers", "title": "Jams", "callback": " x1 ", "care_delayed": False,
            "scope": "me", "workaround": True, "description": " On the left. "}  # fmt: skip
    body.update(FILINGS[filing])
    client = api(nurse_medsurg, token=True)
    with time_machine.travel(timezone.now(), tick=False):
        response = client.post("/api/tickets/", body, format="json", HTTP_IDEMPOTENCY_KEY="k1")
        assert response.status_code == 201
        assert response.json() == declared(Ticket.objects.get(pk=response.json()["id"]))
        again = client.post("/api/tickets/", body, format="json", HTTP_IDEMPOTENCY_KEY="k1")
        assert again.status_code == 200
        assert again.json() == response.json()


def test_a_machine_accounts_filing_for_a_department_answers_the_declared_fields(
    api, integration, on_call_team
):
    with time_machine.travel(timezone.now(), tick=False):
        response = api(integration, token=True).post(
            "/api/tickets/",
            {"department": "ED", "category": "ehr", "title": "ADT feed down", "callback": "-",
             "care_delayed": True, "workaround": False, "scope": "me"},
            format="json",
        )  # fmt: skip
        assert response.status_code == 201
        assert response.json()["priority"] == 1
        assert response.json() == declared(Ticket.objects.get(pk=response.json()["id"]))


def test_the_answer_has_the_schemas_properties_in_order(variety):
    schema = SchemaGenerator().get_schema(request=None, public=True)
    properties = schema["components"]["schemas"]["Ticket"]["properties"]
    for read in fetched(variety[0]):
        assert list(TicketSerializer(read).data) == list(properties)
    assert list(declared(variety[0])) == list(properties)


def test_the_answer_says_how_a_ticket_arrived_and_whether_it_waits_for_triage(
    api, tech, nurse_medsurg, variety
):
    client = api(tech, token=True)
    emailed = client.get(f"/api/tickets/{variety[-1].pk}/").json()
    assert (emailed["source"], emailed["needs_triage"], emailed["priority"]) == ("email", True, 4)
    listed = client.get("/api/tickets/", {"open_only": "false"}).json()["results"]
    assert {row["source"] for row in listed} == {"web", "email"}
    assert [row["id"] for row in listed if row["needs_triage"]] == [variety[-1].pk]
    filed = api(nurse_medsurg, token=True).post(
        "/api/tickets/",
        {"category": "printers", "title": "Jams", "callback": "x1", "location": "MEDSURG",
         "care_delayed": False,
         "scope": "me", "workaround": True},
        format="json",
    )  # fmt: skip
    assert filed.status_code == 201, filed.json()
    assert (filed.json()["source"], filed.json()["needs_triage"]) == ("api", False)


def test_the_schema_documents_source_and_triage_as_read_only():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    properties = schema["components"]["schemas"]["Ticket"]["properties"]
    assert properties["needs_triage"]["readOnly"] is True
    assert "questions page" in properties["needs_triage"]["description"]
    assert properties["source"]["readOnly"] is True
    assert "How the ticket reached IT" in properties["source"]["description"]
    assert (
        "needs_triage" not in schema["components"]["schemas"]["TicketCreateRequest"]["properties"]
    )
