"""A nurse files a ticket in a real browser: labels, tiles, the PHI hint, tap targets, errors."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from departments.models import Department, Location
from tests.browser.conftest import login
from tickets.models import Ticket

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
MIN_TARGET = 44  # CSS px, WCAG 2.5.5 (AAA) and the product's own --tap


@pytest.fixture
def workstation(reference_data: None) -> Location:
    return Location.objects.create(
        department=Department.objects.get(code="ED"),
        code="WOW-ED-07",
        name="Workstation on wheels 7",
        kind=Location.Kind.WORKSTATION,
    )


def question(page: Any, legend: str) -> Any:
    """One of the three questions: a fieldset, i.e. a group named by its legend."""
    return page.get_by_role("group", name=legend, exact=True)


def category_tile(page: Any, name: str) -> Any:
    # A tile's accessible name is its name followed by its hint. Playwright sends the pattern
    # as /source/, so a "/" in the name has to be escaped as well.
    pattern = re.escape(name).replace("/", r"\/")
    return page.get_by_role("radio", name=re.compile(rf"^{pattern}\b"))


def test_nurse_files_a_p1_from_a_workstation_link(
    page: Any, live_server: Any, nurse_ed: Any, workstation: Location, artifacts: Path
) -> None:
    login(page, live_server, "nurse.ed")
    page.goto(f"{live_server.url}/file/?ws=WOW-ED-07")
    expect(page.get_by_role("heading", name="File an IT ticket")).to_be_visible()
    expect(page.get_by_text("Filing from workstation WOW-ED-07")).to_be_visible()

    where = page.get_by_label("Where are you?")
    expect(where).to_have_value(str(workstation.pk))
    expect(where.locator("option:checked")).to_have_text("ED - Workstation on wheels 7 (WOW-ED-07)")

    category_tile(page, "Epic / EHR").check()
    page.get_by_label("What's wrong, in one line?").fill("Epic frozen on all triage PCs")
    question(page, "Is patient care delayed right now?").get_by_label("Yes").check()
    question(page, "Who is affected?").get_by_label("My unit").check()
    question(page, "Is there a workaround?").get_by_label("No").check()
    callback = page.get_by_label("Callback number")
    expect(callback).to_have_value("x4567")  # from the nurse's profile
    page.get_by_role("button", name="Send to IT").click()

    heading = page.get_by_role("heading", name=re.compile(r"Your ticket number is HD-\d+"))
    expect(heading).to_be_visible()
    expect(page.get_by_role("main").get_by_text("P1 Critical")).to_be_visible()
    expect(page.get_by_text("it was escalated automatically")).to_be_visible()
    page.screenshot(path=str(artifacts / "filing-confirmation.png"), full_page=True)

    ticket = Ticket.objects.select_related("department", "category", "location").get()
    assert ticket.number in heading.inner_text()
    assert ticket.priority == 1
    assert ticket.department.code == "ED"
    assert ticket.auto_escalated is True
    assert ticket.location == workstation
    assert ticket.category.slug == "ehr"
    assert ticket.callback == "x4567"
    assert ticket.requester == nurse_ed
    assert page.url == f"{live_server.url}/tickets/{ticket.pk}/filed/"


def test_phi_warning_appears_while_typing_and_the_ticket_still_files(
    page: Any, live_server: Any, nurse_ed: Any
) -> None:
    login(page, live_server, "nurse.ed")
    page.goto(f"{live_server.url}/file/")
    warning = page.locator("#phi-warning")
    expect(warning).to_be_hidden()

    category_tile(page, "Epic / EHR").check()
    page.get_by_label("What's wrong, in one line?").fill("Cannot open chart in Epic")
    question(page, "Is patient care delayed right now?").get_by_label("No").check()
    question(page, "Who is affected?").get_by_label("Just me").check()
    question(page, "Is there a workaround?").get_by_label("Yes").check()
    with page.expect_response(re.compile(r"/phi-check/$")):
        page.get_by_label("Anything else IT should know? (optional)").press_sequentially(
            "pt John Smith MRN 00123456"
        )
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("This looks like patient information.")
    expect(warning).to_contain_text("a medical record number (MRN)")
    # A polite live region, so a screen reader announces it without stealing focus.
    expect(page.get_by_role("status").filter(has_text="patient information")).to_be_visible()

    # Warn, never block.
    page.get_by_role("button", name="Send to IT").click()
    expect(
        page.get_by_role("heading", name=re.compile(r"Your ticket number is HD-\d+"))
    ).to_be_visible()
    expect(page.get_by_text("It looks like the ticket holds patient information.")).to_be_visible()
    page.get_by_role("link", name="View the ticket").click()
    expect(page.get_by_text("Possible patient data")).to_be_visible()

    ticket = Ticket.objects.get()
    assert ticket.phi_suspected is True
    assert ticket.description == "pt John Smith MRN 00123456"


def small_targets(page: Any) -> list[str]:
    """Every visible thing on the page a finger has to hit that is under 44 x 44 CSS px.

    A radio button inside a category tile or a choice pill is hit through its label, so the label
    is measured and not the 20 px circle. The skip link sits off-screen until a keyboard focuses
    it: it is no tap target."""
    selectors = [
        "label.tile",
        "label.choice",
        "button",
        "a",
        "input:not([type=hidden]):not([type=radio]):not([type=checkbox])",
        "select",
        "textarea",
    ]
    measured, small = 0, []
    for selector in selectors:
        for element in page.locator(selector).all():
            if not element.is_visible():
                continue
            box = element.bounding_box()
            assert box is not None, selector
            if box["x"] + box["width"] <= 0:
                continue
            measured += 1
            if box["width"] < MIN_TARGET or box["height"] < MIN_TARGET:
                text = " ".join(element.inner_text().split())[:40]
                small.append(f"{selector} {text!r}: {box['width']:.0f}x{box['height']:.0f}")
    assert measured >= 30, f"only {measured} targets found: is the form on the page?"
    return small


def test_every_target_on_the_filing_form_is_at_least_44_px(
    page: Any, live_server: Any, nurse_ed: Any, artifacts: Path
) -> None:
    login(page, live_server, "nurse.ed")
    page.goto(f"{live_server.url}/file/")
    expect(page.locator("label.tile").first).to_be_visible()
    counts = {
        "tiles": page.locator("form.file-form label.tile").count(),
        "choices": page.locator("form.file-form label.choice").count(),
    }
    assert counts["tiles"] >= 6
    assert counts["choices"] == 7  # yes/no, me/unit/several, yes/no
    assert small_targets(page) == []

    page.set_viewport_size(PHONE)
    expect(page.locator("label.tile").first).to_be_visible()
    assert small_targets(page) == []
    # Nothing wider than the phone: no sideways scrolling to reach a field.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(artifacts / "filing-form-phone.png"), full_page=True)


def test_empty_form_explains_every_missing_answer_and_files_nothing(
    page: Any, live_server: Any, nurse_ed: Any
) -> None:
    login(page, live_server, "nurse.ed")
    page.goto(f"{live_server.url}/file/")
    # Nothing typed or picked: clear what the page pre-fills from the nurse's profile, too.
    page.get_by_label("Callback number").fill("")
    page.get_by_label("Where are you?").select_option("")
    page.get_by_role("button", name="Send to IT").click()

    summary = page.get_by_role("alert").filter(has_text="Please fix")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()  # so a screen reader reads it first
    expected = [
        "Pick what the problem is about.",
        "Say in one line what is wrong.",
        "Answer whether patient care is delayed right now.",
        "Answer who is affected: just you, your unit or several.",
        "Answer whether there is a workaround.",
        "Pick where the problem is.",
        "Give an extension or Vocera name so IT can call you back.",
    ]
    expect(summary.get_by_role("heading")).to_have_text(f"Please fix {len(expected)} things below")
    expect(summary.get_by_role("listitem")).to_have_count(len(expected))
    for message in expected:
        expect(summary.get_by_role("link", name=message)).to_be_visible()
        # ... and the same words next to the field itself.
        expect(page.locator(".field-error").filter(has_text=message)).to_be_visible()
    assert Ticket.objects.count() == 0


def fill_the_basics(page: Any) -> None:
    category_tile(page, "Epic / EHR").check()
    page.get_by_label("What's wrong, in one line?").fill("Epic frozen at the triage desk")
    question(page, "Is patient care delayed right now?").get_by_label("Yes").check()
    question(page, "Who is affected?").get_by_label("My unit").check()
    question(page, "Is there a workaround?").get_by_label("No").check()


def test_a_float_nurse_is_asked_which_unit_as_soon_as_she_picks_another_one(
    page: Any, live_server: Any, nurse_medsurg: Any, artifacts: Path
) -> None:
    login(page, live_server, "nurse.medsurg")
    page.goto(f"{live_server.url}/file/")
    fill_the_basics(page)
    where = page.get_by_label("Where are you?")
    expect(where.locator("option:checked")).to_have_text("MEDSURG - Med-Surg 4 North")
    asked = question(page, "Which unit are you reporting for?")
    expect(asked).to_have_count(0)

    where.select_option(label="ED - ED Main")
    expect(asked).to_be_visible()
    expect(asked).to_contain_text("ED Main is in the Emergency Department, not your unit.")
    page.screenshot(path=str(artifacts / "filing-other-unit-question.png"), full_page=True)
    page.set_viewport_size(PHONE)  # the answers wrap on a phone instead of running off it
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert small_targets(page) == []

    # "My own unit" puts her own unit's location back and the question away.
    asked.get_by_label(re.compile(r"^My own unit")).click()
    expect(where.locator("option:checked")).to_have_text("MEDSURG - Med-Surg 4 North")
    expect(asked).to_have_count(0)

    where.select_option(label="ED - ED Main")
    asked.get_by_label(re.compile(r"^The Emergency Department")).check()
    page.get_by_role("button", name="Send to IT").click()
    expect(
        page.get_by_role("heading", name=re.compile(r"Your ticket number is HD-\d+"))
    ).to_be_visible()
    page.get_by_role("link", name="View the ticket").click()
    expect(
        page.get_by_text("Filed for another unit: ED Main (Emergency Department).")
    ).to_be_visible()

    ticket = Ticket.objects.select_related("department").get()
    assert ticket.department.code == "ED"
    assert ticket.filed_for_other_unit is True


def test_without_scripts_the_send_asks_which_unit_and_keeps_her_answers(
    browser: Any, live_server: Any, nurse_medsurg: Any
) -> None:
    context = browser.new_context(java_script_enabled=False)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        login(page, live_server, "nurse.medsurg")
        page.goto(f"{live_server.url}/file/")
        fill_the_basics(page)
        page.get_by_label("Where are you?").select_option(label="ED - ED Main")
        page.get_by_role("button", name="Send to IT").click()

        summary = page.get_by_role("alert").filter(has_text="Please fix")
        expect(summary).to_contain_text("ED Main is in the Emergency Department, not your unit")
        asked = question(page, "Which unit are you reporting for?")
        expect(asked).to_be_visible()
        expect(page.get_by_label("What's wrong, in one line?")).to_have_value(
            "Epic frozen at the triage desk"
        )
        assert Ticket.objects.count() == 0

        asked.get_by_label(re.compile(r"^The Emergency Department")).check()
        page.get_by_role("button", name="Send to IT").click()
        expect(
            page.get_by_role("heading", name=re.compile(r"Your ticket number is HD-\d+"))
        ).to_be_visible()
        assert Ticket.objects.get().filed_for_other_unit is True
    finally:
        context.close()
