"""Reading an e-mail's bytes: the sender, the words as text, the subject as a title, and mail
sent by machines. No mailbox or database: pure functions."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from intake.parsing import clean_subject, html_to_text, name_parts, parse, reply_words
from tests.intake.messages import mail


@pytest.mark.parametrize(
    ("subject", "title"),
    [
        ("Re: RE: Fwd: Printer jammed", "Printer jammed"),
        ("AW: WG: Drucker", "Drucker"),
        ("Re: [HD-1042] Printer jammed", "Printer jammed"),
        ("[HD-1042] Re: Printer jammed", "Printer jammed"),
        ("  Monitor   blank\tbed 4  ", "Monitor blank bed 4"),
        ("Reboot needed", "Reboot needed"),
        ("Re:", ""),
    ],
)
def test_subject_noise_is_taken_off_the_title(subject, title):
    assert clean_subject(subject, limit=120) == title


def test_html_becomes_lines_of_text_with_nothing_that_runs():
    markup = (
        "<div>Line one<br>line&nbsp;two</div><ul><li>a</li><li>b</li></ul>"
        "<img src=x onerror=alert(1)><iframe src='https://evil.example'></iframe>"
        "<p>&lt;not a tag&gt;</p>"
    )

    assert html_to_text(markup) == "Line one\nline two\na\nb\n<not a tag>"


def test_reply_words_leave_the_quoted_history_and_the_signature():
    text = (
        "Works now.\n\n-- \nErin Nurse\nED Charge RN\n\n"
        "On Tue, Dec 8, 2026 at 7:00 AM IT Service Desk <helpdesk@localhost> wrote:\n"
        "> Please try again.\n"
    )

    assert reply_words(text) == "Works now."


def test_a_reply_with_nothing_recognisable_keeps_its_words():
    assert reply_words("Just one line") == "Just one line"


@pytest.mark.parametrize(
    ("display_name", "address", "parts"),
    [
        ("Sam Lee", "sam@x.example", ("Sam", "Lee")),
        ("Lee, Sam", "sam@x.example", ("Sam", "Lee")),
        ("", "sam.lee@x.example", ("Sam", "Lee")),
        ("Cher", "c@x.example", ("Cher", "")),
    ],
)
def test_names_from_the_sender(display_name, address, parts):
    assert name_parts(display_name, address) == parts


def test_sender_is_lower_case_with_its_name():
    parsed = parse(mail(sender='"Nurse, Erin" <Erin.Nurse@Lakeside.EXAMPLE>').as_bytes())

    assert (parsed.sender, parsed.sender_name) == ("erin.nurse@lakeside.example", "Nurse, Erin")


def test_recipients_include_the_envelope_a_server_records():
    parsed = parse(
        mail(
            to="IT <helpdesk@localhost>",
            headers={
                "Cc": "a@x.example, b@x.example",
                "Delivered-To": "helpdesk+hd-1001.5.abc@localhost",
                "X-Original-To": "HELPDESK@localhost",
            },
        ).as_bytes()
    )

    assert parsed.recipients == (
        "helpdesk@localhost",
        "a@x.example",
        "b@x.example",
        "helpdesk+hd-1001.5.abc@localhost",
        "helpdesk@localhost",
    )


def test_a_person_s_mail_is_not_automatic():
    assert parse(mail().as_bytes()).automatic == ""


def test_a_delivery_status_report_is_automatic():
    report = EmailMessage()
    report["From"] = "postmaster@x.example"
    report.set_content("Delivery failed")
    report.make_mixed()
    report.replace_header("Content-Type", "multipart/report; report-type=delivery-status")

    assert parse(report.as_bytes()).automatic == "delivery report (delivery-status)"


def test_a_message_with_an_unknown_charset_is_still_read():
    raw = (
        b"From: a@x.example\r\nSubject: x\r\nContent-Type: text/plain; charset=x-no-such\r\n\r\n"
        b"Printer caf\xe9 offline\r\n"
    )

    assert parse(raw).text.startswith("Printer caf")


def test_quoted_ticket_number_is_read_from_the_subject():
    assert parse(mail(subject="RE: case 77 [HD-1042]").as_bytes()).ticket_number_quoted() == 1042


def test_nul_characters_are_left_out():
    parsed = parse(b"From: a@x.example\r\nSubject: Printer\x00 down\r\n\r\nbody\x00 text\r\n")

    assert (parsed.subject, parsed.text) == ("Printer down", "body text")
