"""What an e-mail to the help desk becomes, and what IT decides about mail held for review.

A message from a help desk user files a ticket for her, through the same ``ticket_file`` as the
form (at P4, waiting for triage: e-mail never pages anyone on its own). A reply to one of our
e-mails, to the ticket's signed reply address, becomes her comment on that ticket. Mail sent by
a machine is recorded and left alone, so no auto-reply ever answers another. Everything else
(an unknown sender, a forged reply address, a reply from someone who may not see the ticket)
waits for IT on the "Mail to review" page.

Each message is recorded in the transaction that files its ticket or comment: the row's unique
(mailbox, Message-ID) makes a message read twice do nothing the second time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from email.utils import getaddresses

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from departments.models import Location, Profile, active_locations
from departments.roles import Role
from departments.units import home_unit
from intake.imap import MailboxConfig
from intake.models import InboundMessage
from intake.parsing import TOKEN_SHAPE, IncomingMail, clean_subject, name_parts, parse, reply_words
from tickets.attachments import AttachmentRefused, check_file
from tickets.mail import ReplyTarget, read_reply_token
from tickets.models import Category, Ticket, TicketEvent, parse_ticket_number
from tickets.selectors import ticket_visible_to
from tickets.services import (
    CALLBACK_MAX_LENGTH,
    COMMENT_MAX_LENGTH,
    DESCRIPTION_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    TicketError,
    ticket_comment,
    ticket_file,
)

logger = logging.getLogger(__name__)

Outcome = InboundMessage.Outcome
Hold = InboundMessage.Hold


class ReviewRefused(Exception):
    """A decision on held mail the rules refuse; the message is shown to IT as it is."""


@dataclass(frozen=True, slots=True)
class Delivery:
    """Where a message's words and files go: the ticket's text and the files it takes."""

    text: str
    uploads: list[ContentFile[bytes]]


def receive(
    *, mailbox: MailboxConfig, category: Category, raw: bytes, now: datetime | None = None
) -> InboundMessage | None:
    """File, thread, ignore or hold one message; None when it was received before."""
    mail = parse(raw)
    with transaction.atomic():
        try:
            with transaction.atomic():
                row = InboundMessage.objects.create(
                    mailbox=mailbox.name,
                    message_key=mail.key,
                    received_at=now or timezone.now(),
                    sender=mail.sender[:254],
                    sender_name=mail.sender_name[:200],
                    subject=mail.subject[:255],
                    outcome=Outcome.HELD,
                )
        except IntegrityError:
            return None
        _route(row, mail, mailbox=mailbox, category=category)
        if row.outcome == Outcome.HELD:
            row.body = mail.text
            row.raw = raw
        row.save()
    logger.info(
        "mail %s in %s: %s%s",
        row.pk,
        mailbox.name,
        row.outcome,
        f" ({row.hold})" if row.hold else "",
    )
    return row


def _route(
    row: InboundMessage, mail: IncomingMail, *, mailbox: MailboxConfig, category: Category
) -> None:
    if mail.automatic:
        row.outcome, row.note = Outcome.IGNORED, mail.automatic[:500]
        return
    if mail.sender in help_desk_addresses():
        row.outcome, row.note = Outcome.IGNORED, "sent by the help desk itself"
        return
    sender, unclear = sender_account(mail.sender)
    addressed_to = [*mail.recipients, mail.token_header]
    target = _reply_target(addressed_to)
    if target is None and any(TOKEN_SHAPE.search(text) for text in addressed_to):
        _hold(row, Hold.FORGED_TOKEN)
        return
    if target is not None:
        _thread_reply(row, mail, target, sender, unclear)
        return
    if sender is None:
        vendor_ticket = _vendor_ticket(mail)
        if vendor_ticket is not None:
            row.ticket = vendor_ticket
            _hold(row, Hold.VENDOR)
            return
        _hold(row, unclear or Hold.UNKNOWN_SENDER)
        return
    location = default_location(sender, mailbox)
    if location is None:
        _hold(row, Hold.NO_UNIT)
        return
    ticket = _file(mail, requester=sender, location=location, category=category)
    row.outcome, row.ticket = Outcome.FILED, ticket


def help_desk_addresses() -> frozenset[str]:
    """The addresses the help desk sends from: its own mail coming back is never taken in."""
    return frozenset(
        address.lower()
        for _, address in getaddresses(
            [settings.DEFAULT_FROM_EMAIL, settings.HELPDESK["REPLY_ADDRESS"]]
        )
        if address
    )


def _hold(row: InboundMessage, reason: InboundMessage.Hold, note: str = "") -> None:
    row.outcome, row.hold, row.note = Outcome.HELD, reason, note[:500]


def _reply_target(texts: list[str]) -> ReplyTarget | None:
    for text in texts:
        target = read_reply_token(text)
        if target is not None:
            return target
    return None


def sender_account(address: str) -> tuple[User | None, InboundMessage.Hold | None]:
    """The active help desk user (local or directory) with this e-mail address, matched without
    regard to case; None with a reason when there is none, or several share it."""
    if not address:
        return None, Hold.UNKNOWN_SENDER
    users = list(
        User.objects.filter(email__iexact=address, is_active=True).select_related("profile")[:2]
    )
    if len(users) == 1:
        return users[0], None
    return None, Hold.SHARED_ADDRESS if users else Hold.UNKNOWN_SENDER


def default_location(user: User, mailbox: MailboxConfig) -> Location | None:
    """Where a ticket she e-mails is filed for: the first unit of her own department (as the
    form offers it), else the mailbox's default location."""
    unit = home_unit(user)
    if unit is not None:
        return unit
    return next(
        (place for place in active_locations().values() if place.code == mailbox.location), None
    )


def _vendor_ticket(mail: IncomingMail) -> Ticket | None:
    if mail.sender_domain not in settings.HELPDESK_MAIL_VENDOR_DOMAINS:
        return None
    number = mail.ticket_number_quoted()
    pk = None if number is None else parse_ticket_number(str(number))
    return None if pk is None else Ticket.objects.filter(pk=pk).first()


def _deliverable(mail: IncomingMail, text: str, *, limit: int) -> Delivery:
    """The words and the files that pass the web's rules; a refused file is said in the words
    (its reason), not fatal."""
    uploads: list[ContentFile[bytes]] = []
    refusals: list[str] = []
    room = settings.HELPDESK["ATTACHMENT_TICKET_MAX_BYTES"]
    for file in mail.files:
        upload = ContentFile(file.data, name=file.name)
        try:
            checked = check_file(upload)
        except AttachmentRefused as refusal:
            refusals.append(str(refusal))
            continue
        if checked.size > room:
            refusals.append(f"{checked.name}: the ticket has no room left for it.")
            continue
        room -= checked.size
        uploads.append(ContentFile(file.data, name=file.name))
    notes = "".join(f"\n\n[A file sent with the e-mail was not taken: {r}]" for r in refusals)
    return Delivery(text=text[: max(0, limit - len(notes))] + notes, uploads=uploads)


def _file(mail: IncomingMail, *, requester: User, location: Location, category: Category) -> Ticket:
    title = clean_subject(mail.subject, limit=TITLE_MAX_LENGTH)
    if not title:
        first_line = next((line for line in mail.text.splitlines() if line.strip()), "")
        title = clean_subject(first_line, limit=TITLE_MAX_LENGTH) or "E-mail to the help desk"
    delivery = _deliverable(mail, mail.text, limit=DESCRIPTION_MAX_LENGTH)
    profile_callback = getattr(_profile(requester), "callback", "")
    filing = ticket_file(
        requester=requester,
        location=location,
        category=category,
        title=title,
        callback=(profile_callback or mail.sender or requester.email)[:CALLBACK_MAX_LENGTH],
        care_delayed=None,
        scope=None,
        workaround=None,
        description=delivery.text,
        attachments=delivery.uploads,
        source=Ticket.Source.EMAIL,
    )
    return filing.ticket


def _profile(user: User) -> Profile | None:
    try:
        return user.profile
    except Profile.DoesNotExist:
        return None


def _thread_reply(
    row: InboundMessage,
    mail: IncomingMail,
    target: ReplyTarget,
    sender: User | None,
    unclear: InboundMessage.Hold | None,
) -> None:
    row.ticket = Ticket.objects.filter(pk=target.ticket_id).first()
    if sender is None:
        _hold(row, unclear or Hold.UNKNOWN_SENDER)
        return
    ticket = ticket_visible_to(user=sender, pk=target.ticket_id)
    if ticket is None:
        _hold(row, Hold.NOT_ALLOWED)
        return
    try:
        event = _comment(mail, ticket=ticket, author=sender, internal=False)
    except TicketError as refusal:
        _hold(row, Hold.REPLY_REFUSED, str(refusal))
        return
    row.outcome, row.event = Outcome.COMMENTED, event


def _comment(mail: IncomingMail, *, ticket: Ticket, author: User, internal: bool) -> TicketEvent:
    words = reply_words(mail.text)
    if internal:
        words = f"E-mail from {mail.sender}:\n\n{words}"
    delivery = _deliverable(mail, words, limit=COMMENT_MAX_LENGTH)
    try:
        with transaction.atomic():
            return ticket_comment(
                ticket=ticket,
                author=author,
                text=delivery.text,
                internal=internal,
                attachments=delivery.uploads,
            )
    except AttachmentRefused as refusal:  # the ticket's files are already near its limit
        note = f"\n\n[The files sent with the e-mail were not taken: {refusal}]"
        return ticket_comment(
            ticket=ticket,
            author=author,
            text=words[: COMMENT_MAX_LENGTH - len(note)] + note,
            internal=internal,
        )


# --- Review: IT decides about held mail ------------------------------------------------------


def _held(pk: int) -> InboundMessage:
    try:
        message = InboundMessage.objects.select_for_update().get(pk=pk)
    except InboundMessage.DoesNotExist:
        raise ReviewRefused("This message is no longer there.") from None
    if not message.is_held:
        raise ReviewRefused(
            f"This message was already {message.get_outcome_display().lower()}; nothing changed."
        )
    return message


def _decided(message: InboundMessage, *, outcome: str, reviewer: User) -> None:
    message.outcome = outcome
    message.decided_by = reviewer
    message.decided_at = timezone.now()
    message.body = ""
    message.raw = None
    message.save()
    logger.info("held mail %s %s by user %s", message.pk, outcome, reviewer.pk)


def requester_from_sender(*, address: str, display_name: str) -> User:
    """A requester account for someone who wrote in: named from the e-mail, no usable password
    (she signs in through the directory, or IT sets one)."""
    if User.objects.filter(email__iexact=address).exists():
        raise ReviewRefused(f"{address} is already a help desk user's address: pick that user.")
    first_name, last_name = name_parts(display_name, address)
    base = address.partition("@")[0].lower()[:140] or "requester"
    username, number = base, 1
    while User.objects.filter(username__iexact=username).exists():
        number += 1
        username = f"{base}{number}"
    user = User(username=username, email=address, first_name=first_name, last_name=last_name)
    user.set_unusable_password()
    user.save()
    user.groups.add(Group.objects.get(name=Role.REQUESTER))
    Profile.objects.get_or_create(user=user)
    return user


def accept_as_ticket(
    *,
    pk: int,
    reviewer: User,
    requester: User | None,
    location: Location,
    category: Category,
) -> Ticket:
    """File a held message as a ticket for ``requester``, or for a new requester made from the
    sender when None."""
    with transaction.atomic():
        message = _held(pk)
        mail = parse(bytes(message.raw)) if message.raw else None
        if mail is None:
            raise ReviewRefused("The message's content is gone; it cannot be filed.")
        if requester is None:
            if not message.sender:
                raise ReviewRefused("The message has no sender address: pick a user to file for.")
            requester = requester_from_sender(
                address=message.sender, display_name=message.sender_name
            )
        ticket = _file(mail, requester=requester, location=location, category=category)
        message.ticket = ticket
        _decided(message, outcome=Outcome.ACCEPTED, reviewer=reviewer)
    return ticket


def accept_as_note(*, pk: int, reviewer: User) -> TicketEvent:
    """Add a held vendor's message to the ticket it quotes, as an internal note by the person
    who accepted it."""
    with transaction.atomic():
        message = _held(pk)
        if message.ticket is None or not message.raw:
            raise ReviewRefused("This message names no ticket to add it to.")
        mail = parse(bytes(message.raw))
        event = _comment(mail, ticket=message.ticket, author=reviewer, internal=True)
        message.event = event
        _decided(message, outcome=Outcome.ACCEPTED, reviewer=reviewer)
    return event


def discard(*, pk: int, reviewer: User) -> None:
    with transaction.atomic():
        _decided(_held(pk), outcome=Outcome.DISCARDED, reviewer=reviewer)
