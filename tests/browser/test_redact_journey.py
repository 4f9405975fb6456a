"""Patient data taken out in a real browser: "Remove it" in the PHI warning before sending, and
"Remove patient data" on the ticket page, filled in from the text the nurse selected."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login
from tests.browser.test_filing_journey import category_tile, question
from tests.factories import TicketFactory
from tickets.models import Ticket
from tickets.phi import REDACTION_MARK

pytestmark = pytest.mark.browser


def test_remove_it_in_the_phi_warning_takes_the_patient_data_out_before_sending(
    page: Any, live_server: Any, nurse_ed: Any
) -> None:
    login(page, live_server, "nurse.ed")
    page.goto(f"{live_server.url}/file/")
    warning = page.locator("#phi-warning")
    category_tile(page, "Epic / EHR").check()
    title = page.get_by_label("What's wrong, in one line?")
    title.fill("Wristband for Mr Jonathan Quill prints blank")
    question(page, "Is patient care delayed right now?").get_by_label("No").check()
    question(page, "Who is affected?").get_by_label("Just me").check()
    question(page, "Is there a workaround?").get_by_label("Yes").check()
    description = page.get_by_label("Anything else IT should know? (optional)")
    with page.expect_response(re.compile(r"/phi-check/$")):
        description.press_sequentially("\U0001f61f MRN 00123456, printer 3")
    expect(warning).to_be_visible()

    with page.expect_response(re.compile(r"/phi-check/$")):
        warning.get_by_role("button", name="Remove it").click()

    expect(title).to_have_value(f"Wristband for Mr {REDACTION_MARK} prints blank")
    expect(description).to_have_value(f"\U0001f61f MRN {REDACTION_MARK}, printer 3")
    expect(warning).to_be_hidden()
    page.get_by_role("button", name="Send to IT").click()
    filed = page.get_by_role("heading", name=re.compile(r"Your ticket number is HD-\d+"))
    expect(filed).to_be_visible()

    ticket = Ticket.objects.get()
    assert ticket.title == f"Wristband for Mr {REDACTION_MARK} prints blank"
    assert ticket.description == f"\U0001f61f MRN {REDACTION_MARK}, printer 3"
    assert ticket.phi_suspected is False


def test_the_nurse_selects_a_name_in_her_description_and_removes_it(
    page: Any, live_server: Any, nurse_ed: Any
) -> None:
    ticket = TicketFactory(
        requester=nurse_ed, title="Pump 22 alarming", description="Bed 4, pt Jonathan Quill"
    )
    login(page, live_server, "nurse.ed")
    page.goto(f"{live_server.url}/tickets/{ticket.pk}/")
    page.get_by_role("link", name="Remove patient data…").click()
    expect(page.locator('[data-redact-text="description"]')).to_contain_text("Jonathan Quill")
    page.evaluate(
        """(passage) => {
            const text = document.querySelector('[data-redact-text="description"]').firstChild;
            const range = document.createRange();
            const start = text.data.indexOf(passage);
            range.setStart(text, start);
            range.setEnd(text, start + passage.length);
            window.getSelection().removeAllRanges();
            window.getSelection().addRange(range);
        }""",
        "Jonathan Quill",
    )
    panel = page.locator('details[data-redact-for="description"]')
    panel.get_by_text("Remove patient data").click()
    passage = panel.get_by_label("Text to remove")
    expect(passage).to_have_value("Jonathan Quill")
    expect(passage).to_be_focused()
    panel.get_by_role("button", name="Remove").click()

    expect(page.get_by_text(f"Patient data removed from {ticket.number}.")).to_be_visible()
    expect(page.locator(".description")).to_contain_text(f"Bed 4, pt {REDACTION_MARK}")
    expect(page.get_by_text("Removed patient data from the description.")).to_be_visible()
    ticket.refresh_from_db()
    assert ticket.description == f"Bed 4, pt {REDACTION_MARK}"
