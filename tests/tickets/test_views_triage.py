"""The three questions page for a ticket filed by e-mail; the ticket page's banner and source."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from tests.factories import UserFactory, file_by_email
from tickets.models import Ticket, TicketEvent
from tickets.priority import Scope

pytestmark = pytest.mark.django_db

BANNER = "Filed by e-mail: answer three questions so IT knows how urgent it is."
CARE_STOPPED = {"care_delayed": "yes", "scope": "unit", "workaround": "no"}


def said(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_the_requester_sees_the_three_questions_in_the_filing_forms_words(client, nurse_ed):
    ticket = file_by_email(nurse_ed)
    client.force_login(nurse_ed)

    response = client.get(reverse("answer_questions", args=[ticket.pk]))

    assert response.status_code == 200
    body = response.content.decode()
    assert f'How urgent is <span class="ticket-number">{ticket.number}</span>?' in body
    for words in (
        "Is patient care delayed right now?",
        "Who is affected?",
        "Just me",
        "Several units",
        "Is there a workaround?",
        "Another PC, a downtime form, a phone call...",
    ):
        assert words in body
    assert 'class="choice"' in body
    assert "csrfmiddlewaretoken" in body


def test_answering_care_stopped_in_the_ed_pages_and_says_so_on_the_ticket(client, nurse_ed):
    ticket = file_by_email(nurse_ed)
    client.force_login(nurse_ed)

    response = client.post(reverse("answer_questions", args=[ticket.pk]), CARE_STOPPED)

    assert response.status_code == 302
    assert response["Location"] == ticket.get_absolute_url()
    assert said(response) == ["P1: the on-call technician has been paged."]
    ticket.refresh_from_db()
    assert (ticket.priority, ticket.needs_triage) == (1, False)
    assert ticket.page_chains.exists()
    page = client.get(ticket.get_absolute_url()).content.decode()
    assert "P1 Critical" in page
    assert BANNER not in page


def test_answers_that_page_nobody_say_the_new_priority(client, nurse_medsurg):
    ticket = file_by_email(nurse_medsurg, location="MEDSURG")
    client.force_login(nurse_medsurg)

    response = client.post(
        reverse("answer_questions", args=[ticket.pk]),
        {"care_delayed": "no", "scope": "me", "workaround": "yes"},
    )

    assert said(response) == [f"Thank you: {ticket.number} is P5 Planning. IT answers it in turn."]
    assert not Ticket.objects.get(pk=ticket.pk).page_chains.exists()


def test_a_missing_answer_is_named_and_nothing_changes(client, nurse_ed):
    ticket = file_by_email(nurse_ed)
    client.force_login(nurse_ed)

    response = client.post(
        reverse("answer_questions", args=[ticket.pk]), {"care_delayed": "yes", "scope": "unit"}
    )

    assert response.status_code == 200
    body = response.content.decode()
    assert "Please fix 1 thing below" in body
    assert "Answer whether there is a workaround." in body
    ticket.refresh_from_db()
    assert (ticket.priority, ticket.needs_triage) == (4, True)


def test_a_second_send_goes_back_to_the_ticket_saying_it_was_answered(client, nurse_ed):
    ticket = file_by_email(nurse_ed)
    client.force_login(nurse_ed)
    url = reverse("answer_questions", args=[ticket.pk])
    client.post(url, CARE_STOPPED)

    again = client.post(url, {"care_delayed": "no", "scope": "me", "workaround": "yes"})

    assert again["Location"] == ticket.get_absolute_url()
    # The first answer's message was never shown: a double click leaves the page before it.
    assert said(again)[-1:] == [
        f"The questions on {ticket.number} were already answered: it is P1 Critical."
    ]
    assert Ticket.objects.get(pk=ticket.pk).priority == 1
    assert TicketEvent.objects.filter(ticket=ticket, kind=TicketEvent.Kind.TRIAGED).count() == 1
    assert client.get(url)["Location"] == ticket.get_absolute_url()


def test_out_of_scope_is_a_404_and_changes_nothing(client, nurse_ed, outsider):
    ticket = file_by_email(nurse_ed)
    client.force_login(outsider)
    url = reverse("answer_questions", args=[ticket.pk])

    assert client.get(url).status_code == 404
    assert client.post(url, CARE_STOPPED).status_code == 404
    assert Ticket.objects.get(pk=ticket.pk).needs_triage


def test_a_colleague_who_sees_the_ticket_is_not_asked(client, settings, nurse_ed):
    settings.HELPDESK = {**settings.HELPDESK, "REQUESTERS_SEE_DEPARTMENT": True}
    colleague = UserFactory(username="rn.colleague", role="requester", home="ED")
    ticket = file_by_email(nurse_ed)
    client.force_login(colleague)

    assert client.get(ticket.get_absolute_url()).status_code == 200
    assert BANNER not in client.get(ticket.get_absolute_url()).content.decode()
    assert client.get(reverse("answer_questions", args=[ticket.pk])).status_code == 404
    assert (
        client.post(reverse("answer_questions", args=[ticket.pk]), CARE_STOPPED).status_code == 404
    )


def test_the_post_needs_csrf(nurse_ed):
    ticket = file_by_email(nurse_ed)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(nurse_ed)

    response = strict.post(reverse("answer_questions", args=[ticket.pk]), CARE_STOPPED)

    assert response.status_code == 403
    assert Ticket.objects.get(pk=ticket.pk).needs_triage


@pytest.mark.parametrize("who", ["nurse_ed", "tech"])
def test_the_ticket_page_shows_the_banner_to_the_requester_and_to_it(
    client, request, nurse_ed, who
):
    ticket = file_by_email(nurse_ed)
    client.force_login(request.getfixturevalue(who))

    body = client.get(ticket.get_absolute_url()).content.decode()

    assert BANNER in body
    assert f'href="{reverse("answer_questions", args=[ticket.pk])}"' in body
    assert "Filed by e-mail" in body
    assert "Not answered yet: it waits as P4 Low" in body
    assert '<span class="badge triage">' in body


def test_a_web_ticket_says_where_it_came_from_and_shows_no_banner(client, nurse_ed):
    ticket = file_by_email(
        nurse_ed, care_delayed=False, scope=Scope.ME, workaround=True, source=Ticket.Source.WEB
    )
    client.force_login(nurse_ed)

    body = client.get(ticket.get_absolute_url()).content.decode()

    assert "Filed on the web form" in body
    assert BANNER not in body
    assert "badge triage" not in body
