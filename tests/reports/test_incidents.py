"""Major incident reports on hand-made incidents: each one's clock and cost, the list over a
period, its CSV and JSON, the per-incident page, and the critical-areas board's counts."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import User
from django.urls import reverse

from departments.models import Department, Location, Team
from incidents.models import Affected, Incident, IncidentTicket, IncidentUpdate
from reports import queries
from reports.incidents import incident_report, incidents_report
from reports.models import ExportAudit
from reports.queries import ReportFilters
from tests.factories import TicketFactory, UserFactory
from tickets.models import Category

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")
# The EHR went down at 10:00 on Tuesday 2 March 2027; the report is read at 13:00.
T0 = datetime(2027, 3, 2, 10, 0, tzinfo=CHICAGO)
NOW = datetime(2027, 3, 2, 13, 0, tzinfo=CHICAGO)
PERIOD = ReportFilters(start=datetime(2027, 2, 24).date(), end=datetime(2027, 3, 2).date())
QUERY = {"period": "7"}


@dataclass
class Incidents:
    ehr: Incident
    pacs: Incident
    old: Incident
    nurse_ed: User


def minutes(n: int) -> timedelta:
    return timedelta(minutes=n)


def ticket_from(user: User, unit: str, at: datetime):
    return TicketFactory(requester=user, location=Location.objects.get(code=unit), created_at=at)


@pytest.fixture
def incidents(nurse_ed, nurse_or, nurse_medsurg, outsider, tech) -> Incidents:
    """The EHR, hospital-wide and resolved: three tickets from two nurses (ED, OR), and two
    "me too"s, one of them from a nurse who also filed (counted once). PACS, for Radiology and
    still open, with one "me too" and no update yet. And an incident of last year."""
    clinical = Team.objects.get(slug="clinical-apps")
    ehr = Incident.objects.create(
        service="EHR (Epic)",
        category=Category.objects.get(slug="ehr"),
        team=clinical,
        hospital_wide=True,
        message="Epic is down",
        started_at=T0,
        detected_at=T0 + minutes(4),
        declared_at=T0 + minutes(10),
        declared_by=tech,
        status=Incident.Status.RESOLVED,
        resolved_at=T0 + minutes(130),
        resolved_by=tech,
        resolution="The EHR is back; re-enter the downtime forms' orders.",
    )
    for user, unit, at in (
        (nurse_ed, "ED", T0),
        (nurse_or, "OR", T0 + minutes(2)),
        (nurse_ed, "ED", T0 + minutes(3)),
    ):
        IncidentTicket.objects.create(incident=ehr, ticket=ticket_from(user, unit, at))
    ed = Department.objects.get(code="ED")
    medsurg = Department.objects.get(code="MEDSURG")
    Affected.objects.create(incident=ehr, user=nurse_medsurg, department=medsurg)
    Affected.objects.create(incident=ehr, user=nurse_ed, department=ed)
    IncidentUpdate.objects.create(
        incident=ehr, text="Vendor engaged; next update 11:00", posted_at=T0 + minutes(25)
    )
    IncidentUpdate.objects.create(
        incident=ehr, text="Database restarting", posted_at=T0 + minutes(55), posted_by=tech
    )

    pacs = Incident.objects.create(
        service="PACS",
        team=Team.objects.get(slug="imaging"),
        hospital_wide=False,
        message="Images slow",
        started_at=T0 + minutes(60),
        declared_at=T0 + minutes(90),
    )
    pacs.departments.set(Department.objects.filter(code__in=["RAD", "ICU"]))
    Affected.objects.create(incident=pacs, user=outsider, department=medsurg)

    old = Incident.objects.create(
        service="Nurse call system",
        team=Team.objects.get(slug="network"),
        message="Wi-Fi down",
        started_at=T0 - timedelta(days=300),
        declared_at=T0 - timedelta(days=300),
        status=Incident.Status.RESOLVED,
        resolved_at=T0 - timedelta(days=299),
    )
    return Incidents(ehr, pacs, old, nurse_ed)


def test_each_incidents_clock_and_cost(incidents):
    report = incidents_report(PERIOD, now=NOW)
    pacs, ehr = report.rows  # the latest declared first
    assert ehr.number == f"MI-{incidents.ehr.pk}"
    assert ehr.first_ticket_at == T0
    assert ehr.detected_at == T0 + minutes(4)
    assert ehr.time_to_declare == 600
    assert ehr.time_to_first_update == 900
    assert ehr.updates == 2
    assert ehr.tickets == 3
    assert ehr.duration == 130 * 60
    # nurse.ed (two tickets and a "me too"), nurse.or, nurse.medsurg: three people.
    assert ehr.people == 3
    assert ehr.clinician_minutes_lost == 390
    assert [unit.code for unit in ehr.units] == ["ED", "OR", "MEDSURG"]
    assert ehr.scope == "Hospital-wide"

    assert pacs.time_to_declare == 1800
    assert pacs.time_to_first_update is None
    assert pacs.first_ticket_at is None
    assert pacs.duration == 120 * 60  # open: until now
    assert pacs.people == 1
    assert pacs.clinician_minutes_lost == 120
    assert pacs.scope == "Intensive Care Unit, Radiology"
    assert report.people == 4
    assert report.clinician_minutes_lost == 510


def test_the_period_and_the_filters_choose_the_incidents(incidents):
    assert [row.service for row in incidents_report(PERIOD, now=NOW).rows] == ["PACS", "EHR (Epic)"]
    imaging = Team.objects.get(slug="imaging")
    by_team = ReportFilters(start=PERIOD.start, end=PERIOD.end, team_id=imaging.pk)
    assert [row.service for row in incidents_report(by_team, now=NOW).rows] == ["PACS"]
    ed = Department.objects.get(code="ED")
    by_unit = ReportFilters(start=PERIOD.start, end=PERIOD.end, department_id=ed.pk)
    # The ED: the hospital-wide EHR, not the PACS of the ICU and Radiology.
    assert [row.service for row in incidents_report(by_unit, now=NOW).rows] == ["EHR (Epic)"]


def test_one_incidents_timeline_in_order(incidents):
    found = incident_report(incidents.ehr.pk, now=NOW)
    assert found is not None
    first = incidents.ehr.ticket_links.order_by("ticket__created_at").first()
    assert [(entry.at, entry.what) for entry in found.timeline] == [
        (T0, f"First ticket, {first.ticket.number}"),
        (T0 + minutes(4), "Detected as a possible major incident"),
        (T0 + minutes(10), "Declared a major incident"),
        (T0 + minutes(25), "Update"),
        (T0 + minutes(55), "Update"),
        (T0 + minutes(130), "Resolved"),
    ]
    assert found.timeline[-1].text.startswith("The EHR is back")
    assert incident_report(999999, now=NOW) is None


def test_the_critical_areas_board_counts_incidents_affecting_each_area(incidents):
    report = queries.critical_areas(PERIOD)
    by_code = {row.department.code: row.incidents for row in report.rows if row.department}
    assert by_code["ED"] == 1  # the hospital-wide EHR
    assert by_code["ICU"] == 2  # the EHR and the PACS declared for the ICU and Radiology
    assert report.total.incidents == 2


@time_machine.travel(NOW, tick=False)
def test_the_page_lists_the_incidents_with_their_figures(client, manager, incidents):
    client.force_login(manager)
    response = client.get(reverse("reports:incidents"), QUERY)
    assert response.status_code == 200
    html = response.content.decode()
    assert f"MI-{incidents.ehr.pk}: EHR (Epic)" in html
    assert "Nurse call system" not in html
    assert "390" in html
    assert "No update" in html


@time_machine.travel(NOW, tick=False)
def test_the_incident_page_shows_the_timeline(client, manager, incidents):
    client.force_login(manager)
    response = client.get(reverse("reports:incident", args=[incidents.ehr.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Declared a major incident" in html
    assert "Database restarting" in html
    assert "Emergency" in html or "ED" in html
    assert client.get(reverse("reports:incident", args=[999999])).status_code == 404


@time_machine.travel(NOW, tick=False)
def test_the_incident_pages_are_404_to_nurses_and_technicians(client, tech, incidents):
    for user in (tech, incidents.nurse_ed):
        client.force_login(user)
        assert client.get(reverse("reports:incidents"), QUERY).status_code == 404
        assert client.get(reverse("reports:incident", args=[incidents.ehr.pk])).status_code == 404


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("more", [0, 6])
def test_the_list_and_the_incident_page_read_a_fixed_number_of_queries(
    client, manager, incidents, django_assert_num_queries, more
):
    for n in range(more):
        extra = Incident.objects.create(
            service=f"Printers {n}",
            team=incidents.pacs.team,
            message="Printing down",
            started_at=T0,
            declared_at=T0 + minutes(5),
            hospital_wide=False,
        )
        extra.departments.set(Department.objects.filter(code__in=["ICU", "OR"]))
        Affected.objects.create(incident=extra, user=UserFactory(), department=None)
    client.force_login(manager)
    client.get(reverse("reports:incidents"), QUERY)
    # session, user (roles are held per process); the filter bar's teams, categories and
    # departments; the incidents (with their updates and first ticket), their tickets, their
    # "me too"s and the departments declared; the session saved (savepoint, update, release).
    # Never a query per incident.
    with django_assert_num_queries(12):
        response = client.get(reverse("reports:incidents"), QUERY)
    assert len(response.context["data"].rows) == 2 + more
    # session, user; the four reads of the figures; the incident, its first ticket, its
    # updates; the session saved.
    with django_assert_num_queries(12):
        client.get(reverse("reports:incident", args=[incidents.ehr.pk]))


@time_machine.travel(NOW, tick=False)
def test_the_csv_has_one_row_per_incident_without_free_text(client, manager, incidents):
    client.force_login(manager)
    response = client.get(reverse("reports:export", args=["incidents"]), QUERY)
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(body)))
    assert [row["incident"] for row in rows] == [
        f"MI-{incidents.pacs.pk}",
        f"MI-{incidents.ehr.pk}",
    ]
    ehr = rows[1]
    assert ehr["declared_for"] == "hospital-wide"
    assert ehr["started_at"] == "2027-03-02T10:00:00-06:00"
    assert ehr["time_to_declare_seconds"] == "600.0"
    assert ehr["time_to_first_update_seconds"] == "900.0"
    assert ehr["duration_seconds"] == "7800.0"
    assert ehr["people_affected"] == "3"
    assert ehr["units_affected"] == "ED OR MEDSURG"
    assert ehr["clinician_minutes_lost"] == "390.0"
    assert rows[0]["time_to_first_update_seconds"] == ""
    assert "Database restarting" not in body
    assert "re-enter" not in body
    audit = ExportAudit.objects.get()
    assert audit.report == "incidents"
    assert audit.rows == 2


@time_machine.travel(NOW, tick=False)
def test_the_api_gives_the_same_figures(client, manager, tech, incidents):
    client.force_login(manager)
    response = client.get("/api/reports/incidents/", QUERY)
    assert response.status_code == 200
    body = response.json()
    ehr = body["incidents"][1]
    assert ehr["number"] == f"MI-{incidents.ehr.pk}"
    assert ehr["people"] == 3
    assert ehr["clinician_minutes_lost"] == 390
    assert ehr["time_to_declare_seconds"] == 600
    assert [unit["code"] for unit in ehr["units"]] == ["ED", "OR", "MEDSURG"]
    assert ehr["url"] == f"http://testserver/reports/incidents/{incidents.ehr.pk}/"
    assert body["clinician_minutes_lost"] == 510
    client.force_login(tech)
    assert client.get("/api/reports/incidents/", QUERY).status_code == 404
