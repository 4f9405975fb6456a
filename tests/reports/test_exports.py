"""CSV exports: streamed, filtered, without free text unless asked, and audited."""

from __future__ import annotations

import csv
import io
import tracemalloc
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.http import StreamingHttpResponse
from django.urls import reverse

from audit.models import AuditEntry
from departments.models import Department
from reports import conf
from reports.models import ExportAudit
from tests.factories import TicketFactory, UserFactory
from tests.reports.conftest import NOW, DataSet, local
from tickets.models import Ticket

pytestmark = pytest.mark.django_db

RANGE = {"period": "custom", "start": "2026-02-02", "end": "2026-02-15"}
TICKET_HEADER = [
    "ticket", "filed_at", "department", "department_name", "location", "location_name",
    "category", "category_name", "team", "team_name", "priority", "status",
    "assignee", "first_response_at", "response_due_at", "response_met", "response_seconds",
    "response_business_seconds", "response_breached_at", "resolved_at", "resolution_due_at",
    "resolution_met", "resolution_seconds", "resolution_business_seconds",
    "resolution_breached_at", "resolution_code", "closed_at",
]  # fmt: skip


def export(client, user, report: str, **params: Any) -> StreamingHttpResponse:
    client.force_login(user)
    with time_machine.travel(NOW, tick=False):
        response = client.get(reverse("reports:export", args=[report]), {**RANGE, **params})
    return response


def rows_of(response: StreamingHttpResponse) -> list[list[str]]:
    with time_machine.travel(NOW, tick=False):
        body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


def number(ticket: Ticket) -> str:
    return ticket.number


def test_ticket_export_is_streamed_without_free_text(client, dataset: DataSet):
    response = export(client, dataset.manager, "tickets")
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="tickets-2026-02-02-to-2026-02-15.csv"'
    )
    # The audit row is written before the first byte; the row count once the last one is out.
    audit = ExportAudit.objects.get()
    assert audit.rows is None
    rows = rows_of(response)
    assert rows[0] == TICKET_HEADER
    body = "\n".join(",".join(row) for row in rows)
    assert "Epic frozen" not in body
    assert "Jane Doe" not in body
    by_number = {row[0]: dict(zip(TICKET_HEADER, row, strict=True)) for row in rows[1:]}
    filed = ("A1", "A2", "A3", "A4", "A5", "B1", "B2", "B3", "B4", "C1")
    assert set(by_number) == {number(dataset[n]) for n in filed}
    a2 = by_number[number(dataset["A2"])]
    assert a2["filed_at"] == "2026-02-03T16:00:00-06:00"  # local time, with its offset
    assert (a2["department"], a2["category"], a2["team"], a2["priority"]) == (
        "ED", "printers-1", "field-services", "P1"
    )  # fmt: skip
    assert (a2["response_met"], a2["response_seconds"], a2["resolution_met"]) == (
        "no", "1500.0", "yes"
    )  # fmt: skip
    assert a2["assignee"] == "tech"
    assert by_number[number(dataset["A5"])]["filed_at"] == "2026-02-15T23:59:00-06:00"

    audit.refresh_from_db()
    assert (audit.user, audit.report, audit.included_titles, audit.rows) == (
        dataset.manager, "tickets", False, 10
    )  # fmt: skip
    assert audit.filters == {
        "period": "custom", "from": "2026-02-02", "to": "2026-02-15",
        "time_zone": "America/Chicago",
    }  # fmt: skip


def test_titles_only_when_asked_and_recorded(client, dataset: DataSet):
    rows = rows_of(export(client, dataset.manager, "tickets", include_titles="1"))
    assert rows[0] == [*TICKET_HEADER, "title"]
    titles = {row[0]: row[-1] for row in rows[1:]}
    assert titles[number(dataset["A1"])] == "Epic frozen on all triage PCs"
    # A title that a spreadsheet would run as a formula is defused.
    assert titles[number(dataset["A2"])] == '\'=HYPERLINK("http://x") wristband printer'
    # Descriptions never go out, titles or not.
    assert "Jane Doe" not in str(rows)
    audit = ExportAudit.objects.get()
    assert audit.included_titles is True
    assert audit.rows == 10


def test_export_applies_the_filters(client, dataset: DataSet):
    icu = Department.objects.get(code="ICU")
    rows = rows_of(export(client, dataset.manager, "tickets", department=str(icu.pk)))
    assert [row[0] for row in rows[1:]] == [number(dataset["C1"])]
    audit = ExportAudit.objects.get()
    assert audit.filters["department"] == "ICU"
    assert audit.rows == 1
    # The audit log has it too: who, what and with which filters, never a row of it.
    logged = AuditEntry.objects.get(kind=AuditEntry.Kind.EXPORT)
    assert logged.actor == dataset.manager
    assert logged.detail == {
        "report": "tickets",
        "filters": audit.filters,
        "included_titles": False,
    }


def test_breach_export(client, dataset: DataSet):
    response = export(client, dataset.manager, "breaches")
    rows = rows_of(response)
    header = rows[0]
    assert header == [
        "ticket", "filed_at", "department", "department_name", "priority", "category",
        "category_name", "team", "team_name", "assignee", "status", "response_missed",
        "response_due_at", "response_late_seconds", "response_still_late",
        "resolution_missed", "resolution_due_at", "resolution_late_seconds",
        "resolution_still_late",
    ]  # fmt: skip
    found = {row[0]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    assert list(found) == [number(dataset[n]) for n in ("A5", "B3", "A3", "A2")]
    a2 = found[number(dataset["A2"])]
    assert (a2["response_missed"], a2["response_late_seconds"], a2["response_still_late"]) == (
        "yes", "600.0", "no"
    )  # fmt: skip
    assert (a2["resolution_missed"], a2["resolution_late_seconds"]) == ("no", "")
    a5 = found[number(dataset["A5"])]
    assert (a5["response_late_seconds"], a5["response_still_late"]) == ("19860.0", "yes")
    assert found[number(dataset["B3"])]["resolution_late_seconds"] == "86400.0"
    assert found[number(dataset["A3"])]["resolution_late_seconds"] == "3600.0"
    assert "title" not in header


def test_breach_export_with_titles(client, dataset: DataSet):
    rows = rows_of(export(client, dataset.manager, "breaches", include_titles="1"))
    assert rows[0][-1] == "title"
    assert ExportAudit.objects.get().included_titles is True


def test_compliance_export(client, dataset: DataSet):
    rows = rows_of(export(client, dataset.manager, "compliance", include_titles="1"))
    header = rows[0]
    assert header[:4] == ["department", "department_name", "priority", "tickets"]
    lines = {(row[0], row[2]): dict(zip(header, row, strict=True)) for row in rows[1:]}
    overall = lines[("all", "all")]
    assert (overall["tickets"], overall["response_met"], overall["response_counted"],
            overall["response_percent"], overall["response_below_target"]) == (
        "10", "7", "9", "77.8", "yes"
    )  # fmt: skip
    assert (overall["resolution_percent"], overall["resolution_target_percent"]) == (
        "71.4", "85.0"
    )  # fmt: skip
    assert lines[("ED", "P2")]["response_percent"] == "50.0"
    assert lines[("MEDSURG", "P4")]["response_percent"] == ""
    # No titles in an aggregate, whatever was asked.
    assert ExportAudit.objects.get().included_titles is False


@pytest.mark.parametrize(
    ("report", "header_start", "expected_rows"),
    [
        ("speed", ["group", "code", "name", "response_business_count"], 4 + 4 + 1),
        ("trends", ["week_of", "from", "to", "tickets", "day_shift"], 2),
        ("critical", ["department", "department_name", "open_now", "open_now_breached"], 3 + 1),
        ("sources", ["section", "name", "department", "department_name", "tickets"], 5 + 4 + 2),
        ("technicians", ["technician", "name", "handled"], 2),
    ],
)
def test_every_report_exports(client, dataset: DataSet, report, header_start, expected_rows):
    response = export(client, dataset.manager, report)
    assert isinstance(response, StreamingHttpResponse)
    rows = rows_of(response)
    assert rows[0][: len(header_start)] == header_start
    assert len(rows) - 1 == expected_rows
    audit = ExportAudit.objects.get()
    assert (audit.report, audit.rows) == (report, expected_rows)


def test_report_export_numbers(client, dataset: DataSet):
    trends = rows_of(export(client, dataset.manager, "trends"))
    week2 = dict(zip(trends[0], trends[2], strict=True))
    assert (week2["week_of"], week2["tickets"], week2["weekend"], week2["backlog_total"]) == (
        "2026-02-09", "5", "2", "4"
    )  # fmt: skip
    technicians = rows_of(export(client, dataset.manager, "technicians"))
    tech = dict(zip(technicians[0], technicians[1], strict=True))
    assert (tech["technician"], tech["handled"], tech["first_contact_percent"]) == (
        "tech", "5", "40.0"
    )  # fmt: skip
    assert tech["resolve_business_median_seconds"] == "19800.0"


def test_bad_filters_export_nothing(client, dataset: DataSet):
    response = export(client, dataset.manager, "tickets", start="2026-02-15", end="2026-02-01")
    assert response.status_code == 400
    assert b"To date must be on or after" in response.content
    assert not ExportAudit.objects.exists()


def test_export_audit_is_append_only(client, dataset: DataSet):
    rows_of(export(client, dataset.manager, "tickets"))
    with pytest.raises(TypeError):
        ExportAudit.objects.get().delete()
    with pytest.raises(TypeError):
        ExportAudit.objects.all().delete()


# --- Memory: rows stream through, they do not pile up -----------------------------------------


def _bulk_tickets(count: int) -> None:
    template = TicketFactory(created_at=local(2, 3, 12))
    fields = {
        field.attname: getattr(template, field.attname)
        for field in Ticket._meta.concrete_fields
        if not field.primary_key and not field.generated
    }
    fields["idempotency_key"] = None
    Ticket.objects.bulk_create(
        (Ticket(**{**fields, "created_at": local(2, 3, 12) + timedelta(seconds=n)})
         for n in range(count - 1)),
        batch_size=500,
    )  # fmt: skip


def _peak_while_streaming(client, user) -> tuple[int, int]:
    response = export(client, user, "tickets", include_titles="1")
    written = 0
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        with time_machine.travel(NOW, tick=False):
            for chunk in response.streaming_content:
                written += 1
                del chunk
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    return written, peak


def test_memory_does_not_grow_with_rows(client, manager, monkeypatch):
    """With the database handing over 100 rows at a time, streaming 3,000 tickets peaks at about
    what 300 do: the rows are never all in memory at once."""
    monkeypatch.setattr(conf, "EXPORT_CHUNK_SIZE", 100)
    _bulk_tickets(300)
    small_rows, small_peak = _peak_while_streaming(client, manager)
    _bulk_tickets(2700)
    big_rows, big_peak = _peak_while_streaming(client, manager)
    assert (small_rows, big_rows) == (301, 3001)  # the header line, then one line per ticket
    # Holding 2,700 more rows would take megabytes; streaming them takes a few kilobytes more.
    assert big_peak - small_peak < 256 * 1024, (small_peak, big_peak)


def test_the_ticket_export_is_complete_and_in_filing_order_across_batches(
    client, manager, monkeypatch, django_assert_num_queries
):
    """Read three rows a query: tickets filed in the same second (their order is their number)
    fall on both sides of a batch's end, and none is lost or repeated."""
    monkeypatch.setattr(conf, "EXPORT_CHUNK_SIZE", 3)
    # Filed newest first, so numbers do not follow filing times.
    tickets = [TicketFactory(created_at=local(2, 3, 12) + timedelta(seconds=n // 4))
               for n in reversed(range(10))]  # fmt: skip
    expected = sorted(tickets, key=lambda ticket: (ticket.created_at, ticket.pk))
    response = export(client, manager, "tickets")
    # One query per batch of three (four for ten tickets), then the audit's row count: never a
    # query per row.
    with django_assert_num_queries(5):
        rows = rows_of(response)
    assert [row[0] for row in rows[1:]] == [number(ticket) for ticket in expected]


def test_the_breach_export_stays_newest_first_across_batches(client, dataset: DataSet, monkeypatch):
    monkeypatch.setattr(conf, "EXPORT_CHUNK_SIZE", 1)
    rows = rows_of(export(client, dataset.manager, "breaches"))
    assert [row[0] for row in rows[1:]] == [number(dataset[n]) for n in ("A5", "B3", "A3", "A2")]


def test_exports_are_listed_read_only_in_admin(client, dataset: DataSet):
    rows_of(export(client, dataset.manager, "tickets", include_titles="1"))
    audit = ExportAudit.objects.get()
    admin = UserFactory(username="root", is_superuser=True, is_staff=True)
    client.force_login(admin)
    listing = client.get(reverse("admin:reports_exportaudit_changelist"))
    assert listing.status_code == 200
    assert b"Tickets (underlying rows)" in listing.content
    page = client.get(reverse("admin:reports_exportaudit_change", args=[audit.pk]))
    assert page.status_code == 200
    assert b'name="rows"' not in page.content  # shown, not editable
    assert client.get(reverse("admin:reports_exportaudit_add")).status_code == 403
    response = client.post(reverse("admin:reports_exportaudit_delete", args=[audit.pk]),
                           {"post": "yes"})  # fmt: skip
    assert response.status_code == 403
    assert ExportAudit.objects.filter(pk=audit.pk).exists()


# --- Names beside codes, flagged titles withheld ----------------------------------------------

# A made-up patient the PHI check flags: it must appear nowhere in any export's bytes.
CANARY = "Pt Zebediah Quillfeather MRN 48151623"


def body_of(response: StreamingHttpResponse) -> bytes:
    with time_machine.travel(NOW, tick=False):
        return b"".join(response.streaming_content)


def test_ticket_export_names_beside_codes_and_priorities_as_p1(client, dataset: DataSet):
    rows = rows_of(export(client, dataset.manager, "tickets"))
    by_number = {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    a1 = by_number[number(dataset["A1"])]
    assert (a1["department"], a1["department_name"]) == ("ED", "Emergency Department")
    assert (a1["location"], a1["location_name"]) == ("WOW-ED-07", "ED WOW 07")
    assert (a1["team"], a1["team_name"]) == ("clinical-apps", "Clinical Applications (EHR)")
    assert a1["category"] == "ehr-2"
    assert a1["category_name"] == "Epic / EHR: Slow or frozen"
    a2 = by_number[number(dataset["A2"])]
    assert a2["category_name"] == "Printers and labels: Wristband printer"
    b3 = by_number[number(dataset["B3"])]
    assert (b3["category"], b3["category_name"]) == ("identity", "Sign-in and badge")
    assert {row["priority"] for row in by_number.values()} == {"P1", "P2", "P3", "P4"}


def test_breach_export_names_beside_codes(client, dataset: DataSet):
    rows = rows_of(export(client, dataset.manager, "breaches"))
    found = {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    b3 = found[number(dataset["B3"])]
    assert (b3["department"], b3["department_name"], b3["priority"]) == (
        "MEDSURG", Department.objects.get(code="MEDSURG").name, "P3"
    )  # fmt: skip
    assert (b3["team"], b3["team_name"], b3["category_name"]) == (
        "service-desk", "Service Desk", "Sign-in and badge"
    )  # fmt: skip


@pytest.mark.parametrize("report", ["tickets", "breaches"])
def test_a_flagged_title_never_leaves_in_an_export(client, dataset: DataSet, report):
    # A3 is in both lists (it missed its resolution target).
    Ticket.objects.filter(pk=dataset["A3"].pk).update(title=CANARY, phi_suspected=True)
    for asked in ({"include_titles": "1"}, {}):
        body = body_of(export(client, dataset.manager, report, **asked))
        assert CANARY.encode() not in body
        assert b"Quillfeather" not in body
        assert b"48151623" not in body
    rows = rows_of(export(client, dataset.manager, report, include_titles="1"))
    titles = {row[0]: row[-1] for row in rows[1:]}
    assert titles[number(dataset["A3"])] == "(withheld: possible patient data)"
    # Titles that were not flagged still go out when asked for.
    assert titles[number(dataset["A2"])] == '\'=HYPERLINK("http://x") wristband printer'


def test_report_exports_carry_names_beside_codes(client, dataset: DataSet):
    speed = rows_of(export(client, dataset.manager, "speed"))
    lines = [row[:3] for row in speed[1:]]
    assert ["priority", "P1", "P1 Critical"] in lines
    assert ["team", "field-services", "Field Services"] in lines
    assert ["all", "all", "All tickets"] in lines
    critical = rows_of(export(client, dataset.manager, "critical"))
    assert ["ED", "Emergency Department"] in [row[:2] for row in critical[1:]]
    sources = rows_of(export(client, dataset.manager, "sources"))
    channels = [row[1:2] + row[4:6] for row in sources[1:] if row[0] == "channel"]
    assert channels == [
        ["Web form", "6", "60.0"], ["E-mail", "2", "20.0"], ["API", "1", "10.0"],
        ["Phone", "1", "10.0"],
    ]  # fmt: skip
    places = [row for row in sources[1:] if row[0] == "location"]
    assert places
    assert all(row[3] for row in places)  # the department's name beside its code


def test_report_exports_give_percentages_with_their_counts(client, dataset: DataSet):
    compliance = rows_of(export(client, dataset.manager, "compliance"))
    lines = {(row[0], row[2]): dict(zip(compliance[0], row, strict=True)) for row in compliance[1:]}
    ed_p1 = lines[("ED", "P1")]
    assert (ed_p1["response_met"], ed_p1["response_counted"], ed_p1["response_percent"]) == (
        "2", "3", "66.7"
    )  # fmt: skip
    assert (ed_p1["response_below_target"], ed_p1["response_too_few_to_judge"]) == ("yes", "yes")
    assert lines[("all", "all")]["response_too_few_to_judge"] == "no"
    trends = rows_of(export(client, dataset.manager, "trends"))
    week2 = dict(zip(trends[0], trends[2], strict=True))
    assert (week2["response_met"], week2["response_counted"]) == ("3", "4")
