"""The SLA compliance report in a real browser, on the demo hospital's three months of tickets:
its chart (inline SVG, allowed by the content security policy) and its tables."""

from __future__ import annotations

import re

import pytest

from demo.generate import seed_demo
from tests.browser.conftest import login
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_compliance_report_renders_its_chart_and_table(
    page, live_server, reference_data, artifacts, settings
):
    from playwright.sync_api import expect

    settings.DEMO_MODE = True
    seed_demo()
    UserFactory(username="reports.manager", first_name="Riley", role="manager")
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))

    login(page, live_server, "reports.manager")
    page.goto(f"{live_server.url}/reports/compliance/?period=90")
    expect(page.get_by_role("heading", name="SLA compliance", level=1)).to_be_visible()

    figure = page.get_by_role("figure", name="Compliance by department")
    chart = figure.get_by_role("img", name="Compliance by department")
    expect(chart).to_be_visible()
    box = chart.bounding_box()
    assert box is not None
    assert box["width"] > 600
    assert box["height"] > 300
    # Bars are drawn, and the values are written on the chart, below-target ones in words.
    assert figure.locator("svg rect").count() > 20
    expect(figure.locator("svg text", has_text="Emergency Department")).to_be_visible()
    expect(figure.locator("svg text", has_text=re.compile(r"^\d+\.\d%")).first).to_be_visible()

    # The chart's numbers, as a table, one click away.
    figure.get_by_text("Numbers behind this chart").click()
    numbers = figure.get_by_role("table")
    expect(numbers).to_be_visible()
    expect(numbers.get_by_role("rowheader", name="All departments")).to_be_visible()

    table = page.get_by_role("table", name="First response compliance by department and priority")
    expect(table).to_be_visible()
    expect(table.get_by_role("rowheader", name=re.compile("Emergency Department"))).to_be_visible()
    expect(table.get_by_role("columnheader", name="P1")).to_be_visible()
    expect(page.get_by_role("table", name=re.compile("^Resolution compliance"))).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("This report"))).to_be_visible()

    page.screenshot(path=str(artifacts / "reports-compliance.png"), full_page=True)
    # Nothing the content security policy refused, no script errors.
    assert problems == []


def test_reports_are_not_found_for_a_technician(page, live_server, reference_data, tech):
    from playwright.sync_api import expect

    login(page, live_server, "tech")
    response = page.goto(f"{live_server.url}/reports/compliance/")
    assert response is not None
    assert response.status == 404
    expect(page.get_by_role("heading", name=re.compile("SLA compliance"))).to_have_count(0)
