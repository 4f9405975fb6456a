"""Channels that deliver one page to one on-call technician: console/log, email and webhook
(the names people choose among are ``departments.models.PageChannel``).

A page never carries patient data, and so never carries free text: a page travels through a
third-party gateway to a personal phone, and the PHI check is a heuristic that misses unlabelled
names and numbers. It holds structured fields only: the ticket number, the priority, the
department and location, the category, whether care is delayed, the ticket's age, who has it,
a link to the ticket and a signed acknowledge link. Channels deliver exactly one attempt and
raise :class:`DeliveryError` when it fails; retrying (with backoff) belongs to the Celery task
that drives the escalation.

Diagnostics name the page id, the channel and the HTTP status only: the page text and
the request body never go into a log line (other than the console channel's own output, which is
the page itself) or into an exception message.

Settings, read at send time from ``settings.HELPDESK_PAGING`` (a dict, default ``{}``):

``WEBHOOK_URL``
    Where the webhook channel POSTs the page (``http`` or ``https``). No URL: every webhook
    delivery fails with a non-retryable error.
``WEBHOOK_SECRET``
    The shared HMAC key the receiver verifies signatures with. No secret: every webhook delivery
    fails with a non-retryable error (an unsigned page could be forged by anyone on the path).
``WEBHOOK_TIMEOUT``
    Seconds for connecting and for each socket read (default 5).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import math
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message
from http.client import HTTPException
from typing import Any, Protocol
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMessage

from core.mail import automatic_mail_headers
from departments.models import PageChannel

__all__ = [
    "CHANNELS",
    "Channel",
    "ConsoleChannel",
    "DeliveryError",
    "EmailChannel",
    "PageMessage",
    "WebhookChannel",
    "get_channel",
    "page_text",
    "sign",
    "verify_signature",
]

logger = logging.getLogger(__name__)
#: Where the console channel shows pages (the demo prints them in the terminal).
page_logger = logging.getLogger("helpdesk.pages")

DEFAULT_WEBHOOK_TIMEOUT = 5.0
SIGNATURE_PREFIX = "sha256="
USER_AGENT = "hospital-helpdesk-pager/1"


@dataclass(frozen=True, slots=True)
class PageMessage:
    """Everything a channel may send. Nothing here may hold patient data.

    A page about a ticket carries the ticket's structured fields. A page about something else (a
    declared major incident) has no ticket number: its ``summary`` says what it is about."""

    page_id: int
    dedupe_key: str  # e.g. "page-1234": receivers use it to drop duplicate deliveries
    link: str  # absolute URL of the page to open: the ticket's, or the incident's
    ack_link: str  # absolute signed acknowledge URL
    step: str  # "primary on call", "secondary on call", "manager on call"
    recipient_name: str
    recipient_email: str
    recipient_pager: str  # phone/pager number for an SMS gateway; may be ""
    age_minutes: int  # since the ticket was filed, or the paging started
    # Structured words from whoever started the paging ("Possible major incident: 5 tickets
    # from 3 units: HD-1 ..., and 2 more"; "MI-4 EHR (Epic) down - Hospital-wide").
    summary: str = ""
    ticket_number: str = ""  # "HD-1042"; "" when the page is not about a ticket
    priority: str = ""  # "P1 Critical"
    department: str = ""  # "Emergency Department"
    location: str = ""  # "Triage 2": reference data, never typed by the requester
    category: str = ""  # "EHR (Epic)"
    care_delayed: bool = False  # the nurse said patient care is delayed
    owner: str | None = None  # the technician who has the ticket, if anyone


class DeliveryError(Exception):
    """One delivery attempt failed.

    ``retryable`` tells the escalation task whether trying the same channel again may help
    (timeouts, 5xx, 429) or not (no address, no URL, 4xx). ``status`` is the HTTP status when
    there was one and ``retry_after`` the seconds a 429/503 answer asked to wait, if it said.
    The message never contains the page text.
    """

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.status = status
        self.retry_after = retry_after

    def __reduce__(self) -> tuple[Any, tuple[str, bool, int | None, float | None]]:
        # Keyword-only arguments defeat the default pickling (Celery serialises exceptions).
        return (_rebuild_delivery_error, (str(self), self.retryable, self.status, self.retry_after))


def _rebuild_delivery_error(
    message: str, retryable: bool, status: int | None, retry_after: float | None
) -> DeliveryError:
    return DeliveryError(message, retryable=retryable, status=status, retry_after=retry_after)


class Channel(Protocol):
    name: str

    def send(self, message: PageMessage) -> None:
        """Deliver once; raise :class:`DeliveryError` on failure."""
        ...


def _one_line(value: str) -> str:
    """Collapse newlines, tabs and other control characters so a value cannot forge lines."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in value).split())


def _age(minutes: int) -> str:
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    if hours >= 24:
        days, hours = divmod(hours, 24)
        return f"{days} d {hours} h" if hours else f"{days} d"
    return f"{hours} h {rest} min" if rest else f"{hours} h"


def page_text(message: PageMessage) -> str:
    """One short line for SMS and the console, structured fields only:

    ``HD-1042 P1 Critical - Emergency Department, Triage 2 - EHR (Epic) - care delayed - filed
    4 min ago - Terry Nguyen has it. Ack: <ack>``

    A page about no ticket is its summary: ``MI-4 EHR (Epic) down - Hospital-wide. Ack: <ack>``
    """
    if not message.ticket_number:
        return f"{_one_line(message.summary)}. Ack: {message.ack_link}"
    parts = [
        f"{_one_line(message.ticket_number)} {_one_line(message.priority)}",
        f"{_one_line(message.department)}, {_one_line(message.location)}",
        _one_line(message.category),
    ]
    if message.care_delayed:
        parts.append("care delayed")
    parts.append(f"filed {_age(message.age_minutes)} ago")
    if message.owner:
        parts.append(f"{_one_line(message.owner)} has it")
    if message.summary:
        parts.append(_one_line(message.summary))
    return f"{' - '.join(parts)}. Ack: {message.ack_link}"


class ConsoleChannel:
    """Logs the page at WARNING on ``helpdesk.pages``: the demo's pager is the terminal.

    The line is :func:`page_text`, structured fields only. Note that it contains the working
    acknowledge link, so in production prefer a real channel.
    """

    name: str = PageChannel.CONSOLE

    def send(self, message: PageMessage) -> None:
        page_logger.warning(
            "PAGE %s to %s (%s): %s",
            message.page_id,
            _one_line(message.recipient_name),
            _one_line(message.step),
            page_text(message),
        )


class EmailChannel:
    """Mails the page to the recipient with Django's mail backend, marked as automatic mail
    (``core.mail``) so an out-of-office answer does not come back to the help desk's mailbox.
    A page is not part of a ticket's e-mail conversation, so it is not threaded into one."""

    name: str = PageChannel.EMAIL

    def send(self, message: PageMessage) -> None:
        address = message.recipient_email.strip()
        if not address:
            raise DeliveryError(
                f"page {message.page_id}: recipient has no email address", retryable=False
            )
        subject = (
            f"PAGE: {_one_line(message.ticket_number)} {_one_line(message.priority)}"
            f" - {_one_line(message.department)}"
            if message.ticket_number
            else f"PAGE: {_one_line(message.summary)}"
        )
        body = (
            f"{page_text(message)}\n\n"
            f"Step: {_one_line(message.step)}\n"
            f"Open {'the ticket' if message.ticket_number else 'it'}: {message.link}\n"
            f"Acknowledge: {message.ack_link}\n\n"
            "Acknowledge to stop the escalation.\n"
        )
        email = EmailMessage(
            subject=subject,
            body=body,
            to=[address],
            headers={**automatic_mail_headers(), "X-Helpdesk-Page": message.dedupe_key},
        )
        try:
            sent = email.send(fail_silently=False)
        except OSError as exc:  # smtplib.SMTPException, socket errors, timeouts
            logger.warning(
                "page %s channel=email failed: %s (retryable)",
                message.page_id,
                type(exc).__name__,
            )
            raise DeliveryError(
                f"page {message.page_id}: email delivery failed ({type(exc).__name__})",
                retryable=True,
            ) from exc
        except ValueError as exc:  # BadHeaderError, a malformed address
            logger.warning(
                "page %s channel=email rejected: %s", message.page_id, type(exc).__name__
            )
            raise DeliveryError(
                f"page {message.page_id}: email rejected ({type(exc).__name__})",
                retryable=False,
            ) from exc
        if sent < 1:
            raise DeliveryError(
                f"page {message.page_id}: the email backend sent nothing", retryable=True
            )
        logger.info("page %s channel=email sent", message.page_id)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header value: ``sha256=`` + hex HMAC-SHA256(secret, ``<timestamp>.<body>``).

    See :func:`verify_signature` for the whole scheme.
    """
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return SIGNATURE_PREFIX + mac.hexdigest()


def verify_signature(
    secret: str,
    timestamp: str,
    body: bytes,
    signature: str,
    *,
    now: float | None = None,
    tolerance: int = 300,
) -> bool:
    """Check a webhook page the way a receiver (an SMS gateway, a chat bridge) should.

    The scheme, for integrators:

    * The request is ``POST`` with ``Content-Type: application/json``; the body is UTF-8 JSON.
      Verify the **raw body bytes** exactly as received, before parsing them.
    * ``X-Helpdesk-Timestamp`` is the send time in whole Unix seconds, e.g. ``1767225600``.
    * ``X-Helpdesk-Signature`` is ``sha256=`` followed by the lowercase hex HMAC-SHA256, keyed
      with the shared secret (UTF-8), of ``<timestamp>.<raw body>``: the timestamp header's
      ASCII digits, one ``.`` byte, then the body bytes.
    * Compare in constant time, and reject a timestamp more than ``tolerance`` seconds (default
      300) away from your clock in either direction, which bounds replay of a captured request.
    * ``Idempotency-Key`` (also ``dedupe_key`` in the body) is the same for every retry of one
      page: drop a delivery whose key you have already handled. ``sent_at`` and the signature
      change between retries, the key does not.

    Example in Python::

        expected = "sha256=" + hmac.new(secret.encode(), ts.encode() + b"." + body,
                                        hashlib.sha256).hexdigest()
        ok = hmac.compare_digest(expected, header) and abs(time.time() - int(ts)) <= 300

    Returns False (never raises) for an empty secret, a malformed timestamp or signature, a stale
    or future timestamp and a mismatch.
    """
    if not secret or not signature.startswith(SIGNATURE_PREFIX):
        return False
    if not (timestamp.isascii() and timestamp.isdigit()):
        return False
    current = time.time() if now is None else now
    if abs(current - int(timestamp)) > tolerance:
        return False
    expected = sign(secret, timestamp, body)
    return hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace"))


def _paging_settings() -> dict[str, Any]:
    config = getattr(settings, "HELPDESK_PAGING", {})
    return config if isinstance(config, dict) else {}


def _timeout(config: dict[str, Any]) -> float:
    raw = config.get("WEBHOOK_TIMEOUT", DEFAULT_WEBHOOK_TIMEOUT)
    try:
        value = float(raw)
    except (TypeError, ValueError):
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise DeliveryError("WEBHOOK_TIMEOUT must be a positive number", retryable=False)
    return value


def _retry_after(headers: Message | None) -> float | None:
    """Seconds from a ``Retry-After: <seconds>`` header (the HTTP-date form is ignored)."""
    value = headers.get("Retry-After") if headers is not None else None
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Never follow redirects: urllib would turn the POST into a bodyless GET and a 2xx from
    the new location would look like a delivered page. A 3xx is a misconfigured URL."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def _retryable_status(status: int) -> bool:
    return status in (408, 429) or status >= 500


class WebhookChannel:
    """POSTs the page as signed JSON to ``HELPDESK_PAGING["WEBHOOK_URL"]``.

    2xx is delivered; 408, 429 and 5xx, timeouts and connection errors are retryable; any other
    status (3xx included: redirects are not followed) is not. See :func:`verify_signature` for
    the signature scheme.
    """

    name: str = PageChannel.WEBHOOK

    @staticmethod
    def payload(message: PageMessage, sent_at: float) -> bytes:
        document = {
            "page_id": message.page_id,
            "dedupe_key": message.dedupe_key,
            "ticket": message.ticket_number,
            "summary": message.summary,
            "priority": message.priority,
            "department": message.department,
            "location": message.location,
            "category": message.category,
            "care_delayed": message.care_delayed,
            "age_minutes": message.age_minutes,
            "owner": message.owner,
            "link": message.link,
            "ack_link": message.ack_link,
            "step": message.step,
            "recipient": {
                "name": message.recipient_name,
                "email": message.recipient_email,
                "pager": message.recipient_pager,
            },
            "sent_at": datetime.fromtimestamp(sent_at, UTC).isoformat(timespec="seconds"),
        }
        return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()

    def send(self, message: PageMessage) -> None:
        config = _paging_settings()
        url = str(config.get("WEBHOOK_URL") or "").strip()
        if not url:
            raise DeliveryError("no webhook URL configured", retryable=False)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise DeliveryError("WEBHOOK_URL must be an http(s) URL", retryable=False)
        secret = str(config.get("WEBHOOK_SECRET") or "")
        if not secret:
            raise DeliveryError("no webhook secret configured", retryable=False)
        timeout = _timeout(config)

        now = int(time.time())
        timestamp = str(now)
        body = self.payload(message, now)
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
            url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                "Idempotency-Key": message.dedupe_key,
                "X-Helpdesk-Timestamp": timestamp,
                "X-Helpdesk-Signature": sign(secret, timestamp, body),
            },
        )
        # The host only: a chat webhook URL often carries its token in the path.
        host = parts.hostname
        try:
            with _opener.open(request, timeout=timeout) as response:
                status = int(response.status)
        except urllib.error.HTTPError as exc:
            status = exc.code
            retry_after = _retry_after(exc.headers)
            exc.close()
            retryable = _retryable_status(status)
            logger.warning(
                "page %s channel=webhook host=%s status=%s retryable=%s",
                message.page_id,
                host,
                status,
                retryable,
            )
            raise DeliveryError(
                f"page {message.page_id}: webhook answered HTTP {status}",
                retryable=retryable,
                status=status,
                retry_after=retry_after if retryable else None,
            ) from None
        except (OSError, HTTPException) as exc:
            # URLError (refused, DNS), TimeoutError, resets, a garbled status line.
            reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            kind = (
                type(reason).__name__ if isinstance(reason, BaseException) else type(exc).__name__
            )
            logger.warning(
                "page %s channel=webhook host=%s error=%s retryable=True",
                message.page_id,
                host,
                kind,
            )
            raise DeliveryError(
                f"page {message.page_id}: webhook delivery failed ({kind})", retryable=True
            ) from None
        if not 200 <= status < 300:  # urllib raises for the rest; belt and braces
            raise DeliveryError(
                f"page {message.page_id}: webhook answered HTTP {status}",
                retryable=_retryable_status(status),
                status=status,
            )
        logger.info("page %s channel=webhook host=%s status=%s", message.page_id, host, status)


CHANNELS: dict[str, Callable[[], Channel]] = {
    ConsoleChannel.name: ConsoleChannel,
    EmailChannel.name: EmailChannel,
    WebhookChannel.name: WebhookChannel,
}


def get_channel(name: str) -> Channel:
    """The channel called ``name``; ValueError naming the known channels otherwise."""
    try:
        channel_class = CHANNELS[name]
    except (KeyError, TypeError):
        known = ", ".join(sorted(CHANNELS))
        raise ValueError(f"unknown paging channel {name!r}; known channels: {known}") from None
    return channel_class()
