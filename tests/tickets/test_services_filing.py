"""ticket_file: department from the location, priority from the answers and the department rule,
one ticket per idempotency key, the timeline written in the same breath."""

from __future__ import annotations

import pytest
from django.core import mail

from departments.models import Department, Location
from tests.factories import UserFactory
from tickets.models import Category, OutgoingEmail, Ticket, TicketEvent
from tickets.outgoing import Outcome, send_emails
from tickets.priority import Scope
from tickets.services import FilingPlaceRefused, filing_location, ticket_file

pytestmark = pytest.mark.django_db


def file(requester, location_code, **overrides):
    answers = {
        "location": Location.objects.get(code=location_code),
        "category": Category.objects.get(slug="ehr"),
        "title": "Epic frozen on all triage PCs",
        "callback": "x4410",
        "care_delayed": True,
        "scope": Scope.UNIT,
        "workaround": False,
        "description": "",
    }
    answers.update(overrides)
    return ticket_file(requester=requester, **answers)


@pytest.mark.parametrize(
    ("code", "expected_priority", "escalated"),
    [
        ("ED", 1, True),
        ("OR", 1, True),
        ("ICU", 2, False),
        ("MEDSURG", 2, False),
        ("HIM", 2, False),
    ],
)
def test_filing_per_department(nurse_ed, code, expected_priority, escalated):
    filing = file(nurse_ed, code)
    ticket = filing.ticket
    assert filing.created
    assert ticket.department.code == code
    assert ticket.priority == expected_priority
    assert ticket.matrix_priority == 2
    assert ticket.auto_escalated is escalated
    assert ticket.team.slug == "clinical-apps"
    assert ticket.status == Ticket.Status.NEW
    assert ticket.number == f"HD-{ticket.pk + 1000}"


def test_ed_escalation_is_on_the_timeline_with_its_reason(nurse_ed):
    ticket = file(nurse_ed, "ED", scope=Scope.ME, care_delayed=False, workaround=True).ticket
    assert ticket.priority == 2
    kinds = list(ticket.events.values_list("kind", flat=True))
    # Care is not delayed and there is a workaround: the on-call is not paged until the response
    # target is breached.
    assert kinds == [TicketEvent.Kind.FILED, TicketEvent.Kind.ESCALATED]
    escalation = ticket.events.get(kind=TicketEvent.Kind.ESCALATED)
    assert escalation.is_public
    assert (escalation.old_value, escalation.new_value) == ("P5", "P2")
    assert "Emergency Department escalates automatically" in escalation.text


def test_medsurg_ticket_with_same_answers_is_not_escalated(nurse_medsurg):
    ticket = file(
        nurse_medsurg, "MEDSURG", scope=Scope.ME, care_delayed=False, workaround=True
    ).ticket
    assert ticket.priority == 5
    assert not ticket.auto_escalated
    assert list(ticket.events.values_list("kind", flat=True)) == [TicketEvent.Kind.FILED]


def test_same_idempotency_key_files_one_ticket(nurse_ed):
    first = file(nurse_ed, "ED", idempotency_key="abc123")
    second = file(nurse_ed, "ED", idempotency_key="abc123", title="A different title")
    assert first.created
    assert not second.created
    assert second.ticket.pk == first.ticket.pk
    assert Ticket.objects.count() == 1
    assert TicketEvent.objects.filter(kind=TicketEvent.Kind.FILED).count() == 1


def test_another_persons_key_does_not_return_their_ticket(nurse_ed, nurse_or):
    mine = file(nurse_ed, "ED", idempotency_key="same-key").ticket
    theirs = file(nurse_or, "OR", idempotency_key="same-key").ticket
    assert mine.pk != theirs.pk


def test_phi_in_description_flags_the_ticket_and_keeps_title_out_of_email(
    nurse_ed, django_capture_on_commit_callbacks, settings
):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    with django_capture_on_commit_callbacks(execute=True):
        ticket = file(
            nurse_ed, "ED", description="pt John Smith MRN 00123456 wristband won't print"
        ).ticket
    ticket.refresh_from_db()
    assert ticket.phi_suspected
    assert ticket.events.filter(kind=TicketEvent.Kind.PHI_FLAGGED, is_public=False).exists()
    assert mail.outbox, "the team and the requester are told"
    for message in mail.outbox:
        assert "00123456" not in message.body + message.subject
        assert "Epic frozen" not in message.body + message.subject
        assert ticket.number in message.subject + message.body


def test_filing_notices_go_out_once(nurse_ed, django_capture_on_commit_callbacks, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    with django_capture_on_commit_callbacks(execute=True):
        ticket = file(nurse_ed, "ED").ticket
    sent = len(mail.outbox)
    assert sent == 2
    emails = list(OutgoingEmail.objects.filter(about_id=ticket.pk).values_list("pk", flat=True))
    assert send_emails(emails) == [Outcome.SKIPPED, Outcome.SKIPPED]  # the task again
    assert len(mail.outbox) == sent


def test_filing_succeeds_when_the_broker_is_down(
    nurse_ed, broker_down, django_capture_on_commit_callbacks, caplog
):
    with django_capture_on_commit_callbacks(execute=True):
        ticket = file(nurse_ed, "ED").ticket
    # Its notices wait in the outbox for the sweep.
    waiting = OutgoingEmail.objects.filter(about_id=ticket.pk, status=OutgoingEmail.Status.PENDING)
    assert waiting.count() == 2
    assert "could not enqueue tickets.tasks.send_emails" in caplog.text
    assert "Epic" not in caplog.text


# Filed for another unit


def other_unit_events(ticket):
    return list(
        ticket.events.filter(kind=TicketEvent.Kind.OTHER_UNIT).values_list(
            "actor__username", "is_public", "text"
        )
    )


def test_a_nurse_filing_for_another_department_is_recorded(nurse_medsurg):
    ticket = file(nurse_medsurg, "ED").ticket
    ticket.refresh_from_db()
    assert ticket.filed_for_other_unit is True
    assert other_unit_events(ticket) == [
        ("nurse.medsurg", True, "Filed for another unit: ED Main (Emergency Department).")
    ]
    # The department rule still goes by the location: an ED ticket escalates.
    assert (ticket.department.code, ticket.priority) == ("ED", 1)


def test_a_nurse_filing_for_her_own_unit_records_nothing(nurse_ed):
    ticket = file(nurse_ed, "ED").ticket
    ticket.refresh_from_db()
    assert ticket.filed_for_other_unit is False
    assert other_unit_events(ticket) == []


def test_the_workstation_she_files_from_makes_its_department_hers(nurse_medsurg):
    """A Med-Surg nurse floated to the ED files from an ED workstation's link."""
    ed = Location.objects.get(code="ED")
    workstation = Location.objects.create(
        department=ed.department, code="WOW-ED-07", name="Workstation on wheels 7",
        kind=Location.Kind.WORKSTATION,
    )  # fmt: skip
    ticket = file(nurse_medsurg, "ED", workstation=workstation).ticket
    assert ticket.filed_for_other_unit is False
    assert other_unit_events(ticket) == []


def test_it_staff_filing_for_a_caller_is_not_another_unit(tech):
    ticket = file(tech, "ED").ticket
    assert ticket.filed_for_other_unit is False
    assert other_unit_events(ticket) == []


def test_a_second_send_of_the_same_form_records_another_unit_once(nurse_medsurg):
    first = file(nurse_medsurg, "ED", idempotency_key="k1")
    again = file(nurse_medsurg, "ED", idempotency_key="k1")
    assert (first.created, again.created) == (True, False)
    assert TicketEvent.objects.filter(kind=TicketEvent.Kind.OTHER_UNIT).count() == 1


@pytest.fixture
def integration(reference_data):
    return UserFactory(username="solarwinds", first_name="SolarWinds", role="integration")


def test_a_machine_account_files_for_a_department_at_its_main_unit(integration):
    lab = Department.objects.get(code="LAB")
    assert filing_location(requester=integration, location=None, department=lab) == (
        Location.objects.get(code="LAB")
    )


def test_a_machine_account_naming_both_files_for_the_location(integration):
    lab = Department.objects.get(code="LAB")
    bench = Location.objects.create(department=lab, code="LAB-BB", name="Blood Bank", kind="room")
    assert filing_location(requester=integration, location=bench, department=lab) == bench


def test_a_location_outside_the_named_department_is_refused(integration):
    with pytest.raises(FilingPlaceRefused, match="not in that department") as refused:
        filing_location(
            requester=integration,
            location=Location.objects.get(code="ED"),
            department=Department.objects.get(code="LAB"),
        )
    assert refused.value.field == "location"


def test_a_department_without_an_active_unit_is_refused(integration):
    lab = Department.objects.get(code="LAB")
    lab.locations.update(is_active=False)
    with pytest.raises(FilingPlaceRefused, match="no unit to file for") as refused:
        filing_location(requester=integration, location=None, department=lab)
    assert refused.value.field == "department"


def test_people_name_a_location_not_a_department(nurse_ed):
    with pytest.raises(FilingPlaceRefused, match="only machine accounts") as refused:
        filing_location(
            requester=nurse_ed, location=None, department=Department.objects.get(code="ED")
        )
    assert refused.value.field == "department"


def test_filing_for_nowhere_is_refused(nurse_ed):
    with pytest.raises(FilingPlaceRefused, match="Say where the problem is") as refused:
        filing_location(requester=nurse_ed, location=None)
    assert refused.value.field == "location"


def test_a_ticket_filed_without_the_three_answers_waits_at_p4_for_triage(nurse_ed):
    """Mail from the ED says nothing about patient care: it neither escalates nor pages, and
    says on its timeline that it waits for triage."""
    ticket = file(
        nurse_ed,
        "ED",
        care_delayed=None,
        scope=None,
        workaround=None,
        source=Ticket.Source.EMAIL,
    ).ticket
    assert (ticket.priority, ticket.matrix_priority) == (4, 4)
    assert ticket.needs_triage
    assert ticket.source == Ticket.Source.EMAIL
    assert not ticket.auto_escalated
    assert not ticket.page_chains.exists()
    filed = ticket.events.get()
    assert filed.kind == TicketEvent.Kind.FILED
    assert filed.text == "Filed by e-mail for ED Main: waiting for triage."


def test_some_answers_without_the_others_are_refused(nurse_ed):
    with pytest.raises(ValueError, match="all three answers"):
        file(nurse_ed, "ED", scope=None)
    assert not Ticket.objects.exists()


def test_the_web_form_is_the_source_unless_said(nurse_ed):
    ticket = file(nurse_ed, "ED").ticket
    assert (ticket.source, ticket.needs_triage) == (Ticket.Source.WEB, False)
