"""Files on the ticket pages: sent with the filing form and the reply boxes, listed under the
timeline entry they came with, served only to who may see them, audited, removed by IT."""

from __future__ import annotations

import logging

import pytest
from django.core import mail
from django.urls import reverse

from audit.models import AuditEntry
from tests.attachment_files import CANARY, image_bytes, pdf_bytes, upload
from tests.factories import TicketFactory
from tests.tickets.test_notifications import send_waiting
from tests.tickets.test_views_file import answers
from tickets.models import Attachment, OutgoingEmail, Ticket, TicketEvent
from tickets.notifications import REPLY_NOTICE
from tickets.outgoing import Outcome, send_queued
from tickets.services import attachment_remove, ticket_comment

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("attachments_dir")]

K = TicketEvent.Kind
CANARY_NAME = f"{CANARY}.log"


def download_url(attachment: Attachment) -> str:
    return reverse(
        "attachment_download", kwargs={"pk": attachment.ticket_id, "attachment": attachment.pk}
    )


def remove_url(attachment: Attachment) -> str:
    return reverse(
        "remove_attachment", kwargs={"pk": attachment.ticket_id, "attachment": attachment.pk}
    )


def test_filing_form_says_the_limits_and_sends_multipart(client, nurse_ed):
    client.force_login(nurse_ed)
    body = client.get(reverse("file_ticket")).content.decode()
    assert 'enctype="multipart/form-data"' in body
    assert 'type="file" name="attachments"' in body
    assert "multiple" in body
    assert "Up to 10 MB a file, 25 MB a ticket: screenshots, PDF, text/CSV, Office files." in body


def test_a_screenshot_filed_with_the_ticket(client, nurse_ed):
    client.force_login(nurse_ed)
    data = answers(attachments=[upload("screen.png", image_bytes("PNG"))])
    response = client.post(reverse("file_ticket"), data)
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    attachment = Attachment.objects.get()
    assert attachment.ticket == ticket
    assert attachment.event.kind == K.FILED
    assert attachment.uploader == nurse_ed


def test_a_refused_file_brings_the_form_back_with_what_she_typed(client, nurse_ed):
    client.force_login(nurse_ed)
    data = answers(
        description="Scanner beeps twice",
        attachments=[upload("screen.png", b"<html><script>alert(1)</script></html>")],
    )
    response = client.post(reverse("file_ticket"), data)
    body = response.content.decode()
    assert response.status_code == 200
    assert "this kind of file is not accepted" in body
    assert "choose the files to send again" in body
    assert "Epic frozen on all triage PCs" in body
    assert "Scanner beeps twice" in body
    assert not Ticket.objects.exists()
    assert not Attachment.objects.exists()


def test_a_file_over_the_limit_is_cut_off_while_it_arrives(client, nurse_ed, settings):
    settings.HELPDESK = {**settings.HELPDESK, "ATTACHMENT_MAX_BYTES": 1000}
    client.force_login(nurse_ed)
    data = answers(attachments=[upload("big.log", b"a" * 1001)])
    response = client.post(reverse("file_ticket"), data)
    body = response.content.decode()
    assert "big.log is larger than" in body
    assert "Epic frozen on all triage PCs" in body
    assert not Ticket.objects.exists()


def test_reply_and_internal_note_carry_files(client, tech, nurse_medsurg):
    ticket = TicketFactory(requester=nurse_medsurg)
    client.force_login(tech)
    url = ticket.get_absolute_url()
    client.post(
        url, {"visibility": "reply", "text": "", "attachments": [upload("fix.pdf", pdf_bytes())]}
    )
    client.post(
        url,
        {"visibility": "internal", "text": "vendor log", "attachments": [upload("v.log", b"x\n")]},
    )
    kinds = dict(Attachment.objects.values_list("original_name", "event__kind"))
    assert kinds == {"fix.pdf": K.COMMENT, "v.log": K.INTERNAL_NOTE}


@pytest.fixture
def files(nurse_medsurg, outsider, tech):
    """The requester's own screenshot, an internal note's log, and another requester's PDF."""
    mine = TicketFactory(requester=nurse_medsurg)
    theirs = TicketFactory(requester=outsider)
    ticket_comment(
        ticket=mine,
        author=nurse_medsurg,
        text="",
        attachments=[upload("own.png", image_bytes("PNG"))],
    )
    ticket_comment(
        ticket=mine,
        author=tech,
        text="note",
        internal=True,
        attachments=[upload(CANARY_NAME, f"{CANARY}\n".encode())],
    )
    ticket_comment(
        ticket=theirs, author=outsider, text="", attachments=[upload("other.pdf", pdf_bytes())]
    )
    by_name = {a.original_name: a for a in Attachment.objects.all()}
    return by_name["own.png"], by_name[CANARY_NAME], by_name["other.pdf"]


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        ("nurse_medsurg", {"own"}),
        ("outsider", {"other"}),
        ("nurse_ed", set()),
        ("tech", {"own", "internal", "other"}),
        ("manager", {"own", "internal", "other"}),
    ],
)
def test_every_role_and_every_attachment(request, client, files, who, allowed):
    own, internal, other = files
    client.force_login(request.getfixturevalue(who))
    for label, attachment in (("own", own), ("internal", internal), ("other", other)):
        response = client.get(download_url(attachment))
        assert response.status_code == (200 if label in allowed else 404), (who, label)
        page = client.get(reverse("ticket_detail", kwargs={"pk": attachment.ticket_id}))
        assert (attachment.original_name in page.content.decode()) == (label in allowed)


def test_served_safely_and_audited(client, files, tech):
    own, internal, _other = files
    client.force_login(tech)
    image = client.get(download_url(own))
    assert image["Content-Type"] == "image/png"
    assert image["Content-Disposition"].startswith("inline")
    log = client.get(download_url(internal))
    assert log["Content-Disposition"].startswith("attachment")
    assert log["Content-Type"] == "text/plain; charset=utf-8"
    for response in (image, log):
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Security-Policy"].startswith("sandbox; default-src 'none'")
        assert response["Cache-Control"] == "private, no-store"
    audited = AuditEntry.objects.filter(kind=AuditEntry.Kind.ATTACHMENT_VIEWED).values_list(
        "actor", "object_id"
    )
    assert sorted(audited) == sorted([(tech.pk, str(own.pk)), (tech.pk, str(internal.pk))])


def test_the_page_lists_files_under_their_entry_with_a_thumbnail(client, files, tech):
    own, _internal, _other = files
    client.force_login(tech)
    body = client.get(reverse("ticket_detail", kwargs={"pk": own.ticket_id})).content.decode()
    assert f'<img class="attachment-thumb" src="{download_url(own)}"' in body
    assert "PNG image" in body


def test_it_removes_an_attachment_with_a_reason(
    client, files, tech, nurse_medsurg, attachments_dir, django_capture_on_commit_callbacks
):
    own, _internal, _other = files
    client.force_login(tech)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(remove_url(own), {"remove-reason": "shows a patient"})
    assert response.status_code == 302
    removed = Attachment.objects.get(pk=own.pk)
    assert removed.deleted_by == tech
    assert removed.deleted_reason == "shows a patient"
    assert not (attachments_dir / own.stored_name).exists()
    assert client.get(download_url(own)).status_code == 404
    client.force_login(nurse_medsurg)
    page = client.get(reverse("ticket_detail", kwargs={"pk": own.ticket_id})).content.decode()
    assert "Attachment removed" in page
    assert "shows a patient" in page
    assert "own.png" not in page


def test_a_requester_cannot_remove_an_attachment(client, files, nurse_medsurg):
    own, _internal, _other = files
    client.force_login(nurse_medsurg)
    response = client.post(remove_url(own), {"remove-reason": "mine"})
    assert response.status_code == 404
    assert Attachment.objects.get(pk=own.pk).deleted_at is None


def test_the_canary_never_leaves_in_mail_exports_or_logs(client, tech, manager, nurse_ed, caplog):
    """A file's name and content stay on the ticket page and its serving view: the filing and
    reply notices, the CSV export (titles included) and the logs carry neither."""
    caplog.set_level(logging.DEBUG)
    client.force_login(nurse_ed)
    data = answers(attachments=[upload(CANARY_NAME, f"{CANARY}\n".encode())])
    client.post(reverse("file_ticket"), data)
    ticket = Ticket.objects.get()
    send_waiting()
    client.force_login(tech)
    client.post(
        ticket.get_absolute_url(),
        {
            "visibility": "reply",
            "text": "",
            "attachments": [upload(CANARY_NAME, f"{CANARY} again\n".encode())],
        },
    )
    reply = ticket.events.get(kind=K.COMMENT)
    email = OutgoingEmail.objects.get(kind=REPLY_NOTICE, about_id=reply.pk)
    assert send_queued(email.pk) == Outcome.SENT
    for attachment in Attachment.objects.all():
        assert CANARY.encode() in b"".join(client.get(download_url(attachment)).streaming_content)
        attachment_remove(attachment=attachment, actor=tech, reason="done")
    client.force_login(manager)
    export = client.get(
        reverse("reports:export", args=["tickets"]), {"period": "7", "include_titles": "1"}
    )
    exported = b"".join(export.streaming_content).decode()
    assert ticket.number in exported
    assert mail.outbox
    for message in mail.outbox:
        assert CANARY not in message.subject + message.body
        assert not message.attachments
    assert CANARY not in exported
    assert CANARY not in caplog.text


@pytest.mark.parametrize("size", [1, 5])
def test_the_ticket_page_costs_the_same_whatever_the_number_of_files(
    client, tech, nurse_medsurg, django_assert_num_queries, size
):
    ticket = TicketFactory(requester=nurse_medsurg)
    ticket_comment(
        ticket=ticket,
        author=nurse_medsurg,
        text="",
        attachments=[upload(f"s{n}.png", image_bytes("PNG")) for n in range(size)],
    )
    client.force_login(tech)
    client.get(ticket.get_absolute_url())
    # As test_views_workspace counts them (the files read with the timeline): never one per
    # file or per entry.
    with django_assert_num_queries(9):
        response = client.get(ticket.get_absolute_url())
    (comment,) = (event for event in response.context["events"] if event.files)
    assert [file.name for file in comment.files] == [f"s{n}.png" for n in range(size)]
    assert response.content.count(b'class="attachment-thumb"') == size
