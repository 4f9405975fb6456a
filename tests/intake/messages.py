"""E-mails as mail clients and mail servers write them, for the tests to deliver."""

from __future__ import annotations

import itertools
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from django.utils import timezone

HELPDESK_ADDRESS = "helpdesk@localhost"
_numbers = itertools.count(1)


def mail(
    *,
    sender: str = "nurse.ed@lakeside.example",
    to: str = HELPDESK_ADDRESS,
    subject: str = "Wristband printer in triage prints blank bands",
    text: str | None = "The wristband printer at triage 2 prints blank bands since 06:00.",
    html: str | None = None,
    headers: dict[str, str] | None = None,
    message_id: str | None = "",
    charset: str = "utf-8",
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(timezone.now())
    if message_id is not None:
        message["Message-ID"] = message_id or make_msgid(f"m{next(_numbers)}", "mail.example")
    for name, value in (headers or {}).items():
        message[name] = value
    if text is not None:
        message.set_content(text, charset=charset)
    if html is not None:
        if text is None:
            message.set_content(html, subtype="html")
        else:
            message.add_alternative(html, subtype="html")
    return message


def as_bytes(message: EmailMessage) -> bytes:
    return message.as_bytes()
