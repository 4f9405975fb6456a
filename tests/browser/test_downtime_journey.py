"""IT schedules a planned downtime for the ED in a real browser; a nurse of the ED sees it on
Upcoming downtimes, and a nurse of the OR does not."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from incidents.models import PlannedDowntime
from tests.browser.conftest import login

pytestmark = pytest.mark.browser

CHICAGO = ZoneInfo("America/Chicago")


def test_it_schedules_a_downtime_and_the_ed_nurse_sees_it(
    page: Any, live_server: Any, tech: Any, nurse_ed: Any, nurse_or: Any, artifacts: Path
) -> None:
    # Three days ahead at 10:00 on the hospital's clock (never an hour the clocks skip).
    day = timezone.now().astimezone(CHICAGO).date() + timedelta(days=3)
    starts = datetime.combine(day, time(10, 0))

    login(page, live_server, "tech")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Downtimes").click()
    page.get_by_role("link", name="Manage downtimes").click()
    page.get_by_role("link", name="Schedule a downtime").click()
    page.get_by_label("System or service").fill("Lab interface (Sunquest)")
    page.get_by_label("Emergency Department").check()
    page.get_by_label("Starts").fill(starts.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Expected length (minutes)").fill("90")
    page.get_by_label("Reason").fill("Interface engine upgrade")
    page.get_by_label("Procedure to follow").fill("Send specimens with paper requisitions.")
    page.get_by_role("button", name="Schedule").click()

    expect(page).to_have_url(re.compile(r"/downtime/manage/$"))
    expect(page.get_by_text("Downtime scheduled: Lab interface (Sunquest).")).to_be_visible()
    upcoming = page.get_by_role("region", name=re.compile("^Upcoming"))
    expect(upcoming).to_contain_text("Lab interface (Sunquest)")
    expect(upcoming).to_contain_text("Emergency Department")
    page.screenshot(path=str(artifacts / "downtime-scheduled.png"), full_page=True)

    downtime = PlannedDowntime.objects.get()
    assert downtime.starts_at == starts.replace(tzinfo=CHICAGO)
    assert downtime.ends_at - downtime.starts_at == timedelta(minutes=90)

    page.context.clear_cookies()
    login(page, live_server, "nurse.ed")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Downtimes").click()
    expect(page.get_by_role("heading", name="Upcoming downtimes")).to_be_visible()
    row = page.get_by_role("list", name="Upcoming downtimes").get_by_role("listitem")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Lab interface (Sunquest)")
    expect(row).to_contain_text(f"{starts:%a} {starts.day} {starts:%b %Y}, 10:00")
    expect(row).to_contain_text("1 h 30 min")
    page.screenshot(path=str(artifacts / "downtime-upcoming-nurse.png"), full_page=True)
    row.get_by_role("link").click()
    expect(page.get_by_text("Send specimens with paper requisitions.")).to_be_visible()

    page.context.clear_cookies()
    login(page, live_server, "nurse.or")
    page.goto(f"{live_server.url}/downtime/")
    expect(page.get_by_text("No planned downtime for your units.")).to_be_visible()
