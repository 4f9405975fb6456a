"""IT's pages about the mailboxes: "E-mail in" and "Mail to review"."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from departments.models import Location
from intake.imap import MailboxConfig
from intake.models import InboundMessage
from intake.services import receive
from tests.intake.messages import mail
from tickets.models import Category, Ticket, TicketEvent

pytestmark = pytest.mark.django_db

MAIN = {
    "NAME": "main",
    "HOST": "imap.lakeside.example",
    "PORT": 993,
    "SECURITY": "tls",
    "CA_FILE": "",
    "USERNAME": "helpdesk",
    "PASSWORD": "secret",
    "OAUTH_TENANT": "",
    "OAUTH_CLIENT_ID": "",
    "OAUTH_CLIENT_SECRET": "",
    "OAUTH_AUTHORITY": "https://login.microsoftonline.com",
    "FOLDER": "INBOX",
    "PROCESSED_FOLDER": "Processed",
    "FAILED_FOLDER": "Failed",
    "CATEGORY": "requests",
    "LOCATION": "",
}


@pytest.fixture
def mailbox(settings, reference_data) -> MailboxConfig:
    """The "main" mailbox, configured; these pages never reach its server."""
    settings.HELPDESK_MAILBOXES = {"main": MAIN}
    settings.HELPDESK_MAIL_VENDOR_DOMAINS = ["pacs-vendor.example"]
    return MailboxConfig.from_settings(MAIN)


def received(mailbox: MailboxConfig, **message) -> InboundMessage:
    row = receive(
        mailbox=mailbox,
        category=Category.objects.get(slug=mailbox.category),
        raw=mail(**message).as_bytes(),
    )
    assert row is not None
    return row


@pytest.fixture
def held(mailbox) -> InboundMessage:
    return received(
        mailbox,
        sender="Sam Lee <sam.lee@agency-staff.example>",
        subject="Cannot sign in to the EHR <b>today</b>",
        text="Agency nurse on 4 North.\n<script>alert('x')</script>",
    )


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("intake:status", {}),
        ("intake:review", {}),
        ("intake:review_detail", {"pk": 1}),
    ],
)
def test_requesters_get_404_on_the_mail_pages(client, nurse_ed, mailbox, name, kwargs):
    client.force_login(nurse_ed)

    assert client.get(reverse(name, kwargs=kwargs)).status_code == 404


def test_a_requester_cannot_accept_or_discard_held_mail(client, nurse_ed, held):
    client.force_login(nurse_ed)

    assert client.post(reverse("intake:discard", kwargs={"pk": held.pk})).status_code == 404
    held.refresh_from_db()
    assert held.is_held


def test_review_list_shows_held_mail_in_fixed_queries(
    client, tech, mailbox, django_assert_num_queries
):
    for number in range(3):
        received(mailbox, sender=f"visitor{number}@elsewhere.example", subject=f"Help {number}")
    client.force_login(tech)

    # Session, user, roles, the held rows with their tickets joined, the session's save (an
    # UPDATE between a savepoint and its release), and the major incident banner on a cold cache
    # (open incidents, planned downtimes): none per message.
    with django_assert_num_queries(9):
        response = client.get(reverse("intake:review"))

    assert response.status_code == 200
    page = response.content.decode()
    for number in range(3):
        assert f"visitor{number}@elsewhere.example" in page
        assert f"Help {number}" in page


def test_held_mail_is_shown_as_escaped_text(client, tech, held):
    client.force_login(tech)

    page = client.get(reverse("intake:review_detail", kwargs={"pk": held.pk})).content.decode()

    assert "&lt;script&gt;alert(" in page
    assert "<script>alert(" not in page
    assert "Cannot sign in to the EHR &lt;b&gt;today&lt;/b&gt;" in page
    assert "The sender is not a help desk user" in page


def accept(client, held, **form):
    return client.post(reverse("intake:accept", kwargs={"pk": held.pk}), form)


def test_accepting_for_a_new_requester_files_the_ticket_in_her_name(client, tech, held):
    client.force_login(tech)

    response = accept(client, held, requester="", location=med_surg_unit(), category=requests())

    assert response.status_code == 302
    ticket = Ticket.objects.get()
    requester = ticket.requester
    assert (requester.email, requester.first_name, requester.last_name) == (
        "sam.lee@agency-staff.example",
        "Sam",
        "Lee",
    )
    assert requester.groups.filter(name="requester").exists()
    assert not requester.has_usable_password()
    assert ticket.source == Ticket.Source.EMAIL
    assert ticket.needs_triage
    assert ticket.title == "Cannot sign in to the EHR <b>today</b>"
    held.refresh_from_db()
    assert (held.outcome, held.decided_by, held.ticket) == ("accepted", tech, ticket)
    assert (held.body, held.raw) == ("", None)


def test_accepting_for_an_existing_user(client, tech, held, nurse_medsurg):
    client.force_login(tech)

    accept(
        client,
        held,
        requester=nurse_medsurg.email.upper(),
        location=med_surg_unit(),
        category=requests(),
    )

    assert Ticket.objects.get().requester == nurse_medsurg


def test_accepting_for_nobody_known_changes_nothing(client, tech, held):
    client.force_login(tech)

    response = accept(
        client, held, requester="no.such.person", location=med_surg_unit(), category=requests()
    )

    assert response.status_code == 400
    assert "No active help desk user has this username or address." in response.content.decode()
    assert not Ticket.objects.exists()
    assert not User.objects.filter(email="sam.lee@agency-staff.example").exists()
    held.refresh_from_db()
    assert held.is_held


def test_discarding_records_who_did_it(client, tech, held):
    client.force_login(tech)

    client.post(reverse("intake:discard", kwargs={"pk": held.pk}))

    held.refresh_from_db()
    assert (held.outcome, held.decided_by, held.body) == ("discarded", tech, "")
    assert not Ticket.objects.exists()
    # Decided: it is no longer there to decide again.
    second = client.post(reverse("intake:discard", kwargs={"pk": held.pk}))
    assert second.status_code == 404


def test_a_vendor_s_mail_is_added_as_an_internal_note(client, tech, mailbox, nurse_ed):
    ticket = received(mailbox, sender=nurse_ed.email).ticket
    vendor = received(
        mailbox,
        sender="support@pacs-vendor.example",
        subject=f"RE: [{ticket.number}] worklist",
        text="We restarted the worklist service at 10:05.",
    )
    client.force_login(tech)

    client.post(reverse("intake:add_note", kwargs={"pk": vendor.pk}))

    note = ticket.events.get(kind=TicketEvent.Kind.INTERNAL_NOTE)
    assert note.actor == tech
    assert not note.is_public
    assert note.text == (
        "E-mail from support@pacs-vendor.example:\n\nWe restarted the worklist service at 10:05."
    )


def test_status_page_says_a_mailbox_was_never_read(client, tech, mailbox):
    client.force_login(tech)

    page = client.get(reverse("intake:status")).content.decode()

    assert "helpdesk at imap.lakeside.example:993 (INBOX)" in page
    assert "Not read yet" in page


def med_surg_unit() -> int:
    return Location.objects.get(code="MEDSURG").pk


def requests() -> int:
    return Category.objects.get(slug="requests").pk


def test_poll_now_reads_the_mailbox_and_says_what_it_did(client, tech, mail_server, nurse_ed):
    mail_server.deliver(mail(sender=nurse_ed.email).as_bytes())
    client.force_login(tech)

    response = client.post(reverse("intake:poll_now", args=["main"]), follow=True)

    page = response.content.decode()
    assert "main: 1 filed as a ticket." in page
    assert Ticket.objects.get().requester == nurse_ed
    assert "Not read yet" not in page


def test_poll_now_for_a_mailbox_not_configured_is_404(client, tech, mailbox):
    client.force_login(tech)

    assert client.post(reverse("intake:poll_now", args=["other"])).status_code == 404
