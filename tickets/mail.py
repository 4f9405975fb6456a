"""What threads e-mail to a ticket: the ticket's reply address, its conversation id, and the one
function that builds every e-mail about a ticket (:func:`ticket_email`).

A reply address names the ticket and the person it was sent to, signed with the site's secret:
``helpdesk+hd-1234.56.<signature>@hospital.org``. Mail that comes back to it belongs to that
ticket; an address with a wrong signature belongs to nothing (a forged or mistyped one is held
for IT, never added to a ticket). Lower case throughout: mail servers may fold the local part.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.utils import make_msgid

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import EmailMessage
from django.utils.crypto import constant_time_compare, salted_hmac

from core.mail import automatic_mail_headers
from tickets.models.ticket import TICKET_NUMBER_OFFSET, Ticket, ticket_number

#: The reply token again, in a header of its own: a bounce carries the headers of the message
#: that bounced, where the reply address may have been rewritten by a mail server on the way, so
#: the mailbox reader can still tell which ticket and person the message was for.
REPLY_TOKEN_HEADER = "X-Helpdesk-Reply-Token"  # noqa: S105 - a header name, not a secret

_SALT = "tickets.mail.reply-address"
_SIGNATURE_LENGTH = 16  # hex digits: 64 bits
_TOKEN = re.compile(
    r"hd-(?P<number>[0-9]{1,12})\.(?P<user>[0-9]{1,12})\.(?P<signature>[0-9a-f]{16})(?![0-9a-f])",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class ReplyTarget:
    ticket_id: int
    # Whom the e-mail carrying this address was sent to.
    user_id: int


def _mailbox() -> tuple[str, str]:
    """The help desk mailbox's local part and domain (the setting is checked at start-up)."""
    mailbox, domain = settings.HELPDESK["REPLY_ADDRESS"].split("@")
    return mailbox, domain


def _signature(ticket_id: int, user_id: int) -> str:
    digest = salted_hmac(_SALT, f"{ticket_id}.{user_id}", algorithm="sha256").hexdigest()
    return digest[:_SIGNATURE_LENGTH]


def reply_token(ticket_id: int, user_id: int) -> str:
    """``hd-1234.56.<signature>``: carried in the reply address and in a header of its own."""
    return f"{ticket_number(ticket_id).lower()}.{user_id}.{_signature(ticket_id, user_id)}"


def reply_address(ticket_id: int, user_id: int) -> str:
    """The address a reply to an e-mail about ``ticket_id`` sent to ``user_id`` goes to."""
    mailbox, domain = _mailbox()
    return f"{mailbox}+{reply_token(ticket_id, user_id)}@{domain}"


def read_reply_token(text: str) -> ReplyTarget | None:
    """The ticket and person a reply token in ``text`` (an address or a header) was made for, or
    None when there is none or its signature is wrong."""
    match = _TOKEN.search(text)
    if match is None:
        return None
    ticket_id = int(match["number"]) - TICKET_NUMBER_OFFSET
    user_id = int(match["user"])
    if ticket_id < 1 or not constant_time_compare(
        match["signature"].lower(), _signature(ticket_id, user_id)
    ):
        return None
    return ReplyTarget(ticket_id=ticket_id, user_id=user_id)


def thread_id(ticket_id: int) -> str:
    """The Message-ID every e-mail about a ticket refers to (In-Reply-To, References), so a mail
    client shows one conversation per ticket. No message is ever sent with it."""
    return f"<{ticket_number(ticket_id).lower()}@{_mailbox()[1]}>"


def tagged_subject(ticket_id: int, subject: str) -> str:
    """``subject`` with ``[HD-1234]`` in front, where people and mail servers look for it. A
    subject that carries the tag already (one taken from mail we received, "RE: [HD-1234] ...")
    keeps it where it is: the tag appears once, however often a conversation goes round."""
    tag = f"[{ticket_number(ticket_id)}]"
    if tag.lower() in subject.lower():
        return subject
    return f"{tag} {subject}"


def ticket_email(
    ticket: Ticket, *, to: User | str, subject: str, body: str, replied: bool = False
) -> EmailMessage:
    """The e-mail about ``ticket`` to one recipient: the only place its headers are made.

    Every such e-mail is a message of the ticket's conversation (``In-Reply-To`` and
    ``References`` name :func:`thread_id`, so a mail client shows one thread per ticket) with a
    ``Message-ID`` of its own, a subject tagged ``[HD-1234]``, and the headers that keep it out
    of mail loops (``core.mail``): ``replied`` for a receipt answering mail we received
    (``Auto-Submitted: auto-replied``), otherwise a notice (``auto-generated``).

    ``to`` a person (a ``User``): her reply goes to her own signed reply address, so what she
    answers lands on the ticket as hers; the token is in :data:`REPLY_TOKEN_HEADER` too. A reply
    address is per person, which is why an e-mail for several people is one message each.

    ``to`` an address (a team's mailbox): it answers to the plain help desk mailbox, with no
    token. A team mailbox is read by several people and forwarded on; a token would vouch for
    whoever happens to answer from it, as nobody in particular. The reply still names its
    ticket (the subject's tag, ``References``), and the mailbox reader judges it by who really
    sent it, as it judges any mail.
    """
    headers = {
        "Message-ID": make_msgid(idstring=ticket_number(ticket.pk).lower(), domain=_mailbox()[1]),
        "In-Reply-To": thread_id(ticket.pk),
        "References": thread_id(ticket.pk),
        **automatic_mail_headers(replied=replied),
    }
    if isinstance(to, User):
        address, answer_to = to.email, reply_address(ticket.pk, to.pk)
        headers[REPLY_TOKEN_HEADER] = reply_token(ticket.pk, to.pk)
    else:
        address, answer_to = to, settings.HELPDESK["REPLY_ADDRESS"]
    if not address.strip():
        raise ValueError(f"no e-mail address to send {ticket.number}'s e-mail to")
    return EmailMessage(
        subject=tagged_subject(ticket.pk, subject),
        body=body,
        to=[address.strip()],
        reply_to=[answer_to],
        headers=headers,
    )
