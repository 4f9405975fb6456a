"""A nurse whose ticket was filed by e-mail answers its three questions in a real browser."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login
from tests.browser.test_filing_journey import MIN_TARGET, question
from tests.factories import file_by_email
from tickets.models import Ticket

pytestmark = pytest.mark.browser


@pytest.fixture
def emailed(nurse_ed: Any) -> Ticket:
    return file_by_email(nurse_ed)


def test_nurse_answers_the_questions_from_the_ticket_page_and_it_becomes_p1(
    page: Any, live_server: Any, emailed: Ticket, artifacts: Path
) -> None:
    login(page, live_server, "nurse.ed")
    page.goto(f"{live_server.url}{emailed.get_absolute_url()}")
    expect(page.get_by_text("Filed by e-mail", exact=True)).to_be_visible()
    expect(page.locator(".ticket-badges")).to_contain_text("P4 Low")
    expect(page.locator(".ticket-badges")).to_contain_text("Triage")

    page.get_by_role("link", name="Answer the three questions").click()
    expect(page.get_by_role("heading", name=f"How urgent is {emailed.number}?")).to_be_visible()
    for legend in ("Is patient care delayed right now?", "Who is affected?"):
        box = question(page, legend).locator("label.choice").first.bounding_box()
        assert box["height"] >= MIN_TARGET, legend
    question(page, "Is patient care delayed right now?").get_by_label("Yes").check()
    question(page, "Who is affected?").get_by_label("My unit").check()
    question(page, "Is there a workaround?").get_by_label("No").check()
    page.get_by_role("button", name="Send the answers").click()

    expect(page).to_have_url(re.compile(rf"/tickets/{emailed.pk}/$"))
    expect(page.get_by_text("P1: the on-call technician has been paged.")).to_be_visible()
    expect(page.locator(".ticket-badges")).to_contain_text("P1 Critical")
    expect(page.locator(".ticket-badges")).not_to_contain_text("Triage")
    expect(page.get_by_role("link", name="Answer the three questions")).to_have_count(0)
    expect(page.locator(".event-triaged")).to_contain_text("P4 \u2192 P2")
    page.screenshot(path=str(artifacts / "triage-answered.png"), full_page=True)

    emailed.refresh_from_db()
    assert (emailed.priority, emailed.needs_triage) == (1, False)
    assert emailed.page_chains.exists()


def test_a_missing_answer_is_said_and_the_ticket_still_waits(
    page: Any, live_server: Any, emailed: Ticket
) -> None:
    login(page, live_server, "nurse.ed")
    page.goto(f"{live_server.url}/tickets/{emailed.pk}/questions/")
    question(page, "Is patient care delayed right now?").get_by_label("No").check()
    page.get_by_role("button", name="Send the answers").click()

    expect(page.get_by_role("alert")).to_contain_text("Please fix 2 things below")
    expect(page.get_by_role("alert")).to_contain_text("Answer whether there is a workaround.")
    emailed.refresh_from_db()
    assert (emailed.priority, emailed.needs_triage) == (4, True)
