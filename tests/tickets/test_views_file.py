"""The filing page: what a nurse in a hurry sees, sends and gets back."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from departments.models import Department, Location
from tickets.models import Category, Ticket, TicketEvent
from tickets.services import ticket_claim

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


def confirmation_lines(body: str) -> list[str]:
    """The "What happens next" list, as the nurse reads it."""
    block = body.split('<ul class="next-steps">', 1)[1].split("</ul>", 1)[0]
    return [" ".join(re.sub(r"<[^>]+>", "", item).split()) for item in block.split("</li>")[:-1]]


def test_confirmation_says_paged_then_who_has_it_then_the_call_back(client, nurse_ed):
    client.force_login(nurse_ed)
    response = client.post(URL, answers(), follow=True)
    ticket = Ticket.objects.get()
    lines = confirmation_lines(response.content.decode())
    assert lines[0] == f"The {ticket.team.name} on-call technician is being paged now."
    assert lines[1] == f"{ticket.team.name} has your ticket."
    assert lines[2].startswith("Expect a call back on x4410 by ")


def test_ed_p2_with_care_delayed_is_confirmed_as_paged(client, nurse_ed):
    client.force_login(nurse_ed)
    response = client.post(URL, answers(workaround="yes", scope="me"), follow=True)
    ticket = Ticket.objects.get()
    assert ticket.priority == 2
    lines = confirmation_lines(response.content.decode())
    assert lines[0] == f"The {ticket.team.name} on-call technician is being paged now."
    assert "If patient care is stopped and nobody has called within 15 minutes" in (
        response.content.decode()
    )


def test_ed_p2_without_care_delayed_is_confirmed_as_not_paged(client, nurse_ed):
    with time_machine.travel(datetime(2026, 12, 7, 9, 0, tzinfo=ZoneInfo("America/Chicago"))):
        client.force_login(nurse_ed)
        response = client.post(
            URL, answers(care_delayed="no", workaround="yes", scope="me"), follow=True
        )
        lines = confirmation_lines(response.content.decode())
    assert Ticket.objects.get().priority == 2
    assert lines[0] == (
        "The on-call technician was not paged: IT answers it in turn, and pages the on-call if "
        "nobody has called you back by 09:30."
    )
    assert lines[2] == "Expect a call back on x4410 by 09:30."


def test_confirmation_names_whoever_has_taken_the_ticket(client, nurse_ed, tech):
    client.force_login(nurse_ed)
    client.post(URL, answers())
    ticket = Ticket.objects.get()
    ticket_claim(ticket=ticket, user=tech)
    lines = confirmation_lines(
        client.get(reverse("ticket_filed", args=[ticket.pk])).content.decode()
    )
    assert lines[0] == f"The on-call technician was paged; {tech.get_full_name()} is on it."
    assert lines[1] == f"{tech.get_full_name()} ({ticket.team.name}) has your ticket."


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


# Where she files from: her own units first, another unit asked for and recorded


def option_groups(body: str) -> list[str]:
    return [html.unescape(title) for title in re.findall(r'<optgroup label="([^"]+)">', body)]


def group_of(body: str, label: str) -> str:
    """The optgroup holding the option labelled ``label``."""
    groups = re.findall(r'<optgroup label="([^"]+)">(.*?)</optgroup>', body, re.S)
    return next(
        html.unescape(title) for title, options in groups if f">{label}</option>" in options
    )


def test_her_own_units_locations_come_first_then_other_units(client, nurse_medsurg):
    client.force_login(nurse_medsurg)
    body = client.get(URL).content.decode()
    assert option_groups(body) == [
        "Your unit: Medical-Surgical Units",
        "Other units: you will be asked which unit you report for",
    ]
    assert group_of(body, "MEDSURG - Med-Surg 4 North") == "Your unit: Medical-Surgical Units"
    assert group_of(body, "ED - ED Main") == (
        "Other units: you will be asked which unit you report for"
    )


@pytest.fixture
def wow_ed_07(reference_data: None) -> Location:
    return Location.objects.create(
        department=Department.objects.get(code="ED"), code="WOW-ED-07",
        name="Workstation on wheels 7", kind=Location.Kind.WORKSTATION,
    )  # fmt: skip


def test_a_workstation_link_puts_the_workstation_and_its_unit_first(
    client, nurse_medsurg, wow_ed_07
):
    """A Med-Surg nurse floated to the ED, filing from an ED workstation's sticker."""
    client.force_login(nurse_medsurg)
    body = client.get(URL, {"ws": "WOW-ED-07"}).content.decode()
    assert option_groups(body) == [
        "This workstation",
        "Your unit: Medical-Surgical Units",
        "This workstation's unit: Emergency Department",
        "Other units: you will be asked which unit you report for",
    ]
    assert group_of(body, "ED - ED Main") == "This workstation's unit: Emergency Department"
    assert group_of(body, "OR - Main OR") == (
        "Other units: you will be asked which unit you report for"
    )


def test_only_other_units_options_carry_the_unit_the_page_asks_about(client, nurse_medsurg):
    client.force_login(nurse_medsurg)
    body = client.get(URL).content.decode()
    ed = Location.objects.get(code="ED").pk
    medsurg = Location.objects.get(code="MEDSURG").pk
    assert (
        f'<option value="{ed}" data-other-unit="ED" data-other-unit-name="Emergency Department">'
        in body
    )
    assert re.search(rf'<option value="{medsurg}"( selected)?>', body)
    # The question itself waits in a <template> until a script or a send needs it.
    assert body.count("Which unit are you reporting for?") == 1
    assert "<template" in body.split("Which unit are you reporting for?")[0]


def test_the_form_builds_its_location_list_without_a_query_per_location(
    client, nurse_medsurg, django_assert_num_queries
):
    """Session, user, her profile (her unit), the category tiles and the session's renewal
    (savepoint, update, release): locations (and her groups: is she IT?) come from the
    reference rows held since the first page, however many there are."""
    ed = Department.objects.get(code="ED")
    Location.objects.bulk_create(
        Location(department=ed, code=f"ED-BAY-{n}", name=f"Bay {n}", kind=Location.Kind.ROOM)
        for n in range(40)
    )
    client.force_login(nurse_medsurg)
    client.get(URL)  # the reference rows are read
    with django_assert_num_queries(7):
        response = client.get(URL)
    assert "ED - Bay 39" in response.content.decode()


def test_another_units_location_asks_which_unit_and_files_nothing(client, nurse_medsurg):
    client.force_login(nurse_medsurg)
    response = client.post(URL, answers(title="Epic frozen at the triage desk"))
    assert response.status_code == 200
    body = response.content.decode()
    assert not Ticket.objects.exists()
    assert "Which unit are you reporting for?" in body
    assert (
        "ED Main is in the Emergency Department, not your unit: say which unit you are "
        "reporting for." in body
    )
    assert 'href="#id_reporting_for"' in body  # the error summary leads to the question
    assert 'value="Epic frozen at the triage desk"' in body  # what she typed is kept
    assert 'name="reporting_for" id="id_reporting_for_other" value="ED"' in body
    assert "My own unit (Medical-Surgical Units)" in body


def test_answering_the_other_unit_files_and_the_timeline_says_so(client, nurse_medsurg, tech):
    client.force_login(nurse_medsurg)
    response = client.post(URL, answers(reporting_for="ED"))
    ticket = Ticket.objects.get()
    assert response["Location"] == reverse("ticket_filed", args=[ticket.pk])
    assert ticket.filed_for_other_unit is True
    assert ticket.department.code == "ED"
    said = "Filed for another unit: ED Main (Emergency Department)."
    assert said in client.get(reverse("ticket_detail", args=[ticket.pk])).content.decode()
    client.force_login(tech)
    assert said in client.get(reverse("ticket_detail", args=[ticket.pk])).content.decode()


def test_answering_my_own_unit_asks_her_to_pick_its_location(client, nurse_medsurg):
    client.force_login(nurse_medsurg)
    response = client.post(URL, answers(reporting_for="own"))
    body = response.content.decode()
    assert not Ticket.objects.exists()
    assert (
        "ED Main is in the Emergency Department, not your unit: pick your unit's location, "
        "or answer that you are reporting for the Emergency Department." in html.unescape(body)
    )
    assert re.search(r'id="id_reporting_for_own" value="own"\s+checked', body)


def test_an_answer_for_a_different_unit_than_the_location_asks_again(client, nurse_medsurg):
    """She said OR, then changed the location to the ED: the ED was never confirmed."""
    client.force_login(nurse_medsurg)
    response = client.post(URL, answers(reporting_for="OR"))
    assert "say which unit you are reporting for" in response.content.decode()
    assert not Ticket.objects.exists()


def test_her_own_unit_files_without_a_question(client, nurse_medsurg):
    client.force_login(nurse_medsurg)
    client.post(URL, answers(location=str(Location.objects.get(code="MEDSURG").pk)))
    ticket = Ticket.objects.get()
    assert ticket.filed_for_other_unit is False
    assert not ticket.events.filter(kind=TicketEvent.Kind.OTHER_UNIT).exists()


def test_the_workstations_unit_files_without_a_question(client, nurse_medsurg, wow_ed_07):
    client.force_login(nurse_medsurg)
    response = client.post(f"{URL}?ws=WOW-ED-07", answers())
    assert response.status_code == 302
    assert Ticket.objects.get().filed_for_other_unit is False


def test_it_staff_filing_for_a_caller_are_not_asked(client, tech):
    client.force_login(tech)
    body = client.get(URL).content.decode()
    assert "data-other-unit=" not in body
    assert client.post(URL, answers()).status_code == 302
    assert Ticket.objects.get().filed_for_other_unit is False


# The filing limit


@pytest.fixture
def three_an_hour(settings):
    settings.HELPDESK = {**settings.HELPDESK, "FILING_RATE": "3/hour"}


def test_over_the_filing_limit_the_form_keeps_what_she_typed_and_files_nothing(
    client, nurse_ed, three_an_hour
):
    with time_machine.travel(datetime(2026, 12, 7, 3, 0, tzinfo=UTC), tick=False) as clock:
        client.force_login(nurse_ed)
        for n in range(3):
            assert client.post(URL, answers(idempotency_key=f"k{n}")).status_code == 302
        clock.shift(timedelta(minutes=20))
        client.force_login(nurse_ed)  # signed out meanwhile after 15 idle minutes
        response = client.post(URL, answers(title="Fourth printer down", idempotency_key="k3"))
        assert response.status_code == 429
        body = response.content.decode()
        assert (
            "You have sent 3 tickets in the last hour, the most one person can send, so this "
            "one is not sent yet. What you typed is kept below: send it again in 60 minutes, "
            "or call the Service Desk at x4357 (HELP) if it cannot wait." in body
        )
        assert 'value="Fourth printer down"' in body
        assert 'name="idempotency_key" value="k3"' in body
        assert Ticket.objects.count() == 3

        # By the sliding hour's count (the last hour's filings spread over it) one more fits
        # an hour later, as it said.
        clock.shift(timedelta(minutes=59))
        client.force_login(nurse_ed)
        assert client.post(URL, answers(idempotency_key="k3")).status_code == 429
        clock.shift(timedelta(minutes=1))
        client.force_login(nurse_ed)
        assert client.post(URL, answers(idempotency_key="k3")).status_code == 302
        assert Ticket.objects.count() == 4


def test_sends_with_mistakes_do_not_count_against_the_limit(client, nurse_ed, three_an_hour):
    client.force_login(nurse_ed)
    for _ in range(5):
        client.post(URL, answers(title=""))
    assert client.post(URL, answers()).status_code == 302


def test_it_staff_filing_for_callers_have_no_limit(client, tech, three_an_hour):
    client.force_login(tech)
    statuses = [client.post(URL, answers(idempotency_key=f"k{n}")).status_code for n in range(5)]
    assert statuses == [302] * 5
