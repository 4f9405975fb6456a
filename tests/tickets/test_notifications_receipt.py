"""The requester's receipt for a ticket filed by e-mail asks how urgent it is."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from tests.factories import file_by_email
from tests.tickets.test_notifications import send_waiting
from tickets.models import Ticket
from tickets.priority import Scope

pytestmark = pytest.mark.django_db


def filed(requester, **answers):
    return file_by_email(
        requester, location="MEDSURG", title="Printer on 4 West keeps jamming", **answers
    )


def receipt(ticket: Ticket) -> mail.EmailMessage:
    send_waiting()
    (message,) = [m for m in mail.outbox if "We have your ticket" in m.subject]
    return message


def test_a_ticket_waiting_for_triage_gets_the_link_to_its_three_questions(nurse_medsurg, settings):
    settings.HELPDESK = {**settings.HELPDESK, "BASE_URL": "https://helpdesk.lakeside.example/"}
    ticket = filed(nurse_medsurg, care_delayed=None, scope=None, workaround=None)

    body = receipt(ticket).body

    link = f"https://helpdesk.lakeside.example{reverse('answer_questions', args=[ticket.pk])}"
    assert f"Tell us how urgent it is: {link}\n" in body
    # Before the link to follow the ticket, after what the receipt has always said.
    assert body.index("was received") < body.index(link) < body.index("Follow it here")


def test_a_ticket_filed_with_its_answers_is_not_asked_again(nurse_medsurg):
    ticket = filed(nurse_medsurg, care_delayed=False, scope=Scope.ME, workaround=True)

    body = receipt(ticket).body

    assert "how urgent" not in body
    assert reverse("answer_questions", args=[ticket.pk]) not in body


def test_only_the_requester_is_asked(nurse_medsurg):
    filed(nurse_medsurg, care_delayed=None, scope=None, workaround=None)

    send_waiting()

    team = [m for m in mail.outbox if "We have your ticket" not in m.subject]
    assert team, "the team is told too"
    assert all("how urgent" not in message.body for message in team)
