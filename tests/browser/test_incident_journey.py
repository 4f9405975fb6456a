"""A major incident in real browsers: a technician declares "EHR down" for the hospital; a nurse
on the filing form sees the banner, adds herself with one tap and sees herself counted; the
technician posts an update (her next page shows it) and resolves; her My tickets shows her
ticket resolved."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from departments.models import Location
from tests.browser.conftest import DESKTOP, TIMEOUT_MS, login
from tests.factories import TicketFactory
from tickets.models import Category, Ticket

pytestmark = pytest.mark.browser


def test_ehr_down_from_declaration_to_resolution(
    browser: Any, page: Any, live_server: Any, nurse_ed: Any, tech: Any, artifacts: Path
) -> None:
    hers = TicketFactory(
        requester=nurse_ed,
        location=Location.objects.get(code="ED"),
        category=Category.objects.get(slug="ehr"),
        title="Epic frozen on all triage PCs",
    )
    it_context = browser.new_context(viewport=DESKTOP)
    it_context.set_default_timeout(TIMEOUT_MS)
    technician = it_context.new_page()
    try:
        login(technician, live_server, "tech")
        technician.get_by_role("link", name="Major incidents").click()
        technician.get_by_role("link", name="Declare a major incident").click()
        technician.get_by_label("What is down").fill("EHR down")
        technician.get_by_label("Category", exact=True).select_option(label="Epic / EHR")
        technician.get_by_label("Message for clinical staff").fill(
            "Epic is down across the hospital. IT is working on it."
        )
        technician.get_by_label("Workaround or downtime procedure").fill(
            "Use downtime forms; the read-only BCA workstation is at the charge nurse desk."
        )
        technician.get_by_role("button", name="Declare and show the banner").click()
        expect(technician.get_by_role("heading", level=1)).to_contain_text("EHR down")
        technician.screenshot(path=str(artifacts / "incident-declared.png"), full_page=True)

        login(page, live_server, "nurse.ed")
        page.goto(f"{live_server.url}/file/")
        banner = page.get_by_role("region", name="System status")
        expect(banner).to_contain_text("Known problem: EHR down")
        expect(banner).to_contain_text("Use downtime forms")
        page.locator("label.tile", has_text="Epic / EHR").click()
        known = page.locator(".known-issue")
        expect(known).to_be_visible()
        page.screenshot(path=str(artifacts / "incident-filing-form.png"), full_page=True)
        known.get_by_label("Callback (extension or Vocera name)").fill("x4411")
        known.get_by_role("button", name="Add yourself").click()
        expect(page.get_by_text("You and 0 others are affected.")).to_be_visible()
        page.screenshot(path=str(artifacts / "incident-counted.png"), full_page=True)

        technician.reload()
        technician.get_by_label("Ticket number").fill(hers.number)
        technician.get_by_role("button", name="Link ticket").click()
        expect(technician.get_by_text(f"{hers.number} linked.")).to_be_visible()
        technician.get_by_label("Update", exact=True).fill("The vendor is restarting the database.")
        technician.get_by_role("button", name="Post update").click()
        expect(technician.get_by_text("Update posted")).to_be_visible()

        page.goto(f"{live_server.url}/tickets/mine/")
        expect(page.get_by_role("region", name="System status")).to_contain_text(
            "The vendor is restarting the database."
        )
        page.screenshot(path=str(artifacts / "incident-update-seen.png"), full_page=True)

        technician.get_by_label("What everyone affected is told").fill(
            "The EHR is back; re-enter the downtime forms' orders."
        )
        technician.get_by_role("button", name="Resolve with every linked ticket").click()
        expect(technician.get_by_text("resolved with its tickets")).to_be_visible()
        technician.screenshot(path=str(artifacts / "incident-resolved.png"), full_page=True)

        page.reload()
        expect(page.get_by_role("region", name="System status")).to_have_count(0)
        expect(page.locator("li", has_text=hers.number)).to_contain_text("Resolved")
        page.screenshot(path=str(artifacts / "incident-my-tickets.png"), full_page=True)
    finally:
        it_context.close()
    hers.refresh_from_db()
    assert hers.status == Ticket.Status.RESOLVED
