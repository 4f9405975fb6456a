"""Paging channels against a real local HTTP receiver, a real SMTP server, Django's locmem outbox
and the log."""

from __future__ import annotations

import json
import logging
import pickle
import socket
from datetime import datetime

import pytest
from django.core import mail
from hypothesis import given
from hypothesis import strategies as st

from bench.receiver import WebhookReceiver
from departments.models import PageChannel
from oncall.channels import (
    CHANNELS,
    ConsoleChannel,
    DeliveryError,
    EmailChannel,
    PageMessage,
    WebhookChannel,
    get_channel,
    page_text,
    sign,
    verify_signature,
)

SECRET = "s3cret"
# A harmless field that still must not reach logs or exception messages of email and webhook.
FIELD_CANARY = "Triage 2 zq7canary"
ACK = "https://helpdesk.example.org/pages/1234/ack/?sig=abc.def"
LINK = "https://helpdesk.example.org/tickets/HD-1042/"

PAYLOAD_KEYS = {
    "page_id",
    "dedupe_key",
    "ticket",
    "summary",
    "department",
    "priority",
    "location",
    "category",
    "care_delayed",
    "age_minutes",
    "owner",
    "link",
    "ack_link",
    "step",
    "recipient",
    "sent_at",
}


def make_message(**overrides: object) -> PageMessage:
    fields: dict[str, object] = {
        "page_id": 1234,
        "dedupe_key": "page-1234",
        "ticket_number": "HD-1042",
        "department": "Emergency Department",
        "priority": "P1 Critical",
        "location": "Triage 2",
        "category": "EHR (Epic)",
        "care_delayed": True,
        "age_minutes": 4,
        "owner": None,
        "link": LINK,
        "ack_link": ACK,
        "step": "primary on call",
        "recipient_name": "Terry Tech",
        "recipient_email": "terry@example.org",
        "recipient_pager": "+15550100",
    }
    fields.update(overrides)
    return PageMessage(**fields)  # type: ignore[arg-type]


@pytest.fixture
def receiver(webhook_receiver: WebhookReceiver, settings) -> WebhookReceiver:
    settings.HELPDESK_PAGING = {
        "WEBHOOK_URL": webhook_receiver.url,
        "WEBHOOK_SECRET": SECRET,
        "WEBHOOK_TIMEOUT": 5,
    }
    return webhook_receiver


def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# page_text -----------------------------------------------------------------------------------


def test_page_text_carries_structured_fields_only() -> None:
    assert page_text(make_message()) == (
        "HD-1042 P1 Critical - Emergency Department, Triage 2 - EHR (Epic) - care delayed - "
        f"filed 4 min ago. Ack: {ACK}"
    )


def test_page_text_names_the_owner_and_the_age_in_hours() -> None:
    text = page_text(make_message(care_delayed=False, age_minutes=135, owner="Terry Nguyen"))
    assert text == (
        "HD-1042 P1 Critical - Emergency Department, Triage 2 - EHR (Epic) - filed 2 h 15 min "
        f"ago - Terry Nguyen has it. Ack: {ACK}"
    )


def test_page_text_ends_with_the_summary_of_whoever_started_the_paging() -> None:
    text = page_text(make_message(summary="Possible major incident: 5 tickets from 3 units"))
    assert text.endswith(
        f"filed 4 min ago - Possible major incident: 5 tickets from 3 units. Ack: {ACK}"
    )


def test_a_page_about_no_ticket_is_its_summary_on_one_line() -> None:
    message = make_message(
        ticket_number="", priority="", department="", location="", category="",
        summary="Major incident MI-3: EHR (Epic)\ndown - hospital-wide",
    )  # fmt: skip
    assert page_text(message) == f"Major incident MI-3: EHR (Epic) down - hospital-wide. Ack: {ACK}"


@pytest.mark.parametrize(
    ("minutes", "age"),
    [(0, "0 min"), (59, "59 min"), (60, "1 h"), (1500, "1 d 1 h"), (2880, "2 d")],
)
def test_page_text_says_the_age_briefly(minutes: int, age: str) -> None:
    assert f" - filed {age} ago. Ack: " in page_text(make_message(age_minutes=minutes))


def test_page_text_cannot_be_split_into_forged_lines() -> None:
    text = page_text(make_message(location="Bay 3\nFAKE LOG LINE\r\n", owner="ok\r\nforged"))
    assert "\n" not in text
    assert "\r" not in text
    assert text.endswith(f"Ack: {ACK}")


@given(location=st.text(), owner=st.one_of(st.none(), st.text()))
def test_page_text_is_always_one_line_with_the_ack_link(location: str, owner: str | None) -> None:
    text = page_text(make_message(location=location, owner=owner))
    assert text.splitlines() == [text]
    assert text.startswith("HD-1042 P1 Critical - Emergency Department,")
    assert text.endswith(f"Ack: {ACK}")


# signatures ----------------------------------------------------------------------------------


@given(secret=st.text(min_size=1), body=st.binary(), timestamp=st.integers(0, 2**40))
def test_sign_and_verify_round_trip(secret: str, body: bytes, timestamp: int) -> None:
    ts = str(timestamp)
    signature = sign(secret, ts, body)
    assert verify_signature(secret, ts, body, signature, now=timestamp)
    assert not verify_signature(secret, ts, body + b"x", signature, now=timestamp)
    assert not verify_signature(secret + "x", ts, body, signature, now=timestamp)


def test_verify_signature_rejects_malformed_input() -> None:
    body = b"{}"
    good = sign(SECRET, "1000", body)
    assert verify_signature(SECRET, "1000", body, good, now=1000)
    assert not verify_signature("", "1000", body, sign("", "1000", body), now=1000)
    assert not verify_signature(SECRET, "abc", body, good, now=1000)
    assert not verify_signature(SECRET, "-1000", body, good, now=1000)
    assert not verify_signature(SECRET, "1000", body, good.removeprefix("sha256="), now=1000)
    assert not verify_signature(SECRET, "1000", body, "sha256=" + "0" * 64, now=1000)
    assert not verify_signature(SECRET, "1000", body, "sha256=\u00e9", now=1000)
    assert not verify_signature(SECRET, "1001", body, good, now=1000)  # timestamp is signed


def test_verify_signature_tolerance_both_ways() -> None:
    body = b"{}"
    good = sign(SECRET, "1000", body)
    assert verify_signature(SECRET, "1000", body, good, now=1300)
    assert not verify_signature(SECRET, "1000", body, good, now=1301)
    assert not verify_signature(SECRET, "1000", body, good, now=699)
    assert verify_signature(SECRET, "1000", body, good, now=1010, tolerance=10)
    assert not verify_signature(SECRET, "1000", body, good, now=1011, tolerance=10)


# webhook -------------------------------------------------------------------------------------


def test_webhook_posts_one_signed_page(receiver: WebhookReceiver) -> None:
    message = make_message()
    WebhookChannel().send(message)

    [request] = receiver.requests
    assert request.method == "POST"
    assert request.path == "/hooks/page"
    headers = request.headers
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"] == "hospital-helpdesk-pager/1"
    assert headers["Idempotency-Key"] == message.dedupe_key == "page-1234"
    timestamp = headers["X-Helpdesk-Timestamp"]
    signature = headers["X-Helpdesk-Signature"]
    assert timestamp.isdigit()
    assert signature.startswith("sha256=")

    assert verify_signature(SECRET, timestamp, request.body, signature)
    assert not verify_signature("wrong-secret", timestamp, request.body, signature)
    tampered = request.body.replace(b"HD-1042", b"HD-1043")
    assert tampered != request.body
    assert not verify_signature(SECRET, timestamp, tampered, signature)
    stale = int(timestamp) + 301
    assert not verify_signature(SECRET, timestamp, request.body, signature, now=stale)
    assert receiver.received_keys() == ["page-1234"]


def test_webhook_body_has_exactly_the_documented_keys(receiver: WebhookReceiver) -> None:
    WebhookChannel().send(make_message())

    [request] = receiver.requests
    document = request.json
    assert set(document) == PAYLOAD_KEYS
    assert set(document["recipient"]) == {"name", "email", "pager"}
    assert document == {
        "page_id": 1234,
        "dedupe_key": "page-1234",
        "ticket": "HD-1042",
        "summary": "",
        "department": "Emergency Department",
        "priority": "P1 Critical",
        "location": "Triage 2",
        "category": "EHR (Epic)",
        "care_delayed": True,
        "age_minutes": 4,
        "owner": None,
        "link": LINK,
        "ack_link": ACK,
        "step": "primary on call",
        "recipient": {"name": "Terry Tech", "email": "terry@example.org", "pager": "+15550100"},
        "sent_at": document["sent_at"],
    }
    sent_at = datetime.fromisoformat(document["sent_at"])
    assert sent_at.utcoffset() is not None
    assert sent_at.utcoffset().total_seconds() == 0
    assert int(sent_at.timestamp()) == int(request.headers["X-Helpdesk-Timestamp"])
    # Compact, sorted JSON: the exact bytes the signature covers.
    assert request.body == json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


@pytest.mark.parametrize("status", [200, 201, 202, 204])
def test_webhook_2xx_is_delivered(receiver: WebhookReceiver, status: int) -> None:
    receiver.configure(default_status=status)
    WebhookChannel().send(make_message())
    assert [request.status for request in receiver.requests] == [status]


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_webhook_transient_statuses_are_retryable(
    receiver: WebhookReceiver, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    receiver.configure(default_status=status)
    message = make_message(location=FIELD_CANARY)
    with pytest.raises(DeliveryError) as excinfo:
        WebhookChannel().send(message)
    assert excinfo.value.retryable is True
    assert excinfo.value.status == status
    assert str(status) in str(excinfo.value)
    assert FIELD_CANARY not in str(excinfo.value)
    assert FIELD_CANARY not in caplog.text
    assert f"status={status}" in caplog.text
    assert "page 1234" in caplog.text


def test_webhook_429_passes_retry_after_on(receiver: WebhookReceiver) -> None:
    receiver.configure(default_status=429, headers={"Retry-After": "30"})
    with pytest.raises(DeliveryError) as excinfo:
        WebhookChannel().send(make_message())
    assert excinfo.value.retryable is True
    assert excinfo.value.retry_after == 30.0


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 413, 422])
def test_webhook_other_4xx_are_not_retryable(receiver: WebhookReceiver, status: int) -> None:
    receiver.configure(default_status=status)
    with pytest.raises(DeliveryError) as excinfo:
        WebhookChannel().send(make_message())
    assert excinfo.value.retryable is False
    assert excinfo.value.status == status
    assert len(receiver.requests) == 1


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_webhook_does_not_follow_redirects(receiver: WebhookReceiver, status: int) -> None:
    # urllib would re-send the POST as a bodyless GET; a 3xx is a misconfigured URL.
    receiver.configure(default_status=status)
    with pytest.raises(DeliveryError) as excinfo:
        WebhookChannel().send(make_message())
    assert excinfo.value.retryable is False
    assert [request.method for request in receiver.requests] == ["POST"]


def test_webhook_gateway_recovering_after_three_500s(receiver: WebhookReceiver) -> None:
    receiver.configure([500, 500, 500, 200])
    channel = WebhookChannel()
    message = make_message()
    outcomes: list[bool | None] = []
    for _ in range(4):
        try:
            channel.send(message)
        except DeliveryError as exc:
            outcomes.append(exc.retryable)
        else:
            outcomes.append(None)
    assert outcomes == [True, True, True, None]
    assert [request.status for request in receiver.requests] == [500, 500, 500, 200]
    # Every retry carries the same key, so the gateway can drop duplicates.
    assert receiver.received_keys() == ["page-1234"]
    for request in receiver.requests:
        headers = request.headers
        assert verify_signature(
            SECRET, headers["X-Helpdesk-Timestamp"], request.body, headers["X-Helpdesk-Signature"]
        )


def test_webhook_slow_gateway_times_out_as_retryable(receiver: WebhookReceiver, settings) -> None:
    settings.HELPDESK_PAGING = {**settings.HELPDESK_PAGING, "WEBHOOK_TIMEOUT": 0.5}
    receiver.configure(delay=2.0)
    with pytest.raises(DeliveryError) as excinfo:
        WebhookChannel().send(make_message(location=FIELD_CANARY))
    assert excinfo.value.retryable is True
    assert excinfo.value.status is None
    assert FIELD_CANARY not in str(excinfo.value)
    assert receiver.wait_for_requests(1)


def test_webhook_connection_refused_is_retryable(settings) -> None:
    settings.HELPDESK_PAGING = {
        "WEBHOOK_URL": f"http://127.0.0.1:{closed_port()}/hooks/page",
        "WEBHOOK_SECRET": SECRET,
        "WEBHOOK_TIMEOUT": 5,
    }
    with pytest.raises(DeliveryError) as excinfo:
        WebhookChannel().send(make_message())
    assert excinfo.value.retryable is True
    assert "ConnectionRefusedError" in str(excinfo.value)


@pytest.mark.parametrize(
    ("paging", "error"),
    [
        ({}, "no webhook URL configured"),
        ({"WEBHOOK_URL": "", "WEBHOOK_SECRET": SECRET}, "no webhook URL configured"),
        ({"WEBHOOK_URL": "file:///etc/passwd", "WEBHOOK_SECRET": SECRET}, r"an http\(s\) URL"),
        ({"WEBHOOK_URL": "http://127.0.0.1:9/x"}, "no webhook secret configured"),
        (
            {"WEBHOOK_URL": "http://127.0.0.1:9/x", "WEBHOOK_SECRET": SECRET, "WEBHOOK_TIMEOUT": 0},
            "WEBHOOK_TIMEOUT",
        ),
    ],
)
def test_webhook_misconfiguration_is_not_retryable(settings, paging: dict, error: str) -> None:
    settings.HELPDESK_PAGING = paging
    with pytest.raises(DeliveryError, match=error) as excinfo:
        WebhookChannel().send(make_message())
    assert excinfo.value.retryable is False


def test_webhook_without_paging_settings_at_all(settings) -> None:
    if hasattr(settings, "HELPDESK_PAGING"):
        del settings.HELPDESK_PAGING
    with pytest.raises(DeliveryError, match="no webhook URL configured") as excinfo:
        WebhookChannel().send(make_message())
    assert excinfo.value.retryable is False


def test_delivery_error_survives_pickling() -> None:
    error = DeliveryError("page 1: webhook answered HTTP 429", retryable=True, status=429)
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
    assert isinstance(copy, DeliveryError)
    assert (str(copy), copy.retryable, copy.status) == (str(error), True, 429)


# email ---------------------------------------------------------------------------------------


def test_email_page_goes_to_the_recipient(settings) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    EmailChannel().send(make_message())

    [email] = mail.outbox
    assert email.to == ["terry@example.org"]
    assert email.subject == "PAGE: HD-1042 P1 Critical - Emergency Department"
    assert page_text(make_message()) in email.body
    assert LINK in email.body
    assert ACK in email.body
    assert "Acknowledge to stop the escalation." in email.body


def test_an_email_page_is_marked_automatic_so_no_out_of_office_comes_back(smtp_server) -> None:
    EmailChannel().send(make_message())

    [page] = smtp_server.mails
    assert page.recipients == ["terry@example.org"]
    assert page.message["Auto-Submitted"] == "auto-generated"
    assert page.message["X-Auto-Response-Suppress"] == "All"
    assert page.message["X-Helpdesk-Page"] == "page-1234"
    # A page is not a message of the ticket's e-mail conversation.
    assert page.message["In-Reply-To"] is None


@pytest.mark.parametrize("address", ["", "   "])
def test_email_without_address_is_not_retryable(settings, address: str) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with pytest.raises(DeliveryError) as excinfo:
        EmailChannel().send(make_message(recipient_email=address))
    assert excinfo.value.retryable is False
    assert mail.outbox == []


def test_email_smtp_down_is_retryable(settings, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = closed_port()
    settings.EMAIL_TIMEOUT = 2
    with pytest.raises(DeliveryError) as excinfo:
        EmailChannel().send(make_message(location=FIELD_CANARY))
    assert excinfo.value.retryable is True
    assert FIELD_CANARY not in str(excinfo.value)
    assert FIELD_CANARY not in caplog.text


# console -------------------------------------------------------------------------------------


def test_console_logs_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    ConsoleChannel().send(make_message())

    pages = [record for record in caplog.records if record.name == "helpdesk.pages"]
    assert len(pages) == 1
    [record] = pages
    assert record.levelno == logging.WARNING
    assert page_text(make_message()) in record.getMessage()


def test_console_line_cannot_be_split_by_a_field(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="helpdesk.pages")
    ConsoleChannel().send(make_message(owner="ok\n2026-01-01 00:00:00 WARNING forged"))
    [record] = [r for r in caplog.records if r.name == "helpdesk.pages"]
    assert "\n" not in record.getMessage()


# registry ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["console", "email", "webhook"])
def test_get_channel_knows_the_three_channels(name: str) -> None:
    assert get_channel(name).name == name


def test_every_channel_a_profile_may_name_is_delivered() -> None:
    """Profiles are checked against departments' PageChannel; each of those names has a
    channel here, and there is no channel a profile could not choose."""
    assert set(CHANNELS) == set(PageChannel.values)
    assert all(get_channel(name).name == name for name in PageChannel.values)


def test_get_channel_unknown_names_the_known_channels() -> None:
    with pytest.raises(ValueError, match="sms") as excinfo:
        get_channel("sms")
    for known in ("console", "email", "webhook"):
        assert known in str(excinfo.value)
