"""What an e-mail says, read from its bytes with the standard ``email`` package: who sent it, to
which addresses, its subject, its words as plain text, its files, and whether a machine sent it
(an out-of-office, a bounce, a mailing list) so that nothing answers it back.

Pure functions of the message: nothing here reads the database or the mailbox.
"""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage, MIMEPart
from email.parser import BytesParser
from email.utils import getaddresses

import nh3
from mailparser_reply import EmailReplyParser

MESSAGE_KEY_MAX_LENGTH = 255
# The ticket number a vendor quotes in a subject: "[HD-1234]".
TICKET_NUMBER = re.compile(r"\[HD-(?P<number>[0-9]{1,12})\]", re.IGNORECASE)
# What a reply token looks like, signed rightly or not (tickets/mail.py checks the signature):
# a token that reads as one but does not verify was forged or mangled.
TOKEN_SHAPE = re.compile(r"hd-[0-9]{1,12}\.[0-9]{1,12}\.[0-9a-f]{6,}", re.IGNORECASE)
REPLY_TOKEN_HEADER = "X-Helpdesk-Reply-Token"  # noqa: S105 - a header name, not a secret
# Where the address a reply was sent to can be read: the headers, and what the receiving mail
# server records of the envelope.
RECIPIENT_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To")
# Reply and forward prefixes in the languages hospital staff write in, and the help desk's own
# ticket number, at the start of a subject.
_SUBJECT_NOISE = re.compile(
    r"^\s*(?:(?:re|aw|sv|fw|fwd|wg|tr|rv|r|antw|odp)\s*(?:\[\d+\])?\s*:|\[HD-[0-9]+\])\s*",
    re.IGNORECASE,
)
_PRECEDENCE_AUTOMATIC = {"bulk", "junk", "list", "auto_reply"}
# Block-level HTML that ends a line of text.
_HTML_LINE_BREAKS = re.compile(
    r"<\s*(?:br|/p|/div|/li|/tr|/h[1-6]|/blockquote|/table|hr)\b[^>]*>", re.IGNORECASE
)
_BLANK_LINES = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")


@dataclass(frozen=True, slots=True)
class MailFile:
    """A file sent with the e-mail, as it came."""

    name: str
    data: bytes


@dataclass(frozen=True, slots=True)
class IncomingMail:
    # The Message-ID, or a hash of the message when it has none: the same e-mail seen twice has
    # the same key.
    key: str
    sender: str
    sender_name: str
    # Every address the message was sent to, and the reply-token header's value.
    recipients: tuple[str, ...]
    token_header: str
    subject: str
    text: str
    files: tuple[MailFile, ...]
    # Why a machine sent it (an auto-reply, a bounce, a list), or "" when a person did.
    automatic: str

    @property
    def sender_domain(self) -> str:
        return self.sender.rpartition("@")[2]

    def ticket_number_quoted(self) -> int | None:
        """The ticket number quoted in the subject as ``[HD-1234]``, if any."""
        match = TICKET_NUMBER.search(self.subject)
        return int(match["number"]) if match else None


def parse(raw: bytes) -> IncomingMail:
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    sender_name, sender = _sender(message)
    return IncomingMail(
        key=message_key(message, raw),
        sender=sender,
        sender_name=sender_name,
        recipients=_recipients(message),
        token_header=_header(message, REPLY_TOKEN_HEADER),
        subject=_header(message, "Subject"),
        text=body_text(message),
        files=tuple(_files(message)),
        automatic=automatic_reason(message),
    )


def _header(message: EmailMessage, name: str) -> str:
    """A header as text, encoded words decoded; "" when it is missing or unreadable."""
    try:
        value = message.get(name)
    except (ValueError, LookupError, IndexError):  # a malformed header the parser gave up on
        return ""
    return " ".join(str(value).replace("\x00", "").split()) if value is not None else ""


def message_key(message: EmailMessage, raw: bytes) -> str:
    message_id = _header(message, "Message-ID").strip()
    if message_id and len(message_id) <= MESSAGE_KEY_MAX_LENGTH:
        return message_id
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def _sender(message: EmailMessage) -> tuple[str, str]:
    pairs = getaddresses([_header(message, "From")])
    name, address = pairs[0] if pairs else ("", "")
    address = address.strip().lower()
    if "@" not in address:
        return "", ""
    return name.strip(), address


def _recipients(message: EmailMessage) -> tuple[str, ...]:
    values: list[str] = []
    for name in RECIPIENT_HEADERS:
        try:
            values += [str(value) for value in message.get_all(name) or []]
        except (ValueError, LookupError, IndexError):
            continue
    return tuple(address.lower() for _, address in getaddresses(values) if address)


def clean_subject(subject: str, *, limit: int) -> str:
    """The subject as a ticket title: "Re:", "Fwd:" and the help desk's "[HD-1234]" taken off
    the front, spaces folded, trimmed to ``limit`` characters."""
    text = " ".join(subject.split())
    while True:
        shorter = _SUBJECT_NOISE.sub("", text, count=1)
        if shorter == text:
            break
        text = shorter
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def html_to_text(markup: str) -> str:
    """An HTML body as the words a person reads: line breaks where blocks end, every tag, script
    and style left out, entities decoded. The result is text, shown escaped like any other."""
    with_breaks = _HTML_LINE_BREAKS.sub("\n", markup)
    cleaned = nh3.clean(with_breaks, tags=set(), strip_comments=True)
    text = html.unescape(cleaned).replace("\xa0", " ")
    lines = (line.strip() for line in text.splitlines())
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def body_text(message: EmailMessage) -> str:
    """The plain-text body; the HTML one as text when there is no plain text."""
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    # A NUL is never meant, and the database refuses it in text.
    text = _decoded(part).replace("\x00", "")
    if part.get_content_subtype() == "html":
        return html_to_text(text)
    return text.replace("\r\n", "\n").strip()


def _decoded(part: MIMEPart) -> str:
    try:
        content = part.get_content()
    except (LookupError, UnicodeError):  # a charset Python does not know, or mislabelled
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else ""
    return content if isinstance(content, str) else ""


def _files(message: EmailMessage) -> list[MailFile]:
    files = []
    for part in message.iter_attachments():
        if not isinstance(part, EmailMessage) or part.get_content_maintype() == "multipart":
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes) or not payload:
            continue
        files.append(MailFile(name=part.get_filename() or "attachment", data=payload))
    return files


def automatic_reason(message: EmailMessage) -> str:
    """Why this message was sent by a machine and must not be answered or filed (RFC 3834
    ``Auto-Submitted``, ``Precedence``, Microsoft's and others' auto-reply headers, a null return
    path, a mailing list, a delivery report), or "" for mail from a person."""
    auto_submitted = _header(message, "Auto-Submitted").lower()
    if auto_submitted and auto_submitted.split(";")[0].strip() != "no":
        return f"Auto-Submitted: {auto_submitted}"
    precedence = _header(message, "Precedence").lower()
    if precedence in _PRECEDENCE_AUTOMATIC:
        return f"Precedence: {precedence}"
    for name in ("X-Auto-Response-Suppress", "X-Autoreply", "X-Autorespond", "List-Id"):
        if message.get(name) is not None:
            return f"{name} header"
    if _header(message, "Return-Path").replace(" ", "") == "<>":
        return "Return-Path: <> (a bounce)"
    content_type = message.get_content_type()
    report_type = message.get_param("report-type", "", header="content-type")
    if content_type == "multipart/report" or content_type.startswith("message/delivery-status"):
        return f"delivery report ({report_type or content_type})"
    return ""


def reply_words(text: str) -> str:
    """What a reply says, without the quoted history below it or the signature."""
    replies = EmailReplyParser(languages=["en", "de", "fr", "es"]).read(text=text).replies
    latest = replies[0].body.strip() if replies else ""
    return latest or text.strip()


def name_parts(display_name: str, address: str) -> tuple[str, str]:
    """First and last name from a sender's display name ("Lee, Sam" or "Sam Lee"), or from the
    address's local part when there is no name."""
    name = display_name.strip().strip('"')
    if "," in name:
        last, _, first = name.partition(",")
        return first.strip()[:150], last.strip()[:150]
    if not name:
        name = address.partition("@")[0].replace(".", " ").replace("_", " ").title()
    first, _, last = name.partition(" ")
    return first.strip()[:150], last.strip()[:150]
