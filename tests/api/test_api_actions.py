"""The ticket actions and paging through the API do what the pages do: same rules, same
timeline, same refusals (in words, with the status code that says why)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail

from audit.models import AuditEntry
from tests.factories import UserFactory
from tickets.models import Category, Page, PageChain, Ticket, TicketEvent
from tickets.priority import Scope
from tickets.services import ticket_assign, ticket_set_status

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(nurse_medsurg, file_ticket) -> Ticket:
    """A P5 printer ticket on Med-Surg, new and unassigned."""
    return file_ticket(nurse_medsurg, title="Wristband printer jams")


@pytest.fixture
def it(api, tech) -> Any:
    return api(tech, token=True)


@pytest.fixture
def nurse(api, nurse_medsurg) -> Any:
    return api(nurse_medsurg, token=True)


@pytest.fixture
def priya(reference_data: None) -> Any:
    return UserFactory(username="it.pshah", first_name="Priya", last_name="Shah", role="technician")


def url(ticket: Ticket, action: str = "") -> str:
    return f"/api/tickets/{ticket.pk}/{action + '/' if action else ''}"


def timeline(client: Any, ticket: Ticket) -> list[dict[str, Any]]:
    response = client.get(url(ticket, "timeline"))
    assert response.status_code == 200
    return response.json()


# Claim and take next


def test_claim_takes_the_ticket(it, tech, ticket, nurse):
    response = it.post(url(ticket, "claim"))
    assert response.status_code == 200
    assert response.json()["assignee"] == tech.get_full_name()
    assert response.json()["status"] == "assigned"
    ticket.refresh_from_db()
    assert ticket.assignee == tech
    assert f"{tech.get_full_name()} is on it." in [e["text"] for e in timeline(nurse, ticket)]


def test_a_claimed_ticket_is_409_naming_who_has_it(api, it, tech, priya, ticket):
    it.post(url(ticket, "claim"))
    response = api(priya, token=True).post(url(ticket, "claim"))
    assert response.status_code == 409
    assert response.json() == {"detail": f"{tech.get_full_name()} already has {ticket.number}."}
    ticket.refresh_from_db()
    assert ticket.assignee == tech


def test_claiming_a_closed_ticket_is_400(it, tech, ticket):
    ticket_set_status(ticket=ticket, actor=tech, status=Ticket.Status.CANCELLED, note="Filed twice")
    response = it.post(url(ticket, "claim"))
    assert response.status_code == 400
    assert response.json() == {"detail": f"{ticket.number} is cancelled."}


def test_take_next_hands_out_the_most_urgent_then_nothing(it, tech, nurse_ed, ticket, file_ticket):
    p1 = file_ticket(
        nurse_ed, location="ED", category=Category.objects.get(slug="ehr"),
        care_delayed=True, workaround=False, scope=Scope.UNIT,
    )  # fmt: skip
    first = it.post("/api/tickets/take-next/", {}, format="json")
    assert first.status_code == 200
    assert (first.json()["id"], first.json()["assignee"]) == (p1.pk, tech.get_full_name())
    second = it.post("/api/tickets/take-next/", {}, format="json")
    assert second.json()["id"] == ticket.pk
    nothing = it.post("/api/tickets/take-next/", {}, format="json")
    assert nothing.status_code == 204
    assert nothing.content == b""


def test_take_next_within_a_view(it, ticket):
    """Nothing in the critical areas (the ticket is on Med-Surg): 204."""
    response = it.post("/api/tickets/take-next/", {"view": "critical"}, format="json")
    assert response.status_code == 204
    assert it.post("/api/tickets/take-next/", {"view": "nonsense"}, format="json").json() == {
        "view": ['"nonsense" is not a valid choice.']
    }


# Assign


def test_assign_to_a_person(it, priya, ticket, nurse):
    response = it.post(url(ticket, "assign"), {"assignee": "it.pshah"}, format="json")
    assert response.status_code == 200
    assert response.json()["assignee"] == "Priya Shah"
    assert response.json()["status"] == "assigned"
    assert "Assigned to Priya Shah." in [e["text"] for e in timeline(nurse, ticket)]


def test_assign_to_a_team_leaves_it_unassigned_there(it, tech, ticket):
    it.post(url(ticket, "claim"))
    response = it.post(url(ticket, "assign"), {"team": "service-desk"}, format="json")
    assert response.status_code == 200
    assert (response.json()["team"], response.json()["assignee"]) == ("service-desk", None)


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({}, {"detail": "Choose a person or a team."}),
        (
            {"assignee": "nurse.medsurg"},
            {"detail": "Maya Tester is not in IT and cannot take tickets."},
        ),
        ({"assignee": "nobody.here"}, {"assignee": ["No such person."]}),
        ({"team": "no-such-team"}, {"team": ["Object with slug=no-such-team does not exist."]}),
    ],
    ids=["nobody", "a requester", "unknown person", "unknown team"],
)
def test_assign_refusals(it, nurse_medsurg, ticket, body, error):
    nurse_medsurg.last_name = "Tester"
    nurse_medsurg.save()
    response = it.post(url(ticket, "assign"), body, format="json")
    assert response.status_code == 400
    assert response.json() == error
    ticket.refresh_from_db()
    assert (ticket.assignee, ticket.team.slug) == (None, "field-services")


# Reply and internal note


def test_a_reply_reaches_the_requester(
    it, tech, nurse, ticket, settings, django_capture_on_commit_callbacks
):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    with django_capture_on_commit_callbacks(execute=True):
        response = it.post(url(ticket, "reply"), {"text": "On my way with a new ribbon."})
    assert response.status_code == 200
    assert response.json()["first_response_at"] is not None
    replies = [e for e in timeline(nurse, ticket) if e["kind"] == "comment"]
    assert [(e["actor"], e["text"]) for e in replies] == [
        (tech.get_full_name(), "On my way with a new ribbon.")
    ]
    assert [m.to for m in mail.outbox] == [[ticket.requester.email]]
    assert mail.outbox[0].subject == f"[{ticket.number}] A reply from IT"


def test_an_internal_note_never_reaches_the_requester(
    it, nurse, ticket, settings, django_capture_on_commit_callbacks
):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    with django_capture_on_commit_callbacks(execute=True):
        response = it.post(url(ticket, "internal-note"), {"text": "Vendor case 01873345"})
    assert response.status_code == 200
    assert response.json()["first_response_at"] is None  # a note is not a response
    assert "Vendor case 01873345" in [e["text"] for e in timeline(it, ticket)]
    seen = timeline(nurse, ticket)
    assert "Vendor case 01873345" not in [e["text"] for e in seen]
    assert all(e["is_public"] for e in seen)
    assert mail.outbox == []


def test_the_requesters_timeline_never_shows_internal_rows(it, nurse, ticket, file_ticket):
    """Notes, related links and audit rows (pages, PHI flags) stay with IT."""
    other = file_ticket(ticket.requester, title="Second printer")
    it.post(url(ticket, "internal-note"), {"text": "Vendor case 01873345"})
    it.post(url(ticket, "link"), {"other": other.number, "kind": "related"})
    it.post(url(ticket, "reply"), {"text": "Which printer, MRN 00123456's room?"})
    it.get(url(ticket))
    kinds = {e["kind"] for e in timeline(nurse, ticket)}
    assert kinds <= {"filed", "comment", "status", "assignment", "edited", "priority", "ack"}
    staff_kinds = {e["kind"] for e in timeline(it, ticket)}
    assert {"internal_note", "phi_flagged"} <= staff_kinds
    assert "viewed" not in staff_kinds


def test_the_requester_replies_and_it_goes_back_to_it(it, tech, nurse, ticket):
    ticket_set_status(ticket=ticket, actor=tech, status=Ticket.Status.WAITING_ON_REQUESTER)
    response = nurse.post(url(ticket, "reply"), {"text": "It's the one by bed 12."})
    assert response.status_code == 200
    assert response.json()["status"] == "in_progress"


def test_a_requester_cannot_reply_on_a_closed_ticket(nurse, tech, ticket):
    ticket_set_status(ticket=ticket, actor=tech, status=Ticket.Status.CANCELLED, note="Filed twice")
    response = nurse.post(url(ticket, "reply"), {"text": "again"})
    assert response.status_code == 400
    assert response.json() == {
        "detail": f"{ticket.number} is cancelled. File a new ticket if the problem is back."
    }


@pytest.mark.parametrize("action", ["reply", "internal-note"])
@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({}, "This field is required."),
        ({"text": "   "}, "This field may not be blank."),
        ({"text": "x" * 4001}, "Ensure this field has no more than 4000 characters."),
    ],
    ids=["missing", "blank", "too long"],
)
def test_empty_or_huge_text_is_refused(it, ticket, action, body, error):
    response = it.post(url(ticket, action), body, format="json")
    assert response.status_code == 400
    assert response.json() == {"text": [error]}
    assert not ticket.events.filter(kind__in=["comment", "internal_note"]).exists()


# Transitions, resolve, reopen


def test_a_transition_moves_the_ticket(it, nurse, ticket):
    response = it.post(
        url(ticket, "transition"), {"status": "waiting_on_vendor", "note": "RMA opened"}
    )
    assert response.status_code == 200
    assert response.json()["status"] == "waiting_on_vendor"
    assert response.json()["resolution_state"] == "paused"
    status = [e for e in timeline(nurse, ticket) if e["kind"] == "status"]
    assert [(e["old_value"], e["new_value"], e["text"]) for e in status] == [
        ("new", "waiting_on_vendor", "RMA opened")
    ]


@pytest.mark.parametrize(
    ("who", "setup", "status", "message"),
    [
        ("it", None, "closed", "A ticket that is new cannot be moved to closed."),
        ("it", None, "new", "{number} is already new."),
        (
            "it",
            "cancelled",
            "in_progress",
            "A ticket that is cancelled cannot be moved to in progress.",
        ),
        ("nurse", None, "resolved", "Only IT staff can make that change."),
        ("nurse", None, "in_progress", "Only IT staff can make that change."),
        ("nurse", "in_progress", "waiting_on_vendor", "Only IT staff can make that change."),
    ],
)
def test_a_refused_transition_is_400_with_the_reason(
    it, nurse, tech, ticket, who, setup, status, message
):
    if setup:
        ticket_set_status(ticket=ticket, actor=tech, status=setup, note="Filed twice")
    before = ticket.events.count()
    response = {"it": it, "nurse": nurse}[who].post(url(ticket, "transition"), {"status": status})
    assert response.status_code == 400
    assert response.json() == {"detail": message.format(number=ticket.number)}
    assert ticket.events.count() == before


def test_an_unknown_status_is_400(it, ticket):
    response = it.post(url(ticket, "transition"), {"status": "done"})
    assert response.status_code == 400
    assert response.json() == {"status": ['"done" is not a valid choice.']}


def test_the_requester_may_call_off_her_ticket(nurse, ticket):
    response = nurse.post(url(ticket, "transition"), {"status": "cancelled", "note": "Fixed it"})
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"


def test_the_requester_may_call_off_her_ticket_without_a_reason(nurse, ticket):
    response = nurse.post(url(ticket, "transition"), {"status": "cancelled"})
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"


@pytest.mark.parametrize("body", [{}, {"note": "  "}], ids=["no note", "blank note"])
def test_it_cannot_cancel_without_a_reason(it, ticket, body):
    response = it.post(url(ticket, "transition"), {"status": "cancelled", **body}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "detail": f"Give a reason for cancelling {ticket.number}; the requester sees it."
    }
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.NEW
    assert not ticket.events.filter(kind="status").exists()


def test_it_cancels_with_a_reason_on_the_requesters_timeline(it, nurse, ticket):
    response = it.post(url(ticket, "transition"), {"status": "cancelled", "note": "Filed twice"})
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    status = [e for e in timeline(nurse, ticket) if e["kind"] == "status"]
    assert [(e["new_value"], e["text"]) for e in status] == [("cancelled", "Filed twice")]


def test_resolve_with_a_code(it, nurse, ticket):
    response = it.post(url(ticket, "resolve"), {"code": "hardware_replaced", "note": "New printer"})
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["resolution_code"]) == ("resolved", "hardware_replaced")
    assert body["resolved_at"] is not None
    assert "New printer" in [e["text"] for e in timeline(nurse, ticket)]


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({}, {"code": ["This field is required."]}),
        ({"code": "magic"}, {"code": ['"magic" is not a valid choice.']}),
        (
            {"code": "duplicate"},
            {"detail": "Link the ticket as a duplicate instead; that resolves it."},
        ),
    ],
)
def test_resolve_refusals(it, ticket, body, error):
    response = it.post(url(ticket, "resolve"), body, format="json")
    assert response.status_code == 400
    assert response.json() == error
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.NEW


def test_the_requester_reopens_her_resolved_ticket(it, nurse, ticket):
    it.post(url(ticket, "resolve"), {"code": "fixed"})
    response = nurse.post(url(ticket, "reopen"))
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["resolved_at"]) == ("in_progress", None)
    reopened = [e for e in timeline(nurse, ticket) if e["kind"] == "status"][-1]
    assert (reopened["old_value"], reopened["new_value"]) == ("resolved", "in_progress")


def test_a_closed_ticket_cannot_be_reopened(it, nurse, ticket):
    it.post(url(ticket, "resolve"), {"code": "fixed"})
    it.post(url(ticket, "transition"), {"status": "closed"})
    for client in (nurse, it):
        response = client.post(url(ticket, "reopen"))
        assert response.status_code == 400
        assert response.json() == {
            "detail": "A ticket that is closed cannot be moved to in progress."
        }


def test_a_requester_cannot_reopen_an_open_ticket(nurse, ticket):
    response = nurse.post(url(ticket, "reopen"))
    assert response.status_code == 400
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.NEW


def test_reopen_only_reopens_resolved_tickets(it, ticket):
    response = it.post(url(ticket, "reopen"))
    assert response.status_code == 400
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.NEW


# Priority


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"priority": 2}, {"reason": ["This field is required."]}),
        ({"priority": 2, "reason": "   "}, {"reason": ["This field may not be blank."]}),
        (
            {"priority": 0, "reason": "x"},
            {"priority": ["Ensure this value is greater than or equal to 1."]},
        ),
        (
            {"priority": 6, "reason": "x"},
            {"priority": ["Ensure this value is less than or equal to 5."]},
        ),
        ({"priority": 5, "reason": "no change"}, {"detail": "{number} is already P5."}),
    ],
    ids=["no reason", "blank reason", "P0", "P6", "same"],
)
def test_a_priority_change_needs_a_reason_and_a_change(it, ticket, body, error):
    response = it.post(url(ticket, "change-priority"), body, format="json")
    assert response.status_code == 400
    assert response.json() == {
        key: value.format(number=ticket.number) if isinstance(value, str) else value
        for key, value in error.items()
    }
    ticket.refresh_from_db()
    assert ticket.priority == 5


def test_a_priority_change_goes_on_the_record(it, nurse, ticket):
    due = it.get(url(ticket)).json()["response_due_at"]
    response = it.post(
        url(ticket, "change-priority"), {"priority": 2, "reason": "Whole unit can't band patients"}
    )
    assert response.status_code == 200
    assert response.json()["priority"] == 2
    assert response.json()["response_due_at"] < due  # deadlines recomputed
    change = [e for e in timeline(nurse, ticket) if e["kind"] == "priority"]
    assert [(e["old_value"], e["new_value"], e["text"]) for e in change] == [
        ("P5", "P2", "Whole unit can't band patients")
    ]


# Links


def test_link_as_a_duplicate_resolves_it(it, ticket, file_ticket):
    original = file_ticket(ticket.requester, title="Printer broken")
    response = it.post(url(ticket, "link"), {"other": original.number, "kind": "duplicate"})
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["resolution_code"]) == ("resolved", "duplicate")
    ticket.refresh_from_db()
    assert ticket.duplicate_of == original
    assert original.events.filter(
        kind=TicketEvent.Kind.COMMENT, is_public=False,
        text=f"{ticket.number} was closed as a duplicate of this one.",
    ).exists()  # fmt: skip


def test_link_as_related(it, ticket, file_ticket):
    other = file_ticket(ticket.requester, title="Printer broken")
    response = it.post(url(ticket, "link"), {"other": str(other.pk + 1000), "kind": "related"})
    assert response.status_code == 200
    assert list(ticket.related.all()) == [other]
    assert response.json()["status"] == "new"


@pytest.mark.parametrize(
    ("other", "kind", "error"),
    [
        ("self", "duplicate", {"detail": "A ticket cannot be linked to itself."}),
        ("HD-999999", "duplicate", {"other": ["There is no such ticket."]}),
        ("printer", "related", {"other": ["There is no such ticket."]}),
        ("HD-²", "related", {"other": ["There is no such ticket."]}),
        ("HD-①", "related", {"other": ["There is no such ticket."]}),
        ("other-in-arabic-indic-digits", "related", {"other": ["There is no such ticket."]}),
        ("self", "twin", {"kind": ['"twin" is not a valid choice.']}),
    ],
)
def test_link_refusals(it, ticket, file_ticket, nurse_medsurg, other, kind, error):
    if other == "other-in-arabic-indic-digits":
        digits = str(file_ticket(nurse_medsurg).pk + 1000)
        other = "HD-" + digits.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    other = ticket.number if other == "self" else other
    response = it.post(url(ticket, "link"), {"other": other, "kind": kind})
    assert response.status_code == 400
    assert response.json() == error
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.NEW


# Reads


def test_an_it_read_goes_on_the_audit_log_as_on_the_page(it, tech, ticket):
    assert it.get(url(ticket)).status_code == 200
    viewed = AuditEntry.objects.get(kind=AuditEntry.Kind.TICKET_VIEWED)
    assert (viewed.actor, viewed.ticket_id, viewed.detail) == (tech, ticket.pk, {"via": "api"})
    assert not ticket.events.filter(actor=tech).exists()


def test_a_requester_read_is_audited_too(nurse, ticket):
    nurse.get(url(ticket))
    viewed = AuditEntry.objects.get(kind=AuditEntry.Kind.TICKET_VIEWED)
    assert (viewed.actor, viewed.ticket_id) == (ticket.requester, ticket.pk)


def test_the_list_uses_the_queues_filters_and_order(it, tech, nurse_ed, ticket, file_ticket):
    p1 = file_ticket(
        nurse_ed, location="ED", category=Category.objects.get(slug="ehr"),
        care_delayed=True, workaround=False, scope=Scope.UNIT,
    )  # fmt: skip
    ticket_assign(ticket=ticket, actor=tech, assignee=tech)

    def ids(**query: Any) -> list[int]:
        return [row["id"] for row in it.get("/api/tickets/", query).json()["results"]]

    assert ids(ordering="queue") == [p1.pk, ticket.pk]
    assert ids(view="mine") == [ticket.pk]
    assert ids(assignee="unassigned") == [p1.pk]
    assert ids(view="critical") == [p1.pk]
    assert ids(priority="1") == [p1.pk]
    assert ids(q=ticket.number) == [ticket.pk]
    assert ids(q="epic frozen") == []
    assert set(ids(q="")) == set(ids())  # an empty search box searches nothing
    assert ids(q="²") == ids(q="HD-①") == []  # a text search, not a server error
    ticket_set_status(ticket=ticket, actor=tech, status=Ticket.Status.RESOLVED)
    assert ids() == [p1.pk]
    assert set(ids(open_only="false")) == {p1.pk, ticket.pk}
    assert it.get("/api/tickets/", {"department": "abc"}).status_code == 400


def test_the_list_pages_with_a_cursor(it, nurse_medsurg, file_ticket):
    for n in range(5):
        file_ticket(nurse_medsurg, title=f"Printer {n}")
    first = it.get("/api/tickets/", {"page_size": 2}).json()
    assert len(first["results"]) == 2
    second = it.get(first["next"]).json()
    third = it.get(second["next"]).json()
    titles = [r["title"] for page in (first, second, third) for r in page["results"]]
    assert titles == [f"Printer {n}" for n in (4, 3, 2, 1, 0)]
    assert third["next"] is None


# Paging


@pytest.fixture
def p1(nurse_ed, on_call_team, file_ticket) -> Ticket:
    return file_ticket(
        nurse_ed, location="ED", category=Category.objects.get(slug="ehr"),
        title="Epic frozen on all triage PCs", care_delayed=True, workaround=False,
        scope=Scope.UNIT,
    )  # fmt: skip


def test_pages_list_shows_the_running_chain(it, p1, on_call_team):
    response = it.get("/api/pages/")
    assert response.status_code == 200
    [chain] = response.json()["results"]
    assert chain["ticket"] == p1.number
    assert chain["team"] == "clinical-apps"
    assert (chain["reason"], chain["status"], chain["step"], chain["round"]) == (
        "p1_filed", "active", 0, 0,
    )  # fmt: skip
    assert chain["page_count"] == Page.objects.filter(ticket=p1).count() == 1
    assert chain["acknowledged_by"] is None
    assert it.get("/api/pages/", {"status": "acknowledged"}).json()["results"] == []


def test_acknowledge_stops_the_chain_and_takes_the_ticket(it, tech, p1, nurse_ed, api):
    chain = PageChain.objects.get(ticket=p1)
    response = it.post(f"/api/pages/{chain.pk}/acknowledge/")
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["acknowledged_by"]) == ("acknowledged", tech.get_full_name())
    assert body["acknowledged_at"] is not None
    p1.refresh_from_db()
    assert p1.assignee == tech
    assert p1.status == Ticket.Status.ASSIGNED
    assert p1.first_response_at is not None
    ack = [e for e in timeline(api(nurse_ed), p1) if e["kind"] == "ack"]
    assert [(e["new_value"], e["text"]) for e in ack] == [
        ("api", f"{tech.get_full_name()} acknowledged the page and is on it.")
    ]
    assert not Page.objects.filter(chain=chain, status=Page.Status.PENDING).exists()


def test_a_second_acknowledgement_is_409(api, it, tech, p1, on_call_team):
    chain = PageChain.objects.get(ticket=p1)
    it.post(f"/api/pages/{chain.pk}/acknowledge/")
    response = api(on_call_team["secondary"], token=True).post(
        f"/api/pages/{chain.pk}/acknowledge/"
    )
    assert response.status_code == 409
    assert response.json()["detail"].startswith(
        f"Already acknowledged by {tech.get_full_name()} at "
    )


def test_acknowledging_an_ended_chain_is_409(it, tech, p1):
    ticket_set_status(ticket=p1, actor=tech, status=Ticket.Status.RESOLVED)
    chain = PageChain.objects.get(ticket=p1)
    response = it.post(f"/api/pages/{chain.pk}/acknowledge/")
    assert response.status_code == 409
    assert response.json() == {"detail": "This page has ended: ended: resolved."}


def test_acknowledging_no_chain_is_404(it, reference_data):
    assert it.post("/api/pages/999999/acknowledge/").status_code == 404


@pytest.mark.parametrize(
    ("path", "query", "field"),
    [
        ("/api/tickets/", {"status": ""}, "status"),
        ("/api/tickets/", {"assignee": ""}, "assignee"),
        ("/api/tickets/", {"open_only": "maybe"}, "open_only"),
        ("/api/tickets/", {"open_only": ""}, "open_only"),
        ("/api/tickets/", {"page_size": "0"}, "page_size"),
        ("/api/tickets/", {"page_size": "²"}, "page_size"),
        ("/api/tickets/", {"page_size": "ten"}, "page_size"),
        ("/api/locations/", {"kind": ""}, "kind"),
        ("/api/pages/", {"status": ""}, "status"),
    ],
)
def test_a_list_refuses_a_filter_it_cannot_read_instead_of_ignoring_it(
    it, ticket, path, query, field
):
    response = it.get(path, query)
    assert response.status_code == 400
    assert list(response.json()) == [field]


# "Fixed?": the requester's answer once IT resolved her ticket


def test_the_requester_answers_fixed_and_the_ticket_closes(it, nurse, ticket):
    assert it.post(url(ticket, "resolve"), {"code": "fixed"}).status_code == 200
    response = nurse.post(url(ticket, "fixed"), {"fixed": True}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "closed"
    ticket.refresh_from_db()
    assert (ticket.fixed_confirmed, ticket.still_broken_count) == (True, 0)


def test_still_broken_reopens_with_the_answer(it, nurse, ticket):
    it.post(url(ticket, "resolve"), {"code": "fixed"})
    refused = nurse.post(url(ticket, "fixed"), {"fixed": False}, format="json")
    assert refused.status_code == 400
    assert refused.json() == {"detail": "Say in a few words what is still broken."}
    response = nurse.post(
        url(ticket, "fixed"), {"fixed": False, "answer": "Still jams"}, format="json"
    )
    assert response.json()["status"] == "in_progress"
    assert timeline(nurse, ticket)[-2]["text"] == "Still broken: Still jams"


def test_only_the_requester_answers_fixed(it, api, outsider, ticket):
    it.post(url(ticket, "resolve"), {"code": "fixed"})
    refused = it.post(url(ticket, "fixed"), {"fixed": True}, format="json")
    assert refused.status_code == 400
    assert refused.json() == {"detail": "Only the person who filed the ticket can answer this."}
    other = api(outsider, token=True)
    assert other.post(url(ticket, "fixed"), {"fixed": True}, format="json").status_code == 404
    assert Ticket.objects.get(pk=ticket.pk).status == Ticket.Status.RESOLVED
