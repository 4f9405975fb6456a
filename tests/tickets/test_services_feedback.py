""" "Fixed? Yes / No, still broken": the requester is told her ticket is resolved, one tap closes
it, and "still broken" reopens it with her answer; both are kept for the technicians report."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from tests.factories import TicketFactory
from tickets.models import OutgoingEmail, Ticket, TicketEvent
from tickets.outgoing import Outcome, send_queued
from tickets.services import TicketError, ticket_answer_fixed, ticket_resolve

pytestmark = pytest.mark.django_db
S = Ticket.Status
K = TicketEvent.Kind


@pytest.fixture
def resolved(nurse_medsurg, tech, settings, django_capture_on_commit_callbacks):
    settings.CELERY_TASK_ALWAYS_EAGER = True  # the notice goes out as the worker would send it
    ticket = TicketFactory(requester=nurse_medsurg, assignee=tech, status=S.IN_PROGRESS)
    with django_capture_on_commit_callbacks(execute=True):
        ticket_resolve(ticket=ticket, actor=tech, code="hardware_replaced", note="Swapped it.")
    return ticket


def test_resolving_mails_the_requester_asking_whether_it_is_fixed(resolved, nurse_medsurg, tech):
    [email] = mail.outbox
    assert email.to == [nurse_medsurg.email]
    assert email.subject == f"[{resolved.number}] Resolved: is it fixed?"
    assert f"{tech.get_full_name()} resolved your ticket {resolved.number}" in email.body
    assert "How: Hardware replaced." in email.body
    assert f"http://127.0.0.1:8000{resolved.get_absolute_url()}" in email.body
    assert "Swapped it." not in email.body  # what IT typed stays on the ticket page


def test_the_resolved_mail_withholds_a_flagged_title(nurse_medsurg, tech, settings):
    ticket = TicketFactory(
        requester=nurse_medsurg, title="pt John Smith MRN 00123456 printer", phi_suspected=True
    )
    ticket_resolve(ticket=ticket, actor=tech, code="fixed")
    event = ticket.events.get(kind=K.STATUS, new_value=S.RESOLVED)
    assert send_queued(OutgoingEmail.objects.get(about_id=event.pk).pk) == Outcome.SENT
    [email] = mail.outbox
    assert "Smith" not in email.subject + email.body
    assert "title withheld" in email.body


def test_yes_closes_the_ticket_and_is_recorded(resolved, nurse_medsurg):
    ticket_answer_fixed(ticket=resolved, requester=nurse_medsurg, fixed=True)
    resolved.refresh_from_db()
    assert (resolved.status, resolved.fixed_confirmed, resolved.still_broken_count) == (
        S.CLOSED,
        True,
        0,
    )
    assert resolved.closed_at is not None
    answer = resolved.events.get(kind=K.FEEDBACK)
    assert (answer.actor, answer.new_value, answer.text, answer.is_public) == (
        nurse_medsurg,
        "yes",
        "Fixed: yes.",
        True,
    )


def test_still_broken_reopens_with_her_answer(resolved, nurse_medsurg):
    ticket_answer_fixed(
        ticket=resolved, requester=nurse_medsurg, fixed=False, answer="  Still prints\nblank  "
    )
    resolved.refresh_from_db()
    assert (resolved.status, resolved.fixed_confirmed, resolved.still_broken_count) == (
        S.IN_PROGRESS,
        False,
        1,
    )
    assert resolved.resolved_at is None  # the resolution clock runs again
    answer = resolved.events.get(kind=K.FEEDBACK)
    assert (answer.new_value, answer.text) == ("no", "Still broken: Still prints blank")
    reopened = resolved.events.filter(kind=K.STATUS).latest("pk")
    assert (reopened.old_value, reopened.new_value) == (S.RESOLVED, S.IN_PROGRESS)


def test_a_second_still_broken_counts_again(resolved, nurse_medsurg, tech):
    ticket_answer_fixed(ticket=resolved, requester=nurse_medsurg, fixed=False, answer="No")
    ticket_resolve(ticket=resolved, actor=tech, code="fixed")
    ticket_answer_fixed(ticket=resolved, requester=nurse_medsurg, fixed=False, answer="Still no")
    ticket_resolve(ticket=resolved, actor=tech, code="fixed")
    ticket_answer_fixed(ticket=resolved, requester=nurse_medsurg, fixed=True)
    resolved.refresh_from_db()
    assert (resolved.status, resolved.fixed_confirmed, resolved.still_broken_count) == (
        S.CLOSED,
        True,
        2,
    )


@pytest.mark.parametrize(
    ("who", "fixed", "answer", "message"),
    [
        ("requester", False, "  ", "Say in a few words what is still broken."),
        ("requester", False, "x" * 201, "Keep it under 200 characters."),
        ("outsider", True, "", "Only the person who filed the ticket can answer this."),
        ("tech", True, "", "Only the person who filed the ticket can answer this."),
    ],
)
def test_bad_answers_are_refused_and_change_nothing(
    resolved, nurse_medsurg, outsider, tech, who, fixed, answer, message
):
    people = {"requester": nurse_medsurg, "outsider": outsider, "tech": tech}
    with pytest.raises(TicketError) as error:
        ticket_answer_fixed(ticket=resolved, requester=people[who], fixed=fixed, answer=answer)
    assert str(error.value) == message
    resolved.refresh_from_db()
    assert (resolved.status, resolved.fixed_confirmed) == (S.RESOLVED, None)
    assert not resolved.events.filter(kind=K.FEEDBACK).exists()


def test_an_open_ticket_has_nothing_to_confirm(nurse_medsurg):
    ticket = TicketFactory(requester=nurse_medsurg)
    with pytest.raises(TicketError, match="is new: there is nothing to confirm"):
        ticket_answer_fixed(ticket=ticket, requester=nurse_medsurg, fixed=True)


# The pages


def test_my_tickets_asks_fixed_for_a_resolved_ticket_only(client, resolved, nurse_medsurg):
    open_one = TicketFactory(requester=nurse_medsurg)
    client.force_login(nurse_medsurg)
    body = client.get(reverse("my_tickets")).content.decode()
    assert body.count('class="fixed-box"') == 1
    assert reverse("answer_fixed", args=[resolved.pk]) in body
    assert reverse("answer_fixed", args=[open_one.pk]) not in body
    assert "No, still broken" in body


def test_yes_from_my_tickets_closes_and_comes_back(client, resolved, nurse_medsurg):
    client.force_login(nurse_medsurg)
    response = client.post(
        reverse("answer_fixed", args=[resolved.pk]),
        {"fixed-fixed": "yes", "fixed-back": "mine"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("my_tickets")
    assert f"Thank you: {resolved.number} is closed." in response.content.decode()
    assert Ticket.objects.get(pk=resolved.pk).status == S.CLOSED


def test_still_broken_from_the_ticket_page_reopens_it(client, resolved, nurse_medsurg):
    client.force_login(nurse_medsurg)
    body = client.get(resolved.get_absolute_url()).content.decode()
    assert 'class="fixed-box"' in body
    response = client.post(
        reverse("answer_fixed", args=[resolved.pk]),
        {"fixed-fixed": "no", "fixed-answer": "Still blank bands", "fixed-back": "ticket"},
        follow=True,
    )
    body = response.content.decode()
    assert response.redirect_chain[-1][0] == resolved.get_absolute_url()
    assert f"{resolved.number} is reopened" in body
    assert "Still broken: Still blank bands" in body
    assert 'class="fixed-box"' not in body


def test_still_broken_without_an_answer_says_why(client, resolved, nurse_medsurg):
    client.force_login(nurse_medsurg)
    response = client.post(
        reverse("answer_fixed", args=[resolved.pk]),
        {"fixed-fixed": "no", "fixed-back": "ticket"},
        follow=True,
    )
    assert "Say in a few words what is still broken." in response.content.decode()
    assert Ticket.objects.get(pk=resolved.pk).status == S.RESOLVED


def test_nobody_else_can_answer(client, resolved, outsider, tech):
    client.force_login(outsider)
    url = reverse("answer_fixed", args=[resolved.pk])
    assert client.post(url, {"fixed-fixed": "yes"}).status_code == 404
    client.force_login(tech)
    assert 'class="fixed-box"' not in client.get(resolved.get_absolute_url()).content.decode()
    client.post(url, {"fixed-fixed": "yes"})
    assert Ticket.objects.get(pk=resolved.pk).status == S.RESOLVED
