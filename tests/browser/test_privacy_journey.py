"""The privacy officer, in a real browser, asks who viewed a ticket: a nurse files it, a
technician and a colleague of the nurse open it, and the officer finds all three, the colleague
marked as outside IT."""

from __future__ import annotations

import pytest

from tests.browser.conftest import login
from tests.factories import TicketFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_privacy_officer_looks_up_who_viewed_a_ticket(
    page, live_server, reference_data, nurse_medsurg, tech, outsider, privacy_officer, artifacts,
    settings,
):  # fmt: skip
    from playwright.sync_api import expect

    settings.HELPDESK = {**settings.HELPDESK, "REQUESTERS_SEE_DEPARTMENT": True}
    ticket = TicketFactory(requester=nurse_medsurg)
    for reader in ("nurse.medsurg", "tech", "nurse.other"):
        login(page, live_server, reader)
        page.goto(f"{live_server.url}{ticket.get_absolute_url()}")
        expect(page.get_by_text(ticket.number).first).to_be_visible()
        page.get_by_role("button", name="Sign out").click()

    login(page, live_server, "privacy")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Privacy").click()
    expect(page.get_by_role("heading", name="Who viewed a ticket", level=1)).to_be_visible()
    page.get_by_label("Ticket number").fill(ticket.number.lower())
    page.get_by_role("button", name="Look up").click()

    expect(page.get_by_role("heading", name=f"{ticket.number}: ")).to_be_visible()
    table = page.get_by_role("table", name=f"Who viewed {ticket.number}, newest first")
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("nurse.other")
    expect(rows.nth(0)).to_contain_text("outside IT")
    expect(rows.nth(1)).to_contain_text("IT")
    expect(rows.nth(2)).to_contain_text("the requester")
    expect(page.get_by_role("link", name="Download CSV")).to_be_visible()
    page.screenshot(path=str(artifacts / "privacy-who-viewed.png"), full_page=True)
