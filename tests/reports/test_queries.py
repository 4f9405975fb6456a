"""Every number of every report, against the hand-made data set in conftest.py. The expected
answers are worked out by hand from that table and written here, not recomputed by the code under
test. The same tests run on SQLite (locally) and PostgreSQL (CI)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from departments.models import Department, Team
from reports import queries
from reports.queries import ReportFilters
from tests.reports.conftest import CHICAGO, END, NOW, START, DataSet, local
from tickets.models import Category

pytestmark = pytest.mark.django_db

RANGE = ReportFilters(start=START, end=END)


def approx(value: float) -> object:
    return pytest.approx(value, abs=1e-6)


# --- The date range, in local time -------------------------------------------------------------


def test_the_range_is_local_days_inclusive(dataset: DataSet):
    found = set(queries.tickets(RANGE).values_list("pk", flat=True))
    assert found == dataset.pks("A1", "A2", "A3", "A4", "A5", "B1", "B2", "B3", "B4", "C1")
    # Filed 23:59 local on the last day (05:59 UTC the next day): in. Midnight after: out.
    assert dataset["A5"].pk in found
    assert dataset["X2"].pk not in found
    # 23:59 local the day before the range (05:59 UTC on its first day): out.
    assert dataset["X1"].pk not in found
    assert RANGE.starts_at == local(2, 2)
    assert RANGE.ends_at == local(2, 16)


def test_the_time_zone_comes_from_settings(dataset: DataSet, settings):
    settings.TIME_ZONE = "UTC"
    found = set(queries.tickets(RANGE).values_list("pk", flat=True))
    # In UTC, A5 (05:59 UTC on 16 Feb) falls out and X1 (05:59 UTC on 2 Feb) comes in.
    assert dataset["A5"].pk not in found
    assert dataset["X1"].pk in found
    assert len(found) == 10


def test_last_days_counts_today():
    found = ReportFilters.last_days(7, today=date(2026, 2, 15))
    assert (found.start, found.end, found.days) == (date(2026, 2, 9), date(2026, 2, 15), 7)


def test_a_range_cannot_end_before_it_starts():
    with pytest.raises(ValueError, match="ends on or after"):
        ReportFilters(start=END, end=START)


# --- SLA compliance ---------------------------------------------------------------------------


def rate(found: queries.Rate) -> tuple[int, int, float | None, bool]:
    percent = None if found.percent is None else round(found.percent, 1)
    return found.met, found.counted, percent, found.below_target


def test_compliance_by_department_and_priority(dataset: DataSet):
    report = queries.compliance(RANGE)
    assert [row.department.code for row in report.rows] == ["ED", "ICU", "MEDSURG"]
    ed, icu, medsurg = report.rows

    assert ed.by_priority[1].tickets == 3
    assert rate(ed.by_priority[1].response) == (2, 3, 66.7, True)
    assert rate(ed.by_priority[1].resolution) == (2, 3, 66.7, True)
    assert ed.by_priority[2].tickets == 2
    assert rate(ed.by_priority[2].response) == (1, 2, 50.0, True)
    assert rate(ed.by_priority[2].resolution) == (0, 0, None, False)
    assert ed.by_priority[3].tickets == 0
    assert (ed.total.tickets, rate(ed.total.response), rate(ed.total.resolution)) == (
        5, (3, 5, 60.0, True), (2, 3, 66.7, True)
    )  # fmt: skip

    assert rate(icu.by_priority[2].response) == (1, 1, 100.0, False)
    assert rate(icu.by_priority[2].resolution) == (1, 1, 100.0, False)
    assert icu.total.tickets == 1

    assert rate(medsurg.by_priority[3].response) == (3, 3, 100.0, False)
    assert rate(medsurg.by_priority[3].resolution) == (2, 3, 66.7, True)
    # The cancelled P4 counts as filed, not towards either target.
    assert medsurg.by_priority[4].tickets == 1
    assert rate(medsurg.by_priority[4].response) == (0, 0, None, False)
    assert medsurg.total.tickets == 4


def test_compliance_totals(dataset: DataSet):
    report = queries.compliance(RANGE)
    by_priority = {p: (o.tickets, rate(o.response), rate(o.resolution))
                   for p, o in report.by_priority.items()}  # fmt: skip
    assert by_priority == {
        1: (3, (2, 3, 66.7, True), (2, 3, 66.7, True)),
        2: (3, (2, 3, 66.7, True), (1, 1, 100.0, False)),
        3: (3, (3, 3, 100.0, False), (2, 3, 66.7, True)),
        4: (1, (0, 0, None, False), (0, 0, None, False)),
        5: (0, (0, 0, None, False), (0, 0, None, False)),
    }
    assert report.overall.tickets == 10
    assert rate(report.overall.response) == (7, 9, 77.8, True)
    assert rate(report.overall.resolution) == (5, 7, 71.4, True)
    assert (report.targets.response, report.targets.resolution) == (90.0, 85.0)


def test_compliance_targets_come_from_settings(dataset: DataSet, settings):
    settings.HELPDESK = {**settings.HELPDESK, "COMPLIANCE_TARGETS": {"response": 50}}
    report = queries.compliance(RANGE)
    ed = report.rows[0]
    # 1 of 2 is exactly 50%: on target, not below it.
    assert rate(ed.by_priority[2].response) == (1, 2, 50.0, False)
    assert report.targets.resolution == 85.0


def test_compliance_filters(dataset: DataSet):
    medsurg = Department.objects.get(code="MEDSURG")
    only = queries.compliance(ReportFilters(START, END, department_id=medsurg.pk))
    assert [row.department.code for row in only.rows] == ["MEDSURG"]
    assert only.overall.tickets == 4

    service_desk = Team.objects.get(slug="service-desk")
    team = queries.compliance(ReportFilters(START, END, team_id=service_desk.pk))
    assert team.overall.tickets == 2  # A4, B3
    assert rate(team.overall.response) == (2, 2, 100.0, False)

    # A tile takes in its subcategories: A2 (wristband printer), B1 and B2 (discharge papers).
    printers = Category.objects.get(slug="printers")
    tile = queries.compliance(ReportFilters(START, END, category_id=printers.pk))
    assert tile.overall.tickets == 3
    assert rate(tile.overall.response) == (2, 3, 66.7, True)

    p1 = queries.compliance(ReportFilters(START, END, priority=1))
    assert p1.overall.tickets == 3
    assert [row.department.code for row in p1.rows] == ["ED"]


def test_headline(dataset: DataSet):
    found = queries.headline(RANGE)
    assert (found.tickets, rate(found.response), rate(found.resolution)) == (
        10, (7, 9, 77.8, True), (5, 7, 71.4, True)
    )  # fmt: skip


# --- Speed ------------------------------------------------------------------------------------


def summary(found: queries.Summary) -> tuple[int, float | None, float | None]:
    return found.n, found.p50, found.p90


def test_speed_by_priority(dataset: DataSet):
    report = queries.speed(RANGE)
    rows = {row.key: row for row in report.by_priority}
    assert list(rows) == [1, 2, 3, 4]
    # P1 response (business): 300, 600, 1500 -> median 600; p90 at rank 1.8: 600 + 0.8 * 900.
    assert summary(rows[1]["response_business"]) == (3, approx(600), approx(1320))
    assert summary(rows[1]["response_wall"]) == (3, approx(600), approx(1320))
    # P2 response: 900 (A4), 1200 (C1); A5 has none yet.
    assert summary(rows[2]["response_business"]) == (2, approx(1050), approx(1170))
    # P3 response: business 3600, 3600, 7200; wall 3600, 7200, 36000.
    assert summary(rows[3]["response_business"]) == (3, approx(3600), approx(6480))
    assert summary(rows[3]["response_wall"]) == (3, approx(7200), approx(30240))
    # P4: a cancelled ticket, no times at all.
    assert summary(rows[4]["response_business"]) == (0, None, None)

    # P1 resolution: 7200, 10800, 18000.
    assert summary(rows[1]["resolution_business"]) == (3, approx(10800), approx(16560))
    assert summary(rows[2]["resolution_business"]) == (1, approx(14400), approx(14400))
    # P3 resolution: business 28800, 57600, 115200; wall 86400, 172800, 345600.
    assert summary(rows[3]["resolution_business"]) == (3, approx(57600), approx(103680))
    assert summary(rows[3]["resolution_wall"]) == (3, approx(172800), approx(311040))


def test_speed_overall_and_by_team(dataset: DataSet):
    report = queries.speed(RANGE)
    # All responses (business): 300 600 900 1200 1500 3600 3600 7200.
    assert summary(report.overall["response_business"]) == (8, approx(1350), approx(4680))
    # All resolutions (business): 7200 10800 14400 18000 28800 57600 115200.
    assert summary(report.overall["resolution_business"]) == (7, approx(18000), approx(80640))
    teams = {row.label: row["response_business"] for row in report.by_team}
    assert list(teams) == [
        "Biomed / Clinical Engineering",
        "Clinical Applications (EHR)",
        "Field Services",
        "Service Desk",
    ]
    assert summary(teams["Biomed / Clinical Engineering"]) == (1, approx(1200), approx(1200))
    assert summary(teams["Clinical Applications (EHR)"]) == (2, approx(450), approx(570))
    assert summary(teams["Field Services"]) == (3, approx(3600), approx(6480))
    assert summary(teams["Service Desk"]) == (2, approx(2250), approx(3330))


def test_speed_by_both_routes_is_the_same(dataset: DataSet):
    """The Python route of the percentiles, forced, gives what the database's own route gives
    (on SQLite both are Python; on PostgreSQL this is SQL against Python)."""
    python = queries.speed(RANGE, method="python")
    auto = queries.speed(RANGE)
    assert python == auto


# --- Breaches ---------------------------------------------------------------------------------


def test_breach_list_says_which_target_and_by_how_much(dataset: DataSet):
    found = queries.breaches_page(RANGE, 1, NOW)
    listed = [(b.ticket.pk, b.targets_missed) for b in found.breaches]
    # Newest first.
    assert listed == [
        (dataset["A5"].pk, "First response"),
        (dataset["B3"].pk, "Resolution"),
        (dataset["A3"].pk, "Resolution"),
        (dataset["A2"].pk, "First response"),
    ]
    late = {b.ticket.pk: b for b in found.breaches}
    # A2: answered at 25 min, due at 15 min: 10 min late, done.
    assert late[dataset["A2"].pk].response.seconds == approx(600)
    assert late[dataset["A2"].pk].response.ongoing is False
    assert late[dataset["A2"].pk].resolution is None
    # A3: resolved 5 h after filing, due at 4 h.
    assert late[dataset["A3"].pk].resolution.seconds == approx(3600)
    # B3: resolved after 4 days, due after 3.
    assert late[dataset["B3"].pk].resolution.seconds == approx(86400)
    # A5: no response yet; due at 00:29 on 16 Feb, read at 06:00: 5 h 31 min and counting.
    assert late[dataset["A5"].pk].response.seconds == approx(5 * 3600 + 31 * 60)
    assert late[dataset["A5"].pk].response.ongoing is True


def test_breach_summary_by_department(dataset: DataSet):
    found = queries.breach_summary(RANGE)
    assert [(r.department.code, r.tickets, r.response, r.resolution) for r in found.rows] == [
        ("ED", 3, 2, 1),
        ("MEDSURG", 1, 0, 1),
    ]
    assert (found.tickets, found.response, found.resolution) == (4, 2, 2)


def test_breach_list_is_paginated(dataset: DataSet, settings, monkeypatch):
    monkeypatch.setattr(queries.conf, "BREACHES_PAGE_SIZE", 3)
    first = queries.breaches_page(RANGE, 1, NOW)
    second = queries.breaches_page(RANGE, 2, NOW)
    assert len(first.breaches) == 3
    assert [b.ticket.pk for b in second.breaches] == [dataset["A2"].pk]
    assert first.page.paginator.count == 4
    # Nonsense page numbers fall back to a real page.
    assert queries.breaches_page(RANGE, "x", NOW).page.number == 1
    assert queries.breaches_page(RANGE, 99, NOW).page.number == 2


def test_overrun_of_a_paused_ticket_stops_at_the_pause():
    due = local(2, 3, 10)
    found = queries.resolution_overrun(
        met=None, due_at=due, breached_at=local(2, 3, 10, 1), resolved_at=None,
        paused_at=local(2, 3, 12), status="waiting_on_vendor", ended_at=None, now=NOW,
    )  # fmt: skip
    assert found == queries.Overrun(7200.0, False)


def test_overrun_counts_from_the_breach_when_a_resume_moved_the_deadline():
    found = queries.resolution_overrun(
        met=False, due_at=local(2, 3, 15), breached_at=local(2, 3, 10), resolved_at=local(2, 3, 11),
        paused_at=None, status="resolved", ended_at=None, now=NOW,
    )  # fmt: skip
    assert found == queries.Overrun(3600.0, False)


def test_met_targets_have_no_overrun():
    found = queries.response_overrun(
        met=True, due_at=local(2, 3), breached_at=None, responded_at=local(2, 3),
        status="closed", ended_at=None, now=NOW,
    )  # fmt: skip
    assert found is None


# --- Trends -----------------------------------------------------------------------------------


def test_trends_per_week(dataset: DataSet):
    report = queries.trends(RANGE, now=NOW)
    first, second = report.weeks
    assert (first.week_of, first.start, first.end) == (date(2026, 2, 2), START, date(2026, 2, 8))
    assert (second.week_of, second.end) == (date(2026, 2, 9), END)
    assert not first.partial
    # Week 1: A1 Mon 08:00 (day), A2 Tue 16:00 (evening), B1 and B2 Wed (day),
    # A3 Sat 02:00 (night, weekend).
    assert first.outcomes.tickets == 5
    assert first.by_shift == {"day": 3, "evening": 1, "night": 1}
    assert first.weekend == 1
    assert rate(first.outcomes.response) == (4, 5, 80.0, True)
    assert rate(first.outcomes.resolution) == (4, 5, 80.0, True)
    # Week 2: C1 Mon 07:00 (day: the boundary), A4 Tue 12:00 (day), B3 Wed 22:00 (evening),
    # B4 Sat 15:00 (evening: the boundary, weekend), A5 Sun 23:59 (night, weekend; Monday in UTC).
    assert second.outcomes.tickets == 5
    assert second.by_shift == {"day": 2, "evening": 2, "night": 1}
    assert second.weekend == 2
    assert rate(second.outcomes.response) == (3, 4, 75.0, True)
    assert rate(second.outcomes.resolution) == (1, 2, 50.0, True)
    assert report.overall.tickets == 10


def test_trends_backlog_by_age_at_each_weeks_end(dataset: DataSet):
    report = queries.trends(RANGE, now=NOW)
    first, second = report.weeks
    assert first.backlog_at == local(2, 9)
    assert second.backlog_at == local(2, 16)
    # Mon 9 Feb 00:00: O1 (filed 5 Jan, 34.5 days) and O2 (25 Jan, 14.5 days); everything filed
    # in week 1 was resolved by then.
    assert first.backlog == {"under_1d": 0, "1_7d": 0, "7_30d": 1, "over_30d": 1}
    # Mon 16 Feb 00:00: A5 (1 minute), A4 (5.5 days, reopened), O2, O1; B3 was resolved on
    # Sunday 22:00, B4 cancelled, and X2 was filed at that very instant.
    assert second.backlog == {"under_1d": 1, "1_7d": 1, "7_30d": 1, "over_30d": 1}
    assert second.backlog_total == 4


def test_trends_backlog_stops_at_now(dataset: DataSet):
    report = queries.trends(RANGE, now=local(2, 12, 0))
    # The second week has not ended yet: its backlog is the one at "now" (Thu 12 Feb 00:00):
    # A4 (1.5 days), B3 (2 hours), O1, O2.
    assert report.weeks[1].backlog_at == local(2, 12, 0)
    assert report.weeks[1].backlog == {"under_1d": 1, "1_7d": 1, "7_30d": 1, "over_30d": 1}


def test_trends_by_shift_and_weekend(dataset: DataSet):
    report = queries.trends(RANGE, now=NOW)
    found = {(row.shift.key, row.weekend): (row.outcomes.tickets, rate(row.outcomes.response),
                                            rate(row.outcomes.resolution))
             for row in report.shifts}  # fmt: skip
    assert found == {
        ("day", False): (5, (5, 5, 100.0, False), (4, 4, 100.0, False)),
        ("evening", False): (2, (1, 2, 50.0, True), (1, 2, 50.0, True)),
        ("night", False): (0, (0, 0, None, False), (0, 0, None, False)),
        ("day", True): (0, (0, 0, None, False), (0, 0, None, False)),
        ("evening", True): (1, (0, 0, None, False), (0, 0, None, False)),
        ("night", True): (2, (1, 2, 50.0, True), (0, 1, 0.0, True)),
    }
    assert [row.label for row in report.shifts][:2] == ["Weekday day", "Weekday evening"]


def test_trends_part_weeks():
    report_range = ReportFilters(start=date(2026, 2, 4), end=date(2026, 2, 10))
    weeks = queries._weeks(report_range)
    assert weeks == [
        (date(2026, 2, 2), date(2026, 2, 4), date(2026, 2, 8)),
        (date(2026, 2, 9), date(2026, 2, 9), date(2026, 2, 10)),
    ]


# --- Critical areas ---------------------------------------------------------------------------


def test_critical_areas(dataset: DataSet):
    report = queries.critical_areas(RANGE)
    assert report.codes == ("ED", "OR", "ICU")
    ed, operating, icu = report.rows
    # Open now (dates do not apply): A4, A5 and X2; A5 and X2 are past their response deadline.
    assert (ed.open_now, ed.open_breached, ed.filed) == (3, 2, 5)
    # Pages delivered for tickets filed in the range: 1 (A1) + 2 (A2) + 6 (A3) + 1 (A5).
    assert ed.pages_sent == 10
    assert (ed.chains, ed.acknowledged) == (4, 2)
    # Acknowledged after 240 s (A1) and 1200 s (A2).
    assert summary(ed.ack) == (2, approx(720), approx(1104))
    # A2 reached the secondary; A3 the manager, went round again and was never answered.
    assert (ed.to_secondary, ed.to_manager, ed.unanswered) == (2, 1, 1)

    assert (operating.open_now, operating.filed, operating.chains, operating.pages_sent) == (
        0, 0, 0, 0
    )  # fmt: skip
    assert summary(operating.ack) == (0, None, None)

    assert (icu.open_now, icu.filed, icu.pages_sent, icu.chains, icu.acknowledged) == (
        0, 1, 1, 1, 1
    )  # fmt: skip
    assert summary(icu.ack) == (1, approx(600), approx(600))

    total = report.total
    assert (total.open_now, total.open_breached, total.filed, total.pages_sent) == (3, 2, 6, 11)
    assert (total.chains, total.to_secondary, total.to_manager, total.unanswered) == (5, 2, 1, 1)
    # 240, 600, 1200.
    assert summary(total.ack) == (3, approx(600), approx(1080))


def test_critical_areas_follow_the_setting_and_the_switch(dataset: DataSet, settings):
    settings.HELPDESK = {**settings.HELPDESK, "CRITICAL_AREAS": ("NICU",)}
    Department.objects.filter(code="LD").update(auto_escalate=True)
    report = queries.critical_areas(RANGE)
    assert report.codes == ("ED", "LD", "OR", "NICU")


def test_critical_areas_by_both_routes_is_the_same(dataset: DataSet):
    assert queries.critical_areas(RANGE, method="python") == queries.critical_areas(RANGE)


# --- Where the work comes from ----------------------------------------------------------------


def test_category_pareto(dataset: DataSet):
    report = queries.work_sources(RANGE)
    assert report.tickets == 10
    assert [(r.name, r.tickets, round(r.percent, 1), round(r.cumulative_percent, 1))
            for r in report.pareto] == [
        ("Epic / EHR", 3, 30.0, 30.0),
        ("Printers and labels", 3, 30.0, 60.0),
        ("Sign-in and badge", 2, 20.0, 80.0),
        ("Computer or WOW", 1, 10.0, 90.0),
        ("Medical device data", 1, 10.0, 100.0),
    ]  # fmt: skip


def test_channels_count_every_way_in_with_its_share(dataset: DataSet):
    report = queries.work_sources(RANGE)
    assert [(row.source, row.label, row.tickets, row.percent) for row in report.channels] == [
        ("web", "Web form", 6, 60.0),
        ("email", "E-mail", 2, 20.0),
        ("api", "API", 1, 10.0),
        ("phone", "Phone", 1, 10.0),
    ]


def test_channels_of_an_empty_range_are_all_there_with_no_share(dataset: DataSet):
    empty = ReportFilters(start=date(2025, 6, 1), end=date(2025, 6, 7))
    channels = queries.work_sources(empty).channels
    assert [(row.source, row.tickets, row.percent) for row in channels] == [
        ("web", 0, None), ("email", 0, None), ("api", 0, None), ("phone", 0, None)
    ]  # fmt: skip


def test_channels_follow_the_filters(dataset: DataSet):
    printers = Category.objects.get(slug="printers")
    report = queries.work_sources(replace(RANGE, category_id=printers.pk))
    assert {row.source: row.tickets for row in report.channels} == {
        "web": 1, "email": 2, "api": 0, "phone": 0
    }  # fmt: skip


def test_repeat_locations(dataset: DataSet):
    report = queries.work_sources(RANGE)
    assert [(r.code, r.department_code, r.tickets, r.repeats, r.top_category,
             r.top_category_tickets) for r in report.locations] == [
        ("WOW-ED-07", "ED", 4, 2, "Epic / EHR: Slow or frozen", 3),
        ("MS-8N", "MEDSURG", 2, 1, "Printers and labels: Discharge papers", 2),
    ]  # fmt: skip


# --- Technicians ------------------------------------------------------------------------------


def test_technicians(dataset: DataSet):
    report = queries.technicians(RANGE)
    assert [row.username for row in report.rows] == ["tech", "tech2"]
    tech, tech2 = report.rows
    assert tech.name == "Terry Nguyen"
    # A1, A2, B1, B2 resolved; A4 resolved once and reopened. Reopened: B2, A4. First contact:
    # A1 (no reply) and B1 (one reply and an internal note); A2 had two IT replies.
    assert (tech.handled, tech.resolved, tech.reopened, tech.first_contact) == (5, 4, 2, 2)
    assert tech.reopen_rate == approx(40.0)
    assert tech.first_contact_rate == approx(40.0)
    # Resolution (business) 7200, 10800, 28800, 57600; wall 7200, 10800, 86400, 172800.
    assert tech.resolve["resolution_business"].p50 == approx(19800)
    assert tech.resolve["resolution_wall"].p50 == approx(48600)
    # A3 reopened; B3 (only the requester replied) and C1 (one reply before the resolution,
    # one after) are first-contact resolutions.
    assert (tech2.handled, tech2.resolved, tech2.reopened, tech2.first_contact) == (3, 3, 1, 2)
    assert tech2.reopen_rate == approx(100 / 3)
    assert tech2.first_contact_rate == approx(200 / 3)
    # 14400, 18000, 115200 and 14400, 18000, 345600.
    assert tech2.resolve["resolution_business"].p50 == approx(18000)
    assert tech2.resolve["resolution_wall"].p50 == approx(18000)


def test_technicians_by_both_routes_is_the_same(dataset: DataSet):
    assert queries.technicians(RANGE, method="python") == queries.technicians(RANGE)


def test_reports_of_an_empty_range_are_empty(dataset: DataSet):
    empty = ReportFilters(start=date(2025, 6, 1), end=date(2025, 6, 7))
    assert queries.compliance(empty).rows == []
    assert queries.compliance(empty).overall.tickets == 0
    assert queries.speed(empty).by_priority == []
    assert summary(queries.speed(empty).overall["response_business"]) == (0, None, None)
    assert queries.breach_summary(empty).tickets == 0
    assert queries.work_sources(empty).pareto == []
    assert queries.technicians(empty).rows == []
    trends = queries.trends(empty, now=NOW)
    assert [week.outcomes.tickets for week in trends.weeks] == [0, 0]
    # O1 and O2 were not filed yet in June 2025: no backlog.
    assert [week.backlog_total for week in trends.weeks] == [0, 0]


def test_local_today_is_the_hospitals_date(settings):
    import time_machine

    with time_machine.travel(local(2, 15, 23, 30), tick=False):
        assert queries.local_today() == date(2026, 2, 15)
    assert CHICAGO.key == settings.TIME_ZONE


# --- Too few to judge, and "Fixed?" -----------------------------------------------------------


def test_a_rate_of_fewer_than_five_tickets_is_too_few_to_judge():
    assert queries.Rate(met=2, counted=3, target=90).below_target
    assert queries.Rate(met=2, counted=3, target=90).too_few_to_judge
    assert not queries.Rate(met=2, counted=3, target=90).judged_below_target
    assert not queries.Rate(met=4, counted=5, target=90).too_few_to_judge
    assert queries.Rate(met=4, counted=5, target=90).judged_below_target
    # Nothing counted is not "too few": it is nothing yet.
    assert not queries.Rate(met=0, counted=0, target=90).too_few_to_judge


def test_the_minimum_to_judge_is_a_setting(settings):
    settings.HELPDESK = {**settings.HELPDESK, "MIN_TICKETS_TO_JUDGE": 2}
    assert not queries.Rate(met=1, counted=2, target=90).too_few_to_judge
    assert queries.Rate(met=0, counted=1, target=90).too_few_to_judge


def test_fixed_answers_by_team(fixed_answers: DataSet, django_assert_num_queries):
    # One query: the counts with the teams' names joined.
    with django_assert_num_queries(1):
        found = queries.fixed_answers(RANGE)
    assert [(team.team.slug, team.answered, team.still_broken) for team in found] == [
        ("clinical-apps", 2, 1),
        ("field-services", 5, 3),
    ]
    clinical, field = found
    assert field.team.name == "Field Services"
    assert (field.still_broken_percent, field.too_few_to_judge) == (60.0, False)
    assert (clinical.still_broken_percent, clinical.too_few_to_judge) == (50.0, True)


def test_fixed_answers_follow_the_filters(fixed_answers: DataSet):
    field_services = Team.objects.get(slug="field-services")
    only = ReportFilters(start=START, end=END, team_id=field_services.pk)
    assert [team.team.slug for team in queries.fixed_answers(only)] == ["field-services"]
    assert queries.technicians(only).teams == queries.fixed_answers(only)


def test_no_answers_no_teams(dataset: DataSet):
    assert queries.technicians(RANGE).teams == []
