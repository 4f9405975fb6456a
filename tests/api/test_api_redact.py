"""Removing patient data through the API: the same rules as the page (IT anywhere, the requester
on her own open ticket and not in internal notes), the same timeline, refusals in words, and
404 outside the caller's tickets."""

from __future__ import annotations

from typing import Any

import pytest

from tickets.models import Ticket, TicketEvent
from tickets.phi import REDACTION_MARK
from tickets.services import ticket_comment, ticket_set_status

pytestmark = pytest.mark.django_db
NAME = "Jonathan Quill"


@pytest.fixture
def ticket(nurse_medsurg, file_ticket) -> Ticket:
    return file_ticket(
        nurse_medsurg, title=f"Pump alarms for {NAME}", description=f"pt {NAME} in bed 4"
    )


def redact(client: Any, ticket: Ticket, **body: Any) -> Any:
    return client.post(f"/api/tickets/{ticket.pk}/redact/", body, format="json")


def test_the_requester_removes_a_name_and_the_flag_goes_with_it(api, nurse_medsurg, ticket):
    nurse = api(nurse_medsurg, token=True)
    assert ticket.phi_suspected is True
    response = redact(nurse, ticket, target="description", passage=NAME)

    assert response.status_code == 200
    answer = response.json()
    assert answer["title"] == f"Pump alarms for {REDACTION_MARK}"
    assert answer["description"] == f"pt {REDACTION_MARK} in bed 4"
    assert answer["phi_suspected"] is False
    timeline = nurse.get(f"/api/tickets/{ticket.pk}/timeline/").json()
    assert timeline[-1]["kind"] == "redacted"
    assert timeline[-1]["actor"] == ticket.requester.get_full_name()
    assert NAME not in str(timeline)


def test_it_names_a_comment_by_its_timeline_id(api, tech, ticket, nurse_medsurg):
    it = api(tech, token=True)
    ticket_comment(ticket=ticket, author=nurse_medsurg, text="MRN 00123456 on the band")
    comment = next(
        event for event in it.get(f"/api/tickets/{ticket.pk}/timeline/").json()
        if event["kind"] == "comment"
    )  # fmt: skip

    response = redact(it, ticket, target="comment", event=comment["id"], passage="00123456")

    assert response.status_code == 200
    assert TicketEvent.objects.get(pk=comment["id"]).text == f"MRN {REDACTION_MARK} on the band"


def test_the_requester_cannot_reach_internal_notes(api, nurse_medsurg, ticket, tech):
    nurse = api(nurse_medsurg, token=True)
    note = ticket_comment(ticket=ticket, author=tech, text=f"Called {NAME}", internal=True)
    response = redact(nurse, ticket, target="comment", event=note.pk, passage=NAME)
    assert response.status_code == 400
    assert response.json() == {"detail": "Only IT staff can remove text from internal notes."}
    assert TicketEvent.objects.get(pk=note.pk).text == f"Called {NAME}"


def test_the_requester_cannot_clean_a_resolved_ticket(api, nurse_medsurg, ticket, tech):
    nurse = api(nurse_medsurg, token=True)
    ticket_set_status(ticket=ticket, actor=tech, status=Ticket.Status.RESOLVED)
    response = redact(nurse, ticket, target="title", passage=NAME)
    assert response.status_code == 400
    assert response.json() == {"detail": f"{ticket.number} is resolved. Ask IT to remove the text."}


def test_someone_elses_ticket_is_not_found(api, outsider, ticket):
    response = redact(api(outsider, token=True), ticket, target="title", passage=NAME)
    assert response.status_code == 404
    ticket.refresh_from_db()
    assert NAME in ticket.title


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({}, {"target": ["This field is required."], "passage": ["This field is required."]}),
        ({"target": "callback", "passage": NAME},
         {"target": ['"callback" is not a valid choice.']}),
        ({"target": "title", "passage": ""}, {"passage": ["This field may not be blank."]}),
        ({"target": "comment", "passage": NAME, "event": 0},
         {"event": ["Ensure this value is greater than or equal to 1."]}),
        ({"target": "title", "passage": "Quill, Jonathan"},
         {"detail": "That text is not in the title. Copy it from there exactly."}),
    ],
)  # fmt: skip
def test_bad_requests_say_what_is_wrong_and_change_nothing(api, tech, ticket, body, errors):
    response = redact(api(tech, token=True), ticket, **body)
    assert response.status_code == 400
    assert response.json() == errors
    ticket.refresh_from_db()
    assert ticket.title == f"Pump alarms for {NAME}"
    assert not ticket.events.filter(kind=TicketEvent.Kind.REDACTED).exists()


def test_the_timeline_gives_each_event_its_id(api, tech, ticket):
    events = api(tech, token=True).get(f"/api/tickets/{ticket.pk}/timeline/").json()
    assert [event["id"] for event in events] == list(
        ticket.events.order_by("at", "pk").values_list("pk", flat=True)
    )
