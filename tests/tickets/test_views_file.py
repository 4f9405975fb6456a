"""The filing page: what a nurse in a hurry sees, sends and gets back."""

from __future__ import annotations

import pytest
from django.urls import reverse

from departments.models import Department, Location
from tickets.models import Category, Ticket, TicketEvent

pytestmark = pytest.mark.django_db

URL = reverse("file_ticket")


def answers(**overrides):
    data = {
        "category": str(Category.objects.get(slug="ehr").pk),
        "title": "Epic frozen on all triage PCs",
        "callback": "x4410",
        "location": str(Location.objects.get(code="ED").pk),
        "care_delayed": "yes",
        "scope": "unit",
        "workaround": "no",
        "description": "",
        "idempotency_key": "form-key-1",
    }
    data.update(overrides)
    return data


def test_anonymous_user_is_sent_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_form_shows_category_tiles_and_the_three_questions(client, nurse_ed):
    client.force_login(nurse_ed)
    response = client.get(URL)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Epic / EHR" in body
    assert "Printers and labels" in body
    assert "Is patient care delayed right now?" in body
    assert "Who is affected?" in body
    assert "Is there a workaround?" in body
    assert 'name="idempotency_key"' in body


def test_workstation_link_prefills_location(client, nurse_ed):
    workstation = Location.objects.create(
        department=Department.objects.get(code="ED"),
        code="WOW-ED-07",
        name="Workstation on wheels 7",
        kind=Location.Kind.WORKSTATION,
    )
    client.force_login(nurse_ed)
    response = client.get(URL, {"ws": "wow-ed-07"})
    assert response.context["form"].initial["location"] == workstation.pk
    assert "Filing from workstation <strong>wow-ed-07</strong>" in response.content.decode()


def test_unknown_workstation_link_says_so(client, nurse_ed):
    client.force_login(nurse_ed)
    response = client.get(URL, {"ws": "WOW-XX-99"})
    assert "Workstation WOW-XX-99 is not registered" in response.content.decode()


def test_home_department_prefills_location_and_callback(client, nurse_medsurg):
    client.force_login(nurse_medsurg)
    form = client.get(URL).context["form"]
    assert form.initial["location"] == Location.objects.get(code="MEDSURG").pk
    assert form.initial["callback"] == "x4567"


def test_filing_redirects_to_a_p1_confirmation(client, nurse_ed):
    client.force_login(nurse_ed)
    response = client.post(URL, answers(), follow=True)
    ticket = Ticket.objects.get()
    assert response.redirect_chain == [(reverse("ticket_filed", args=[ticket.pk]), 302)]
    body = response.content.decode()
    assert ticket.number in body
    assert "P1 Critical" in body
    assert "on-call technician is being paged" in body
    assert "x4357" in body  # the Service Desk number for a P1
    assert ticket.priority == 1
    assert ticket.auto_escalated


def test_nurse_cannot_claim_the_ed_from_a_medsurg_location(client, nurse_medsurg):
    client.force_login(nurse_medsurg)
    data = answers(
        location=str(Location.objects.get(code="MEDSURG").pk),
        care_delayed="no",
        workaround="yes",
        scope="me",
    )
    data["department"] = str(Department.objects.get(code="ED").pk)
    client.post(URL, data)
    ticket = Ticket.objects.get()
    assert ticket.department.code == "MEDSURG"
    assert ticket.priority == 5
    assert not ticket.auto_escalated


def test_double_submit_files_one_ticket(client, nurse_ed):
    client.force_login(nurse_ed)
    first = client.post(URL, answers())
    second = client.post(URL, answers())
    assert first["Location"] == second["Location"]
    assert Ticket.objects.count() == 1


REQUIRED = {
    "category": "Pick what the problem is about.",
    "title": "Say in one line what is wrong.",
    "callback": "Give an extension or Vocera name so IT can call you back.",
    "location": "Pick where the problem is.",
    "care_delayed": "Answer whether patient care is delayed right now.",
    "scope": "Answer who is affected: just you, your unit or several.",
    "workaround": "Answer whether there is a workaround.",
}


@pytest.mark.parametrize(("field", "message"), REQUIRED.items())
def test_missing_field_gets_a_message_and_files_nothing(client, nurse_ed, field, message):
    client.force_login(nurse_ed)
    data = answers()
    del data[field]
    response = client.post(URL, data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Ticket.objects.exists()


@pytest.mark.parametrize(
    ("field", "length", "message"),
    [
        ("title", 121, "Keep the summary under 120 characters"),
        ("callback", 61, "Keep the callback under 60 characters"),
        ("description", 4001, "Keep the description under 4000 characters"),
    ],
)
def test_too_long_field_gets_a_message_and_files_nothing(client, nurse_ed, field, length, message):
    client.force_login(nurse_ed)
    response = client.post(URL, answers(**{field: "x" * length}))
    assert message in response.content.decode()
    assert not Ticket.objects.exists()


def test_unknown_location_gets_a_message(client, nurse_ed):
    client.force_login(nurse_ed)
    response = client.post(URL, answers(location="999999"))
    assert "That location is not in the list" in response.content.decode()
    assert not Ticket.objects.exists()


def test_a_location_id_in_other_digits_is_not_that_location(client, nurse_ed):
    """Arabic-Indic digits are not another spelling of a location's id, and "²" no error."""
    client.force_login(nurse_ed)
    ed = str(Location.objects.get(code="ED").pk)
    arabic_indic = ed.translate(
        str.maketrans("0123456789", "\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669")
    )
    for location in (arabic_indic, "²", "9" * 30):
        response = client.post(URL, answers(location=location))
        assert "That location is not in the list" in response.content.decode(), location
    assert not Ticket.objects.exists()


def test_script_in_summary_is_escaped_everywhere(client, nurse_ed, tech):
    client.force_login(nurse_ed)
    client.post(URL, answers(title="<script>alert(1)</script>", description="<b>bold</b>"))
    ticket = Ticket.objects.get()
    pages = [
        reverse("ticket_filed", args=[ticket.pk]),
        reverse("ticket_detail", args=[ticket.pk]),
        reverse("my_tickets"),
    ]
    for page in pages:
        body = client.get(page).content.decode()
        assert "<script>alert(1)</script>" not in body
        assert "<b>bold</b>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in client.get(pages[1]).content.decode()
    client.force_login(tech)
    body = client.get(reverse("queue")).content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;" in body


def test_phi_warning_endpoint_names_kinds_without_echoing_text(client, nurse_ed):
    client.force_login(nurse_ed)
    response = client.post(reverse("phi_check"), {"text": "pt John Smith MRN 00123456"})
    data = response.json()
    assert data["kinds"] == ["mrn", "patient_name"]
    assert "00123456" not in response.content.decode()
    clean = client.post(reverse("phi_check"), {"text": "Badge tap not working on WOW-ED-07"})
    assert clean.json()["kinds"] == []


def test_phi_check_requires_csrf(nurse_ed):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(nurse_ed)
    assert strict.post(reverse("phi_check"), {"text": "x"}).status_code == 403


def test_phi_in_the_form_is_flagged_not_blocked(client, nurse_ed):
    client.force_login(nurse_ed)
    response = client.post(
        URL, answers(description="DOB 03/04/1952, wristband printer blank"), follow=True
    )
    ticket = Ticket.objects.get()
    assert ticket.phi_suspected
    assert "holds patient information" in response.content.decode()
    assert TicketEvent.objects.filter(ticket=ticket, kind=TicketEvent.Kind.PHI_FLAGGED).exists()


def test_a_location_closed_in_admin_is_refused_at_once(client, nurse_ed):
    """The filing form caches locations; closing one clears the cache immediately."""
    client.force_login(nurse_ed)
    client.get(URL)
    location = Location.objects.get(code="ED")
    location.is_active = False
    location.save()
    response = client.post(URL, answers())
    assert "That location is not in the list" in response.content.decode()
    assert not Ticket.objects.exists()
