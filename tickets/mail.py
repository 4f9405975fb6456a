"""What threads e-mail to a ticket: the ticket's reply address and its conversation id.

A reply address names the ticket and the person it was sent to, signed with the site's secret:
``helpdesk+hd-1234.56.<signature>@hospital.org``. Mail that comes back to it belongs to that
ticket; an address with a wrong signature belongs to nothing (a forged or mistyped one is held
for IT, never added to a ticket). Lower case throughout: mail servers may fold the local part.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac

from tickets.models.ticket import TICKET_NUMBER_OFFSET, ticket_number

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


def _signature(ticket_id: int, user_id: int) -> str:
    digest = salted_hmac(_SALT, f"{ticket_id}.{user_id}", algorithm="sha256").hexdigest()
    return digest[:_SIGNATURE_LENGTH]


def reply_token(ticket_id: int, user_id: int) -> str:
    """``hd-1234.56.<signature>``: carried in the reply address and in a header of its own."""
    return f"{ticket_number(ticket_id).lower()}.{user_id}.{_signature(ticket_id, user_id)}"


def reply_address(ticket_id: int, user_id: int) -> str:
    """The address a reply to an e-mail about ``ticket_id`` sent to ``user_id`` goes to."""
    mailbox, domain = settings.HELPDESK["REPLY_ADDRESS"].split("@")
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
    domain = settings.HELPDESK["REPLY_ADDRESS"].split("@")[1]
    return f"<{ticket_number(ticket_id).lower()}@{domain}>"
