"""Removing patient data on the ticket page: the "Remove patient data" forms appear where the
reader may use them, post with CSRF, answer 404 outside the reader's tickets and say what went
wrong in words; and the PHI check tells the typing page where the flagged passages are."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import TicketFactory
from tickets.models import Ticket, TicketEvent
from tickets.phi import REDACTION_MARK
from tickets.services import ticket_comment, ticket_set_status

pytestmark = pytest.mark.django_db
NAME = "Jonathan Quill"
FORM = re.compile(r'<details class="redact" data-redact-for="([\w-]+)">')


@pytest.fixture
def ticket(nurse_medsurg) -> Ticket:
    return TicketFactory(
        requester=nurse_medsurg,
        title=f"Pump alarms for {NAME}",
        description=f"Bed 4, {NAME}",
        phi_suspected=False,
    )


def redact(client, ticket: Ticket, **fields):
    data = {f"redact-{key}": value for key, value in fields.items()}
    return client.post(reverse("redact", args=[ticket.pk]), data, follow=True)


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def forms_on(client, ticket: Ticket) -> list[str]:
    """The boxes the page shows in redaction mode (the "Remove patient data…" link)."""
    page = client.get(reverse("ticket_detail", args=[ticket.pk]) + "?redact=1").content.decode()
    return FORM.findall(page)


def test_the_boxes_show_only_in_redaction_mode_which_a_link_opens(client, ticket, tech):
    client.force_login(tech)
    page = client.get(reverse("ticket_detail", args=[ticket.pk])).content.decode()
    assert FORM.findall(page) == []
    assert '<a href="?redact=1">Remove patient data…</a>' in page
    in_mode = client.get(reverse("ticket_detail", args=[ticket.pk]) + "?redact=1")
    assert "Done removing" in in_mode.content.decode()
    assert "Remove patient data…" not in in_mode.content.decode()


def test_someone_who_may_not_remove_gets_neither_the_link_nor_the_boxes(
    client, ticket, nurse_medsurg, tech
):
    ticket_set_status(ticket=ticket, actor=tech, status=Ticket.Status.RESOLVED)
    client.force_login(nurse_medsurg)
    page = client.get(reverse("ticket_detail", args=[ticket.pk]) + "?redact=1").content.decode()
    assert FORM.findall(page) == []
    assert "Remove patient data" not in page


def test_after_a_removal_the_page_stays_in_redaction_mode(client, ticket, tech):
    client.force_login(tech)
    response = client.post(
        reverse("redact", args=[ticket.pk]), {"redact-target": "title", "redact-passage": NAME}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("ticket_detail", args=[ticket.pk]) + "?redact=1"


def test_it_is_offered_removal_on_the_title_description_and_every_comment(
    client, ticket, nurse_medsurg, tech
):
    reply = ticket_comment(ticket=ticket, author=tech, text="On my way")
    note = ticket_comment(ticket=ticket, author=tech, text="RMA 4411", internal=True)
    client.force_login(tech)
    assert forms_on(client, ticket) == [
        "title", "description", f"event-{reply.pk}", f"event-{note.pk}"
    ]  # fmt: skip


def test_the_requester_is_offered_it_on_what_she_sees_while_the_ticket_is_open(
    client, ticket, nurse_medsurg, tech
):
    mine = ticket_comment(ticket=ticket, author=nurse_medsurg, text="Still alarming")
    ticket_comment(ticket=ticket, author=tech, text="RMA 4411", internal=True)
    client.force_login(nurse_medsurg)
    assert forms_on(client, ticket) == ["title", "description", f"event-{mine.pk}"]

    ticket_set_status(ticket=ticket, actor=tech, status=Ticket.Status.RESOLVED)
    assert forms_on(client, ticket) == []


def test_the_requester_removes_a_name_from_her_title(client, ticket, nurse_medsurg):
    client.force_login(nurse_medsurg)
    response = redact(client, ticket, target="title", passage=NAME)

    assert messages_of(response) == [f"Patient data removed from {ticket.number}."]
    page = response.content.decode()
    assert NAME not in page
    assert f"Pump alarms for {REDACTION_MARK}" in page
    assert "Removed patient data from the title." in page
    ticket.refresh_from_db()
    assert ticket.title == f"Pump alarms for {REDACTION_MARK}"
    assert ticket.description == f"Bed 4, {REDACTION_MARK}"


def test_it_removes_a_passage_from_a_comment(client, ticket, nurse_medsurg, tech):
    comment = ticket_comment(ticket=ticket, author=nurse_medsurg, text="MRN 00123456 on band")
    client.force_login(tech)
    response = redact(client, ticket, target="comment", event=comment.pk, passage="00123456")
    assert messages_of(response) == [f"Patient data removed from {ticket.number}."]
    assert TicketEvent.objects.get(pk=comment.pk).text == f"MRN {REDACTION_MARK} on band"


def test_bad_input_is_explained_and_changes_nothing(client, ticket, nurse_medsurg):
    client.force_login(nurse_medsurg)
    events = ticket.events.count()
    for fields, message in [
        ({"target": "title", "passage": ""}, "Paste or type the text to remove."),
        ({"target": "", "passage": NAME}, "Choose the title, the description or a comment."),
        ({"target": "title", "passage": "Quill Jonathan"},
         "That text is not in the title. Copy it from there exactly."),
        ({"target": "comment", "passage": NAME, "event": "x"}, "Enter a whole number."),
    ]:  # fmt: skip
        response = redact(client, ticket, **fields)
        assert messages_of(response) == [message]
    ticket.refresh_from_db()
    assert ticket.title == f"Pump alarms for {NAME}"
    assert ticket.events.count() == events


def test_other_peoples_tickets_are_404(client, ticket, outsider):
    client.force_login(outsider)
    response = client.post(
        reverse("redact", args=[ticket.pk]), {"redact-target": "title", "redact-passage": NAME}
    )
    assert response.status_code == 404
    ticket.refresh_from_db()
    assert NAME in ticket.title


def test_the_requester_is_told_a_closed_ticket_is_its_to_clean(client, ticket, nurse_medsurg):
    Ticket.objects.filter(pk=ticket.pk).update(status=Ticket.Status.CLOSED)
    client.force_login(nurse_medsurg)
    response = redact(client, ticket, target="title", passage=NAME)
    assert messages_of(response) == [f"{ticket.number} is closed. Ask IT to remove the text."]


def test_a_removal_needs_the_csrf_token_and_a_post(ticket, nurse_medsurg):
    client = Client(enforce_csrf_checks=True)
    client.force_login(nurse_medsurg)
    url = reverse("redact", args=[ticket.pk])
    assert client.post(url, {"redact-target": "title", "redact-passage": NAME}).status_code == 403
    assert client.get(url).status_code == 405
    ticket.refresh_from_db()
    assert NAME in ticket.title


def test_signed_out_visitors_are_sent_to_sign_in(client, ticket):
    response = client.post(reverse("redact", args=[ticket.pk]), {})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# The PHI check while typing --------------------------------------------------------------------


def test_the_phi_check_says_where_the_passages_are_without_repeating_them(client, nurse_ed):
    client.force_login(nurse_ed)
    text = "pt John Smith, MRN 00123456"
    answer = client.post(reverse("phi_check"), {"text": text}).json()
    assert answer["kinds"] == ["mrn", "patient_name"]
    assert [text[start:end] for start, end in answer["spans"]] == ["John Smith", "00123456"]
    assert "John" not in str(answer)
    assert "00123456" not in str(answer)


def test_the_phi_check_counts_offsets_as_the_browser_does(client, nurse_ed):
    """JavaScript strings count UTF-16 units: an emoji before a passage is two of them."""
    client.force_login(nurse_ed)
    answer = client.post(reverse("phi_check"), {"text": "\U0001f61f MRN 00123456"}).json()
    assert answer["spans"] == [[7, 15]]


def test_the_phi_check_finds_nothing_in_clean_text(client, nurse_ed):
    client.force_login(nurse_ed)
    answer = client.post(reverse("phi_check"), {"text": "Printer x4567 jams"}).json()
    assert answer == {"kinds": [], "labels": [], "spans": []}
