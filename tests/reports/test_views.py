"""The report pages: who may open them, what they show, and a fixed number of queries whatever
the number of tickets."""

from __future__ import annotations

import re
from html import unescape
from xml.etree import ElementTree

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from incidents.banner import banner_changed
from reports.models import ExportAudit
from tests.factories import UserFactory
from tests.reports.conftest import NOW, DataSet
from tickets.models import Ticket

pytestmark = pytest.mark.django_db

RANGE = {"period": "custom", "start": "2026-02-02", "end": "2026-02-15"}
PAGES = ["index", "compliance", "speed", "breaches", "trends", "critical", "sources",
         "technicians", "incidents"]  # fmt: skip
# Session, user and roles (3); the filter bar's team, category and department lists (3); the
# session save on the way out (3, with its savepoint); the major incident banner on a cold cache
# (2: open incidents, planned downtimes). Then each report's own queries.
BASE_QUERIES = 11
REPORT_QUERIES = {
    "index": 3,  # headline; breaches by department, and their names
    "compliance": 2,  # department x priority, then the departments' names
    "speed": 2,  # by priority, by team and overall in one; the teams' names
    "breaches": 4,  # by department and their names; the list's count and its page
    "trends": 2,  # week x shift x weekend, backlog at each week's end
    # departments, tickets, pages, chains, acknowledgement (by area and overall); major
    # incidents hospital-wide and by area
    "critical": 7,
    # category tiles by channel, location x category; the categories' and locations' names
    "sources": 4,
    "technicians": 4,  # counts, times to resolve, names; "Fixed?" answers by team
    # the incidents with their updates and first ticket; their tickets' requesters and units,
    # the people who said "me too", the departments declared for
    "incidents": 4,
}


def url(name: str, **params: str) -> str:
    from urllib.parse import urlencode

    return reverse(f"reports:{name}") + ("?" + urlencode(params) if params else "")


# --- Who may see them -------------------------------------------------------------------------


@pytest.mark.parametrize("name", PAGES)
def test_nurse_and_technician_get_404(client, nurse_ed, tech, name):
    for user in (nurse_ed, tech):
        client.force_login(user)
        assert client.get(url(name)).status_code == 404


@pytest.mark.parametrize("report", ["compliance", "tickets", "breaches"])
def test_exports_are_404_to_technicians(client, tech, report):
    client.force_login(tech)
    response = client.get(reverse("reports:export", args=[report]))
    assert response.status_code == 404
    assert not ExportAudit.objects.exists()


@pytest.mark.parametrize("name", PAGES)
def test_manager_and_admin_get_the_page(client, manager, name):
    admin = UserFactory(username="admin.user", role="admin")
    for user in (manager, admin):
        client.force_login(user)
        assert client.get(url(name)).status_code == 200


def test_signed_out_goes_to_the_login_page(client, reference_data):
    response = client.get(url("compliance"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_reports_answer_get_only(client, manager):
    client.force_login(manager)
    assert client.post(url("compliance")).status_code == 405


def test_unknown_export_is_404(client, manager):
    client.force_login(manager)
    assert client.get(reverse("reports:export", args=["salaries"])).status_code == 404


# --- Queries: a fixed number, whatever the data -----------------------------------------------


def count_queries(client, name: str) -> int:
    # Every count reads the major incident banner afresh, as the first page after a change does.
    banner_changed()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url(name, **RANGE))
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("name", PAGES)
def test_query_count_is_fixed(client, dataset: DataSet, name, request):
    client.force_login(dataset.manager)
    with time_machine.travel(NOW, tick=False):
        small = count_queries(client, name)
        request.getfixturevalue("more_tickets")
        big = count_queries(client, name)
    assert small == big == BASE_QUERIES + REPORT_QUERIES[name]


# --- What the pages say -----------------------------------------------------------------------


def page(client, dataset: DataSet, name: str, **params: str) -> str:
    client.force_login(dataset.manager)
    with time_machine.travel(NOW, tick=False):
        response = client.get(url(name, **(params or RANGE)))
    assert response.status_code == 200
    return response.content.decode()


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_compliance_page_marks_cells_below_target(client, dataset: DataSet):
    html = page(client, dataset, "compliance")
    text = text_of(html)
    assert "Tickets filed 2 Feb 2026 to 15 Feb 2026" in text
    assert "77.8% below target 7 of 9" in text
    assert "71.4% below target 5 of 7" in text
    # Colour, icon and words: the class, the warning sign and "below target".
    assert html.count('class="rate rate-below"') >= 5
    assert "&#9888;" in html
    # Three tickets are too few to judge: said so, neutral, with the count (ED's P1 response).
    assert "too few to judge 2 of 3" in text
    assert "66.7%" not in text


def test_speed_page(client, dataset: DataSet):
    text = text_of(page(client, dataset, "speed"))
    # Overall response (business): median 1350 s = 22 min 30 s.
    assert "22 min" in text
    # P1 resolution (business): median 3 h 00 min, p90 16560 s = 4 h 36 min.
    assert "4 h 36 min" in text


def test_breaches_page_links_each_ticket(client, dataset: DataSet):
    html = page(client, dataset, "breaches")
    for name in ("A2", "A3", "A5", "B3"):
        assert dataset[name].get_absolute_url() in html
    assert dataset["A1"].get_absolute_url() not in html
    text = text_of(html)
    assert "10 min late" in text  # A2's response
    assert "1 d late" in text  # B3's resolution
    assert "5 h 31 min late and counting" in text  # A5, still unanswered


def test_breaches_page_pages(client, dataset: DataSet, monkeypatch):
    from reports import conf

    monkeypatch.setattr(conf, "BREACHES_PAGE_SIZE", 3)
    html = page(client, dataset, "breaches", **RANGE, page="2")
    assert "Page 2 of 2" in text_of(html)
    assert dataset["A2"].get_absolute_url() in html
    assert dataset["A5"].get_absolute_url() not in html


def test_trends_page(client, dataset: DataSet):
    text = text_of(page(client, dataset, "trends"))
    assert "Weekend night" in text
    assert "9 Feb&ndash;15 Feb" in text


def test_critical_page(client, dataset: DataSet):
    text = text_of(page(client, dataset, "critical"))
    assert "Emergency Department" in text
    assert "12 min" in text  # ED median time to acknowledge: 720 s


def test_sources_and_technicians_pages(client, dataset: DataSet):
    sources = text_of(page(client, dataset, "sources"))
    assert "ED WOW 07" in sources
    assert "Epic / EHR: Slow or frozen" in sources
    assert "How the tickets came in" in sources
    assert "E-mail 2 20.0% (2 of 10)" in sources
    technicians = text_of(page(client, dataset, "technicians"))
    assert "no more than one reply from IT" in technicians
    assert "Terry Nguyen" in technicians
    assert "40.0%" in technicians


def test_filters_carry_over_to_every_report_link(client, dataset: DataSet):
    html = page(client, dataset, "index")
    assert "/reports/speed/?period=custom&amp;start=2026-02-02&amp;end=2026-02-15" in html


def test_default_period_is_the_last_30_days(client, dataset: DataSet):
    client.force_login(dataset.manager)
    with time_machine.travel(NOW, tick=False):
        response = client.get(url("compliance"))
    text = text_of(response.content.decode())
    assert "Tickets filed 18 Jan 2026 to 16 Feb 2026" in text


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"period": "custom", "start": "2026-02-15", "end": "2026-02-02"}, "on or after the From"),
        ({"period": "custom", "start": "2026-02-02"}, "Give both a From and a To date"),
        ({"period": "custom", "start": "2024-01-01", "end": "2026-02-01"}, "at most 366 days"),
        ({"period": "custom", "start": "2026-02-01", "end": "2026-03-01"}, "cannot be after today"),
        ({"period": "12"}, "Select a valid choice"),
        ({"start": "yesterday", "end": "2026-02-01"}, "Enter a valid date"),
    ],
)
def test_bad_filters_are_explained_and_show_no_report(client, dataset: DataSet, params, message):
    html = page(client, dataset, "compliance", **params)
    assert "These filters need a fix" in html
    assert message in html
    assert "Download as CSV" not in html
    assert 'id="report-scope"' not in html


def test_a_chosen_period_wins_over_leftover_dates(client, dataset: DataSet):
    text = text_of(page(client, dataset, "compliance", period="7", start="2026-01-01",
                        end="2026-01-05"))  # fmt: skip
    assert "Tickets filed 10 Feb 2026 to 16 Feb 2026" in text


# --- Charts: inline SVG, no inline styles, a table of their numbers ----------------------------


@pytest.mark.parametrize("name", [p for p in PAGES if p != "index"])
def test_every_report_has_charts_with_their_numbers(client, dataset: DataSet, name):
    html = page(client, dataset, name)
    figures = re.findall(r'<figure class="chart.*?</figure>', html, flags=re.S)
    assert figures, f"{name} has no chart"
    for figure in figures:
        if "chart-empty" in figure:
            continue
        svg = re.search(r"<svg.*?</svg>", figure, flags=re.S)
        assert svg is not None
        ElementTree.fromstring(svg.group(0))  # noqa: S314 (our own SVG): well-formed
        assert 'role="img"' in svg.group(0)
        assert "<title" in svg.group(0)
        assert "<desc" in svg.group(0)
        assert "<table" in figure
        assert '<th scope="row">' in figure
    # The content security policy forbids inline styles: none anywhere on the page.
    assert "style=" not in html
    assert "<style" not in html
    assert "<script>" not in html


def test_charts_are_readable_without_colour(client, dataset: DataSet):
    html = page(client, dataset, "compliance")
    # Patterns for the second series, values as text, a warning sign for values below target.
    assert "<pattern" in html
    assert "below target</text>" in html
    assert "\u26a0" in html
    assert ">60.0% (3 of 5)" in html


# --- Too few to judge, "Fixed?", flagged titles ----------------------------------------------


def test_compliance_cells_of_fewer_than_five_tickets_are_too_few_to_judge(client, dataset: DataSet):
    html = page(client, dataset, "compliance")
    text = text_of(html)
    # ED P1 response: 2 of 3 on time. Not a red "below target", but said, with its count.
    assert "too few to judge 2 of 3" in text
    few = re.findall(r'<span class="rate rate-few">.*?</span></span>', html)
    assert few
    assert not any("rate-below" in cell or "below target" in cell for cell in few)
    # The overall response, 7 of 9, is judged: below the 90% target.
    assert "77.8% below target 7 of 9" in text


def test_the_minimum_to_judge_applies_to_pages_and_charts(client, dataset: DataSet, settings):
    settings.HELPDESK = {**settings.HELPDESK, "MIN_TICKETS_TO_JUDGE": 1}
    html = page(client, dataset, "compliance")
    text = text_of(html)
    assert "rate-few-note" not in html  # no cell is too few to judge any more
    assert "66.7% below target 2 of 3" in text
    assert "66.7% (2 of 3) \u26a0 below target</text>" in html


def test_charts_give_each_percentage_its_count(client, dataset: DataSet):
    html = page(client, dataset, "compliance")
    # In the drawing and in the table of its numbers.
    assert ">60.0% (3 of 5) \u26a0 below target</text>" in html
    assert '<td class="num">too few to judge (2 of 3)</td>' in html
    assert ">too few to judge (2 of 3)</text>" in html


def test_technicians_page_shows_fixed_answers_by_team(client, fixed_answers: DataSet):
    html = page(client, fixed_answers, "technicians")
    text = unescape(text_of(html))
    assert "“Fixed?” by team" in text
    assert "Field Services 5 60.0% 3 of 5" in text
    assert "Clinical Applications (EHR) 2 too few to judge 1 of 2" in text
    # The chart says the same, with the counts.
    assert ">60.0% (3 of 5)</text>" in html
    assert ">too few to judge (1 of 2)</text>" in html


def test_technicians_page_rates_carry_their_counts(client, dataset: DataSet):
    text = unescape(text_of(page(client, dataset, "technicians")))
    # tech: 2 of 5 handled reopened, 2 of 5 first-contact resolutions.
    assert "Terry Nguyen tech 5" in text
    assert "40.0% (2 of 5) 40.0% (2 of 5)" in text
    assert "No requester has answered “Fixed?”" in text


def test_breach_list_withholds_a_flagged_title(client, dataset: DataSet):
    Ticket.objects.filter(pk=dataset["A3"].pk).update(
        title="Pt Canary Zebrafinch MRN 99887766 monitor", phi_suspected=True
    )
    html = page(client, dataset, "breaches")
    assert "Zebrafinch" not in html
    assert "(withheld: possible patient data)" in html
    assert "wristband printer" in html  # an unflagged title still shows
