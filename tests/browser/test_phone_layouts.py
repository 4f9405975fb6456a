"""The queue and the filing form on a phone (390 x 844 CSS px): nothing wider than the screen,
the queue's rows as cards, and the filing form's Send within one screen of the last answer."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from departments.models import Location
from tests.browser.conftest import TIMEOUT_MS, login
from tests.factories import TicketFactory
from tickets.priority import Scope

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
NO_SIDEWAYS_SCROLL = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"


@pytest.fixture
def phone(browser: Any, artifacts: Path, request: pytest.FixtureRequest) -> Any:
    """A phone-sized browser, touch and all; screenshotted if the test failed."""
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    context.set_default_timeout(TIMEOUT_MS)
    opened = context.new_page()
    yield opened
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        opened.screenshot(path=str(artifacts / f"FAILED-{request.node.name}.png"), full_page=True)
    context.close()


def test_queue_on_a_phone_shows_each_ticket_as_a_card_without_sideways_scrolling(
    phone: Any, live_server: Any, tech: Any, artifacts: Path
) -> None:
    p1 = TicketFactory(
        title="Intraop record won't load in OR 7, case starting in ten minutes",
        location=Location.objects.get(code="OR"),
        care_delayed=True,
        workaround=False,
        scope=Scope.UNIT,
    )
    TicketFactory.create_batch(3)
    login(phone, live_server, "tech")
    phone.goto(f"{live_server.url}/queue/")
    rows = phone.locator("#queue-rows tr[data-ticket]")
    expect(rows).to_have_count(4)
    assert phone.evaluate(NO_SIDEWAYS_SCROLL)

    card = rows.first
    expect(card).to_have_attribute("data-ticket", str(p1.pk))
    # A card, not a squeezed row: the full width of the screen, its parts stacked.
    box = card.bounding_box()
    assert box is not None
    assert box["width"] > PHONE["width"] * 0.8
    for part in (
        card.get_by_role("link", name=re.compile(p1.number)),
        card.locator(".priority"),
        card.locator(".countdown"),
        card.get_by_text("Perioperative"),
        card.get_by_role("button", name=f"Claim {p1.number}"),
    ):
        expect(part).to_be_visible()
        part_box = part.bounding_box()
        assert part_box is not None
        assert part_box["x"] >= 0
        assert part_box["x"] + part_box["width"] <= PHONE["width"]
    expect(card).to_contain_text(p1.title)
    claim = card.get_by_role("button", name=f"Claim {p1.number}").bounding_box()
    assert claim is not None
    assert claim["height"] >= 44
    phone.screenshot(path=str(artifacts / "queue-phone.png"), full_page=True)
    assert Axe().run(phone).response["violations"] == []

    card.get_by_role("button", name=f"Claim {p1.number}").tap()
    expect(phone.get_by_text(f"{p1.number} is yours.")).to_be_visible()
    phone.wait_for_load_state("load")
    assert phone.evaluate(NO_SIDEWAYS_SCROLL)


def test_filing_form_on_a_phone_has_send_within_one_screen_of_the_last_answer(
    phone: Any, live_server: Any, nurse_ed: Any, artifacts: Path
) -> None:
    login(phone, live_server, "nurse.ed")
    phone.goto(f"{live_server.url}/file/")
    expect(phone.get_by_role("heading", name="File an IT ticket")).to_be_visible()
    assert phone.evaluate(NO_SIDEWAYS_SCROLL)

    # The category tiles are a compact list: one column, a line or two each.
    tiles = phone.locator("form.file-form label.tile")
    first, second = tiles.nth(0).bounding_box(), tiles.nth(1).bounding_box()
    assert first is not None
    assert second is not None
    assert second["y"] > first["y"]  # one under the other
    assert first["height"] <= 64

    phone.get_by_role("radio", name=re.compile(r"^Printers")).check()
    phone.get_by_label("What's wrong, in one line?").fill("Wristband printer printing blank")
    phone.get_by_role("group", name="Is patient care delayed right now?").get_by_label("No").check()
    phone.get_by_role("group", name="Who is affected?").get_by_label("My unit").check()
    last_answer = phone.get_by_role("group", name="Is there a workaround?").get_by_label("Yes")
    last_answer.check()
    send = phone.get_by_role("button", name="Send to IT")
    answered, sending = last_answer.bounding_box(), send.bounding_box()
    assert answered is not None
    assert sending is not None
    # From the last answer to the bottom of Send: less than the phone's screen.
    assert sending["y"] + sending["height"] - answered["y"] <= PHONE["height"]
    assert phone.evaluate(NO_SIDEWAYS_SCROLL)
    phone.screenshot(path=str(artifacts / "filing-form-phone-list.png"), full_page=True)
    assert Axe().run(phone).response["violations"] == []

    send.tap()
    expect(
        phone.get_by_role("heading", name=re.compile(r"Your ticket number is HD-\d+"))
    ).to_be_visible()
