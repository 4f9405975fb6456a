"""Editing the organisation in admin, one at a time or in bulk from the list, shows on the very
next page: the rows the pages hold are dropped when their version moves."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from departments.models import Department
from tests.admin_forms import form_data, signed_in
from tests.factories import TicketFactory
from tickets.models import ticket_number

pytestmark = pytest.mark.django_db


@pytest.fixture
def tech_client(tech) -> Client:
    return signed_in(tech)


def test_renaming_a_department_shows_on_the_next_queue_page(admin_client, tech_client):
    assert "Health Information Management" in tech_client.get(reverse("queue")).text
    him = Department.objects.get(code="HIM")
    change = reverse("admin:departments_department_change", args=[him.pk])
    data = form_data(admin_client.get(change).text, "department_form")
    data["name"] = ["Medical Records"]
    assert admin_client.post(change, data).status_code == 302
    page = tech_client.get(reverse("queue")).text
    assert "Medical Records" in page
    assert "Health Information Management" not in page


def test_escalating_departments_from_the_list_shows_on_the_next_queue_page(
    admin_client, tech_client, nurse_medsurg
):
    him = Department.objects.get(code="HIM")
    ticket = TicketFactory(requester=nurse_medsurg, location=him.locations.get(code="HIM"))
    critical = reverse("queue") + "?view=critical"
    assert ticket_number(ticket.pk) not in tech_client.get(critical).text
    changelist = reverse("admin:departments_department_changelist")
    data = form_data(admin_client.get(changelist).text, "changelist-form")
    row = next(
        name.removesuffix("-id")
        for name, values in data.items()
        if name.endswith("-id") and values == [str(him.pk)]
    )
    data[f"{row}-auto_escalate"] = ["on"]
    data["_save"] = ["Save"]
    assert admin_client.post(changelist, data).status_code == 302
    assert Department.objects.get(pk=him.pk).auto_escalate
    assert ticket_number(ticket.pk) in tech_client.get(critical).text
