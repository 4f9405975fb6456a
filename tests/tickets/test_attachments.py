"""What a file sent to a ticket is, by its content; what is stored; what is never kept."""

from __future__ import annotations

import io
import os
import time
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from PIL import Image

from departments.models import Location
from tests.attachment_files import (
    CANARY,
    huge_png,
    image_bytes,
    jpeg_with_gps,
    ooxml,
    outlook_message,
    pdf_bytes,
    plain_zip,
    upload,
    zip_bomb,
)
from tests.factories import TicketFactory
from tickets import paging
from tickets.attachments import (
    CONTENT_TYPES,
    AttachmentRefused,
    attachment_orphan_sweep,
    attachment_storage,
    check_file,
    clean_name,
    sweep_orphans,
)
from tickets.models import Attachment, Category, Ticket, TicketEvent
from tickets.priority import Scope
from tickets.services import ticket_comment, ticket_file

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("attachments_dir")]

EML = (
    b"From: it@hospital.org\r\nSubject: Printer\r\n"
    b"Date: Mon, 7 Dec 2026 10:00:00 +0000\r\n\r\nHi\r\n"
)

ACCEPTED = [
    ("screen.png", image_bytes("PNG"), "image/png"),
    ("photo.jpg", image_bytes("JPEG"), "image/jpeg"),
    ("anim.gif", image_bytes("GIF"), "image/gif"),
    ("shot.webp", image_bytes("WEBP"), "image/webp"),
    ("error.pdf", pdf_bytes(), "application/pdf"),
    ("scanner.log", f"10:01 error {CANARY}\n".encode(), "text/plain; charset=utf-8"),
    ("notes.txt", "Caf\xe9 printer jam\n".encode("cp1252"), "text/plain; charset=utf-8"),
    ("worklist.csv", b"bed,device\n4,WOW-07\n", "text/csv; charset=utf-8"),
    ("steps.docx", ooxml("docx"), CONTENT_TYPES["docx"]),
    ("list.xlsx", ooxml("xlsx"), CONTENT_TYPES["xlsx"]),
    ("vendor.msg", outlook_message(), "application/vnd.ms-outlook"),
    ("vendor.eml", EML, "message/rfc822"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "data", "content_type"), ACCEPTED, ids=[name for name, *_ in ACCEPTED]
)
def test_every_accepted_type_round_trips(nurse_medsurg, name, data, content_type):
    ticket = TicketFactory(requester=nurse_medsurg)
    ticket_comment(ticket=ticket, author=nurse_medsurg, text="", attachments=[upload(name, data)])
    stored = Attachment.objects.get(ticket=ticket)
    assert stored.content_type == content_type
    assert stored.original_name == name
    assert stored.size == len(stored_bytes(stored))
    if not content_type.startswith("image/"):
        assert stored_bytes(stored) == data


def test_heic_photo_is_stored_as_a_jpeg(nurse_medsurg):
    ticket = TicketFactory(requester=nurse_medsurg)
    heic = image_bytes("HEIF")
    ticket_comment(
        ticket=ticket, author=nurse_medsurg, text="", attachments=[upload("IMG_0042.HEIC", heic)]
    )
    stored = Attachment.objects.get(ticket=ticket)
    assert (stored.original_name, stored.content_type) == ("IMG_0042.jpg", "image/jpeg")
    assert Image.open(io.BytesIO(stored_bytes(stored))).format == "JPEG"


def stored_bytes(attachment: Attachment) -> bytes:
    with attachment_storage().open(attachment.stored_name, "rb") as file:
        return file.read()


REFUSED = [
    ("page.png", b"<!DOCTYPE html><html><script>alert(1)</script></html>", "not accepted"),
    (
        "logo.svg",
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        "not accepted",
    ),
    ("data.txt", b'<?xml version="1.0"?><a/>', "not accepted"),
    ("run.txt", b"#!/bin/sh\nrm -rf /\n", "not accepted"),
    ("notes.txt", b"hello <script>alert(1)</script>", "not accepted"),
    (
        "polyglot.gif",
        b"GIF89a/*\x00\x00*/=1;alert(document.domain)//",
        "not an image that can be opened",
    ),
    ("setup.exe", b"MZ\x90\x00" + b"\0" * 400, "not accepted"),
    ("tool.png", b"\x7fELF" + b"\0" * 400, "not accepted"),
    ("tools.zip", plain_zip(), "not accepted"),
    ("tools.docx", plain_zip(), "not accepted"),
    ("macro.docx", ooxml("docx", extra={"word/vbaProject.bin": b"\0" * 64}), "not accepted"),
    ("bomb.docx", zip_bomb(), "unpacks to far more"),
    ("empty.png", b"", "empty"),
    ("screen.pdf", image_bytes("PNG"), "its content is a PNG image, not what its name says"),
    ("doc.xlsx", ooxml("docx"), "its content is a Word document"),
    ("mail.eml", b"just words\n", "not an e-mail"),
    ("old.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 1024, "not accepted"),
]


@pytest.mark.parametrize(("name", "data", "words"), REFUSED, ids=[name for name, *_ in REFUSED])
def test_refused_by_content_with_a_clear_message_and_nothing_stored(
    nurse_medsurg, attachments_dir, name, data, words
):
    ticket = TicketFactory(requester=nurse_medsurg)
    with pytest.raises(AttachmentRefused, match=words):
        ticket_comment(ticket=ticket, author=nurse_medsurg, text="see file",
                       attachments=[upload(name, data, "image/png")])  # fmt: skip
    assert not Attachment.objects.exists()
    assert not ticket.events.filter(kind=TicketEvent.Kind.COMMENT).exists()
    assert not attachments_dir.exists() or not os.listdir(attachments_dir)


def test_one_byte_over_the_limit_is_refused_and_the_limit_itself_accepted(settings, nurse_medsurg):
    settings.HELPDESK = {**settings.HELPDESK, "ATTACHMENT_MAX_BYTES": 2048}
    at_limit = b"a" * 2047 + b"\n"
    assert check_file(upload("ok.txt", at_limit)).size == 2048
    with pytest.raises(AttachmentRefused, match="larger than"):
        check_file(upload("big.txt", at_limit + b"b"))


def test_a_ticket_holds_no_more_than_its_total(settings, nurse_medsurg):
    settings.HELPDESK = {**settings.HELPDESK, "ATTACHMENT_TICKET_MAX_BYTES": 3000}
    ticket = TicketFactory(requester=nurse_medsurg)
    ticket_comment(
        ticket=ticket, author=nurse_medsurg, text="", attachments=[upload("a.txt", b"a" * 2000)]
    )
    with pytest.raises(AttachmentRefused, match="at most"):
        ticket_comment(
            ticket=ticket, author=nurse_medsurg, text="", attachments=[upload("b.txt", b"b" * 1500)]
        )
    assert Attachment.objects.count() == 1


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("C:\\Users\\nurse\\Desktop\\screen.png", "screen.png"),
        ('say "hi"\r\nSet-Cookie: x=1.txt', "say hi Set-Cookie x=1.txt"),
        ("invoice\u202egnp.exe.txt", "invoicegnp.exe.txt"),
        ("..hidden.log", "hidden.log"),
        ("", "attachment"),
        ("x" * 300 + ".csv", "x" * 116 + ".csv"),
    ],
)
def test_names_are_cleaned_for_headers_and_pages(raw, clean):
    assert clean_name(raw) == clean


def test_a_refused_name_is_not_echoed_raw(nurse_medsurg):
    with pytest.raises(AttachmentRefused) as refused:
        check_file(upload('../x"\n\u202e.png', b"<html>"))
    assert "\n" not in str(refused.value)
    assert "\u202e" not in str(refused.value)
    assert '"' not in str(refused.value).split(":")[0]


def test_exif_and_gps_are_gone_from_a_stored_jpeg(nurse_medsurg):
    original = jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif()  # the test file has them
    stored = check_file(upload("photo.jpg", original))
    image = Image.open(io.BytesIO(stored.data))
    assert not image.getexif()
    assert "exif" not in image.info
    assert "comment" not in image.info
    assert b"SERIAL-123456" not in stored.data
    assert b"CameraMaker" not in stored.data


def test_a_large_photo_is_capped_on_its_long_side():
    stored = check_file(upload("wide.png", image_bytes("PNG", size=(6000, 1000))))
    assert Image.open(io.BytesIO(stored.data)).size == (4096, 683)


def test_a_20000_pixel_square_png_is_refused_before_it_is_decoded():
    bomb = huge_png(20000)
    assert len(bomb) < 1024 * 1024
    with pytest.raises(AttachmentRefused, match="more pixels than an image may have"):
        check_file(upload("bomb.png", bomb))


def test_a_filing_that_fails_after_its_files_are_written_leaves_no_file(
    nurse_ed, attachments_dir, monkeypatch
):
    def paging_fails(**kwargs):
        assert len(os.listdir(attachments_dir)) == 1  # written before the commit
        raise RuntimeError("the database went away")

    monkeypatch.setattr(paging, "start_chain", paging_fails)
    with pytest.raises(RuntimeError):
        file_p1(nurse_ed, attachments=[upload("screen.png", image_bytes("PNG"))])
    assert not Ticket.objects.exists()
    assert os.listdir(attachments_dir) == []


def test_an_outer_rollback_leaves_a_file_the_sweep_removes(nurse_medsurg, attachments_dir):
    ticket = TicketFactory(requester=nurse_medsurg)
    with pytest.raises(RuntimeError), transaction.atomic():  # noqa: PT012
        ticket_comment(ticket=ticket, author=nurse_medsurg, text="",
                       attachments=[upload("a.txt", b"written")])  # fmt: skip
        raise RuntimeError("the request failed after the upload")
    assert not Attachment.objects.exists()
    assert len(os.listdir(attachments_dir)) == 1
    # Too young: it might be a transaction still running.
    assert sweep_orphans() == 0
    assert sweep_orphans(now=timezone.now() + timedelta(hours=1, minutes=1)) == 1
    assert os.listdir(attachments_dir) == []


def test_the_same_filing_sent_twice_stores_its_files_once(nurse_ed, attachments_dir):
    first = file_p1(
        nurse_ed, idempotency_key="k1", attachments=[upload("a.png", image_bytes("PNG"))]
    )
    again = file_p1(
        nurse_ed, idempotency_key="k1", attachments=[upload("a.png", image_bytes("PNG"))]
    )
    assert (again.ticket.pk, again.created) == (first.ticket.pk, False)
    assert Attachment.objects.count() == 1
    assert len(os.listdir(attachments_dir)) == 1
    assert Attachment.objects.get().event.kind == TicketEvent.Kind.FILED


def file_p1(requester, **overrides):
    return ticket_file(
        requester=requester,
        location=Location.objects.get(code="ED"),
        category=Category.objects.get(slug="ehr"),
        title="Epic frozen on all triage PCs",
        callback="x4410",
        care_delayed=True,
        scope=Scope.SEVERAL,
        workaround=False,
        **overrides,
    )


def test_orphan_sweep_keeps_live_files_and_young_orphans(nurse_medsurg, attachments_dir):
    ticket = TicketFactory(requester=nurse_medsurg)
    ticket_comment(
        ticket=ticket, author=nurse_medsurg, text="", attachments=[upload("a.txt", b"kept")]
    )
    live = Attachment.objects.get().stored_name
    leftover = attachments_dir / "0123456789abcdef0123456789abcdef01234567"
    leftover.write_bytes(b"left by a killed worker")
    hour_and_a_bit = time.time() - 3700
    os.utime(leftover, (hour_and_a_bit, hour_and_a_bit))
    os.utime(attachments_dir / live, (hour_and_a_bit, hour_and_a_bit))
    young = attachments_dir / "fedcba9876543210fedcba9876543210fedcba98"
    young.write_bytes(b"a transaction still running")
    assert attachment_orphan_sweep() == 1
    assert sorted(os.listdir(attachments_dir)) == sorted([live, young.name])
