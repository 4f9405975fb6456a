"""One poll of one mailbox: take its lease, read what is in its folder, file or hold each message,
move what was dealt with to the processed folder and what could not be read to the failed one.

Never deleted, never lost: a message leaves the folder only after its row is committed, so a
worker killed in between finds the row at the next poll and only moves the message. The log
names mailboxes, UIDs, row ids and reasons; never a subject, a sender or a word of a body.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.db import DatabaseError
from django.db.models import F, Q
from django.utils import timezone

from intake import imap
from intake.imap import MailboxConfig, MailboxUnavailable
from intake.models import InboundMessage, MailboxStatus
from intake.services import receive
from tickets.models import Category

logger = logging.getLogger(__name__)

# How long a poll may hold a mailbox: past it, a poll that died is assumed gone. Longer than the
# task's hard time limit, so a slow poll still running is never overtaken.
LEASE = timedelta(minutes=5)
# Messages read in one poll (the rest wait a minute): a poll stays well inside its time limit.
MAX_MESSAGES_PER_POLL = 200
FETCH_BATCH = 20


@dataclass
class PollResult:
    mailbox: str
    # False when another poll held the mailbox: this one did nothing.
    ran: bool = True
    outcomes: dict[str, int] = field(default_factory=dict)
    already_seen: int = 0
    failed: int = 0
    error: str = ""

    def count(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1

    @property
    def summary(self) -> str:
        if not self.ran:
            return f"{self.mailbox}: another poll is reading it now."
        if self.error:
            return f"{self.mailbox}: {self.error}"
        parts = [
            f"{count} {InboundMessage.Outcome(outcome).label.lower()}"
            for outcome, count in sorted(self.outcomes.items())
        ]
        if self.failed:
            parts.append(f"{self.failed} moved to the failed folder")
        return f"{self.mailbox}: " + (", ".join(parts) if parts else "no new mail") + "."


class _Misconfigured(Exception):
    """The mailbox's configuration names something the help desk does not have."""


def take_lease(name: str) -> str | None:
    """The mailbox's lease for this poll (a token to give it back with), or None when another
    poll holds it. A conditional UPDATE: whichever process runs it first wins."""
    MailboxStatus.objects.get_or_create(name=name)
    now = timezone.now()
    token = secrets.token_hex(16)
    taken = MailboxStatus.objects.filter(
        Q(leased_until__isnull=True) | Q(leased_until__lt=now), name=name
    ).update(leased_until=now + LEASE, lease_holder=token)
    return token if taken else None


def give_back_lease(name: str, token: str, *, error: str) -> None:
    now = timezone.now()
    fields: dict[str, object] = {"leased_until": None, "lease_holder": "", "last_poll_at": now}
    fields |= {"last_error": error[:500], "last_error_at": now} if error else {"last_error": ""}
    MailboxStatus.objects.filter(name=name, lease_holder=token).update(**fields)


def poll(config: MailboxConfig) -> PollResult:
    """Read the mailbox once, if no other poll is reading it."""
    result = PollResult(mailbox=config.name)
    token = take_lease(config.name)
    if token is None:
        result.ran = False
        return result
    try:
        _read(config, result)
    except (MailboxUnavailable, _Misconfigured) as error:
        result.error = str(error) or type(error).__name__
        logger.warning("mailbox %s not read: %s", config.name, result.error)
    except DatabaseError as error:
        # Its type only: a database's message can quote the values it refused.
        result.error = f"database error: {type(error).__name__}"
        logger.warning("mailbox %s not read: %s", config.name, result.error)
    finally:
        give_back_lease(config.name, token, error=result.error)
        if result.failed:
            MailboxStatus.objects.filter(name=config.name).update(
                failed_count=F("failed_count") + result.failed
            )
    return result


def _category(config: MailboxConfig) -> Category:
    category = Category.objects.filter(slug=config.category, is_active=True).first()
    if category is None:
        raise _Misconfigured(
            f"no active category {config.category!r} for the mailbox's tickets "
            f"(HELPDESK_MAILBOX_{config.name.upper()}_CATEGORY)"
        )
    return category


def _read(config: MailboxConfig, result: PollResult) -> None:
    category = _category(config)
    with imap.connected(config) as client:
        uids = list(client.uids())[:MAX_MESSAGES_PER_POLL]
        for start in range(0, len(uids), FETCH_BATCH):
            done: list[str] = []
            failed: list[str] = []
            for uid, raw in imap.fetch_raw(client, uids[start : start + FETCH_BATCH]):
                if _take_in(config, category, uid, raw, result):
                    done.append(uid)
                else:
                    failed.append(uid)
            imap.move(client, done, config.processed_folder)
            imap.move(client, failed, config.failed_folder)


def _take_in(
    config: MailboxConfig, category: Category, uid: str, raw: bytes, result: PollResult
) -> bool:
    """Whether the message was dealt with (filed, threaded, held, ignored or seen before);
    False sends it to the failed folder. A database that fails, or the task's time running out,
    stops the poll instead."""
    try:
        row = receive(mailbox=config, category=category, raw=raw)
    except (DatabaseError, SoftTimeLimitExceeded):
        # Not the message's fault: it stays where it is, for the next poll.
        raise
    except Exception as error:
        result.failed += 1
        # The error's type only: its text may quote the message.
        logger.error(
            "mailbox %s: message UID %s moved to %s: %s",
            config.name,
            uid,
            config.failed_folder,
            type(error).__name__,
        )
        return False
    if row is None:
        result.already_seen += 1
    else:
        result.count(row.outcome)
    return True
