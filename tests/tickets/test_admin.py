"""Editing categories in admin, one at a time or with a bulk action, shows on the very next
page: the ticket page names them, and filing checks a tile against the rows held."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.admin_forms import form_data, signed_in
from tests.factories import TicketFactory
from tests.tickets.test_views_file import answers
from tickets.models import Category, Ticket

pytestmark = pytest.mark.django_db

FILING_FORM = reverse("file_ticket")


@pytest.fixture
def nurse_client(nurse_ed) -> Client:
    return signed_in(nurse_ed)


def test_renaming_a_category_shows_on_the_next_ticket_page(admin_client, nurse_client, nurse_ed):
    ticket = TicketFactory(requester=nurse_ed)
    assert "Printers and labels" in nurse_client.get(ticket.get_absolute_url()).text
    printers = Category.objects.get(slug="printers")
    change = reverse("admin:tickets_category_change", args=[printers.pk])
    data = form_data(admin_client.get(change).text, "category_form")
    data["name"] = ["Printers, labels and wristbands"]
    assert admin_client.post(change, data).status_code == 302
    assert "Printers, labels and wristbands" in nurse_client.get(ticket.get_absolute_url()).text


def test_a_tile_deleted_with_the_bulk_action_is_refused_on_the_next_filing(
    admin_client, nurse_client
):
    assert nurse_client.post(FILING_FORM, answers()).status_code == 302  # every tile now held
    email = Category.objects.get(slug="email")
    response = admin_client.post(
        reverse("admin:tickets_category_changelist"),
        {"action": "delete_selected", "_selected_action": [email.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert not Category.objects.filter(pk=email.pk).exists()
    refused = nurse_client.post(
        FILING_FORM, answers(category=str(email.pk), idempotency_key="form-key-2")
    )
    assert refused.status_code == 200
    assert Ticket.objects.count() == 1


def test_the_ticket_list_shows_and_filters_how_tickets_arrived(admin_client, nurse_ed):
    web = TicketFactory(requester=nurse_ed, title="Badge tap not working")
    emailed = TicketFactory(
        requester=nurse_ed,
        title="Printer on 4 West keeps jamming",
        source=Ticket.Source.EMAIL,
        needs_triage=True,
    )
    changelist = reverse("admin:tickets_ticket_changelist")

    everything = admin_client.get(changelist).text
    assert "E-mail" in everything
    assert "Web form" in everything

    by_email = admin_client.get(changelist, {"source__exact": "email"}).text
    assert emailed.title in by_email
    assert web.title not in by_email
    waiting = admin_client.get(changelist, {"needs_triage__exact": "1"}).text
    assert emailed.title in waiting
    assert web.title not in waiting
