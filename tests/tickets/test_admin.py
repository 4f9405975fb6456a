"""Editing the category tiles in admin, one at a time or with a bulk action, shows on the very
next filing form."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.admin_forms import form_data
from tests.factories import UserFactory
from tickets.models import Category

pytestmark = pytest.mark.django_db

FILING_FORM = reverse("file_ticket")


@pytest.fixture
def admin_client(reference_data: None) -> Client:
    client = Client()
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    return client


@pytest.fixture
def nurse_client(client: Client, nurse_ed) -> Client:
    client.force_login(nurse_ed)
    return client


def test_renaming_a_tile_shows_on_the_next_filing_form(admin_client, nurse_client):
    assert "Printers and labels" in nurse_client.get(FILING_FORM).text
    printers = Category.objects.get(slug="printers")
    change = reverse("admin:tickets_category_change", args=[printers.pk])
    data = form_data(admin_client.get(change).text, "category_form")
    data["name"] = ["Printers, labels and wristbands"]
    assert admin_client.post(change, data).status_code == 302
    assert "Printers, labels and wristbands" in nurse_client.get(FILING_FORM).text


def test_deleting_tiles_with_the_bulk_action_shows_on_the_next_filing_form(
    admin_client, nurse_client
):
    assert "Outlook, shared mailboxes" in nurse_client.get(FILING_FORM).text
    email = Category.objects.get(slug="email")
    response = admin_client.post(
        reverse("admin:tickets_category_changelist"),
        {"action": "delete_selected", "_selected_action": [email.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert not Category.objects.filter(pk=email.pk).exists()
    assert "Outlook, shared mailboxes" not in nurse_client.get(FILING_FORM).text
