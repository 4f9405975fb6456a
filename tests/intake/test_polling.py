"""Reading the mailbox against a real dovecot: what each kind of e-mail becomes, and that nothing
is filed twice or lost."""

from __future__ import annotations

import io
import random
import threading
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
import time_machine
from celery.exceptions import SoftTimeLimitExceeded
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone
from PIL import Image

from bench.slapd import make_certificates
from departments.models import Location
from intake import imap, polling
from intake.imap import MailboxUnavailable, mailbox_config
from intake.models import InboundMessage, MailboxStatus
from intake.polling import poll, take_lease
from intake.tasks import poll_mailboxes
from tests.attachment_files import image_bytes
from tests.factories import UserFactory
from tests.intake.conftest import point_at
from tests.intake.messages import mail
from tickets.mail import reply_address, reply_token
from tickets.models import Category, Ticket, TicketEvent
from tickets.priority import Scope
from tickets.services import ticket_file, ticket_resolve

pytestmark = pytest.mark.django_db


def test_mail_from_a_known_nurse_files_a_ticket_for_triage(mail_server, mailbox, nurse_ed):
    mail_server.deliver(mail(sender="Erin Nurse <NURSE.ED@Lakeside.Example>").as_bytes())

    result = poll(mailbox)

    ticket = Ticket.objects.get()
    assert ticket.requester == nurse_ed
    assert ticket.title == "Wristband printer in triage prints blank bands"
    assert "prints blank bands since 06:00" in ticket.description
    assert ticket.source == Ticket.Source.EMAIL
    assert ticket.needs_triage
    assert ticket.priority == 4
    assert ticket.department.code == "ED"
    assert ticket.category.slug == "requests"
    assert result.outcomes == {"filed": 1}
    assert mail_server.uids("INBOX") == []
    assert len(mail_server.uids("Processed")) == 1
    row = InboundMessage.objects.get()
    assert (row.outcome, row.ticket) == (InboundMessage.Outcome.FILED, ticket)


def test_html_only_mail_is_filed_as_text(mail_server, mailbox, nurse_ed):
    html = (
        "<html><head><style>p { color: red }</style></head><body>"
        "<p>Barcode scanner on <b>8 North</b> won&#39;t read wristbands.</p>"
        "<p>Tried&nbsp;rebooting &amp; re-pairing.</p><script>alert('x')</script></body></html>"
    )
    mail_server.deliver(mail(text=None, html=html).as_bytes())

    poll(mailbox)

    description = Ticket.objects.get().description
    assert description == (
        "Barcode scanner on 8 North won't read wristbands.\nTried rebooting & re-pairing."
    )


def test_subject_in_encoded_words_with_emoji_becomes_the_title(mail_server, mailbox, nurse_ed):
    message = mail(subject="Re: Fwd: Étiquettes 🖨️ du labo: imprimante hors ligne")
    raw = message.as_bytes()
    assert b"=?utf-8?" in raw  # the subject travels as encoded words

    poll_after(mail_server, mailbox, raw)

    assert Ticket.objects.get().title == "Étiquettes 🖨️ du labo: imprimante hors ligne"


def test_a_long_subject_is_trimmed_to_the_title_limit(mail_server, mailbox, nurse_ed):
    poll_after(mail_server, mailbox, mail(subject="Printer " * 40).as_bytes())

    title = Ticket.objects.get().title
    assert len(title) == 120
    assert title.endswith("…")


def test_body_in_windows_1252_is_decoded(mail_server, mailbox, nurse_ed):
    text = "Caf\u00e9 kiosk \u2013 the badge reader shows \u201cerror 25\u00b0\u201d."
    message = mail(text=text, charset="windows-1252")
    assert b"windows-1252" in message.as_bytes()

    poll_after(mail_server, mailbox, message.as_bytes())

    assert Ticket.objects.get().description == text


def poll_after(mail_server, mailbox, *raw: bytes):
    mail_server.deliver(*raw)
    return poll(mailbox)


# --- Replies -------------------------------------------------------------------------------


def filed_by(requester, **answers) -> Ticket:
    location = Location.objects.filter(department=requester.profile.home_department).first()
    return ticket_file(
        requester=requester,
        location=location,
        category=Category.objects.get(slug="printers"),
        title="Wristband printer blank",
        callback="x4567",
        care_delayed=False,
        scope=Scope.UNIT,
        workaround=True,
        **answers,
    ).ticket


QUOTED_REPLY = """Still printing blank bands after the new ribbon.

Thanks,
Erin
Sent from my iPhone

On Mon, 7 Dec 2026 at 09:00, IT Service Desk <helpdesk@localhost> wrote:
> We have your ticket. A technician will call you back.
> IT Service Desk
"""


def test_reply_threads_into_its_ticket_without_the_quoted_history(mail_server, mailbox, nurse_ed):
    ticket = filed_by(nurse_ed)
    other = filed_by(nurse_ed)
    reply = mail(
        to=reply_address(ticket.pk, nurse_ed.pk),
        subject=f"Re: [{ticket.number}] Wristband printer blank",
        text=QUOTED_REPLY,
    )

    result = poll_after(mail_server, mailbox, reply.as_bytes())

    assert result.outcomes == {"commented": 1}
    comment = ticket.events.get(kind=TicketEvent.Kind.COMMENT)
    assert comment.actor == nurse_ed
    assert comment.is_public
    assert comment.text == "Still printing blank bands after the new ribbon."
    assert not other.events.filter(kind=TicketEvent.Kind.COMMENT).exists()
    assert Ticket.objects.count() == 2


def test_reply_token_in_the_header_threads_too(mail_server, mailbox, nurse_ed):
    ticket = filed_by(nurse_ed)
    reply = mail(
        subject=f"Re: [{ticket.number}] Wristband printer blank",
        headers={"X-Helpdesk-Reply-Token": reply_token(ticket.pk, nurse_ed.pk)},
        text="Fixed now, thank you.",
    )

    poll_after(mail_server, mailbox, reply.as_bytes())

    assert ticket.events.get(kind=TicketEvent.Kind.COMMENT).text == "Fixed now, thank you."


def test_forged_reply_address_is_held_and_added_nowhere(mail_server, mailbox, nurse_ed):
    ticket = filed_by(nurse_ed)
    forged = f"helpdesk+{ticket.number.lower()}.{nurse_ed.pk}.0123456789abcdef@localhost"

    poll_after(mail_server, mailbox, mail(to=forged, text="Close this please").as_bytes())

    held = InboundMessage.objects.get()
    assert (held.outcome, held.hold) == ("held", InboundMessage.Hold.FORGED_TOKEN)
    assert not ticket.events.filter(kind=TicketEvent.Kind.COMMENT).exists()
    assert Ticket.objects.count() == 1


def test_reply_from_someone_who_may_not_see_the_ticket_is_held(
    mail_server, mailbox, nurse_ed, outsider
):
    ticket = filed_by(nurse_ed)
    forwarded = mail(sender=outsider.email, to=reply_address(ticket.pk, nurse_ed.pk))

    poll_after(mail_server, mailbox, forwarded.as_bytes())

    held = InboundMessage.objects.get()
    assert (held.hold, held.ticket) == (InboundMessage.Hold.NOT_ALLOWED, ticket)
    assert not ticket.events.filter(kind=TicketEvent.Kind.COMMENT).exists()


def test_reply_to_a_resolved_ticket_is_held_with_the_ticket_s_answer(
    mail_server, mailbox, nurse_ed, tech
):
    ticket = filed_by(nurse_ed)
    ticket_resolve(ticket=ticket, actor=tech, code="fixed", note="New ribbon fitted.")
    reply = mail(to=reply_address(ticket.pk, nurse_ed.pk), text="Broken again.")

    poll_after(mail_server, mailbox, reply.as_bytes())

    held = InboundMessage.objects.get()
    assert held.hold == InboundMessage.Hold.REPLY_REFUSED
    assert held.note == f"{ticket.number} is resolved. File a new ticket if the problem is back."
    assert held.body == "Broken again."


# --- Mail sent by machines -------------------------------------------------------------------


def test_out_of_office_reply_is_recorded_and_ignored(mail_server, mailbox, nurse_ed):
    ticket = filed_by(nurse_ed)
    out_of_office = mail(
        to=reply_address(ticket.pk, nurse_ed.pk),
        subject="Automatic reply: Wristband printer blank",
        text="I am out of the office until Monday.",
        headers={"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All"},
    )

    result = poll_after(mail_server, mailbox, out_of_office.as_bytes())

    assert result.outcomes == {"ignored": 1}
    assert InboundMessage.objects.get().note == "Auto-Submitted: auto-replied"
    assert not ticket.events.filter(kind=TicketEvent.Kind.COMMENT).exists()
    assert len(mail_server.uids("Processed")) == 1


def bounce(to_address: str) -> bytes:
    report = EmailMessage()
    report["From"] = "Mail Delivery System <MAILER-DAEMON@mail.lakeside.example>"
    report["To"] = to_address
    report["Subject"] = "Undelivered Mail Returned to Sender"
    report["Return-Path"] = "<>"
    report["Message-ID"] = make_msgid("bounce", "mail.lakeside.example")
    report.set_content("This is the mail system. Your message could not be delivered.")
    status = EmailMessage()
    status.set_content("Reporting-MTA: dns; mail\n\nFinal-Recipient: rfc822; gone@x.example\n")
    report.make_mixed()
    report.attach(status)
    report.replace_header(
        "Content-Type", 'multipart/report; report-type=delivery-status; boundary="b1"'
    )
    return report.as_bytes()


def test_bounce_is_recorded_and_ignored(mail_server, mailbox, nurse_ed):
    result = poll_after(mail_server, mailbox, bounce("helpdesk@localhost"))

    assert result.outcomes == {"ignored": 1}
    assert not Ticket.objects.exists()


@pytest.mark.parametrize(
    "headers",
    [
        {"Precedence": "bulk"},
        {"List-Id": "<ward-news.lakeside.example>"},
        {"X-Autoreply": "yes"},
        {"Auto-Submitted": "auto-generated"},
    ],
)
def test_mailing_lists_and_auto_replies_file_nothing(mail_server, mailbox, nurse_ed, headers):
    result = poll_after(mail_server, mailbox, mail(headers=headers).as_bytes())

    assert result.outcomes == {"ignored": 1}
    assert not Ticket.objects.exists()


def test_auto_submitted_no_is_a_person(mail_server, mailbox, nurse_ed):
    poll_after(mail_server, mailbox, mail(headers={"Auto-Submitted": "no"}).as_bytes())

    assert Ticket.objects.count() == 1


# --- Held for review ---------------------------------------------------------------------------


def test_unknown_sender_is_held_for_review(mail_server, mailbox, nurse_ed):
    result = poll_after(
        mail_server, mailbox, mail(sender="Sam Visitor <sam@elsewhere.example>").as_bytes()
    )

    assert result.outcomes == {"held": 1}
    held = InboundMessage.objects.get()
    assert (held.hold, held.sender, held.sender_name) == (
        InboundMessage.Hold.UNKNOWN_SENDER,
        "sam@elsewhere.example",
        "Sam Visitor",
    )
    assert held.body.startswith("The wristband printer")
    assert not Ticket.objects.exists()
    assert len(mail_server.uids("Processed")) == 1


def test_a_deactivated_user_is_an_unknown_sender(mail_server, mailbox, nurse_ed):
    nurse_ed.is_active = False
    nurse_ed.save()

    poll_after(mail_server, mailbox, mail().as_bytes())

    assert InboundMessage.objects.get().hold == InboundMessage.Hold.UNKNOWN_SENDER


def test_sender_without_a_unit_goes_to_the_mailbox_s_location(
    mail_server, mailbox, settings, monkeypatch
):
    no_unit = UserFactory(username="float.rn", role="requester", home=None)
    poll_after(mail_server, mailbox, mail(sender=no_unit.email).as_bytes())
    assert InboundMessage.objects.get().hold == InboundMessage.Hold.NO_UNIT

    point_at(settings, monkeypatch, {"HELPDESK_MAILBOX_MAIN_LOCATION": "MEDSURG"})
    poll_after(mail_server, mailbox_config("main"), mail(sender=no_unit.email).as_bytes())

    assert Ticket.objects.get().location.code == "MEDSURG"


def test_vendor_quoting_a_ticket_number_is_held_against_that_ticket(mail_server, mailbox, nurse_ed):
    ticket = filed_by(nurse_ed)
    vendor = mail(
        sender="support@pacs-vendor.example",
        subject=f"RE: Case 5512 [{ticket.number}] worklist service restarted",
    )

    poll_after(mail_server, mailbox, vendor.as_bytes())

    held = InboundMessage.objects.get()
    assert (held.hold, held.ticket) == (InboundMessage.Hold.VENDOR, ticket)


# --- Once, and only once ---------------------------------------------------------------------


def test_the_same_message_delivered_twice_files_one_ticket(mail_server, mailbox, nurse_ed):
    raw = mail().as_bytes()

    result = poll_after(mail_server, mailbox, raw, raw)

    assert Ticket.objects.count() == 1
    assert (result.outcomes, result.already_seen) == ({"filed": 1}, 1)
    assert len(mail_server.uids("Processed")) == 2


def test_a_message_without_message_id_is_known_by_its_hash(mail_server, mailbox, nurse_ed):
    raw = mail(message_id=None).as_bytes()

    poll_after(mail_server, mailbox, raw)
    poll_after(mail_server, mailbox, raw)

    assert Ticket.objects.count() == 1
    assert InboundMessage.objects.get().message_key.startswith("sha256:")


def test_a_poll_cut_off_after_filing_and_before_moving_files_once(
    mail_server, mailbox, nurse_ed, monkeypatch
):
    """The worker dies (here: the server drops the MOVE) once the ticket is committed and
    before the message leaves the folder: the next poll finds the message's row."""
    mail_server.deliver(mail().as_bytes())

    def connection_lost(*args, **kwargs):
        raise MailboxUnavailable("connection lost")

    with monkeypatch.context() as patch:
        patch.setattr(imap, "move", connection_lost)
        cut_off = poll(mailbox)
    assert cut_off.error == "connection lost"
    assert Ticket.objects.count() == 1
    assert len(mail_server.uids("INBOX")) == 1

    again = poll(mailbox)

    assert (again.outcomes, again.already_seen) == ({}, 1)
    assert Ticket.objects.count() == 1
    assert mail_server.uids("INBOX") == []
    assert len(mail_server.uids("Processed")) == 1
    assert MailboxStatus.objects.get(name="main").last_error == ""


def test_a_mailbox_held_by_another_poll_is_left_alone(mail_server, mailbox, nurse_ed):
    mail_server.deliver(mail().as_bytes())
    assert take_lease("main") is not None  # another beat's poll, still running

    result = poll(mailbox)

    assert not result.ran
    assert not Ticket.objects.exists()
    assert len(mail_server.uids("INBOX")) == 1


def test_a_lease_left_by_a_dead_poll_lapses(mail_server, mailbox, nurse_ed):
    mail_server.deliver(mail().as_bytes())
    with time_machine.travel(timezone.now() - timedelta(minutes=6)):
        take_lease("main")

    assert poll(mailbox).ran
    assert Ticket.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_polls_at_once_file_each_message_once(mail_server, mailbox, nurse_ed):
    mail_server.deliver(*(mail(subject=f"Printer {n} offline").as_bytes() for n in range(8)))
    start = threading.Barrier(2)
    results = []

    def one_poll() -> None:
        start.wait()
        try:
            results.append(poll(mailbox))
        finally:
            connection.close()

    threads = [threading.Thread(target=one_poll) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert Ticket.objects.count() == 8
    assert sorted(Ticket.objects.values_list("title", flat=True)) == [
        f"Printer {n} offline" for n in range(8)
    ]
    assert sum(result.outcomes.get("filed", 0) for result in results) == 8
    assert len(mail_server.uids("Processed")) == 8


# --- Files -----------------------------------------------------------------------------------


def with_files(message: EmailMessage, *files: tuple[str, bytes, str]) -> EmailMessage:
    for name, data, content_type in files:
        maintype, subtype = content_type.split("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return message


def test_a_3_mb_message_with_a_screenshot_files_it_with_the_ticket(
    mail_server, mailbox, nurse_ed, attachments_dir
):
    screenshot = noisy_png(1000, 1000)
    message = with_files(mail(), ("screenshot.png", screenshot, "image/png"))
    raw = message.as_bytes()
    assert len(raw) > 3 * 1024 * 1024

    poll_after(mail_server, mailbox, raw)

    attachment = Ticket.objects.get().attachments.get()
    assert attachment.original_name == "screenshot.png"
    assert attachment.content_type == "image/png"
    assert len(list(attachments_dir.iterdir())) == 1


def test_a_refused_file_is_noted_and_the_ticket_filed(
    mail_server, mailbox, nurse_ed, attachments_dir
):
    message = with_files(
        mail(),
        ("invoice.html", b"<html><script>steal()</script></html>", "text/html"),
        ("log.txt", b"printer spooler stopped at 06:02\n", "text/plain"),
    )

    poll_after(mail_server, mailbox, message.as_bytes())

    ticket = Ticket.objects.get()
    assert [a.original_name for a in ticket.attachments.all()] == ["log.txt"]
    assert "[A file sent with the e-mail was not taken: invoice.html" in ticket.description


def test_a_reply_brings_its_files(mail_server, mailbox, nurse_ed, attachments_dir):
    ticket = filed_by(nurse_ed)
    reply = with_files(
        mail(to=reply_address(ticket.pk, nurse_ed.pk), text="Photo of the error."),
        ("error.png", image_bytes("PNG"), "image/png"),
    )

    poll_after(mail_server, mailbox, reply.as_bytes())

    comment = ticket.events.get(kind=TicketEvent.Kind.COMMENT)
    assert comment.attachments.get().original_name == "error.png"


def noisy_png(width: int, height: int) -> bytes:
    """A screenshot-sized PNG that does not compress: about 3 bytes a pixel."""
    image = Image.frombytes("RGB", (width, height), random.Random(7).randbytes(width * height * 3))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


# --- When the mailbox cannot be read ---------------------------------------------------------


def test_a_wrong_password_is_the_mailbox_s_last_error(mail_server, settings, monkeypatch, nurse_ed):
    mail_server.deliver(mail().as_bytes())
    point_at(settings, monkeypatch, {"HELPDESK_MAILBOX_MAIN_PASSWORD": "not-the-password"})

    result = poll(mailbox_config("main"))

    assert "MailboxLoginError" in result.error
    status = MailboxStatus.objects.get(name="main")
    assert "MailboxLoginError" in status.last_error
    assert status.last_poll_at is not None
    assert len(mail_server.uids("INBOX")) == 1


def test_starttls_reads_the_mailbox_too(mail_server, settings, monkeypatch, nurse_ed):
    point_at(settings, monkeypatch, mail_server.env("MAIN", starttls=True))
    mail_server.deliver(mail().as_bytes())

    assert poll(mailbox_config("main")).outcomes == {"filed": 1}


def test_a_certificate_from_another_ca_is_refused(mail_server, settings, monkeypatch, tmp_path):
    other_ca = make_certificates(tmp_path)
    point_at(settings, monkeypatch, {"HELPDESK_MAILBOX_MAIN_CA_FILE": str(other_ca)})

    result = poll(mailbox_config("main"))

    assert "SSLCertVerificationError" in result.error


def test_a_missing_category_is_said_and_nothing_is_read(
    mail_server, settings, monkeypatch, nurse_ed
):
    mail_server.deliver(mail().as_bytes())
    point_at(settings, monkeypatch, {"HELPDESK_MAILBOX_MAIN_CATEGORY": "no-such-category"})

    result = poll(mailbox_config("main"))

    assert "no active category 'no-such-category'" in result.error
    assert len(mail_server.uids("INBOX")) == 1


def test_a_message_that_cannot_be_processed_goes_to_the_failed_folder(
    mail_server, mailbox, nurse_ed, monkeypatch, caplog
):
    """One message that breaks (here: its processing raises) is moved aside with the reason in
    the log, without its subject; the others are filed."""
    real_receive = polling.receive

    def breaks_on_one(*, raw: bytes, **kwargs):
        if b"Patient Jane Doe" in raw:
            raise UnicodeError("unreadable part")
        return real_receive(raw=raw, **kwargs)

    monkeypatch.setattr(polling, "receive", breaks_on_one)
    mail_server.deliver(
        mail(subject="Printer offline").as_bytes(),
        mail(subject="Patient Jane Doe label printer").as_bytes(),
    )

    result = poll(mailbox)

    assert (result.outcomes, result.failed) == ({"filed": 1}, 1)
    assert len(mail_server.uids("Failed")) == 1
    assert len(mail_server.uids("Processed")) == 1
    assert MailboxStatus.objects.get(name="main").failed_count == 1
    assert "moved to Failed: UnicodeError" in caplog.text
    assert "Jane Doe" not in caplog.text


def test_the_help_desk_s_own_mail_coming_back_is_ignored(mail_server, mailbox, settings):
    settings.DEFAULT_FROM_EMAIL = "IT Service Desk <servicedesk@lakeside.example>"
    UserFactory(username="servicedesk", role="requester", home="ED")  # an alias with an account

    result = poll_after(
        mail_server, mailbox, mail(sender="servicedesk@lakeside.example").as_bytes()
    )

    assert result.outcomes == {"ignored": 1}
    assert InboundMessage.objects.get().note == "sent by the help desk itself"


def test_patient_data_in_the_mail_flags_the_ticket(mail_server, mailbox, nurse_ed):
    poll_after(
        mail_server,
        mailbox,
        mail(subject="Label printer for MRN 00451234 jammed", text="Please fix").as_bytes(),
    )

    assert Ticket.objects.get().phi_suspected


def test_the_beat_task_polls_every_configured_mailbox(mail_server, nurse_ed):
    mail_server.deliver(mail().as_bytes())

    summaries = poll_mailboxes.apply().get()

    assert summaries == ["main: 1 filed as a ticket."]
    assert Ticket.objects.count() == 1


def test_poll_mailbox_command_reads_and_says_what_it_did(mail_server, nurse_ed):
    mail_server.deliver(mail().as_bytes())
    out = io.StringIO()

    call_command("poll_mailbox", "main", stdout=out)

    assert out.getvalue() == "main: 1 filed as a ticket.\n"


def test_poll_mailbox_command_refuses_an_unknown_name(mail_server):
    with pytest.raises(CommandError, match="No mailbox called other"):
        call_command("poll_mailbox", "other")


def test_poll_mailbox_command_fails_when_a_mailbox_cannot_be_read(
    mail_server, settings, monkeypatch
):
    point_at(settings, monkeypatch, {"HELPDESK_MAILBOX_MAIN_PASSWORD": "wrong"})

    with pytest.raises(CommandError, match="could not be read"):
        call_command("poll_mailbox", stdout=io.StringIO())


def test_a_poll_out_of_time_leaves_the_message_for_the_next(mail_server, mailbox, monkeypatch):
    """The task's soft time limit strikes mid-message: that message is not the one at fault, so
    it stays in the folder (its transaction rolled back), and the mailbox is free again."""

    def out_of_time(**kwargs):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(polling, "receive", out_of_time)
    mail_server.deliver(mail().as_bytes())

    with pytest.raises(SoftTimeLimitExceeded):
        poll(mailbox)

    assert len(mail_server.uids("INBOX")) == 1
    assert mail_server.uids("Failed") == []
    assert take_lease("main") is not None
