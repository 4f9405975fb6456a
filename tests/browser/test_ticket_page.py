"""The ticket page in a real browser: both SLA clocks in colour, icon and words."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from departments.models import Location
from tests.browser.conftest import login
from tests.factories import TicketFactory
from tickets.priority import Scope
from tickets.sweep import sla_sweep

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_technician_sees_a_breached_response_clock(page, live_server, tech, artifacts):
    from playwright.sync_api import expect

    filed = timezone.now() - timedelta(minutes=20)
    ticket = TicketFactory(
        created_at=filed,
        title="Vocera calls dropping near trauma bays",
        location=Location.objects.get(code="ED"),
        care_delayed=True,
        workaround=False,
        scope=Scope.UNIT,
    )
    sla_sweep()
    login(page, live_server, "tech")
    page.goto(f"{live_server.url}{ticket.get_absolute_url()}")
    clocks = page.get_by_role("region", name="Service level")
    expect(clocks).to_contain_text("First response")
    expect(clocks).to_contain_text("Breached")
    expect(clocks).to_contain_text("overdue")
    expect(clocks).to_contain_text("Resolution")
    expect(clocks).to_contain_text("On track")
    expect(page.get_by_text("SLA breached", exact=True)).to_be_visible()
    page.screenshot(path=str(artifacts / "ticket-page-sla.png"), full_page=True)


@pytest.fixture
def open_ticket(reference_data):
    return TicketFactory(title="Badge tap not working on WOW-ED-07")


def test_status_panel_starts_on_choose_and_cancelling_needs_a_reason(
    page, live_server, tech, open_ticket
):
    from playwright.sync_api import expect

    login(page, live_server, "tech")
    page.goto(f"{live_server.url}{open_ticket.get_absolute_url()}")
    panel = page.locator("#status-panel")
    panel.locator("summary").click()
    move_to = panel.get_by_label("Move to")
    # Nothing destructive is one click away: the first choice is no choice, Cancelled is last.
    expect(move_to).to_have_value("")
    expect(move_to.locator("option:checked")).to_have_text("Choose…")
    expect(move_to.locator("option").last).to_have_text("Cancelled")
    change = panel.get_by_role("button", name="Change status")
    change.click()
    assert move_to.evaluate("select => select.validity.valueMissing")

    # Cancelled without a reason: the browser asks for it...
    move_to.select_option(label="Cancelled")
    note = panel.get_by_label("Note for the requester")
    expect(note).to_have_attribute("required", "")
    change.click()
    assert note.evaluate("input => input.validity.valueMissing")
    # ...and so does the server, when the browser's check is not there to stop it.
    note.evaluate("input => { input.required = false; }")
    change.click()
    expect(page.get_by_text("Give a reason for cancelling; the requester sees it.")).to_be_visible()
    open_ticket.refresh_from_db()
    assert open_ticket.status == "new"

    panel = page.locator("#status-panel")
    panel.locator("summary").click()
    panel.get_by_label("Move to").select_option(label="Cancelled")
    panel.get_by_label("Note for the requester").fill("Filed twice; working it on HD-1001.")
    panel.get_by_role("button", name="Change status").click()
    expect(page.get_by_text(f"{open_ticket.number} is now cancelled.")).to_be_visible()
    expect(page.locator(".timeline")).to_contain_text("Filed twice; working it on HD-1001.")
    open_ticket.refresh_from_db()
    assert open_ticket.status == "cancelled"


def test_after_an_internal_note_the_box_stays_on_internal_note(
    page, live_server, tech, open_ticket
):
    from playwright.sync_api import expect

    login(page, live_server, "tech")
    page.goto(f"{live_server.url}{open_ticket.get_absolute_url()}")
    reply = page.get_by_label("Reply to the requester")
    note = page.get_by_label("Internal note (IT only)")
    expect(reply).to_be_checked()
    send = page.locator("#reply-form button[type=submit]")
    expect(send).to_have_text("Send to the requester")
    # The button says where the words go, as the choice changes.
    note.check()
    expect(send).to_have_text("Save internal note")
    reply.check()
    expect(send).to_have_text("Send to the requester")
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("n")  # the internal-note shortcut moves the label too
    expect(send).to_have_text("Save internal note")

    page.get_by_label("Message").fill("Reader firmware 2.1 on this cart; vendor case opened.")
    send.click()
    expect(page.get_by_text("Internal note added; only IT sees it.")).to_be_visible()
    expect(page.get_by_label("Internal note (IT only)")).to_be_checked()
    expect(page.locator("#reply-form button[type=submit]")).to_have_text("Save internal note")
    assert open_ticket.events.filter(kind="internal_note").count() == 1
    assert not open_ticket.events.filter(kind="comment").exists()


def test_reply_button_is_labelled_with_javascript_off(browser, live_server, tech, open_ticket):
    from playwright.sync_api import expect

    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        login(page, live_server, "tech")
        page.goto(f"{live_server.url}{open_ticket.get_absolute_url()}")
        form = page.locator("#reply-form")
        expect(form.locator("button[type=submit]")).to_have_text("Send to the requester")
        form.get_by_label("Internal note (IT only)").check()
        form.get_by_label("Message").fill("Checked the cart's reader: firmware 2.1.")
        form.locator("button[type=submit]").click()
        expect(page.get_by_text("Internal note added; only IT sees it.")).to_be_visible()
        expect(form.get_by_label("Internal note (IT only)")).to_be_checked()
        expect(form.locator("button[type=submit]")).to_have_text("Save internal note")
    finally:
        context.close()
