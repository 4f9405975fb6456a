"""E-mails to people, kept in the database until they are sent: one outbox for every kind.

A change that tells someone something (IT replied, the ticket is resolved, an incident's update
is late) calls :func:`queue_email` inside its own transaction: the row (``OutgoingEmail``) exists
exactly when the change does, and a task sends it once the transaction commits. Nothing about
it lives only in Redis: a task the broker refused, lost (FLUSHALL, a restart without
persistence) or a worker that died mid-send leaves the row pending, and the SLA sweep sends it.

Sending claims the row with a conditional UPDATE (``pending`` -> ``sending``), so however many
workers and sweeps hold its id, one sends it. A relay that fails (down, timing out, answering
4xx/5xx to the whole message) puts it back to pending with its next attempt later each time
(:data:`BACKOFF`); the sweep makes that attempt. A recipient the relay refuses is not tried
again: the address does not exist.

Each kind registers the function that makes its messages from the row (its ``about_id``, and
its ``recipient_id`` when one change tells many people, each on a row of her own)
(:func:`email_kind`); the messages are made when they are sent, as they always were. A change
that writes several e-mails at once (a filing: the team's notice and the receipt; an incident's
update to everyone affected) writes them in one INSERT and publishes one task
(:func:`queue_emails`).
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from enum import StrEnum
from typing import NamedTuple

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.core.mail import EmailMessage, get_connection
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import F, Q
from django.db.models.functions import Now
from django.utils import timezone

from tickets.enqueue import enqueue_many_on_commit, enqueue_on_commit
from tickets.models import OutgoingEmail

logger = logging.getLogger(__name__)

#: Makes the messages of one e-mail from its row; none when there is nobody to tell.
Render = Callable[[OutgoingEmail], list[EmailMessage]]

_RENDERERS: dict[str, Render] = {}

#: The wait before the next attempt after the n-th failed one (the last figure repeats): a relay
#: that restarts is tried again within a minute, one down for the night is not hammered.
BACKOFF = (timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=5), timedelta(minutes=15),
           timedelta(minutes=30))  # fmt: skip
#: After this many failed attempts (about six hours of a relay down) the e-mail is given up.
MAX_ATTEMPTS = 16
#: A new e-mail's task has normally run within seconds; after this long the sweep sends it.
REDELIVER_AFTER = timedelta(minutes=1)
#: A claimed e-mail whose worker has said nothing for this long died with it: sent again. Longer
#: than a task may run (CELERY_TASK_TIME_LIMIT), so a slow relay is not sent to twice.
REDELIVER_SENDING_AFTER = timedelta(minutes=5)

#: Worth another attempt: the relay down, slow or refusing the message, the database gone a
#: moment (the row is still there), the task's soft time limit reached on a slow relay.
RETRYABLE = (
    OSError,
    smtplib.SMTPException,
    OperationalError,
    InterfaceError,
    SoftTimeLimitExceeded,
)

_SENDING = OutgoingEmail.Status.SENDING
_PENDING = OutgoingEmail.Status.PENDING


class Outcome(StrEnum):
    SENT = "sent"
    SKIPPED = "skipped"  # nothing to send, or another worker has it
    RETRY = "retry"
    FAILED = "failed"


def email_kind(kind: str) -> Callable[[Render], Render]:
    """Register the function that makes the messages of ``kind``."""

    def register(render: Render) -> Render:
        if _RENDERERS.setdefault(kind, render) is not render:
            raise ValueError(f"two kinds of e-mail are called {kind!r}")
        return render

    return register


class Wanted(NamedTuple):
    """An e-mail to write: its kind, the row it is about, and the person's row when it is one
    of many about the same change."""

    kind: str
    about_id: int
    recipient_id: int | None = None


def _row(wanted: Wanted, now: datetime) -> OutgoingEmail:
    if wanted.kind not in _RENDERERS:
        raise ValueError(f"no e-mail of kind {wanted.kind!r}")
    return OutgoingEmail(
        kind=wanted.kind,
        about_id=wanted.about_id,
        recipient_id=wanted.recipient_id,
        created_at=now,
        attempt_at=Now() + REDELIVER_AFTER,
    )


def queue_email(*, kind: str, about_id: int) -> OutgoingEmail:
    """Write the e-mail into the caller's transaction; its task runs once it commits."""
    email = _row(Wanted(kind, about_id), timezone.now())
    email.save()
    enqueue_on_commit(send_email, email.pk)
    return email


def queue_emails(
    wanted: Iterable[Wanted], *, again: bool = False, now: datetime | None = None
) -> list[int]:
    """Write the e-mails into the caller's transaction in one INSERT; one task sends them once
    it commits (a task per BATCH_SIZE of them). Their ids.

    ``again``: some may have been written already (a task published before the outbox, a
    second worker): those are not written twice (``ONCE_KINDS``), and the ones still waiting
    are sent with the rest. ``now``: the change's time (the sweep's)."""
    now = now or timezone.now()
    rows = [_row(each, now) for each in wanted]
    if not rows:
        return []
    if not again:
        OutgoingEmail.objects.bulk_create(rows)
        ids = [row.pk for row in rows]
    else:
        OutgoingEmail.objects.bulk_create(rows, ignore_conflicts=True)
        which = Q()
        for kind in {row.kind for row in rows}:
            of_kind = [row for row in rows if row.kind == kind]
            recipients = {row.recipient_id for row in of_kind} - {None}
            which |= Q(kind=kind, about_id__in={row.about_id for row in of_kind}) & (
                Q(recipient_id__in=recipients) if recipients else Q(recipient_id__isnull=True)
            )
        ids = list(
            OutgoingEmail.objects.filter(which, status=_PENDING).values_list("pk", flat=True)
        )
    enqueue_many_on_commit(send_emails, ids)
    return ids


def send_each(messages: Iterable[EmailMessage], *, what: str) -> list[EmailMessage]:
    """Send over one connection; the messages that went out. A recipient the relay refuses is
    logged (as ``what``, never the address) and skipped: trying again cannot help, and must not
    send the others again. Anything else (the relay down) raises."""
    sent = []
    with get_connection() as connection:
        for message in messages:
            message.connection = connection
            try:
                message.send()
            except smtplib.SMTPRecipientsRefused:
                logger.warning("%s: the mail server refused an address; not retried", what)
                continue
            sent.append(message)
    return sent


def _backoff(attempts: int) -> timedelta:
    return BACKOFF[min(attempts, len(BACKOFF)) - 1]


def send_queued(email_id: int) -> Outcome:
    """Claim a pending e-mail and send it. Running this twice for one e-mail sends it once."""
    claimed = OutgoingEmail.objects.filter(pk=email_id, status=_PENDING).update(
        status=_SENDING, claimed_at=Now(), attempts=F("attempts") + 1
    )
    if not claimed:
        return Outcome.SKIPPED
    email = OutgoingEmail.objects.get(pk=email_id)
    what = f"{email.kind} e-mail {email.pk} about {email.about_id}"
    if email.recipient_id is not None:
        what += f" for {email.recipient_id}"
    render = _RENDERERS.get(email.kind)
    try:
        if render is None:
            raise LookupError(f"no e-mail of kind {email.kind!r}")
        messages = render(email)
        sent = len(send_each(messages, what=what))
    except RETRYABLE as error:
        retry = email.attempts < MAX_ATTEMPTS
        OutgoingEmail.objects.filter(pk=email_id, status=_SENDING).update(
            status=_PENDING if retry else OutgoingEmail.Status.FAILED,
            attempt_at=Now() + _backoff(email.attempts),
            last_error=type(error).__name__,
        )
        logger.warning(
            "%s: attempt %d failed (%s); %s", what, email.attempts, type(error).__name__,
            "will retry" if retry else "giving up",
        )  # fmt: skip
        return Outcome.RETRY if retry else Outcome.FAILED
    except Exception as error:
        # Trying again would fail the same way (its row is gone, a bug): kept, marked, logged
        # by its class only, since what an e-mail says must not reach the log.
        OutgoingEmail.objects.filter(pk=email_id).update(
            status=OutgoingEmail.Status.FAILED, last_error=type(error).__name__
        )
        logger.error("%s: could not be made (%s)", what, type(error).__name__)
        return Outcome.FAILED
    if not messages:
        outcome, status = Outcome.SKIPPED, OutgoingEmail.Status.SKIPPED
    elif sent:
        outcome, status = Outcome.SENT, OutgoingEmail.Status.SENT
    else:  # every address refused
        outcome, status = Outcome.FAILED, OutgoingEmail.Status.FAILED
    OutgoingEmail.objects.filter(pk=email_id).update(status=status, sent_at=timezone.now())
    logger.info("%s: %d of %d message(s) sent", what, sent, len(messages))
    return outcome


@shared_task(name="tickets.tasks.send_email", acks_late=True)
def send_email(email_id: int) -> str:
    """Send one queued e-mail; a failed attempt waits in its row for the sweep."""
    return send_queued(email_id)


@shared_task(name="tickets.tasks.send_emails", acks_late=True)
def send_emails(email_ids: list[int]) -> list[str]:
    """Queued e-mails the sweep found waiting."""
    return [send_queued(email_id) for email_id in email_ids]


def redeliver_stranded_emails(*, limit: int = 1000, republished: Iterable[int] = ()) -> int:
    """E-mails whose task was lost, whose worker died, or whose next attempt is due go again
    (except those the sweep has just ``republished``), judged on the database's clock."""
    with transaction.atomic():
        OutgoingEmail.objects.filter(
            status=_SENDING, claimed_at__lte=Now() - REDELIVER_SENDING_AFTER
        ).update(status=_PENDING, attempt_at=Now())
        due = list(
            OutgoingEmail.objects.filter(status=_PENDING, attempt_at__lte=Now())
            .exclude(pk__in=list(republished))
            .order_by("attempt_at", "pk")
            .values_list("pk", flat=True)[:limit]
        )
        enqueue_many_on_commit(send_emails, due)
    return len(due)
