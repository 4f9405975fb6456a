"""Attachments through the API: sent with a filing, a reply or an internal note (multipart),
listed and downloaded under the ticket with the pages' rules, never in the ticket list."""

from __future__ import annotations

import pytest
from django.urls import reverse

from audit.models import AuditEntry
from tests.attachment_files import CANARY, image_bytes, pdf_bytes, upload
from tests.factories import TicketFactory
from tickets.models import Attachment, Ticket, TicketEvent
from tickets.services import ticket_comment

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("attachments_dir")]

CANARY_NAME = f"{CANARY}.log"


def filing(**overrides):
    data = {
        "category": "ehr",
        "title": "Epic frozen",
        "callback": "x4410",
        "location": "MEDSURG",
        "care_delayed": "false",
        "scope": "me",
        "workaround": "true",
    }
    data.update(overrides)
    return data


def test_files_come_with_a_filing(api, nurse_medsurg):
    client = api(nurse_medsurg, token=True)
    response = client.post(
        reverse("api-ticket-list"),
        filing(attachments=[upload("a.png", image_bytes("PNG")), upload("b.pdf", pdf_bytes())]),
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    ticket = Ticket.objects.get()
    assert sorted(ticket.attachments.values_list("original_name", flat=True)) == ["a.png", "b.pdf"]


def test_a_refused_file_refuses_the_filing(api, nurse_medsurg):
    client = api(nurse_medsurg, token=True)
    response = client.post(
        reverse("api-ticket-list"),
        filing(attachments=[upload("a.png", b"<svg onload=alert(1)>")]),
        format="multipart",
    )
    assert response.status_code == 400
    assert "not accepted" in response.json()["attachments"][0]
    assert not Ticket.objects.exists()
    assert not Attachment.objects.exists()


def test_reply_and_internal_note_take_files(api, tech, nurse_medsurg):
    ticket = TicketFactory(requester=nurse_medsurg)
    client = api(tech, token=True)
    base = reverse("api-ticket-detail", kwargs={"pk": ticket.pk})
    reply = client.post(
        base + "reply/", {"attachments": [upload("fix.pdf", pdf_bytes())]}, format="multipart"
    )
    note = client.post(
        base + "internal-note/",
        {"text": "vendor", "attachments": [upload(CANARY_NAME, b"log\n")]},
        format="multipart",
    )
    assert (reply.status_code, note.status_code) == (200, 200)
    kinds = dict(Attachment.objects.values_list("original_name", "event__kind"))
    assert kinds == {
        "fix.pdf": TicketEvent.Kind.COMMENT,
        CANARY_NAME: TicketEvent.Kind.INTERNAL_NOTE,
    }
    nurse = api(nurse_medsurg, token=True)
    refused = nurse.post(
        base + "internal-note/", {"attachments": [upload("x.txt", b"x\n")]}, format="multipart"
    )
    assert refused.status_code == 403


@pytest.fixture
def files(nurse_medsurg, outsider, tech):
    mine = TicketFactory(requester=nurse_medsurg)
    theirs = TicketFactory(requester=outsider)
    ticket_comment(
        ticket=mine,
        author=nurse_medsurg,
        text="",
        attachments=[upload("own.png", image_bytes("PNG"))],
    )
    ticket_comment(
        ticket=mine, author=tech, text="n", internal=True, attachments=[upload(CANARY_NAME, b"x\n")]
    )
    ticket_comment(
        ticket=theirs, author=outsider, text="", attachments=[upload("other.pdf", pdf_bytes())]
    )
    by_name = {a.original_name: a for a in Attachment.objects.all()}
    return {
        "own": by_name["own.png"],
        "internal": by_name[CANARY_NAME],
        "other": by_name["other.pdf"],
    }


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
def test_every_role_and_every_attachment(request, api, files, who, allowed):
    user = request.getfixturevalue(who)
    client = api(user, token=True)
    for label, attachment in files.items():
        url = reverse(
            "api-ticket-attachment",
            kwargs={"pk": attachment.ticket_id, "attachment": attachment.pk},
        )
        response = client.get(url, HTTP_ACCEPT="*/*")
        assert response.status_code == (200 if label in allowed else 404), (who, label)
        listing = client.get(reverse("api-ticket-attachments", kwargs={"pk": attachment.ticket_id}))
        names = [row["name"] for row in listing.json()] if listing.status_code == 200 else []
        assert (attachment.original_name in names) == (label in allowed), (who, label)
    downloads = AuditEntry.objects.filter(kind=AuditEntry.Kind.ATTACHMENT_VIEWED, actor=user)
    assert downloads.count() == len(allowed)


def test_a_download_is_the_file_with_its_safe_headers(api, tech, files):
    attachment = files["internal"]
    client = api(tech, token=True)
    url = reverse(
        "api-ticket-attachment", kwargs={"pk": attachment.ticket_id, "attachment": attachment.pk}
    )
    response = client.get(url, HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"x\n"
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"].startswith("sandbox")


def test_the_ticket_list_and_the_ticket_carry_no_attachment(api, tech, files):
    client = api(tech, token=True)
    listing = client.get(reverse("api-ticket-list")).content.decode()
    one = client.get(
        reverse("api-ticket-detail", kwargs={"pk": files["own"].ticket_id})
    ).content.decode()
    timeline = client.get(
        reverse("api-ticket-timeline", kwargs={"pk": files["own"].ticket_id})
    ).content.decode()
    for body in (listing, one, timeline):
        assert CANARY not in body
        assert "own.png" not in body
