"""The technician's queue in a real browser, with a nurse in a second browser: a new ticket is
announced instead of reshuffling the rows, a P1 raises an alert, the technician claims, replies
and resolves, and the nurse sees it; two technicians claiming one ticket; the keyboard."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, TIMEOUT_MS, login
from tests.factories import TicketFactory, UserFactory
from tickets.models import Ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REPLY = "On my way with a spare badge reader."


@pytest.fixture
def another_browser(browser: Any, artifacts: Path, request: pytest.FixtureRequest) -> Iterator[Any]:
    """Open more browser contexts (another person at another computer), each with no cookies;
    each is screenshotted if the test failed and closed at the end."""
    opened: list[Any] = []

    def open_page() -> Any:
        context = browser.new_context(viewport=DESKTOP)
        context.set_default_timeout(TIMEOUT_MS)
        opened.append(context)
        return context.new_page()

    yield open_page
    report = getattr(request.node, "report_call", None)
    for n, context in enumerate(opened):
        if report is not None and report.failed and context.pages:
            name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
            context.pages[0].screenshot(path=str(artifacts / f"FAILED-{name}-{n + 2}.png"))
        context.close()


def queue_rows(page: Any) -> Any:
    return page.locator("#queue-rows tr[data-ticket]")


def queue_of_three(page: Any, live_server: Any) -> Any:
    """The technician's queue with three waiting tickets; its rows."""
    TicketFactory.create_batch(3)
    login(page, live_server, "tech")
    page.goto(f"{live_server.url}/queue/")
    rows = queue_rows(page)
    expect(rows).to_have_count(3)
    return rows


def file_p1_through_the_form(page: Any, live_server: Any) -> None:
    """The nurse's three answers for 'care stopped, whole unit, no workaround', from the ED."""
    page.goto(f"{live_server.url}/file/")
    page.get_by_role("radio", name=re.compile(r"^Epic \/ EHR\b")).check()
    page.get_by_label("What's wrong, in one line?").fill("Epic frozen on all triage PCs")
    page.get_by_role("group", name="Is patient care delayed right now?").get_by_label("Yes").check()
    page.get_by_role("group", name="Who is affected?").get_by_label("My unit").check()
    page.get_by_role("group", name="Is there a workaround?").get_by_label("No").check()
    page.get_by_role("button", name="Send to IT").click()
    expect(
        page.get_by_role("heading", name=re.compile(r"Your ticket number is HD-\d+"))
    ).to_be_visible()


def test_new_p1_is_announced_then_claimed_answered_and_resolved(
    page: Any,
    another_browser: Callable[[], Any],
    live_server: Any,
    tech: Any,
    nurse_ed: Any,
    artifacts: Path,
) -> None:
    waiting = TicketFactory(title="WOW battery dies after 30 min")
    login(page, live_server, "tech")
    page.goto(f"{live_server.url}/queue/")
    expect(queue_rows(page)).to_have_count(1)
    banner = page.locator("#live-banner")
    expect(banner).to_be_hidden()

    nurse = another_browser()
    login(nurse, live_server, "nurse.ed")
    file_p1_through_the_form(nurse, live_server)
    ticket = Ticket.objects.get(title="Epic frozen on all triage PCs")
    assert (ticket.priority, ticket.department.code) == (1, "ED")

    # The technician's page polls (now, instead of in 15 s) and announces; nothing moves.
    page.evaluate("window.helpdeskQueuePoll()")
    expect(banner).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="new ticket")).to_contain_text(
        "1 new ticket."
    )
    alert = page.get_by_role("alert")
    expect(alert).to_have_text("New P1: 1 critical ticket waiting.")
    expect(queue_rows(page)).to_have_count(1)
    expect(queue_rows(page).first).to_have_attribute("data-ticket", str(waiting.pk))
    # The counts are live, though: they do not move anything under the cursor.
    expect(page.locator('[data-view-count="all"]')).to_have_text("2")
    expect(page.locator('[data-view-count="critical"]')).to_have_text("1")
    page.screenshot(path=str(artifacts / "queue.png"), full_page=True)

    page.get_by_role("button", name="Show").click()
    expect(queue_rows(page)).to_have_count(2)
    expect(queue_rows(page).first).to_have_attribute("data-ticket", str(ticket.pk))  # P1 on top
    expect(banner).to_be_hidden()
    expect(alert).to_be_hidden()

    # Claim, reply and resolve from the ticket page.
    queue_rows(page).first.get_by_role("link").click()
    expect(page.get_by_role("heading", name="Epic frozen on all triage PCs")).to_be_visible()
    workspace = page.get_by_role("region", name="Work on this ticket")
    workspace.get_by_role("button", name="Claim").click()
    expect(page.get_by_text(f"{ticket.number} is yours.")).to_be_visible()
    expect(workspace.get_by_role("button", name="Claim")).to_have_count(0)

    expect(page.get_by_label("Reply to the requester")).to_be_checked()
    page.get_by_label("Message").fill(REPLY)
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_text("Reply sent to the requester.")).to_be_visible()
    expect(page.locator(".timeline")).to_contain_text(REPLY)

    page.keyboard.press("e")  # opens the resolve panel, its code chosen first
    resolve_panel = page.locator("#resolve-panel")
    code = resolve_panel.get_by_label("How was it resolved?")
    expect(code).to_be_focused()
    code.select_option(label="Fixed")
    resolve_panel.get_by_label("Note for the requester").fill("Restarted the Citrix session.")
    page.screenshot(path=str(artifacts / "workspace.png"), full_page=True)
    resolve_panel.get_by_role("button", name="Resolve").click()
    expect(
        page.get_by_text(f"{ticket.number} is resolved. The requester can reopen it")
    ).to_be_visible()
    ticket.refresh_from_db()
    assert (ticket.status, ticket.resolution_code, ticket.assignee) == ("resolved", "fixed", tech)

    # The nurse, at her own computer, sees the reply and the fix.
    nurse.goto(f"{live_server.url}{ticket.get_absolute_url()}")
    expect(nurse.locator(".timeline")).to_contain_text(REPLY)
    expect(nurse.locator(".timeline")).to_contain_text("Restarted the Citrix session.")
    expect(nurse.locator(".ticket-badges .status")).to_have_text("Resolved")
    # "Fixed?" in one tap.
    expect(nurse.get_by_role("button", name="No, still broken")).to_be_visible()
    nurse.get_by_role("button", name="Yes, it's fixed").click()
    expect(nurse.get_by_text(f"Thank you: {ticket.number} is closed.")).to_be_visible()
    expect(nurse.locator(".ticket-badges .status")).to_have_text("Closed")
    ticket.refresh_from_db()
    assert (ticket.status, ticket.fixed_confirmed) == ("closed", True)


def test_two_technicians_claim_the_same_ticket(
    page: Any, another_browser: Callable[[], Any], live_server: Any, tech: Any
) -> None:
    UserFactory(username="tech2", first_name="Dana", last_name="Reyes", role="technician")
    ticket = TicketFactory(title="Badge tap not working on WOW-ED-07")
    other = another_browser()
    login(page, live_server, "tech")
    login(other, live_server, "tech2")
    for each in (page, other):
        each.goto(f"{live_server.url}/queue/")
        expect(queue_rows(each)).to_have_count(1)

    # Both still see the Claim button; both press it.
    for each in (page, other):
        each.get_by_role("button", name=f"Claim {ticket.number}").click()

    told = {}
    for each in (page, other):
        messages = each.locator(".messages")
        expect(messages).to_have_text(re.compile(rf"{ticket.number} is yours\.|already has"))
        told[each] = messages.inner_text().strip()
    ticket.refresh_from_db()
    winner, loser = (page, other) if ticket.assignee == tech else (other, page)
    winner_name = ticket.assignee.get_full_name()
    assert told[winner] == f"{ticket.number} is yours."
    assert told[loser] == f"{winner_name} already has {ticket.number}."
    # Both queues now show who has it, and no Claim button for it.
    for each in (page, other):
        expect(queue_rows(each).first).to_contain_text(winner_name)
        expect(each.get_by_role("button", name=f"Claim {ticket.number}")).to_have_count(0)


def test_keyboard_moves_through_rows_and_opens_the_help(
    page: Any, live_server: Any, tech: Any
) -> None:
    rows = queue_of_three(page, live_server)

    page.keyboard.press("j")
    expect(rows.nth(0)).to_have_class(re.compile(r"\bselected\b"))
    expect(rows.nth(0)).to_be_focused()
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("j")  # stays on the last row
    expect(rows.nth(2)).to_have_class(re.compile(r"\bselected\b"))
    expect(rows.nth(0)).not_to_have_class(re.compile(r"\bselected\b"))
    page.keyboard.press("k")
    expect(rows.nth(1)).to_have_class(re.compile(r"\bselected\b"))
    expect(rows.nth(1)).to_be_focused()
    expect(page.locator("#queue-rows tr.selected")).to_have_count(1)

    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_hidden()
    page.keyboard.press("?")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("button", name="Close")).to_be_focused()
    expect(dialog).to_contain_text("Next / previous ticket")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    page.keyboard.press("/")
    search = page.get_by_role("searchbox", name="Search")
    expect(search).to_be_focused()
    search.press("j")  # typing in the search box is typing, not a shortcut
    expect(search).to_have_value("j")
    search.blur()

    # c claims the selected row.
    rows.nth(1).focus()
    page.keyboard.press("j")
    expect(rows.nth(2)).to_have_class(re.compile(r"\bselected\b"))
    selected = Ticket.objects.get(pk=int(rows.nth(2).get_attribute("data-ticket")))
    page.keyboard.press("c")
    expect(page.get_by_text(f"{selected.number} is yours.")).to_be_visible()
    selected.refresh_from_db()
    assert selected.assignee == tech


def test_claiming_with_c_keeps_the_focus_on_the_claimed_row(
    page: Any, live_server: Any, tech: Any
) -> None:
    rows = queue_of_three(page, live_server)
    page.keyboard.press("j")
    page.keyboard.press("j")
    claimed = rows.nth(1)
    ticket = Ticket.objects.get(pk=int(claimed.get_attribute("data-ticket")))

    page.keyboard.press("c")
    expect(page.get_by_role("status").filter(has_text="is yours")).to_have_text(
        f"{ticket.number} is yours."
    )
    # The same row, now showing its owner, is still the one selected and focused ...
    expect(claimed).to_contain_text(tech.get_full_name())
    expect(claimed.get_by_role("button", name=f"Claim {ticket.number}")).to_have_count(0)
    expect(claimed).to_have_class(re.compile(r"\bselected\b"))
    expect(claimed).to_be_focused()
    ticket.refresh_from_db()
    assert ticket.assignee == tech
    # ... so the keyboard carries on from it.
    page.keyboard.press("j")
    expect(rows.nth(2)).to_be_focused()
    expect(page.locator("#queue-rows tr.selected")).to_have_count(1)
