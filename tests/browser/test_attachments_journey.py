"""Files in a real browser (static/js/attachments.js): a nurse pastes a screenshot into the
filing form, blacks out what shows a patient, and only the blacked-out image reaches the
server; the keyboard does the same; a technician's internal note's screenshot shows to IT and
never to the requester."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.browser.conftest import login
from tests.browser.test_filing_journey import fill_the_basics
from tests.factories import TicketFactory
from tickets.attachments import attachment_storage
from tickets.models import Attachment

pytestmark = pytest.mark.browser

RED = (200, 30, 30)
BLACK = (0, 0, 0)

# A screenshot of RED, put on the clipboard and pasted where the focus is, as Ctrl+V does.
PASTE = """([selector, width, height, rgb]) => new Promise((resolve) => {
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext("2d");
  context.fillStyle = `rgb(${rgb.join(",")})`;
  context.fillRect(0, 0, width, height);
  canvas.toBlob((blob) => {
    const data = new DataTransfer();
    data.items.add(new File([blob], "image.png", { type: "image/png" }));
    const target = document.querySelector(selector);
    target.focus();
    target.dispatchEvent(
      new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true })
    );
    resolve();
  }, "image/png");
})"""


def paste_screenshot(page: Any, selector: str, size: tuple[int, int] = (200, 100)) -> None:
    page.evaluate(PASTE, [selector, size[0], size[1], list(RED)])


def stored_pixels(attachment: Attachment) -> Image.Image:
    with attachment_storage().open(attachment.stored_name, "rb") as stored:
        return Image.open(io.BytesIO(stored.read())).convert("RGB")


def test_a_pasted_screenshot_is_blacked_out_before_it_is_sent(
    page: Any, live_server: Any, nurse_ed: Any, attachments_dir: Path, artifacts: Path
) -> None:
    login(page, live_server, "nurse.ed")
    page.goto(f"{live_server.url}/file/")
    fill_the_basics(page)
    paste_screenshot(page, "textarea[name=description]")

    previews = page.get_by_role("list", name="Files to send")
    expect(previews.get_by_text(re.compile(r"^screenshot-\d{8}-\d{6}\.png"))).to_be_visible()
    expect(
        previews.get_by_text("This screenshot may show a patient: black out names and numbers?")
    ).to_be_visible()
    previews.get_by_role("button", name=re.compile(r"^Black out parts of screenshot-")).click()

    dialog = page.get_by_role("dialog", name="Black out names and numbers")
    expect(dialog).to_be_visible()
    canvas = dialog.get_by_role("img", name="The image to black out")
    box = canvas.bounding_box()
    scale = box["width"] / 200
    page.mouse.move(box["x"] + 10 * scale, box["y"] + 10 * scale)
    page.mouse.down()
    page.mouse.move(box["x"] + 60 * scale, box["y"] + 30 * scale, steps=5)
    page.mouse.move(box["x"] + 100 * scale, box["y"] + 50 * scale, steps=5)
    page.mouse.up()
    page.screenshot(path=str(artifacts / "blackout-tool.png"))
    dialog.get_by_role("button", name="Done").click()
    expect(dialog).to_have_count(0)
    expect(previews.get_by_role("listitem")).to_have_count(1)

    page.get_by_role("button", name="Send to IT").click()
    expect(
        page.get_by_role("heading", name=re.compile(r"Your ticket number is HD-\d+"))
    ).to_be_visible()
    attachment = Attachment.objects.get()
    assert attachment.content_type == "image/png"
    assert attachment.original_name.startswith("screenshot-")
    pixels = stored_pixels(attachment)
    assert pixels.size == (200, 100)
    # Under the box: black, all of it; outside it: the screenshot as it was.
    for point in ((11, 11), (50, 30), (98, 48)):
        assert pixels.getpixel(point) == BLACK, point
    for point in ((5, 5), (150, 80), (105, 55), (199, 99)):
        assert pixels.getpixel(point) == RED, point


def test_the_keyboard_blacks_out_and_a_file_can_be_taken_out(
    page: Any, live_server: Any, nurse_ed: Any, attachments_dir: Path
) -> None:
    login(page, live_server, "nurse.ed")
    page.goto(f"{live_server.url}/file/")
    fill_the_basics(page)
    paste_screenshot(page, "textarea[name=description]")
    paste_screenshot(page, "textarea[name=description]", size=(120, 80))
    previews = page.get_by_role("list", name="Files to send")
    expect(previews.get_by_role("listitem")).to_have_count(2)
    # The second one, the smaller, is taken out again: the first is the one sent.
    previews.get_by_role("listitem").nth(1).get_by_role(
        "button", name=re.compile("^Remove ")
    ).click()
    expect(previews.get_by_role("listitem")).to_have_count(1)

    previews.get_by_role("button", name=re.compile(r"^Black out parts of")).click()
    canvas = page.get_by_role("dialog").get_by_role("img", name="The image to black out")
    expect(canvas).to_be_focused()
    # The dashed box starts in the top left corner, 40 x 20 on this image: black it out, then
    # move it right (4 px a press) and down, make it larger, and black that out too.
    canvas.press("Enter")
    for key in ("ArrowRight",) * 10 + ("ArrowDown",) * 10 + ("Shift+ArrowRight",) * 2:
        canvas.press(key)
    canvas.press("Enter")
    page.get_by_role("dialog").get_by_role("button", name="Done").click()
    page.get_by_role("button", name="Send to IT").click()
    expect(
        page.get_by_role("heading", name=re.compile(r"Your ticket number is HD-\d+"))
    ).to_be_visible()

    attachment = Attachment.objects.get()
    pixels = stored_pixels(attachment)
    assert pixels.size == (200, 100)
    assert pixels.getpixel((2, 2)) == BLACK
    assert pixels.getpixel((38, 18)) == BLACK
    # The second box: 48 x 20 from (40, 40).
    assert pixels.getpixel((42, 42)) == BLACK
    assert pixels.getpixel((86, 58)) == BLACK
    assert pixels.getpixel((100, 80)) == RED
    assert pixels.getpixel((50, 20)) == RED


def test_an_internal_notes_screenshot_shows_to_it_only(
    page: Any, live_server: Any, browser: Any, tech: Any, nurse_medsurg: Any, attachments_dir: Path
) -> None:
    ticket = TicketFactory(requester=nurse_medsurg, title="Label printer offline")
    login(page, live_server, "tech")
    page.goto(f"{live_server.url}{ticket.get_absolute_url()}")
    page.get_by_label("Internal note (IT only)").check()
    page.get_by_label("Message", exact=True).fill("The printer's error screen.")
    paste_screenshot(page, "textarea[name=text]")
    expect(page.get_by_role("list", name="Files to send").get_by_role("listitem")).to_have_count(1)
    page.get_by_role("button", name="Save internal note").click()
    thumbnail = page.locator("img.attachment-thumb")
    expect(thumbnail).to_have_count(1)
    # The thumbnail is the stored image, served by the permission-checked view.
    thumbnail.scroll_into_view_if_needed()
    page.wait_for_function(
        "(img) => img.complete && img.naturalWidth > 0", arg=thumbnail.element_handle()
    )
    assert page.evaluate("(img) => img.naturalWidth", thumbnail.element_handle()) == 200

    other = browser.new_context()
    try:
        requester = other.new_page()
        login(requester, live_server, "nurse.medsurg")
        requester.goto(f"{live_server.url}{ticket.get_absolute_url()}")
        expect(
            requester.get_by_role("heading", name=re.compile("Label printer offline"))
        ).to_be_visible()
        expect(requester.locator("img.attachment-thumb")).to_have_count(0)
        assert "screenshot-" not in requester.content()
    finally:
        other.close()
