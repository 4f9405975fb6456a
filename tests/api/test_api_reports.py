"""The manager reports in the API: who may read them, the filters, the numbers (against the
hand-made data set of tests/reports/conftest.py, answers written here), that they are the
numbers the pages' query functions give, and a fixed number of queries whatever the data."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import time_machine
from django.contrib.auth.models import User

from departments.models import Department, Team
from reports import conf, queries
from reports.queries import ReportFilters
from tests.factories import UserFactory
from tests.reports import conftest as hand_made
from tests.reports.conftest import END, NOW, START, DataSet
from tests.reports.test_views import REPORT_QUERIES as PAGE_QUERIES
from tickets.models import Category

# The hand-made help desk of the report tests (see its table), and its thirty more tickets.
dataset = hand_made.dataset
more_tickets = hand_made.more_tickets

pytestmark = pytest.mark.django_db

RANGE = {"period": "custom", "start": "2026-02-02", "end": "2026-02-15"}
FILTERS = ReportFilters(START, END)
URLS = {
    "index": "/api/reports/",
    "compliance": "/api/reports/compliance/",
    "speed": "/api/reports/speed/",
    "breaches": "/api/reports/breaches/",
    "trends": "/api/reports/trends/",
    "critical": "/api/reports/critical-areas/",
    "sources": "/api/reports/sources/",
    "technicians": "/api/reports/technicians/",
}
REPORTS = [name for name in URLS if name != "index"]


def approx(value: float) -> Any:
    return pytest.approx(value, abs=1e-6)


def read(api: Any, user: User, name: str, **params: Any) -> dict[str, Any]:
    with time_machine.travel(NOW, tick=False):
        response = api(user, token=True).get(URLS[name], params or RANGE)
    assert response.status_code == 200, response.content[:300]
    body: dict[str, Any] = response.json()
    return body


# --- Who may read them ------------------------------------------------------------------------

CALLERS = {
    "anonymous": (None, False, 401),
    "requester": ("requester", False, 404),
    "technician": ("technician", False, 404),
    "requester's token": ("requester", True, 404),
    "technician's token": ("technician", True, 404),
    "integration's token": ("integration", True, 404),
    "manager": ("manager", False, 200),
    "admin": ("admin", False, 200),
    "manager's token": ("manager", True, 200),
    "admin's token": ("admin", True, 200),
}


@pytest.mark.parametrize("caller", list(CALLERS))
@pytest.mark.parametrize("name", list(URLS))
def test_only_managers_and_admins_read_reports(api, reference_data, name, caller):
    role, token, status = CALLERS[caller]
    user = UserFactory(username=f"{role}.caller", role=role) if role else None
    response = api(user, token=token).get(URLS[name])
    assert response.status_code == status
    if status != 200:
        # Nothing of the report: the same answer as for a page that does not exist.
        assert set(response.json()) == {"detail"}


def test_a_revoked_token_is_refused(api, reference_data):
    manager = UserFactory(username="manager.revoked", role="manager")
    client = api(manager, token=True)
    manager.api_tokens.update(revoked_at=NOW)
    assert client.get(URLS["compliance"]).status_code == 401


def test_reports_answer_get_only(api, manager):
    assert api(manager).post(URLS["compliance"]).status_code == 405


def test_the_list_of_reports(api, manager):
    body = api(manager).get(URLS["index"]).json()
    assert [row["key"] for row in body] == [
        "compliance", "speed", "breaches", "trends", "critical", "sources", "technicians",
        "incidents",
    ]  # fmt: skip
    assert body[0] == {
        "key": "compliance",
        "title": "SLA compliance",
        "lead": "First response and resolution on time, by department and priority, against "
        "the targets.",
        "url": "http://testserver/api/reports/compliance/",
    }
    assert {row["url"].removeprefix("http://testserver") for row in body} == {
        *(URLS[name] for name in REPORTS),
        "/api/reports/incidents/",
    }


# --- Filters ----------------------------------------------------------------------------------


def test_the_filters_are_echoed_as_resolved(api, dataset: DataSet):
    ed = Department.objects.get(code="ED")
    team = Team.objects.get(slug="clinical-apps")
    tile = Category.objects.get(slug="ehr")
    body = read(api, dataset.manager, "compliance", period="7", team=team.pk, category=tile.pk,
                department=ed.pk, priority=1)  # fmt: skip
    assert body["filters"] == {
        "period": "7",
        "start": "2026-02-10",
        "end": "2026-02-16",
        "time_zone": "America/Chicago",
        "team": {"id": team.pk, "slug": "clinical-apps", "name": "Clinical Applications (EHR)"},
        "category": {"id": tile.pk, "slug": "ehr", "name": "Epic / EHR"},
        "department": {"id": ed.pk, "code": "ED", "name": "Emergency Department", "tier": 1,
                       "auto_escalate": True},
        "priority": 1,
    }  # fmt: skip
    assert body["targets"] == {"response": 90.0, "resolution": 85.0}


def test_filter_ids_come_from_the_reference_endpoints(api, dataset: DataSet):
    """An integrator finds a team's, a category's and a department's id in the API itself."""
    client = api(dataset.manager, token=True)
    ids = {}
    for name, key, value in (("teams", "slug", "clinical-apps"), ("categories", "slug", "ehr"),
                             ("departments", "code", "ED")):  # fmt: skip
        listed = client.get(f"/api/{name}/").json()
        rows = listed["results"] if isinstance(listed, dict) else listed
        ids[name] = next(row["id"] for row in rows if row[key] == value)
    body = read(api, dataset.manager, "compliance", period="7", team=ids["teams"],
                category=ids["categories"], department=ids["departments"])  # fmt: skip
    assert body["filters"]["team"]["slug"] == "clinical-apps"
    assert body["filters"]["category"]["slug"] == "ehr"
    assert body["filters"]["department"]["code"] == "ED"


def test_the_default_period_is_the_last_30_days(api, dataset: DataSet):
    body = read(api, dataset.manager, "speed", team="")
    assert body["filters"] == {
        "period": "30", "start": "2026-01-18", "end": "2026-02-16", "time_zone": "America/Chicago",
        "team": None, "category": None, "department": None, "priority": None,
    }  # fmt: skip


def test_compliance_for_one_department(api, dataset: DataSet):
    ed = Department.objects.get(code="ED")
    body = read(api, dataset.manager, "compliance", **RANGE, department=ed.pk)
    assert [row["department"]["code"] for row in body["departments"]] == ["ED"]
    (row,) = body["departments"]
    p1 = row["by_priority"][0]
    # A1 and A3 answered in time, A2 late.
    assert p1["priority"] == 1
    assert p1["tickets"] == 3
    assert p1["response"] == {"met": 2, "counted": 3, "missed": 1, "percent": approx(200 / 3),
                              "target": 90.0, "below_target": True,
                              "too_few_to_judge": True}  # fmt: skip
    # A5's response is late; A4's is in time; neither is resolved yet.
    p2 = row["by_priority"][1]
    assert (p2["response"]["percent"], p2["resolution"]["percent"]) == (50.0, None)
    assert row["total"]["tickets"] == 5
    assert body["overall"]["response"]["percent"] == 60.0


def test_compliance_targets_come_from_settings(api, dataset: DataSet, settings):
    settings.HELPDESK = {**settings.HELPDESK, "COMPLIANCE_TARGETS": {"response": 50}}
    body = read(api, dataset.manager, "compliance")
    assert body["targets"] == {"response": 50.0, "resolution": 85.0}
    ed_p2 = body["departments"][0]["by_priority"][1]["response"]
    assert (ed_p2["percent"], ed_p2["below_target"]) == (50.0, False)


def test_speed_in_seconds(api, dataset: DataSet):
    body = read(api, dataset.manager, "speed")
    # All responses (business): 300 600 900 1200 1500 3600 3600 7200.
    assert body["overall"]["response_business"] == {
        "count": 8, "median_seconds": approx(1350), "p90_seconds": approx(4680)
    }  # fmt: skip
    p1 = body["by_priority"][0]
    assert (p1["priority"], p1["label"]) == (1, "P1 Critical")
    assert p1["resolution_business"]["p90_seconds"] == approx(16560)
    # P4 is one cancelled ticket: no times at all.
    assert body["by_priority"][3]["response_wall"] == {
        "count": 0, "median_seconds": None, "p90_seconds": None
    }  # fmt: skip
    service_desk = Team.objects.get(slug="service-desk")
    filtered = read(api, dataset.manager, "speed", **RANGE, team=service_desk.pk)
    # A4 (900) and B3 (3600).
    assert filtered["overall"]["response_business"]["median_seconds"] == approx(2250)
    assert [row["team_id"] for row in filtered["by_team"]] == [service_desk.pk]


def test_breaches_say_which_target_and_by_how_much(api, dataset: DataSet):
    body = read(api, dataset.manager, "breaches")
    assert body["summary"] == {
        "tickets": 4, "response": 2, "resolution": 2,
        "by_department": [
            {"department": {"id": dataset["A1"].department_id, "code": "ED",
                            "name": "Emergency Department", "tier": 1, "auto_escalate": True},
             "tickets": 3, "response": 2, "resolution": 1},
            {"department": {"id": dataset["B3"].department_id, "code": "MEDSURG",
                            "name": "Medical-Surgical Units", "tier": 2, "auto_escalate": False},
             "tickets": 1, "response": 0, "resolution": 1},
        ],
    }  # fmt: skip
    assert (body["count"], body["page"], body["pages"]) == (4, 1, 1)
    assert (body["next"], body["previous"]) == (None, None)
    a5, b3, a3, a2 = body["results"]
    assert [row["id"] for row in body["results"]] == [
        dataset[name].pk for name in ("A5", "B3", "A3", "A2")
    ]
    assert a2 == {
        "id": dataset["A2"].pk,
        "number": dataset["A2"].number,
        "url": f"http://testserver/tickets/{dataset['A2'].pk}/",
        "api_url": f"http://testserver/api/tickets/{dataset['A2'].pk}/",
        "filed_at": "2026-02-03T16:00:00-06:00",
        "department": "ED",
        "priority": 1,
        "status": "resolved",
        "team": "field-services",
        "assignee": "Terry Nguyen",
        # Answered at 25 minutes, due at 15.
        "response": {"late_seconds": 600.0, "ongoing": False},
        "resolution": None,
    }
    # A5: due at 00:29 on 16 Feb, unanswered at 06:00: 5 h 31 min and counting.
    assert a5["response"] == {"late_seconds": 5 * 3600 + 31 * 60, "ongoing": True}
    assert a5["assignee"] is None
    assert b3["resolution"] == {"late_seconds": 86400.0, "ongoing": False}
    assert a3["resolution"]["late_seconds"] == 3600.0


def test_breaches_carry_no_free_text(api, dataset: DataSet):
    raw = json.dumps(read(api, dataset.manager, "breaches"))
    assert "title" not in raw
    assert "HYPERLINK" not in raw  # A2's title
    assert "Jane Doe" not in raw  # every description


def test_breaches_are_paged(api, dataset: DataSet, monkeypatch):
    monkeypatch.setattr(conf, "BREACHES_PAGE_SIZE", 3)
    first = read(api, dataset.manager, "breaches")
    assert (first["count"], first["page"], first["pages"], len(first["results"])) == (4, 1, 2, 3)
    link = urlsplit(first["next"])
    assert link.path == "/api/reports/breaches/"
    assert dict(parse_qsl(link.query)) == {**RANGE, "page": "2"}
    assert first["previous"] is None
    second = read(api, dataset.manager, "breaches", **RANGE, page=2)
    assert [row["id"] for row in second["results"]] == [dataset["A2"].pk]
    assert second["next"] is None
    assert dict(parse_qsl(urlsplit(second["previous"]).query)) == {**RANGE, "page": "1"}
    # Past the last page: the last page, as on the report page.
    assert read(api, dataset.manager, "breaches", **RANGE, page=9)["page"] == 2


def test_trends_by_week_and_shift(api, dataset: DataSet):
    body = read(api, dataset.manager, "trends")
    first, second = body["weeks"]
    assert (first["week_of"], first["start"], first["end"], first["part_week"]) == (
        "2026-02-02", "2026-02-02", "2026-02-08", False
    )  # fmt: skip
    assert first["by_shift"] == {"day": 3, "evening": 1, "night": 1}
    assert (first["tickets"], first["weekend"]) == (5, 1)
    assert first["response"]["percent"] == 80.0
    assert second["backlog_at"] == "2026-02-16T00:00:00-06:00"
    assert second["backlog"] == {"under_1d": 1, "1_7d": 1, "7_30d": 1, "over_30d": 1}
    assert second["backlog_total"] == 4
    night_weekend = body["shifts"][5]
    assert {key: night_weekend[key] for key in ("shift", "weekend", "label", "starts_hour",
                                                "ends_hour", "tickets")} == {
        "shift": "night", "weekend": True, "label": "Weekend night", "starts_hour": 23,
        "ends_hour": 7, "tickets": 2,
    }  # fmt: skip
    assert night_weekend["resolution"]["percent"] == 0.0
    assert body["targets"] == {"response": 90.0, "resolution": 85.0}


def test_critical_areas(api, dataset: DataSet):
    body = read(api, dataset.manager, "critical")
    assert body["codes"] == ["ED", "OR", "ICU"]
    ed = body["areas"][0]
    assert ed["department"]["code"] == "ED"
    assert (ed["open_now"], ed["open_breached"], ed["filed"], ed["pages_sent"]) == (3, 2, 5, 10)
    # Acknowledged after 240 s and 1200 s.
    assert ed["time_to_acknowledge"] == {
        "count": 2, "median_seconds": approx(720), "p90_seconds": approx(1104)
    }  # fmt: skip
    assert body["total"]["department"] is None
    assert (body["total"]["chains"], body["total"]["unanswered"]) == (5, 1)


def test_where_the_work_comes_from(api, dataset: DataSet):
    body = read(api, dataset.manager, "sources")
    assert body["tickets"] == 10
    assert [(row["name"], row["tickets"], row["cumulative_percent"])
            for row in body["categories"]][:2] == [
        ("Epic / EHR", 3, 30.0), ("Printers and labels", 3, 60.0)
    ]  # fmt: skip
    assert [(row["channel"], row["name"], row["tickets"], row["percent"])
            for row in body["channels"]] == [
        ("web", "Web form", 6, 60.0), ("email", "E-mail", 2, 20.0), ("api", "API", 1, 10.0),
        ("phone", "Phone", 1, 10.0),
    ]  # fmt: skip
    wow = body["locations"][0]
    assert {key: wow[key] for key in ("code", "department", "tickets", "repeats",
                                      "top_category", "top_category_tickets")} == {
        "code": "WOW-ED-07", "department": "ED", "tickets": 4, "repeats": 2,
        "top_category": "Epic / EHR: Slow or frozen", "top_category_tickets": 3,
    }  # fmt: skip


def test_technicians(api, dataset: DataSet):
    body = read(api, dataset.manager, "technicians")
    assert body["first_contact_definition"] == queries.FIRST_CONTACT_HELP
    tech = body["technicians"][0]
    assert {key: tech[key] for key in ("username", "name", "handled", "resolved", "reopened",
                                       "reopen_percent", "first_contact")} == {
        "username": "tech", "name": "Terry Nguyen", "handled": 5, "resolved": 4, "reopened": 2,
        "reopen_percent": 40.0, "first_contact": 2,
    }  # fmt: skip
    # Resolution (business) 7200, 10800, 28800, 57600.
    assert tech["resolve_business"]["median_seconds"] == approx(19800)


# --- Bad filters: 400, the form's own words, and nothing else ---------------------------------

BAD = [
    ({"period": "12"}, {"period": ["Select a valid choice. 12 is not one of the available "
                                   "choices."]}),
    ({"period": "custom", "start": "2026-02-15", "end": "2026-02-02"},
     {"non_field_errors": ["The To date must be on or after the From date."]}),
    ({"period": "custom", "start": "2026-02-02"},
     {"non_field_errors": ["Give both a From and a To date for a custom period."]}),
    ({"period": "custom", "start": "2024-01-01", "end": "2026-02-01"},
     {"non_field_errors": ["A report covers at most 366 days; shorten the range."]}),
    ({"period": "custom", "start": "2026-02-01", "end": "2026-03-01"},
     {"non_field_errors": ["The To date cannot be after today."]}),
    # A week in year 1 was a server error: the trends' backlog ages overflowed.
    ({"period": "custom", "start": "0001-01-01", "end": "0001-01-07"},
     {"non_field_errors": ["The From date cannot be before 1 Jan 2000."]}),
    # The date is refused, and without it the custom period lacks a start.
    ({"start": "yesterday", "end": "2026-02-01"},
     {"start": ["Enter a valid date."],
      "non_field_errors": ["Give both a From and a To date for a custom period."]}),
    ({"team": "999999"},
     {"team": ["Select a valid choice. That choice is not one of the available choices."]}),
    ({"priority": "9"},
     {"priority": ["Select a valid choice. 9 is not one of the available choices."]}),
]  # fmt: skip


@pytest.mark.parametrize("name", REPORTS)
@pytest.mark.parametrize(("params", "expected"), BAD)
def test_bad_filters_are_a_400_with_the_forms_message(api, dataset: DataSet, name, params,
                                                      expected):  # fmt: skip
    with time_machine.travel(NOW, tick=False):
        response = api(dataset.manager, token=True).get(URLS[name], params)
    assert response.status_code == 400
    assert response.json() == expected


@pytest.mark.parametrize("page", ["0", "two", "-1", "²", "①", "\u0661", "1.5"])
def test_a_bad_page_is_a_400(api, dataset: DataSet, page):
    with time_machine.travel(NOW, tick=False):
        response = api(dataset.manager).get(URLS["breaches"], {**RANGE, "page": page})
    assert response.status_code == 400
    assert response.json() == {"page": ["A page is a whole number from 1."]}


def test_bad_filters_are_still_404_to_a_technician(api, tech):
    response = api(tech).get(URLS["compliance"], {"period": "12"})
    assert response.status_code == 404


# --- The same numbers as the pages' query functions -------------------------------------------


def rate(found: queries.Rate) -> dict[str, Any]:
    return {"met": found.met, "counted": found.counted, "missed": found.missed,
            "percent": found.percent, "target": found.target,
            "below_target": found.below_target,
            "too_few_to_judge": found.too_few_to_judge}  # fmt: skip


def outcomes(found: queries.Outcomes) -> dict[str, Any]:
    return {"tickets": found.tickets, "response": rate(found.response),
            "resolution": rate(found.resolution)}  # fmt: skip


def duration(found: queries.Summary) -> dict[str, Any]:
    return {"count": found.n, "median_seconds": found.p50, "p90_seconds": found.p90}


def same_as_compliance(body: dict[str, Any], filters: ReportFilters) -> None:
    report = queries.compliance(filters)
    assert [row["department"]["id"] for row in body["departments"]] == [
        row.department.pk for row in report.rows
    ]
    for row, found in zip(body["departments"], report.rows, strict=True):
        assert row["by_priority"] == [
            {"priority": p, **outcomes(cell)} for p, cell in found.by_priority.items()
        ]
        assert row["total"] == outcomes(found.total)
    assert body["by_priority"] == [
        {"priority": p, **outcomes(cell)} for p, cell in report.by_priority.items()
    ]
    assert body["overall"] == outcomes(report.overall)


def same_as_speed(body: dict[str, Any], filters: ReportFilters) -> None:
    report = queries.speed(filters)

    def times(row: queries.SpeedRow) -> dict[str, Any]:
        return {"label": row.label,
                **{name: duration(row[name]) for name in queries.SPEED_MEASURES}}  # fmt: skip

    assert body["by_priority"] == [
        {"priority": row.key, **times(row)} for row in report.by_priority
    ]
    assert body["by_team"] == [{"team_id": row.key, **times(row)} for row in report.by_team]
    assert body["overall"] == times(report.overall)


def same_as_breaches(body: dict[str, Any], filters: ReportFilters) -> None:
    summary = queries.breach_summary(filters)
    assert (body["summary"]["tickets"], body["summary"]["response"],
            body["summary"]["resolution"]) == (summary.tickets, summary.response,
                                               summary.resolution)  # fmt: skip
    assert [(row["department"]["id"], row["tickets"], row["response"], row["resolution"])
            for row in body["summary"]["by_department"]] == [
        (row.department.pk, row.tickets, row.response, row.resolution) for row in summary.rows
    ]  # fmt: skip
    found = queries.breaches_page(filters, 1, NOW)
    assert body["count"] == found.page.paginator.count

    def late(overrun: queries.Overrun | None) -> dict[str, Any] | None:
        return overrun and {"late_seconds": overrun.seconds, "ongoing": overrun.ongoing}

    assert [(row["id"], row["response"], row["resolution"]) for row in body["results"]] == [
        (b.ticket.pk, late(b.response), late(b.resolution)) for b in found.breaches
    ]


def same_as_trends(body: dict[str, Any], filters: ReportFilters) -> None:
    report = queries.trends(filters, now=NOW)
    assert [
        (week["week_of"], week["tickets"], week["by_shift"], week["weekend"], week["response"],
         week["resolution"], week["backlog"], week["backlog_total"])
        for week in body["weeks"]
    ] == [
        (week.week_of.isoformat(), week.outcomes.tickets, week.by_shift, week.weekend,
         rate(week.outcomes.response), rate(week.outcomes.resolution), week.backlog,
         week.backlog_total)
        for week in report.weeks
    ]  # fmt: skip
    assert [(row["shift"], row["weekend"], row["tickets"], row["response"], row["resolution"])
            for row in body["shifts"]] == [
        (row.shift.key, row.weekend, row.outcomes.tickets, rate(row.outcomes.response),
         rate(row.outcomes.resolution)) for row in report.shifts
    ]  # fmt: skip
    assert body["overall"] == outcomes(report.overall)


def same_as_critical(body: dict[str, Any], filters: ReportFilters) -> None:
    report = queries.critical_areas(filters)
    counts = ("open_now", "open_breached", "filed", "pages_sent", "chains", "acknowledged",
              "to_secondary", "to_manager", "unanswered", "incidents")  # fmt: skip

    def area(row: queries.CriticalRow) -> tuple[Any, ...]:
        return (*(getattr(row, name) for name in counts), duration(row.ack))

    assert [(*(row[name] for name in counts), row["time_to_acknowledge"])
            for row in [*body["areas"], body["total"]]] == [
        area(row) for row in [*report.rows, report.total]
    ]  # fmt: skip
    assert body["codes"] == list(report.codes)


def same_as_sources(body: dict[str, Any], filters: ReportFilters) -> None:
    report = queries.work_sources(filters)
    assert body["tickets"] == report.tickets
    assert [(row["category_id"], row["tickets"], row["percent"], row["cumulative_percent"])
            for row in body["categories"]] == [
        (row.category_id, row.tickets, row.percent, row.cumulative_percent)
        for row in report.pareto
    ]  # fmt: skip
    assert [(row["channel"], row["tickets"], row["percent"]) for row in body["channels"]] == [
        (row.source, row.tickets, row.percent) for row in report.channels
    ]
    assert [(row["location_id"], row["tickets"], row["repeats"], row["top_category_tickets"])
            for row in body["locations"]] == [
        (row.location_id, row.tickets, row.repeats, row.top_category_tickets)
        for row in report.locations
    ]  # fmt: skip


def same_as_technicians(body: dict[str, Any], filters: ReportFilters) -> None:
    report = queries.technicians(filters)
    assert [
        (row["username"], row["handled"], row["resolved"], row["reopened"], row["reopen_percent"],
         row["first_contact"], row["first_contact_percent"], row["resolve_business"],
         row["resolve_wall"])
        for row in body["technicians"]
    ] == [
        (row.username, row.handled, row.resolved, row.reopened, row.reopen_rate,
         row.first_contact, row.first_contact_rate, duration(row.resolve["resolution_business"]),
         duration(row.resolve["resolution_wall"]))
        for row in report.rows
    ]  # fmt: skip


SAME_AS = {
    "compliance": same_as_compliance,
    "speed": same_as_speed,
    "breaches": same_as_breaches,
    "trends": same_as_trends,
    "critical": same_as_critical,
    "sources": same_as_sources,
    "technicians": same_as_technicians,
}


def scope(name: str) -> dict[str, Any]:
    return {
        "the range": lambda: {},
        "ED": lambda: {"department": Department.objects.get(code="ED").pk},
        "printers tile, P3": lambda: {"category": Category.objects.get(slug="printers").pk,
                                      "priority": 3},
        "field services": lambda: {"team": Team.objects.get(slug="field-services").pk},
    }[name]()  # fmt: skip


@pytest.mark.parametrize("scope_name", ["the range", "ED", "printers tile, P3", "field services"])
@pytest.mark.parametrize("name", REPORTS)
def test_the_numbers_are_the_query_functions(api, dataset: DataSet, more_tickets, name,
                                             scope_name):  # fmt: skip
    """With the bigger data set and under several filters, the JSON carries exactly the
    numbers the report page's query function returns (unrounded)."""
    extra = scope(scope_name)
    body = read(api, dataset.manager, name, **RANGE, **extra)
    filters = ReportFilters(
        START, END,
        team_id=extra.get("team"), category_id=extra.get("category"),
        department_id=extra.get("department"), priority=extra.get("priority"),
    )  # fmt: skip
    with time_machine.travel(NOW, tick=False):
        SAME_AS[name](body, filters)


# --- Queries: a fixed number, whatever the data -----------------------------------------------

# Each call: the token (the caller's groups are held from the first call); then exactly the
# report page's own queries (see tests/reports/test_views.py), however many tickets, rows and
# departments. The list of reports runs none (its page runs the headline figures).
AUTH_QUERIES = 1
REPORT_QUERIES = {**PAGE_QUERIES, "index": 0}


@pytest.mark.parametrize("name", list(URLS))
def test_query_count_is_fixed(api, dataset: DataSet, django_assert_num_queries, name, request):
    client = api(dataset.manager, token=True)
    expected = AUTH_QUERIES + REPORT_QUERIES[name]
    with time_machine.travel(NOW, tick=False):
        assert client.get(URLS["index"]).status_code == 200  # the token's first use is recorded
        with django_assert_num_queries(expected):
            small = client.get(URLS[name], RANGE)
        request.getfixturevalue("more_tickets")
        client.get(URLS["index"])  # people were added: the caller's groups are read again once
        with django_assert_num_queries(expected):
            big = client.get(URLS[name], RANGE)
    assert small.status_code == big.status_code == 200
    if name == "breaches":
        # The breaches list grew: a page of rows costs no query per row.
        assert len(big.json()["results"]) > len(small.json()["results"])


def test_each_filter_costs_one_lookup(api, dataset: DataSet, django_assert_num_queries):
    """The form looks up the team, category and department it is given, once each."""
    client = api(dataset.manager, token=True)
    # A4 only: Service Desk, a sign-in subcategory, the ED, P2.
    params = {**RANGE, "team": Team.objects.get(slug="service-desk").pk,
              "category": Category.objects.get(slug="identity").pk,
              "department": Department.objects.get(code="ED").pk, "priority": 2}  # fmt: skip
    with time_machine.travel(NOW, tick=False):
        client.get(URLS["index"])
        with django_assert_num_queries(AUTH_QUERIES + 3 + REPORT_QUERIES["compliance"]):
            response = client.get(URLS["compliance"], params)
    assert response.json()["overall"]["tickets"] == 1
